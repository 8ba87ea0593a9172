"""Buying leads: one transaction takes each lead by a conditional UPDATE, records the bought
lead (UNIQUE per lead and buyer organisation) and charges the wallet through billing's facade.

Races are settled by the database: the UPDATE's WHERE re-checks the lead against the committed
row (PostgreSQL) or under the one writer (SQLite); the UNIQUE constraint keeps a lead from one
organisation twice; the ledger keeps the wallet from going below zero. The ledger accounts of
the whole purchase are locked first, in one order, so purchases across sellers never deadlock.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import datetime, timedelta

from sqlalchemy import inspect, select, update
from sqlalchemy.exc import IntegrityError

from app.db import in_transaction, insert_if_absent, transaction, utcnow
from app.errors import Invalid
from app.extensions import db
from app.idempotency import IdempotencyKeyReused
from billing import queries as billing_queries
from billing import services as billing
from billing.errors import InsufficientFunds
from marketplace.delivery import services as delivery
from marketplace.listings.queries import SORTS, on_sale, search_leads
from marketplace.models import Lead, Vertical
from marketplace.purchases.errors import (
    AlreadyPurchased,
    LeadNotFound,
    LeadUnavailable,
    NotEnoughLeads,
    PriceChanged,
    PurchasedLeadNotFound,
)
from marketplace.purchases.models import OUTCOMES, Purchase, PurchasedLead

logger = logging.getLogger(__name__)

MAX_LEADS = 500
LOST_NEEDS_REASON = "Say why the lead was lost."
# A filter purchase reads this many spare matches, to replace leads sold under it meanwhile.
FILTER_SPARE = 20


def _sellable(now: datetime):
    """The on-sale predicate of a lead row: listings' one definition."""
    return on_sale(now)


def _buyable_by(buyer_org_id: int):
    """Leads this organisation may buy besides being on sale: not its own, not bought before."""
    bought = select(PurchasedLead.lead_id).where(PurchasedLead.buyer_org_id == buyer_org_id)
    return (Lead.seller_id != buyer_org_id) & Lead.id.not_in(bought)


def _matching_leads(
    *, filter: dict, buyer_org_id: int, now: datetime, limit: int, sort: str | None = None
) -> list[Lead]:
    """Leads a filter purchase may take, in the market's ``sort`` (newest first by default):
    the market's search with the filter (listings' ``search_leads``), minus what the buyer may
    not buy."""
    order = [
        column.desc() if descending else column.asc()
        for column, descending in SORTS[sort or "newest"]
    ]
    stmt = (
        search_leads(filter, now=now)
        .where(_buyable_by(buyer_org_id))
        .order_by(*order)
        .limit(limit)
    )
    return list(db.session.scalars(stmt))


def request_hash(**request) -> str:
    canonical = json.dumps(request, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _check_request(lead_ids, filter, quantity, sort=None) -> None:
    if (lead_ids is None) == (filter is None):
        raise Invalid(
            "Send either lead_ids or a filter with a quantity.",
            details={"_schema": ["Send either lead_ids or filter and quantity."]},
        )
    if sort is not None and (filter is None or sort not in SORTS):
        raise Invalid(details={"sort": [f"With a filter only: one of {', '.join(SORTS)}."]})
    if lead_ids is not None:
        if not 1 <= len(lead_ids) <= MAX_LEADS:
            raise Invalid(details={"lead_ids": [f"Between 1 and {MAX_LEADS} ids."]})
        if len(set(lead_ids)) != len(lead_ids):
            raise Invalid(details={"lead_ids": ["A lead id is repeated."]})
    elif quantity is None or not 1 <= quantity <= MAX_LEADS:
        raise Invalid(details={"quantity": [f"Between 1 and {MAX_LEADS}."]})


def _find_by_key(buyer_org_id: int, key: str) -> Purchase | None:
    return db.session.scalar(
        select(Purchase).where(
            Purchase.buyer_org_id == buyer_org_id, Purchase.idempotency_key == key
        )
    )


def _same_request(purchase: Purchase, fingerprint: str) -> Purchase:
    if purchase.request_hash != fingerprint:
        raise IdempotencyKeyReused(details={"purchase_id": purchase.id})
    return purchase


def purchase_leads(
    *,
    buyer,
    lead_ids: list[int] | None = None,
    filter: dict | None = None,
    quantity: int | None = None,
    sort: str | None = None,
    allow_partial: bool = False,
    expected_total_cents: int | None = None,
    idempotency_key: str | None = None,
) -> Purchase:
    """Buy leads by id (1-500 distinct) or by filter and quantity, all or nothing unless
    ``allow_partial`` (which covers availability, never money). One transaction; the buyer's
    auto-recharge is looked at after it commits. The same key and request again return the
    first purchase; the same key with another request is 409.

    A filter purchase takes its matches in the market's ``sort`` (``newest`` when None).
    ``expected_total_cents`` is compared with the current prices of every lead asked for (by
    filter: the first ``quantity`` matches) before anything is taken; a lead repriced after
    that read fails its conditional UPDATE like a sold one."""
    _check_request(lead_ids, filter, quantity, sort)
    buyer_org_id = buyer.organization_id
    fingerprint = request_hash(
        lead_ids=sorted(lead_ids) if lead_ids is not None else None,
        filter=filter,
        quantity=quantity,
        allow_partial=bool(allow_partial),
        expected_total_cents=expected_total_cents,
        # Only when given, so the keys of purchases made before sorts existed still match.
        **({"sort": sort} if sort is not None else {}),
    )
    if idempotency_key is not None:
        found = _find_by_key(buyer_org_id, idempotency_key)
        if found is not None:
            return _same_request(found, fingerprint)
    try:
        purchase = _purchase(
            buyer=buyer,
            lead_ids=lead_ids,
            filter=filter,
            quantity=quantity,
            sort=sort,
            allow_partial=allow_partial,
            expected_total_cents=expected_total_cents,
            idempotency_key=idempotency_key,
            fingerprint=fingerprint,
        )
    except IntegrityError:
        # A twin with the same key committed first: answer as it did.
        found = _find_by_key(buyer_org_id, idempotency_key) if idempotency_key else None
        if found is None:
            raise
        return _same_request(found, fingerprint)
    if not in_transaction():  # a caller's own transaction looks at the recharge after its commit
        purchase_id = inspect(purchase).identity[0]  # no refresh of the committed row
        try:
            billing.maybe_auto_recharge(buyer_org_id)
        except Exception:  # the purchase has committed; a recharge problem must not undo it
            logger.exception("auto-recharge check failed after purchase %s", purchase_id)
        try:
            delivery.queue_deliveries(purchase_id=purchase_id)
        except Exception:  # the purchase has committed; a delivery problem must not undo it
            logger.exception("queueing deliveries failed after purchase %s", purchase_id)
    return purchase


def quote_purchase(
    *,
    buyer,
    lead_ids: list[int] | None = None,
    filter: dict | None = None,
    quantity: int | None = None,
    sort: str | None = None,
) -> dict:
    """What ``purchase_leads`` with the same request would buy now, for the buyer to confirm:
    ``{"leads", "unavailable_lead_ids", "total_cents", "balance_cents"}``.

    By ids: the asked-for leads the buyer may buy now, and the others (sold, withdrawn, its
    own, bought before, unknown) named apart. By filter: the first ``quantity`` matches in
    ``sort``, the ones ``purchase_leads`` prices. Nothing is locked: the buyer confirms the
    total, and a price moved meanwhile is ``price_changed`` then.
    """
    _check_request(lead_ids, filter, quantity, sort)
    buyer_org_id = buyer.organization_id
    now = utcnow()
    if lead_ids is not None:
        leads = list(
            db.session.scalars(
                select(Lead)
                .where(Lead.id.in_(lead_ids), on_sale(now), _buyable_by(buyer_org_id))
                .order_by(Lead.id)
            )
        )
        unavailable = sorted(set(lead_ids) - {lead.id for lead in leads})
    else:
        leads = _matching_leads(
            filter=filter, buyer_org_id=buyer_org_id, now=now, limit=quantity, sort=sort
        )
        unavailable = []
    return {
        "leads": leads,
        "unavailable_lead_ids": unavailable,
        "total_cents": sum(lead.price_cents for lead in leads),
        "balance_cents": billing_queries.get_wallet_balance(buyer_org_id),
    }


def _purchase(
    *,
    buyer,
    lead_ids,
    filter,
    quantity,
    sort,
    allow_partial,
    expected_total_cents,
    idempotency_key,
    fingerprint,
) -> Purchase:
    buyer_org_id = buyer.organization_id
    now = utcnow()
    with transaction() as session:
        # First write first: a same-key twin waits here, and SQLite's one writer is ours.
        purchase = Purchase(
            buyer_org_id=buyer_org_id,
            buyer_user_id=buyer.id,
            idempotency_key=idempotency_key,
            request_hash=fingerprint,
            status="completed",
            total_cents=0,
            skipped_lead_ids=[],
            created_at=now,
        )
        session.add(purchase)
        session.flush()
        if lead_ids is not None:
            candidates = _leads_by_id(lead_ids, buyer_org_id)
            windows = {lead.vertical_id: lead.return_window_days for lead in candidates}
            wanted = len(candidates)
        else:
            windows = None
            candidates = _matching_leads(
                filter=filter,
                buyer_org_id=buyer_org_id,
                now=now,
                limit=quantity + FILTER_SPARE,
                sort=sort,
            )
            wanted = quantity
            if len(candidates) < quantity and not allow_partial:
                raise NotEnoughLeads(details={"available": len(candidates)})
        quoted = sum(lead.price_cents for lead in candidates[:wanted])
        if expected_total_cents is not None and expected_total_cents != quoted:
            raise PriceChanged(
                details={"expected_total_cents": expected_total_cents, "total_cents": quoted}
            )
        currencies = {lead.currency for lead in candidates}
        if len(currencies) > 1:
            raise Invalid("Buy leads of one currency at a time.", code="mixed_currencies")
        balance = billing.lock_accounts_for_purchase(
            buyer_org_id=buyer_org_id,
            seller_org_ids=sorted({lead.seller_id for lead in candidates}),
            **({"currency": currencies.pop()} if currencies else {}),
        )
        taken, failed = _take(candidates, wanted, buyer_org_id, now)
        if lead_ids is not None:
            if failed and (not allow_partial or not taken):
                raise LeadUnavailable(details={"lead_ids": failed})
        elif len(taken) < quantity and (not allow_partial or not taken):
            raise NotEnoughLeads(details={"available": len(taken)})
        total = sum(lead.price_cents for lead in taken)
        # Replacement matches of a filter purchase may cost otherwise: never charge more than
        # the buyer confirmed, nor other than it for a whole purchase.
        if expected_total_cents is not None and (
            total > expected_total_cents or (total != expected_total_cents and not failed)
        ):
            raise PriceChanged(
                details={"expected_total_cents": expected_total_cents, "total_cents": total}
            )
        _charge(purchase, taken, now, balance=balance, windows=windows)
        purchase.skipped_lead_ids = sorted(failed) if lead_ids is not None else []
    return purchase


def _leads_by_id(lead_ids: list[int], buyer_org_id: int) -> list:
    """The asked-for leads in id order; 404 for ids never on sale, 409 for ones bought before.

    One query for what a purchase needs of each lead (not the whole row): its id, seller,
    vertical and that vertical's return window, price and currency, and whether this buyer
    organisation bought it before."""
    bought = (
        select(PurchasedLead.id)
        .where(PurchasedLead.buyer_org_id == buyer_org_id, PurchasedLead.lead_id == Lead.id)
        .exists()
    )
    leads = db.session.execute(
        select(
            Lead.id,
            Lead.listed_at,
            Lead.seller_id,
            Lead.vertical_id,
            Lead.price_cents,
            Lead.currency,
            Vertical.return_window_days,
            bought.label("bought"),
        )
        .join(Vertical, Vertical.id == Lead.vertical_id)
        .where(Lead.id.in_(lead_ids))
        .order_by(Lead.id)
    ).all()
    missing = sorted(set(lead_ids) - {lead.id for lead in leads if lead.listed_at is not None})
    if missing:
        raise LeadNotFound(details={"lead_ids": missing})
    already = [lead.id for lead in leads if lead.bought]
    if already:
        raise AlreadyPurchased(details={"lead_ids": already})
    return leads


def _take(candidates: list, wanted: int, buyer_org_id: int, now) -> tuple[list, list]:
    """Take up to ``wanted`` of the candidates (in their order of preference), each by one
    conditional UPDATE in id order; a lead sold out, withdrawn or repriced meanwhile fails."""
    taken: list[Lead] = []
    failed: list[int] = []
    pending = list(candidates)
    while pending and len(taken) < wanted:
        room = wanted - len(taken)
        batch, pending = pending[:room], pending[room:]
        for lead in sorted(batch, key=lambda lead: lead.id):
            done = db.session.execute(
                update(Lead)
                .where(
                    Lead.id == lead.id,
                    _sellable(now),
                    Lead.seller_id != buyer_org_id,
                    Lead.price_cents == lead.price_cents,
                )
                .values(sales_count=Lead.sales_count + 1)
                .execution_options(synchronize_session=False)
            ).rowcount
            if done == 1:
                taken.append(lead)
                if isinstance(lead, Lead):  # a loaded lead's count is stale now
                    db.session.expire(lead, ["sales_count"])
            else:
                failed.append(lead.id)
    return sorted(taken, key=lambda lead: lead.id), failed


def _charge(
    purchase: Purchase, taken: list, now: datetime, *, balance: int, windows: dict | None
) -> None:
    """Record each bought lead and charge it; a wallet too low fails the whole purchase.
    ``balance`` is the wallet read under its lock; ``windows`` the return window of each
    vertical by id (read here when None)."""
    buyer_org_id = purchase.buyer_org_id
    total = sum(lead.price_cents for lead in taken)
    funds = {"required_cents": total, "balance_cents": balance}
    if balance < total:
        raise InsufficientFunds(details=funds)
    if windows is None:
        windows = dict(
            db.session.execute(
                select(Vertical.id, Vertical.return_window_days).where(
                    Vertical.id.in_({lead.vertical_id for lead in taken})
                )
            ).all()
        )
    for lead in taken:
        deadline = now + timedelta(days=windows[lead.vertical_id])
        key = f"purchase:{purchase.id}:lead:{lead.id}"
        try:
            sale = billing.charge_purchase(
                buyer_org_id=buyer_org_id,
                seller_org_id=lead.seller_id,
                amount_cents=lead.price_cents,
                reference=key,
                idempotency_key=key,
                release_after=deadline,
                currency=lead.currency,
            )
        except InsufficientFunds as exc:
            raise InsufficientFunds(details=funds) from exc
        # The sale first, so the bought row is written whole in one statement; a row already
        # there (a twin of this organisation bought the lead meanwhile) fails the purchase.
        row_id = insert_if_absent(
            PurchasedLead,
            key=["lead_id", "buyer_org_id"],
            purchase_id=purchase.id,
            lead_id=lead.id,
            buyer_org_id=buyer_org_id,
            seller_org_id=lead.seller_id,
            price_cents=lead.price_cents,
            currency=lead.currency,
            purchased_at=now,
            return_deadline=deadline,
            sale_id=sale.id,
        )
        if row_id is None:
            raise AlreadyPurchased(details={"lead_ids": [lead.id]})
    purchase.total_cents = total
    if taken:
        purchase.currency = taken[0].currency


def record_outcome(*, buyer, lead_id: int, outcome: str, reason: str | None = None):
    """The buyer's outcome of a lead it bought (feeds the seller's won rate); 404 otherwise.
    ``lost`` needs a reason (422 with ``details.reason``); a blank reason counts as none."""
    if outcome not in OUTCOMES:
        raise Invalid(details={"outcome": [f"One of {', '.join(OUTCOMES)}."]})
    reason = (reason or "").strip() or None
    if outcome == "lost" and reason is None:
        # A lost lead without a why tells the seller nothing; the other outcomes speak for
        # themselves, so their reason is optional.
        raise Invalid(LOST_NEEDS_REASON, details={"reason": [LOST_NEEDS_REASON]})
    with transaction() as session:
        row = session.scalar(
            select(PurchasedLead).where(
                PurchasedLead.buyer_org_id == buyer.organization_id,
                PurchasedLead.lead_id == lead_id,
            )
        )
        if row is None:
            raise PurchasedLeadNotFound()
        row.outcome = outcome
        row.outcome_reason = reason
        row.outcome_at = utcnow()
    return row
