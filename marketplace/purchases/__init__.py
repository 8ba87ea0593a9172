"""Purchases (the market issue, parts 3-4): buying leads and what follows.

It will hold ``purchase_leads(*, buyer, lead_ids, idempotency_key)``, charging through billing's
facade; the buyer's purchased leads; their outcomes; and their export.
"""
