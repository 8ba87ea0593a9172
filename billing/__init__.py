"""Money: Stripe, the wallet, the double-entry ledger and payouts."""
