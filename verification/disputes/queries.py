"""Reads of disputes: who may see which, the admin's queue, and the grouped figures (by seller,
by week, by reason and vertical, time to resolve, a buyer's share)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import selectinload

from app.auth.models import User
from app.errors import NotFound
from app.extensions import db
from app.settings import get_settings
from billing import queries as billing
from marketplace import queries as market
from verification.disputes.models import Dispute
from verification.rules.disputes import ABUSE_WINDOW_DAYS, window_is_open, within_dispute_share

# Newest first for the parties; the admin's queue is oldest first (QUEUE_ORDER); a seller's
# page puts the disputes it may still answer (open) first, then newest (SELLER_ORDER).
LIST_ORDER = [(Dispute.created_at, True), (Dispute.id, True)]
QUEUE_ORDER = [(Dispute.created_at, False), (Dispute.id, False)]
_IS_CLOSED = case((Dispute.status == "open", 0), else_=1)
SELLER_ORDER = [(_IS_CLOSED, False), (Dispute.created_at, True), (Dispute.id, True)]


def seller_order_key(dispute: Dispute) -> list:
    """A dispute's values for SELLER_ORDER (the page's cursor)."""
    return [0 if dispute.status == "open" else 1, dispute.created_at, dispute.id]


def visible_to(user: User) -> Select:
    """The disputes ``user`` may read: its organisation's returns (buyer), returns of its leads
    (seller), all of them (admin)."""
    stmt = select(Dispute)
    if user.is_admin:
        return stmt
    if user.role == "seller":
        return stmt.where(Dispute.seller_org_id == user.organization_id)
    return stmt.where(Dispute.buyer_org_id == user.organization_id)


def list_disputes(
    user: User, *, status: str | None = None, reason: str | None = None, parties: bool = False
) -> Select:
    """``user``'s disputes, of one status or reason; ``parties`` loads the buyer's and seller's
    organisations with them (the pages name both)."""
    stmt = visible_to(user)
    if status:
        stmt = stmt.where(Dispute.status == status)
    if reason:
        stmt = stmt.where(Dispute.reason == reason)
    if parties:
        stmt = stmt.options(selectinload(Dispute.buyer), selectinload(Dispute.seller))
    return stmt


def get_dispute_for(user: User, dispute_id: int) -> Dispute:
    """The dispute if ``user`` may read it; 404 otherwise (another organisation's is unknown)."""
    dispute = db.session.scalar(visible_to(user).where(Dispute.id == dispute_id))
    if dispute is None:
        raise NotFound("No such dispute.")
    return dispute


def get_returnable(*, buyer_org_id: int, lead_id: int):
    """The purchased-lead row the buyer would return (its deadline, its dispute); 404 when the
    organisation did not buy the lead."""
    item = market.get_purchased_lead(buyer_org_id=buyer_org_id, lead_id=lead_id)
    if item is None:
        raise NotFound("Your organisation has not bought this lead.")
    return item


def return_blocker(item, *, now: datetime) -> str | None:
    """Why the buyer cannot return this purchased lead now, as the service would refuse it
    (its error code), or None. For the return form: it says so before anything is typed."""
    if item.dispute_id is not None:
        return "already_disputed"
    if not window_is_open(now=now, return_deadline=item.return_deadline):
        return "return_window_closed"
    if item.sale_id is not None and billing.get_sale(item.sale_id).status != "pending":
        return "sale_released"
    share = buyer_share(item.buyer_org_id, now=now)
    limit = get_settings().buyer_dispute_limit_pct
    if not within_dispute_share(
        disputed=share["disputed"], bought=share["bought"], limit_pct=limit
    ):
        return "dispute_limit_reached"
    return None


def purchase_of(dispute: Dispute):
    """The purchased-lead row behind ``dispute``: price, when it was bought, its deadline."""
    return market.get_purchased_lead(buyer_org_id=dispute.buyer_org_id, lead_id=dispute.lead_id)


def vertical_names(vertical_ids) -> dict[int, str]:
    """Vertical id -> name, for verticals that have disputes (through one dispute of each)."""
    firsts = (
        select(func.min(Dispute.id))
        .where(Dispute.vertical_id.in_(list(vertical_ids)))
        .group_by(Dispute.vertical_id)
    )
    rows = db.session.scalars(
        select(Dispute).where(Dispute.id.in_(firsts)).options(selectinload(Dispute.vertical))
    )
    return {row.vertical_id: row.vertical.name for row in rows}


def open_count(*, seller_id: int | None = None, buyer_id: int | None = None) -> int:
    stmt = select(func.count()).where(Dispute.status == "open")
    if seller_id is not None:
        stmt = stmt.where(Dispute.seller_org_id == seller_id)
    if buyer_id is not None:
        stmt = stmt.where(Dispute.buyer_org_id == buyer_id)
    return db.session.scalar(stmt)


def queue_summary(now: datetime) -> dict:
    """Disputes waiting for a decision and how long the oldest has waited."""
    count, oldest = db.session.execute(
        select(func.count(), func.min(Dispute.created_at)).where(Dispute.status == "open")
    ).one()
    return {"waiting": count, "oldest_waited": (now - oldest) if oldest else None}


def dispute_counts(*, seller_ids=None, since: datetime | None = None) -> dict[int, dict]:
    """Per seller: disputes opened against its sold leads and disputes upheld (one grouped
    query; ``since`` on the dispute's opening)."""
    stmt = select(
        Dispute.seller_org_id,
        func.count(),
        func.sum(case((Dispute.status == "accepted", 1), else_=0)),
    ).group_by(Dispute.seller_org_id)
    if seller_ids is not None:
        stmt = stmt.where(Dispute.seller_org_id.in_(list(seller_ids)))
    if since is not None:
        stmt = stmt.where(Dispute.created_at >= since)
    found = {
        seller: {"disputes": int(n), "disputes_upheld": int(upheld or 0)}
        for seller, n, upheld in db.session.execute(stmt)
    }
    for seller_id in seller_ids or ():
        found.setdefault(seller_id, {"disputes": 0, "disputes_upheld": 0})
    return found


def weekly_dispute_counts(*, seller_id: int, since: datetime) -> dict[str, tuple[int, int]]:
    """Week (ISO date of its Monday) -> (disputes opened, of them upheld)."""
    week = market.week_start(Dispute.created_at).label("week")
    return {
        str(when): (int(n), int(upheld or 0))
        for when, n, upheld in db.session.execute(
            select(week, func.count(), func.sum(case((Dispute.status == "accepted", 1), else_=0)))
            .where(Dispute.seller_org_id == seller_id, Dispute.created_at >= since)
            .group_by(week)
        )
    }


def buyer_share(buyer_org_id: int, *, now: datetime) -> dict:
    """The buyer's returns over the abuse window: how many of the leads it bought."""
    since = now - timedelta(days=ABUSE_WINDOW_DAYS)
    disputed = db.session.scalar(
        select(func.count()).where(
            Dispute.buyer_org_id == buyer_org_id, Dispute.created_at >= since
        )
    )
    bought = market.bought_count(buyer_org_id=buyer_org_id, since=since)
    return {
        "days": ABUSE_WINDOW_DAYS,
        "disputed": disputed,
        "bought": bought,
        "rate": disputed / bought if bought else None,
    }


def reasons_by(column_name: str) -> list[tuple[int, str, int, int]]:
    """(seller or vertical id, reason, disputes, upheld), for the admin's breakdown."""
    column = getattr(Dispute, column_name)
    stmt = (
        select(
            column,
            Dispute.reason,
            func.count(),
            func.sum(case((Dispute.status == "accepted", 1), else_=0)),
        )
        .group_by(column, Dispute.reason)
        .order_by(column, Dispute.reason)
    )
    return [(key, reason, int(n), int(up or 0)) for key, reason, n, up in db.session.execute(stmt)]


def _seconds_between(earlier, later):
    if db.session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", later - earlier)
    return (func.julianday(later) - func.julianday(earlier)) * 86400.0


def resolution_times() -> dict[str, dict]:
    """How long resolved disputes took, by how they were resolved ("admin", "automatic"):
    ``{"count", "average", "longest"}`` with timedeltas, one grouped query."""
    took = _seconds_between(Dispute.created_at, Dispute.resolved_at)
    rows = db.session.execute(
        select(Dispute.resolution, func.count(), func.avg(took), func.max(took))
        .where(Dispute.resolved_at.is_not(None))
        .group_by(Dispute.resolution)
    )
    return {
        resolution: {
            "count": int(n),
            "average": timedelta(seconds=float(average or 0)),
            "longest": timedelta(seconds=float(longest or 0)),
        }
        for resolution, n, average, longest in rows
    }
