"""The market's use cases as other packages call them: a facade, like billing/services.py.

verification (and later disputes) import this module, ``marketplace.queries`` and
``marketplace.signals`` only; what is behind them may move without breaking a caller. Inside
the market, modules import each other directly and never this facade.

- Seller standing (marketplace/standing.py): what the spot-check workflow may change. These
  are helpers of the caller's use case: they flush, never commit, and leave auditing to it.
- Intake (marketplace/intake/services.py): storing and queueing uploaded batches.
- Listings (marketplace/listings/services.py): the market's search, withdrawals and price
  changes; each call is one transaction.
- Purchases (marketplace/purchases/services.py): buying leads and recording their outcomes;
  each call is one transaction.
- Disputes (verification/disputes) withdraw a returned lead (``withdraw_lead`` with no actor:
  the dispute audits), ``flag_lead`` a proved bad phone or email, ``rescore_lead`` a
  misqualified one, and keep the bought lead's view in step (``set_purchase_dispute``).
- Streams (marketplace/streams/services.py): ``apply_stream_outcome`` moves a stream's plan
  after a live lead's inspection, as a helper of verification's transaction.
- Verticals and suppressions (marketplace/verticals.py, marketplace/suppressions.py): each
  call is one transaction.
"""

from marketplace.errors import BatchNotInSpotCheck, VerticalNotFound
from marketplace.intake.services import (
    create_csv_batch,
    create_json_batch,
    get_batch_for,
    remember_column_map,
)
from marketplace.listings.schemas import load_filter
from marketplace.listings.services import (
    can_see_full,
    change_batch_price,
    search_market,
    withdraw_batch,
    withdraw_lead,
)
from marketplace.purchases.services import purchase_leads, record_outcome
from marketplace.standing import (
    clear_seller_hold,
    flag_lead,
    list_batch,
    lock_seller_account,
    mark_leads_defective,
    pause_seller_leads,
    reject_batch,
    release_held_batches,
    rescore_lead,
    seller_account,
    set_batch_spot_check,
    set_inspection_state,
    set_purchase_dispute,
    set_quality_score,
    set_seller_hold,
    unpause_seller_leads,
)
from marketplace.streams.services import apply_stream_outcome, plan_settings
from marketplace.suppressions import add_suppression, remove_suppression
from marketplace.verticals import create_vertical, get_vertical, update_vertical

__all__ = [
    "apply_stream_outcome",
    # seller standing
    "seller_account",
    "lock_seller_account",
    "set_batch_spot_check",
    "list_batch",
    "reject_batch",
    "release_held_batches",
    "mark_leads_defective",
    "rescore_lead",
    "pause_seller_leads",
    "unpause_seller_leads",
    "set_seller_hold",
    "clear_seller_hold",
    "set_inspection_state",
    "set_quality_score",
    "BatchNotInSpotCheck",
    # disputes
    "flag_lead",
    "set_purchase_dispute",
    # intake
    "create_csv_batch",
    "create_json_batch",
    "remember_column_map",
    "get_batch_for",
    # verticals and suppressions
    "get_vertical",
    "create_vertical",
    "update_vertical",
    "VerticalNotFound",
    "add_suppression",
    "remove_suppression",
    # listings
    "search_market",
    "load_filter",
    "can_see_full",
    "withdraw_batch",
    "withdraw_lead",
    "change_batch_price",
    # purchases
    "purchase_leads",
    "record_outcome",
    "plan_settings",
]
