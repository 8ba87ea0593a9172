"""Reads of the verification workflow: the spot-check queue and the sellers' quality figures.

Quality figures are built from a handful of grouped queries (market intake counts, sales and
buyer outcomes from marketplace.queries, spot-check decisions from our own table), so they cost
the same for a seller with ten leads or ten million.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import selectinload

from app.auth.models import Organization
from app.db import utcnow
from app.extensions import db
from marketplace import queries as market
from verification.disputes import queries as disputes
from verification.models import SpotCheck, SpotCheckItem
from verification.rules.quality import quality_figures, quality_score

WINDOW_DAYS = 30
CHART_WEEKS = 12
# The figures the sellers table may sort by (besides the name).
SORTABLE = (
    "name",
    "quality_score",
    "status",
    "inspection_level",
    "leads_submitted",
    "leads_rejected",
    "rejection_rate",
    "batches_inspected",
    "batches_rejected",
    "batch_rejection_rate",
    "leads_sold",
    "disputes",
    "dispute_rate",
    "upheld_dispute_rate",
    "won_rate",
)


# --- the queue -----------------------------------------------------------------------------------


def list_items(*, status: str | None = None, batch_id: int | None = None):
    """Spot-check items with their leads and batches loaded; page them oldest batch first."""
    stmt = select(SpotCheckItem).options(
        selectinload(SpotCheckItem.lead), selectinload(SpotCheckItem.batch)
    )
    if status is not None:
        stmt = stmt.where(SpotCheckItem.status == status)
    if batch_id is not None:
        stmt = stmt.where(SpotCheckItem.batch_id == batch_id)
    return stmt


# Live stream leads first, longest waiting first (rank 0, then id); then the oldest batch first:
# a batch item's rank is its batch id, which grows with upload time; the item id breaks ties.
QUEUE_ORDER = [(SpotCheckItem.queue_rank, False), (SpotCheckItem.id, False)]


def get_item(item_id: int) -> SpotCheckItem | None:
    return db.session.get(SpotCheckItem, item_id)


def next_pending_item(*, after_batch_id: int | None = None) -> SpotCheckItem | None:
    """The next item to work: a live lead waiting, else the same batch, else the oldest batch."""
    base = select(SpotCheckItem).where(SpotCheckItem.status == "pending")
    live = db.session.scalar(
        base.where(SpotCheckItem.queue_rank == 0).order_by(SpotCheckItem.id).limit(1)
    )
    if live is not None:
        return live  # a live lead waits for its sale
    if after_batch_id is not None:
        same = db.session.scalar(
            base.where(SpotCheckItem.batch_id == after_batch_id)
            .order_by(SpotCheckItem.id)
            .limit(1)
        )
        if same is not None:
            return same
    return db.session.scalar(base.order_by(*[column for column, _ in QUEUE_ORDER]).limit(1))


def get_spot_check(batch_id: int) -> SpotCheck | None:
    return db.session.scalar(select(SpotCheck).where(SpotCheck.batch_id == batch_id))


def spot_checks_for(batch_ids) -> dict[int, SpotCheck]:
    batch_ids = list(batch_ids)
    if not batch_ids:
        return {}
    stmt = select(SpotCheck).where(SpotCheck.batch_id.in_(batch_ids))
    return {check.batch_id: check for check in db.session.scalars(stmt)}


def item_outcomes(batch_id: int) -> list[SpotCheckItem]:
    return list(
        db.session.scalars(
            select(SpotCheckItem)
            .where(SpotCheckItem.batch_id == batch_id)
            .order_by(SpotCheckItem.id)
        )
    )


def queue_summary() -> dict:
    """Pending items and the batches they belong to (the admin dashboard card)."""
    items, batches = db.session.execute(
        select(func.count(), func.count(func.distinct(SpotCheckItem.batch_id))).where(
            SpotCheckItem.status == "pending"
        )
    ).one()
    return {"items": int(items or 0), "batches": int(batches or 0)}


# --- quality figures -----------------------------------------------------------------------------


def spot_check_counts(*, seller_ids=None, since: datetime | None = None) -> dict[int, dict]:
    """Per seller: batches whose spot-check was decided and how many were rejected; leads
    inspected and how many were defective."""
    stmt = (
        select(
            SpotCheck.seller_id,
            func.count(),
            func.sum(case((SpotCheck.decision == "rejected", 1), else_=0)),
        )
        .where(SpotCheck.decision.is_not(None))
        .group_by(SpotCheck.seller_id)
    )
    if seller_ids is not None:
        stmt = stmt.where(SpotCheck.seller_id.in_(list(seller_ids)))
    if since is not None:
        stmt = stmt.where(SpotCheck.decided_at >= since)
    found = {
        seller_id: {"batches_inspected": int(n or 0), "batches_rejected": int(rejected or 0)}
        for seller_id, n, rejected in db.session.execute(stmt)
    }
    # Leads a person inspected, of batches and streams alike, and how many were defective
    # (every outcome but "confirmed").
    items = (
        select(
            SpotCheck.seller_id,
            func.count(),
            func.sum(case((SpotCheckItem.outcome != "confirmed", 1), else_=0)),
        )
        .join(SpotCheck, SpotCheck.id == SpotCheckItem.spot_check_id)
        .where(SpotCheckItem.outcome.is_not(None))
        .group_by(SpotCheck.seller_id)
    )
    if seller_ids is not None:
        items = items.where(SpotCheck.seller_id.in_(list(seller_ids)))
    if since is not None:
        items = items.where(SpotCheckItem.inspected_at >= since)
    for seller_id, n, defective in db.session.execute(items):
        found.setdefault(seller_id, {}).update(
            {"leads_inspected": int(n or 0), "leads_defective": int(defective or 0)}
        )
    return found


def dispute_counts(*, seller_ids=None, since: datetime | None = None) -> dict[int, dict]:
    """Per seller: disputes opened against its sold leads and disputes upheld (by the disputed
    sale's seller, ``since`` on the dispute's opening). The figures, the score, the admin table
    and check_dispute_hold() all read from here."""
    return disputes.dispute_counts(seller_ids=seller_ids, since=since)


def _counts(seller_ids, since: datetime | None) -> dict[int, dict]:
    """Every count the figures need, per seller, from one grouped query per source."""
    sources = (
        market.intake_counts(seller_ids=seller_ids, since=since),
        spot_check_counts(seller_ids=seller_ids, since=since),
        dispute_counts(seller_ids=seller_ids, since=since),
        market.outcome_counts(seller_ids=seller_ids, since=since),
    )
    sold = market.sales_counts(seller_ids=seller_ids, since=since)
    counts: dict[int, dict] = {}
    for seller_id in seller_ids:
        merged = {"leads_sold": sold.get(seller_id, 0)}
        for source in sources:
            merged.update(source.get(seller_id, {}))
        counts[seller_id] = merged
    return counts


def seller_counts(seller_id: int, *, since: datetime | None = None) -> dict:
    """One seller's raw counts (overall, or since a moment)."""
    return _counts([seller_id], since)[seller_id]


def quality_for_sellers(seller_ids, *, now: datetime | None = None) -> dict[int, dict]:
    """The api-v1.md quality figures of each seller, overall and over the last 30 days."""
    seller_ids = list(seller_ids)
    since = (now or utcnow()) - timedelta(days=WINDOW_DAYS)
    overall = _counts(seller_ids, None)
    recent = _counts(seller_ids, since)
    accounts = market.get_seller_accounts(seller_ids)
    result = {}
    for seller_id in seller_ids:
        account = accounts.get(seller_id)
        figures = quality_figures(overall[seller_id])
        figures["last_30_days"] = quality_figures(recent[seller_id])
        figures["quality_score"] = quality_score(overall[seller_id])
        figures["inspection_level"] = account.inspection_level if account else "normal"
        figures["status"] = "on_hold" if account is not None and account.is_on_hold else "active"
        result[seller_id] = figures
    return result


def seller_quality(seller_id: int, *, now: datetime | None = None) -> dict:
    return quality_for_sellers([seller_id], now=now)[seller_id]


def list_sellers():
    """Seller organisations, by name."""
    return (
        select(Organization)
        .where(Organization.kind == "seller")
        .order_by(Organization.name, Organization.id)
    )


def get_seller(seller_id: int) -> Organization | None:
    organization = db.session.get(Organization, seller_id)
    return organization if organization is not None and organization.kind == "seller" else None


def seller_names(seller_ids) -> dict[int, str]:
    seller_ids = list(seller_ids)
    if not seller_ids:
        return {}
    stmt = select(Organization.id, Organization.name).where(Organization.id.in_(seller_ids))
    return dict(db.session.execute(stmt).all())


def hold_summary() -> dict:
    """How many sellers there are and how many are on hold (the admin dashboard card)."""
    sellers = db.session.scalar(select(func.count()).select_from(list_sellers().subquery()))
    return {"sellers": int(sellers or 0), "on_hold": market.count_sellers_on_hold()}


def sellers_with_quality(*, sort: str = "name", descending: bool = False) -> list[dict]:
    """Every seller with its figures, sorted by one of SORTABLE (the admin sellers table)."""
    sellers = list(db.session.scalars(list_sellers()))
    figures = quality_for_sellers([s.id for s in sellers])
    rows = [{"id": s.id, "name": s.name, **figures[s.id]} for s in sellers]
    if sort not in SORTABLE:
        sort = "name"

    def key(row):
        value = row[sort]
        return value.lower() if isinstance(value, str) else value

    rows.sort(key=lambda row: row["name"].lower())  # stable tie-break by name
    rows.sort(key=key, reverse=descending)
    return rows


# --- the chart: rates by week --------------------------------------------------------------------


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def weekly_rates(seller_id: int, *, weeks: int = CHART_WEEKS, now: datetime | None = None):
    """Per week (oldest first, the last ``weeks`` weeks): rates with the counts behind them.

    A week without data has rate None (a gap in the chart, not a fall to zero).
    """
    today = (now or utcnow()).date()
    first = _monday(today) - timedelta(weeks=weeks - 1)
    since = datetime(first.year, first.month, first.day, tzinfo=(now or utcnow()).tzinfo)
    intake = market.weekly_intake_counts(seller_id=seller_id, since=since)
    week = market.week_start(SpotCheck.decided_at).label("week")
    decided = {
        str(when): (int(n or 0), int(rejected or 0))
        for when, n, rejected in db.session.execute(
            select(
                week, func.count(), func.sum(case((SpotCheck.decision == "rejected", 1), else_=0))
            )
            .where(
                SpotCheck.seller_id == seller_id,
                SpotCheck.decision.is_not(None),
                SpotCheck.decided_at >= since,
            )
            .group_by(week)
        )
    }
    sold = market.weekly_sales_counts(seller_id=seller_id, since=since)
    disputed = disputes.weekly_dispute_counts(seller_id=seller_id, since=since)
    rows = []
    for offset in range(weeks):
        monday = first + timedelta(weeks=offset)
        key = monday.isoformat()
        submitted = intake.get(key, {}).get("leads_submitted", 0)
        rejected_rows = intake.get(key, {}).get("leads_rejected", 0)
        inspected, rejected_batches = decided.get(key, (0, 0))
        rows.append(
            {
                "week": monday,
                "leads_submitted": submitted,
                "leads_rejected": rejected_rows,
                "batches_inspected": inspected,
                "batches_rejected": rejected_batches,
                "rejection_rate": rejected_rows / submitted if submitted else None,
                "batch_rejection_rate": rejected_batches / inspected if inspected else None,
                "leads_sold": sold.get(key, 0),
                "disputes": disputed.get(key, (0, 0))[0],
                "disputes_upheld": disputed.get(key, (0, 0))[1],
                # Disputes opened in the week per lead sold in it (each sale counts).
                "dispute_rate": (
                    disputed.get(key, (0, 0))[0] / sold[key] if sold.get(key) else None
                ),
            }
        )
    return rows


def inspection_records(seller_id: int, *, limit: int = 100) -> list[tuple]:
    """(batch, spot_check or None) for the seller's latest batches: its inspection record."""
    batches = market.seller_batches(seller_id=seller_id, limit=limit)
    checks = spot_checks_for(b.id for b in batches)
    return [(batch, checks.get(batch.id)) for batch in batches]
