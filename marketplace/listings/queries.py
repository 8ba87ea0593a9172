"""Reads of the market's listings: the one on-sale predicate, a lead's expiry, and the search.

``on_sale(now)`` is the only definition of "this lead can be bought now"; purchases and saved
searches use it through ``marketplace.queries``. This module imports models only, so the lower
modules of the market (standing, verticals) can use it too.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Select, and_, func, literal_column, or_, select

from app.extensions import db
from marketplace.models import Lead, SellerAccount, Vertical

# The sorts of the market: (column, descending) pairs, the last one unique (app.api.paginate).
SORTS = {
    "newest": [(Lead.listed_at, True), (Lead.id, True)],
    "score": [(Lead.score, True), (Lead.id, True)],
    "price": [(Lead.price_cents, False), (Lead.id, False)],
}


# The partial indexes' predicate as literal SQL: a planner uses a partial index only when the
# query's own terms imply its WHERE, and neither a bound parameter (``status = ?``: SQLite, and
# PostgreSQL's generic plans) nor SQLite's rendering of a boolean (``is_paused = 0``) does.
_LISTED = Lead.status == literal_column("'listed'")
_NOT_PAUSED = literal_column("NOT leads.is_paused")


def on_sale(now: datetime):
    """The SQL condition of a lead buyers can buy at ``now``: listed, not paused, not sold
    out, not expired (``expires_at`` is captured_at + the vertical's max_lead_age_days)."""
    return and_(
        # Written as the partial indexes' predicate is, so the planners see that they apply.
        _LISTED,
        _NOT_PAUSED,
        Lead.sales_count < Lead.max_sales,
        Lead.expires_at > now,
    )


def is_on_sale(lead_id: int, now: datetime) -> bool:
    return db.session.scalar(select(Lead.id).where(Lead.id == lead_id, on_sale(now))) is not None


def expires_at_of(days: int):
    """SQL for ``captured_at + days`` in the stored form of a UTC time on each database.

    SQLite keeps times as text ``YYYY-MM-DD HH:MM:SS.ffffff``: the date arithmetic works on the
    whole seconds and the fraction is carried over unchanged, so the text compares as a time.
    """
    days = int(days)
    if db.session.get_bind().dialect.name == "postgresql":
        return Lead.captured_at + func.make_interval(0, 0, 0, days)
    return func.strftime("%Y-%m-%d %H:%M:%S", Lead.captured_at, f"+{days} days").concat(
        func.substr(Lead.captured_at, 20)
    )


def _any_phone_type(values: list[str]):
    conditions = []
    for value in values:
        if value == "mobile":
            # Only a number the numbering plan or a lookup confirmed counts as mobile.
            conditions.append(Lead.phone_confirmed_mobile.is_(True))
        else:
            conditions.append(Lead.phone_type == value)
    return or_(*conditions)


def search_leads(filters: dict, *, now: datetime) -> Select:
    """Leads on sale matching ``filters`` (the keys of LeadFilterArgs, loaded), unordered."""
    stmt = select(Lead).where(on_sale(now))
    if "vertical" in filters:
        stmt = stmt.where(
            Lead.vertical_id
            == select(Vertical.id).where(Vertical.slug == filters["vertical"]).scalar_subquery()
        )
    if "country" in filters:
        stmt = stmt.where(Lead.country == filters["country"])
    # Region and city match whatever the case and spacing (the filter is loaded as an area key).
    if "region" in filters:
        stmt = stmt.where(Lead.region_key == filters["region"])
    if "city" in filters:
        stmt = stmt.where(Lead.city_key == filters["city"])
    if "postal_prefix" in filters:
        stmt = stmt.where(Lead.postal_key.startswith(filters["postal_prefix"], autoescape=True))
    for key, column in (
        ("stage", Lead.stage),
        ("timeline", Lead.timeline),
        ("temperature", Lead.temperature),
    ):
        if key in filters:
            stmt = stmt.where(column.in_(filters[key]))
    if "min_score" in filters:
        stmt = stmt.where(Lead.score >= filters["min_score"])
    if "min_bant" in filters:
        stmt = stmt.where(Lead.bant_met >= filters["min_bant"])
    for criterion in filters.get("bant", ()):
        stmt = stmt.where(getattr(Lead, f"bant_{criterion}").is_(True))
    if "max_price_cents" in filters:
        stmt = stmt.where(Lead.price_cents <= filters["max_price_cents"])
    if "max_age_days" in filters:
        stmt = stmt.where(Lead.captured_at >= now - timedelta(days=filters["max_age_days"]))
    if "exclusive" in filters:
        stmt = stmt.where(Lead.max_sales == 1 if filters["exclusive"] else Lead.max_sales > 1)
    if "has_consent_certificate" in filters:
        has = and_(Lead.consent_certificate.is_not(None), Lead.consent_certificate != "")
        stmt = stmt.where(has if filters["has_consent_certificate"] else ~has)
    if "phone_type" in filters:
        stmt = stmt.where(_any_phone_type(filters["phone_type"]))
    if filters.get("min_seller_quality", 0) > 0:
        # A seller without a score counts as 0, so a minimum of 0 keeps every lead. The good
        # sellers as a set, not a lookup per lead: the planner can then hash it, or walk the
        # seller index when they are few, instead of one subquery per row it reads.
        good = select(SellerAccount.organization_id).where(
            SellerAccount.quality_score >= filters["min_seller_quality"]
        )
        stmt = stmt.where(Lead.seller_id.in_(good))
    return stmt
