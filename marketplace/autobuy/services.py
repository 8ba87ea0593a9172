"""Saved searches (a buyer's named market filters) and auto-buy: standing orders that buy
newly listed leads matching them.

Fairness: each new lead (in id order) is offered to the active orders that match it, in the
order "least recently served first": an order that has never bought counts as oldest, ties go
to the older order (``created_at``, then id). An order that gets a lead moves to the back, so
competing orders take turns (round robin) and the oldest order starts. A lead sold ``max_sales``
times goes to that many orders (of distinct buyers); an order over a cap, or whose buyer
already has the lead, is skipped.

Caps: ``max_price_cents`` per lead, ``daily_cap`` leads per UTC day, ``budget_cents`` in all.
A wallet too low pauses the order with ``paused_reason``; the buyer resumes it with a PUT.

Holds: a real-time ping that an order would buy holds one lead's worth of the order's daily cap
and budget for 60 s (``hold_order_for``); every room check counts the holds still running, and
the post that claims its hold is offered to that order first (``sell_live_lead``).

Only leads listed with their batch count as new: leads of a held seller listed paused and
released later by ``clear_seller_hold`` are not auto-bought (the buyer can still buy them).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from types import SimpleNamespace

from sqlalchemy import func, select, update

from app.db import insert_if_absent, serialize_writes, transaction, utcnow
from app.errors import AppError, Invalid, NotFound
from app.extensions import db
from billing import queries as billing_queries
from billing import services as billing
from billing.errors import InsufficientFunds
from marketplace.autobuy.models import AUTO_BUY_STATUSES, AutobuyRun, OrderHold, SavedSearch
from marketplace.listings.queries import search_leads
from marketplace.models import Lead
from marketplace.purchases.models import PurchasedLead
from marketplace.purchases.services import purchase_leads

logger = logging.getLogger(__name__)

LOW_WALLET = "insufficient_funds: the wallet could not pay for a matching lead"
PAUSED_BY_BUYER = "paused by the buyer"


# --- saved searches ------------------------------------------------------------------------------


def list_saved_searches(*, buyer_org_id: int):
    return select(SavedSearch).where(SavedSearch.buyer_org_id == buyer_org_id)


def get_saved_search(*, buyer_org_id: int, search_id: int) -> SavedSearch:
    search = db.session.get(SavedSearch, search_id)
    if search is None or search.buyer_org_id != buyer_org_id:
        raise NotFound("No such saved search.")
    return search


def _apply(search: SavedSearch, *, name: str, filter: dict, auto_buy: dict | None) -> None:
    search.name = name
    search.filter = dict(filter)
    if auto_buy is None:
        search.auto_buy_status = None
        search.max_price_cents = search.daily_cap = search.budget_cents = None
        search.paused_reason = None
        return
    search.max_price_cents = auto_buy["max_price_cents"]
    search.daily_cap = auto_buy["daily_cap"]
    search.budget_cents = auto_buy["budget_cents"]
    search.auto_buy_status = auto_buy.get("status", "active")
    if search.auto_buy_status == "active":
        search.paused_reason = None  # resumed by the buyer
    elif search.paused_reason is None:
        search.paused_reason = PAUSED_BY_BUYER


def create_saved_search(*, buyer, name: str, filter: dict, auto_buy: dict | None) -> SavedSearch:
    with transaction() as session:
        search = SavedSearch(
            buyer_org_id=buyer.organization_id,
            created_by_id=buyer.id,
            spent_cents=0,
            bought_on_day=0,
            created_at=utcnow(),
        )
        _apply(search, name=name, filter=filter, auto_buy=auto_buy)
        session.add(search)
    return search


def replace_saved_search(
    *, buyer, search_id: int, name: str, filter: dict, auto_buy: dict | None
) -> SavedSearch:
    """PUT: the whole saved search anew; spending so far stays counted."""
    with transaction():
        search = get_saved_search(buyer_org_id=buyer.organization_id, search_id=search_id)
        _apply(search, name=name, filter=filter, auto_buy=auto_buy)
    return search


def delete_saved_search(*, buyer, search_id: int) -> None:
    with transaction() as session:
        session.delete(get_saved_search(buyer_org_id=buyer.organization_id, search_id=search_id))


def set_auto_buy_status(*, buyer, search_id: int, status: str) -> SavedSearch:
    """The buyer pauses or resumes a saved search's auto-buy; caps and spending stay.
    Resuming clears why it paused (a wallet too low pauses it again at its next purchase)."""
    if status not in AUTO_BUY_STATUSES:
        raise Invalid(details={"status": [f"One of {', '.join(AUTO_BUY_STATUSES)}."]})
    with transaction():
        search = get_saved_search(buyer_org_id=buyer.organization_id, search_id=search_id)
        if search.auto_buy_status is None:
            raise Invalid("This saved search does not auto-buy.", code="no_auto_buy")
        search.auto_buy_status = status
        search.paused_reason = PAUSED_BY_BUYER if status == "paused" else None
    return search


def auto_buy_state(*, buyer_org_id: int) -> dict:
    """How many of the organisation's orders are active and paused, and why the newest paused
    one paused (the dashboard's card)."""
    rows = db.session.execute(
        select(SavedSearch.auto_buy_status, func.count())
        .where(SavedSearch.buyer_org_id == buyer_org_id, SavedSearch.auto_buy_status.is_not(None))
        .group_by(SavedSearch.auto_buy_status)
    )
    counts = {"active": 0, "paused": 0, **dict(rows.all())}
    reason = db.session.scalar(
        select(SavedSearch.paused_reason)
        .where(SavedSearch.buyer_org_id == buyer_org_id, SavedSearch.auto_buy_status == "paused")
        .order_by(SavedSearch.id.desc())
        .limit(1)
    )
    return {**counts, "paused_reason": reason}


def pause_auto_buy(*, buyer_org_id: int, reason: str) -> int:
    """Pause the organisation's active orders; changes rows only, in the caller's transaction
    (billing's, for ``auto_recharge_failed``). Returns how many."""
    with transaction() as session:
        searches = list(
            session.scalars(
                select(SavedSearch).where(
                    SavedSearch.buyer_org_id == buyer_org_id,
                    SavedSearch.auto_buy_status == "active",
                )
            )
        )
        for search in searches:
            search.auto_buy_status = "paused"
            search.paused_reason = reason
    return len(searches)


def on_auto_recharge_failed(_sender=None, *, organization_id: int, reason, **_extra) -> None:
    """Receiver of ``billing.signals.auto_recharge_failed``."""
    pause_auto_buy(
        buyer_org_id=organization_id, reason=f"auto_recharge_failed: {reason or 'top-up failed'}"
    )


# --- auto-buy ------------------------------------------------------------------------------------


def _bought_today(search: SavedSearch, today) -> int:
    return search.bought_on_day if search.bought_day == today else 0


HOLD_SECONDS = 60


def _held(search_id: int, *, now, except_hold: int | None = None) -> tuple[int, int]:
    """(leads, cents) of the order's holds still running, but ``except_hold``."""
    stmt = select(func.count(), func.coalesce(func.sum(OrderHold.cents), 0)).where(
        OrderHold.saved_search_id == search_id,
        OrderHold.ended_at.is_(None),
        OrderHold.expires_at > now,
    )
    if except_hold is not None:
        stmt = stmt.where(OrderHold.id != except_hold)
    count, cents = db.session.execute(stmt).one()
    return count, cents


def _room_for(
    search: SavedSearch, price_cents: int, today, *, except_hold: int | None = None
) -> bool:
    if search.auto_buy_status != "active" or price_cents > search.max_price_cents:
        return False
    held, held_cents = _held(search.id, now=utcnow(), except_hold=except_hold)
    return (
        _bought_today(search, today) + held < search.daily_cap
        and search.spent_cents + held_cents + price_cents <= search.budget_cents
    )


def _active_orders() -> list[SavedSearch]:
    return list(
        db.session.scalars(
            select(SavedSearch)
            .where(SavedSearch.auto_buy_status == "active")
            .order_by(
                SavedSearch.last_bought_at.is_not(None),
                SavedSearch.last_bought_at,
                SavedSearch.created_at,
                SavedSearch.id,
            )
        )
    )


def _matches(search: SavedSearch, lead_ids: list[int], now) -> set[int]:
    stmt = (
        search_leads(search.filter, now=now)
        .with_only_columns(Lead.id)
        .where(
            Lead.id.in_(lead_ids),
            Lead.price_cents <= search.max_price_cents,
            Lead.seller_id != search.buyer_org_id,
        )
    )
    return set(db.session.scalars(stmt))


def _buy_one(search_id: int, lead_id: int, *, claim_hold: int | None = None) -> str:
    """One lead for one order, with the order's counters, in one transaction.

    Returns "bought", "skipped" (no longer fits: sold, caps, bought before) or "paused"."""
    today = utcnow().date()
    try:
        with transaction() as session:
            serialize_writes()  # SQLite's stand-in for the FOR UPDATE below
            search = session.scalar(
                select(SavedSearch)
                .where(SavedSearch.id == search_id)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
            lead = session.get(Lead, lead_id)
            if search is None or lead is None:
                return "skipped"
            if claim_hold is not None:
                _end_hold(claim_hold)
                # The ping promised this order a lead like the ping; the post must be one.
                if lead_id not in _matches(search, [lead_id], utcnow()):
                    return "skipped"
            if not _room_for(search, lead.price_cents, today, except_hold=claim_hold):
                return "skipped"
            had = session.scalar(
                select(PurchasedLead.id).where(
                    PurchasedLead.buyer_org_id == search.buyer_org_id,
                    PurchasedLead.lead_id == lead_id,
                )
            )
            if had is not None:
                return "skipped"
            buyer = SimpleNamespace(id=search.created_by_id, organization_id=search.buyer_org_id)
            purchase = purchase_leads(
                buyer=buyer,
                lead_ids=[lead_id],
                idempotency_key=f"autobuy:{search_id}:lead:{lead_id}",
            )
            search.spent_cents += purchase.total_cents
            search.bought_on_day = _bought_today(search, today) + 1
            search.bought_day = today
            search.last_bought_at = utcnow()
            buyer_org_id = search.buyer_org_id
    except InsufficientFunds:
        with transaction() as session:
            search = session.get(SavedSearch, search_id)
            if search is not None and search.auto_buy_status == "active":
                search.auto_buy_status = "paused"
                search.paused_reason = LOW_WALLET
        return "paused"
    except AppError as error:  # sold out, withdrawn or repriced meanwhile: the next order
        logger.info("auto-buy %s skipped lead %s: %s", search_id, lead_id, error)
        return "skipped"
    try:
        billing.maybe_auto_recharge(buyer_org_id)
    except Exception:  # the purchase has committed; a recharge problem must not undo it
        logger.exception("auto-recharge check failed after auto-buy %s", search_id)
    return "bought"


def match_new_leads(lead_ids) -> int:
    """Offer newly listed leads to the active auto-buy orders (the fairness rule above).

    One service for any set of new leads: a listed batch, or one real-time lead. Returns how
    many leads were bought in all."""
    lead_ids = sorted(set(lead_ids))
    if not lead_ids:
        return 0
    now = utcnow()
    with transaction():
        orders = _active_orders()
        matches = {order.id: _matches(order, lead_ids, now) for order in orders}
    queue = [order.id for order in orders if matches[order.id]]
    bought = 0
    for lead_id in lead_ids:
        served = []
        for search_id in list(queue):
            if lead_id not in matches[search_id]:
                continue
            outcome = _buy_one(search_id, lead_id)
            if outcome == "bought":
                bought += 1
                served.append(search_id)
            elif outcome == "paused":
                queue.remove(search_id)
        # Served orders go to the back, in the order they were served: the round robin.
        queue = [sid for sid in queue if sid not in served] + served
    return bought


def sell_live_lead(lead_id: int, *, hold_id: int | None = None) -> int:
    """A real-time lead just listed: first to the order its ping held (claiming the hold), then
    to the others by the same fairness rule. Returns how many orders bought it."""
    bought = 0
    if hold_id is not None:
        hold = db.session.get(OrderHold, hold_id)
        if hold is not None and _buy_one(hold.saved_search_id, lead_id, claim_hold=hold_id) == (
            "bought"
        ):
            bought += 1
        release_hold(hold_id=hold_id)
    return bought + match_new_leads([lead_id])


def would_buy(lead_ids: list[int], *, now) -> SavedSearch | None:
    """The first order (fairness order) that would buy one of these leads now: it matches, has
    room in its caps and budget counting running holds, and its buyer's wallet can pay."""
    today = now.date()
    for order in _active_orders():
        if not _matches(order, lead_ids, now):
            continue
        price = db.session.scalar(select(func.max(Lead.price_cents)).where(Lead.id.in_(lead_ids)))
        if not _room_for(order, price, today):
            continue
        _, held_cents = _held(order.id, now=now)
        if billing_queries.get_wallet_balance(order.buyer_org_id) >= held_cents + price:
            return order
    return None


def hold_order_for(*, search_id: int, cents: int) -> OrderHold:
    """Hold one lead's worth of an order's capacity for 60 s (in the caller's transaction)."""
    hold = OrderHold(
        saved_search_id=search_id,
        cents=cents,
        expires_at=utcnow() + timedelta(seconds=HOLD_SECONDS),
    )
    db.session.add(hold)
    db.session.flush()
    return hold


def _end_hold(hold_id: int) -> None:
    db.session.execute(
        update(OrderHold)
        .where(OrderHold.id == hold_id, OrderHold.ended_at.is_(None))
        .values(ended_at=utcnow())
    )


def hold_is_open(hold_id: int | None) -> bool:
    """Is this hold still holding (not claimed, released or expired)?"""
    if hold_id is None:
        return False
    return (
        db.session.scalar(
            select(OrderHold.id).where(
                OrderHold.id == hold_id,
                OrderHold.ended_at.is_(None),
                OrderHold.expires_at > utcnow(),
            )
        )
        is not None
    )


def release_hold(*, hold_id: int) -> None:
    """The post went to inspection, was refused or claimed the hold: the capacity is free."""
    with transaction():
        _end_hold(hold_id)


def run_batch(batch_id: int) -> int:
    """The auto-buy run of a listed batch, once: its listed leads are new."""
    with transaction():
        if db.session.get(AutobuyRun, batch_id) is not None:
            return 0
        lead_ids = list(
            db.session.scalars(
                select(Lead.id).where(Lead.batch_id == batch_id, Lead.status == "listed")
            )
        )
    bought = match_new_leads(lead_ids)
    with transaction():
        insert_if_absent(AutobuyRun, key=["batch_id"], batch_id=batch_id, done_at=utcnow())
    return bought


def missed_batches(*, since) -> list[int]:
    """Batches listed since ``since`` whose auto-buy run has not happened (queue lost)."""
    done = select(AutobuyRun.batch_id)
    return list(
        db.session.scalars(
            select(Lead.batch_id)
            .where(
                Lead.status == "listed",
                Lead.listed_at >= since,
                Lead.batch_id.not_in(done),
            )
            .distinct()
            .order_by(Lead.batch_id)
        )
    )


def listed_before(batch_id: int, moment) -> bool:
    listed_at = db.session.scalar(
        select(Lead.listed_at).where(Lead.batch_id == batch_id, Lead.listed_at.is_not(None))
    )
    return listed_at is not None and listed_at <= moment
