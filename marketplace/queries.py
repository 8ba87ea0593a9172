"""Reads of the market other packages use: batches and leads as data, sellers' standing, and
the set-based aggregates behind the spot-check workflow and the quality figures (one grouped
query each, never a loop over leads). Intake's page reads are in marketplace/intake/queries.py.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Date, and_, case, cast, func, or_, select

from app.extensions import db
from marketplace.listings.queries import on_sale as on_sale  # re-exported for other packages
from marketplace.listings.queries import search_leads as search_leads
from marketplace.models import Batch, Lead, SellerAccount, Suppression
from marketplace.purchases.models import PurchasedLead

# Batches whose intake has finished: their rows count towards the seller's figures.
FINISHED_BATCH_STATUSES = ("held", "spot_check", "listed", "rejected", "failed")


def get_batch(batch_id: int) -> Batch | None:
    return db.session.get(Batch, batch_id)


def get_lead(lead_id: int) -> Lead | None:
    return db.session.get(Lead, lead_id)


def lead_counts(batch_ids: list[int]) -> dict[int, dict]:
    """Listed and sold lead counts per batch, in one grouped query."""
    if not batch_ids:
        return {}
    stmt = (
        select(
            Lead.batch_id,
            func.sum(case((Lead.status == "listed", 1), else_=0)),
            func.sum(case((Lead.sales_count > 0, 1), else_=0)),
        )
        .where(Lead.batch_id.in_(batch_ids))
        .group_by(Lead.batch_id)
    )
    return {
        bid: {"listed": int(listed or 0), "sold": int(sold or 0)}
        for bid, listed, sold in db.session.execute(stmt)
    }


def describe_batch(batch: Batch, counts: dict | None = None) -> dict:
    """The batch as api-v1.md shows it, as data; ``BatchSchema`` adds the links."""
    if counts is None:
        counts = lead_counts([batch.id]).get(batch.id, {})
    decision = batch.decision or {}
    return {
        "id": batch.id,
        "name": batch.name,
        "vertical": batch.vertical.slug,
        "price_cents": batch.price_cents,
        "currency": batch.currency,
        "max_sales": batch.max_sales,
        "status": batch.status,
        "created_at": batch.created_at,
        "progress": {"processed": batch.processed_rows, "total": batch.total_rows},
        "counts": {
            "rows": batch.accepted_count + batch.rejected_count + batch.duplicate_count,
            "accepted": batch.accepted_count,
            "rejected": batch.rejected_count,
            "duplicates": batch.duplicate_count,
            "listed": counts.get("listed", 0),
            "sold": counts.get("sold", 0),
        },
        "spot_check": {
            key: decision.get(key)
            for key in (
                "sample_size",
                "accept_number",
                "reject_number",
                "inspected",
                "defects",
                "decision",
            )
        },
        "error": {"code": batch.error_code, "message": batch.error_message}
        if batch.error_code
        else None,
    }


def lead_values(lead: Lead) -> dict:
    """A stored lead as a dict of its column values: the input of check_row, qualify, score."""
    values = {column.key: getattr(lead, column.key) for column in Lead.__table__.columns}
    values["interest_signals"] = list(values.get("interest_signals") or [])
    values["extra"] = dict(values.get("extra") or {})
    return values


def pending_lead_ids(*, batch_id: int) -> list[int]:
    """The lot a batch's sample is drawn from: its accepted leads, in id order."""
    stmt = (
        select(Lead.id)
        .where(Lead.batch_id == batch_id, Lead.status == "pending")
        .order_by(Lead.id)
    )
    return list(db.session.scalars(stmt))


def list_batch_ids(*, status: str, seller_id: int | None = None) -> list[int]:
    stmt = select(Batch.id).where(Batch.status == status).order_by(Batch.id)
    if seller_id is not None:
        stmt = stmt.where(Batch.seller_id == seller_id)
    return list(db.session.scalars(stmt))


def get_seller_accounts(organization_ids=None) -> dict[int, SellerAccount]:
    stmt = select(SellerAccount)
    if organization_ids is not None:
        stmt = stmt.where(SellerAccount.organization_id.in_(list(organization_ids)))
    return {account.organization_id: account for account in db.session.scalars(stmt)}


def intake_counts(*, seller_ids=None, since: datetime | None = None) -> dict[int, dict]:
    """Per seller: data rows uploaded and rows rejected by the automatic checks.

    ``leads_submitted`` counts every data row of a batch whose intake finished (accepted,
    rejected and duplicates); ``leads_rejected`` the rows the checks rejected, duplicates apart.
    With ``since``, only batches uploaded since then count.
    """
    stmt = (
        select(
            Batch.seller_id,
            func.sum(Batch.accepted_count + Batch.rejected_count + Batch.duplicate_count),
            func.sum(Batch.rejected_count),
        )
        .where(Batch.status.in_(FINISHED_BATCH_STATUSES))
        .group_by(Batch.seller_id)
    )
    if seller_ids is not None:
        stmt = stmt.where(Batch.seller_id.in_(list(seller_ids)))
    if since is not None:
        stmt = stmt.where(Batch.created_at >= since)
    return {
        seller_id: {"leads_submitted": int(rows or 0), "leads_rejected": int(rejected or 0)}
        for seller_id, rows, rejected in db.session.execute(stmt)
    }


def sales_counts(*, seller_ids=None, since: datetime | None = None) -> dict[int, int]:
    """Per seller: lead sales, each sale of a shared lead counted (one bought-lead row each).

    With ``since``, only sales made since then count.
    """
    stmt = select(PurchasedLead.seller_org_id, func.count()).group_by(PurchasedLead.seller_org_id)
    if seller_ids is not None:
        stmt = stmt.where(PurchasedLead.seller_org_id.in_(list(seller_ids)))
    if since is not None:
        stmt = stmt.where(PurchasedLead.purchased_at >= since)
    return {seller_id: int(sold or 0) for seller_id, sold in db.session.execute(stmt)}


def outcome_counts(*, seller_ids=None, since: datetime | None = None) -> dict[int, dict]:
    """Per seller: buyer outcomes recorded on its sold leads, and how many were won.

    With ``since``, only outcomes recorded since then count.
    """
    stmt = (
        select(
            PurchasedLead.seller_org_id,
            func.count(),
            func.sum(case((PurchasedLead.outcome == "won", 1), else_=0)),
        )
        .where(PurchasedLead.outcome.is_not(None))
        .group_by(PurchasedLead.seller_org_id)
    )
    if seller_ids is not None:
        stmt = stmt.where(PurchasedLead.seller_org_id.in_(list(seller_ids)))
    if since is not None:
        stmt = stmt.where(PurchasedLead.outcome_at >= since)
    return {
        seller_id: {"outcomes_won": int(won or 0), "outcomes_recorded": int(recorded or 0)}
        for seller_id, recorded, won in db.session.execute(stmt)
    }


def week_start(column):
    """A SQL expression for the Monday (UTC) of the week a timestamp falls in, as a date.

    SQLite stores our timestamps as naive UTC text; PostgreSQL as timestamptz, which is turned
    to UTC first so the session's time zone cannot move a week boundary.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        return cast(func.date_trunc("week", func.timezone("UTC", column)), Date)
    # 'weekday 0' moves forward to the next Sunday (or stays on one); 6 days back is Monday.
    return func.date(column, "weekday 0", "-6 days")


def weekly_intake_counts(*, seller_id: int, since: datetime) -> dict[str, dict]:
    """Rows uploaded and rejected per week (ISO date of its Monday) since a moment."""
    week = week_start(Batch.created_at).label("week")
    stmt = (
        select(
            week,
            func.sum(Batch.accepted_count + Batch.rejected_count + Batch.duplicate_count),
            func.sum(Batch.rejected_count),
        )
        .where(
            Batch.seller_id == seller_id,
            Batch.status.in_(FINISHED_BATCH_STATUSES),
            Batch.created_at >= since,
        )
        .group_by(week)
    )
    return {
        str(when): {"leads_submitted": int(rows or 0), "leads_rejected": int(rejected or 0)}
        for when, rows, rejected in db.session.execute(stmt)
    }


def weekly_sales_counts(*, seller_id: int, since: datetime) -> dict[str, int]:
    """Leads sold per week (ISO date of its Monday) since a moment: each sale counts."""
    week = week_start(PurchasedLead.purchased_at).label("week")
    stmt = (
        select(week, func.count())
        .where(PurchasedLead.seller_org_id == seller_id, PurchasedLead.purchased_at >= since)
        .group_by(week)
    )
    return {str(when): int(n) for when, n in db.session.execute(stmt)}


def seller_batches(*, seller_id: int, limit: int = 100) -> list[Batch]:
    """A seller's latest batches, newest first."""
    stmt = select(Batch).where(Batch.seller_id == seller_id).order_by(Batch.id.desc()).limit(limit)
    return list(db.session.scalars(stmt))


def suppressed_values(*, email: str | None, phone: str | None) -> tuple[set, set]:
    """(emails, phones) of the suppression list matching these values: a re-check's context."""
    conditions = []
    if email:
        conditions.append(and_(Suppression.kind == "email", Suppression.value == email.lower()))
    if phone:
        conditions.append(and_(Suppression.kind == "phone", Suppression.value == phone))
    emails, phones = set(), set()
    if conditions:
        for kind, value in db.session.execute(
            select(Suppression.kind, Suppression.value).where(or_(*conditions))
        ):
            (emails if kind == "email" else phones).add(value)
    return emails, phones


def count_sellers_on_hold() -> int:
    stmt = select(func.count()).where(SellerAccount.is_on_hold.is_(True))
    return int(db.session.scalar(stmt.select_from(SellerAccount)) or 0)


def lead_ids_of_batch(*, batch_id: int) -> list[int]:
    """Every lead id of a batch, whatever its status (re-drawing a recorded sample)."""
    return list(db.session.scalars(select(Lead.id).where(Lead.batch_id == batch_id)))


# --- what the disputes workflow reads of a purchase ----------------------------------------------


def get_purchased_lead(*, buyer_org_id: int, lead_id: int) -> PurchasedLead | None:
    """The row of ``lead_id`` bought by ``buyer_org_id``, or None (not bought by it)."""
    return db.session.scalar(
        select(PurchasedLead).where(
            PurchasedLead.buyer_org_id == buyer_org_id, PurchasedLead.lead_id == lead_id
        )
    )


def bought_count(*, buyer_org_id: int, since: datetime) -> int:
    """Leads the organisation bought since ``since`` (each purchased lead once)."""
    return db.session.scalar(
        select(func.count()).where(
            PurchasedLead.buyer_org_id == buyer_org_id, PurchasedLead.purchased_at >= since
        )
    )


def earlier_sale_of_same_person(item: PurchasedLead, *, lookback_days: int) -> dict | None:
    """Was the same person (lower-cased email or E.164 phone) sold to this buyer before ``item``,
    within ``lookback_days`` of it? ``{"matched": "email"|"phone", "purchased_at"}`` or None.

    Names only the matching field and when, never the other lead or its seller.
    """
    lead = item.lead
    since = item.purchased_at - timedelta(days=lookback_days)
    for field, value in (("email", lead.email), ("phone", lead.phone)):
        if not value:
            continue
        column = getattr(Lead, field)
        earlier = db.session.scalar(
            select(func.min(PurchasedLead.purchased_at))
            .join(Lead, Lead.id == PurchasedLead.lead_id)
            .where(
                PurchasedLead.buyer_org_id == item.buyer_org_id,
                PurchasedLead.lead_id != item.lead_id,
                PurchasedLead.purchased_at <= item.purchased_at,
                PurchasedLead.purchased_at >= since,
                PurchasedLead.id < item.id,
                column == value,
            )
        )
        if earlier is not None:
            return {"matched": field, "purchased_at": earlier}
    return None
