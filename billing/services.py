"""Billing's use cases: the one door the market, disputes, the API, pages, CLI and tasks call.

A facade: each use case lives in the module of its capability (sales, cards, top_ups,
auto_recharge, refunds, payouts) and is re-exported here; reads are in billing/queries.py.
Each public function is one database transaction (or, around a Stripe call, three: record the
intent, call Stripe outside any transaction, record the result) and is idempotent by a key.

For the market and disputes issues:

- ``charge_purchase(buyer_org_id=, seller_org_id=, amount_cents=, reference=, idempotency_key=,
  release_after=)`` -> Sale: buyer wallet -> seller pending + platform fee; 402
  ``insufficient_funds`` when the wallet is too low. ``release_after`` is the end of the
  return window.
- ``set_sale_hold(sale_id=, is_held=, reason=)``: a held sale is never released (open dispute).
- ``reverse_sale(sale_id=, reference=)``: the exact reverse of a pending sale, once.
- ``lock_accounts_for_purchase(buyer_org_id=, seller_org_ids=)``: inside a purchase's
  transaction, before its several ``charge_purchase`` calls, so no two purchases deadlock.
- ``maybe_auto_recharge(buyer_org_id)``: call after a purchase has committed.
- ``signals.auto_recharge_failed``: connect to pause the buyer's auto-buy.
"""

from __future__ import annotations

from billing.auto_recharge import maybe_auto_recharge, set_auto_recharge
from billing.cards import add_payment_method, create_card_setup, remove_payment_method
from billing.payouts import mark_payout_paid, request_payout, save_payout_details
from billing.refunds import (
    fail_refund_part,
    refund_wallet,
    settle_refund_part,
    start_wallet_refund,
)
from billing.sales import (
    charge_purchase,
    lock_accounts_for_purchase,
    release_earnings,
    reverse_sale,
    set_sale_hold,
)
from billing.top_ups import apply_payment_intent, create_top_up, run_auto_recharge

__all__ = [
    # sales
    "charge_purchase",
    "lock_accounts_for_purchase",
    "reverse_sale",
    "set_sale_hold",
    "release_earnings",
    # cards
    "add_payment_method",
    "remove_payment_method",
    "create_card_setup",
    # top-ups and auto-recharge
    "create_top_up",
    "apply_payment_intent",
    "set_auto_recharge",
    "maybe_auto_recharge",
    "run_auto_recharge",
    # wallet refunds
    "refund_wallet",
    "start_wallet_refund",
    "settle_refund_part",
    "fail_refund_part",
    # payouts
    "save_payout_details",
    "request_payout",
    "mark_payout_paid",
]
