"""Verticals, batches, leads, intake rejections, column mappings, suppressions, seller state."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import UTCDateTime, utcnow
from app.extensions import db

BATCH_STATUSES = (
    "processing",
    "held",
    "spot_check",
    "listed",
    "rejected",
    "failed",
    "withdrawn",
)
# Leads of these batches exist for everyone else (de-duplication, search once listed).
VISIBLE_BATCH_STATUSES = ("held", "spot_check", "listed")
LEAD_STATUSES = ("pending", "listed", "withdrawn", "defective", "rejected")

# The part of the on-sale predicate that does not move with the clock (listings/queries.py has
# the whole of it): the market's partial indexes cover only these rows.
_ON_SALE_ROWS = sql_text("status = 'listed' AND NOT is_paused AND sales_count < max_sales")


def _on_sale_index(name: str, *columns: str, **options) -> Index:
    return Index(
        name, *columns, postgresql_where=_ON_SALE_ROWS, sqlite_where=_ON_SALE_ROWS, **options
    )


class Vertical(db.Model):
    __tablename__ = "verticals"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    return_window_days: Mapped[int] = mapped_column(default=7)
    max_lead_age_days: Mapped[int] = mapped_column(default=90)
    required_columns: Mapped[list] = mapped_column(JSON, default=list)
    is_active: Mapped[bool] = mapped_column(default=True)


class SellerAccount(db.Model):
    """A seller organisation's market standing, read by intake and changed by verification."""

    __tablename__ = "seller_accounts"

    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), primary_key=True)
    is_on_hold: Mapped[bool] = mapped_column(default=False)
    hold_reason: Mapped[str | None] = mapped_column(Text)
    held_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    inspection_level: Mapped[str] = mapped_column(String(16), default="normal")
    inspection_state: Mapped[dict] = mapped_column(JSON, default=dict)
    quality_score: Mapped[int | None] = mapped_column(Integer)
    column_map: Mapped[dict] = mapped_column(JSON, default=dict)


class Batch(db.Model):
    __tablename__ = "batches"
    __table_args__ = (
        CheckConstraint("price_cents > 0", name="price_positive"),
        CheckConstraint("max_sales >= 1", name="max_sales_positive"),
        Index("ix_batches_seller_created", "seller_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    seller_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    vertical_id: Mapped[int] = mapped_column(ForeignKey("verticals.id"))
    name: Mapped[str] = mapped_column(String(200))
    price_cents: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3), default="usd")
    max_sales: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(16), default="processing", index=True)
    source_format: Mapped[str] = mapped_column(String(8))  # csv | json
    source_path: Mapped[str | None] = mapped_column(String(500))
    source_filename: Mapped[str | None] = mapped_column(String(255))
    column_map: Mapped[dict] = mapped_column(JSON, default=dict)
    delimiter: Mapped[str | None] = mapped_column(String(1))
    total_rows: Mapped[int | None] = mapped_column(Integer)
    processed_rows: Mapped[int] = mapped_column(Integer, default=0)
    accepted_count: Mapped[int] = mapped_column(Integer, default=0)
    rejected_count: Mapped[int] = mapped_column(Integer, default=0)
    duplicate_count: Mapped[int] = mapped_column(Integer, default=0)
    error_code: Mapped[str | None] = mapped_column(String(32))
    error_message: Mapped[str | None] = mapped_column(Text)
    decision: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    vertical: Mapped[Vertical] = relationship(lazy="joined")


class BatchRejection(db.Model):
    __tablename__ = "batch_rejections"
    __table_args__ = (Index("ix_batch_rejections_batch_row", "batch_id", "row_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id", ondelete="CASCADE"))
    row_number: Mapped[int] = mapped_column(Integer)
    field: Mapped[str] = mapped_column(String(64))
    code: Mapped[str] = mapped_column(String(32))
    message: Mapped[str] = mapped_column(Text)
    details: Mapped[dict | None] = mapped_column(JSON)


class Lead(db.Model):
    __tablename__ = "leads"
    __table_args__ = (
        CheckConstraint("sales_count >= 0 AND sales_count <= max_sales", name="sales_in_range"),
        Index("ix_leads_email", "email"),
        Index("ix_leads_phone", "phone"),
        Index("ix_leads_batch_row", "batch_id", "row_number"),
        Index("ix_leads_market", "status", "listed_at", "id"),
        # The market's sorts, its vertical filter, and the city and postal filters.
        _on_sale_index("ix_leads_on_sale_newest", "listed_at", "id"),
        _on_sale_index("ix_leads_on_sale_score", "score", "id"),
        _on_sale_index("ix_leads_on_sale_price", "price_cents", "id"),
        _on_sale_index("ix_leads_on_sale_vertical", "vertical_id", "listed_at", "id"),
        # A city's newest page without sorting all of a big city's leads (the city's key:
        # region and city match whatever the case).
        _on_sale_index("ix_leads_on_sale_city_newest", "city_key", "listed_at", "id"),
        # min_seller_quality: the good sellers' leads (of a vertical), not a walk of them all.
        _on_sale_index("ix_leads_on_sale_seller", "seller_id", "vertical_id", "listed_at", "id"),
        # LIKE 'prefix%' uses a b-tree on PostgreSQL only with the pattern operator class.
        _on_sale_index(
            "ix_leads_on_sale_postal_key",
            "postal_key",
            postgresql_ops={"postal_key": "text_pattern_ops"},
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"))
    seller_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    vertical_id: Mapped[int] = mapped_column(ForeignKey("verticals.id"))
    row_number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    is_paused: Mapped[bool] = mapped_column(Boolean, default=False)
    price_cents: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3), default="usd")
    max_sales: Mapped[int] = mapped_column(Integer)
    sales_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    listed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # captured_at + the vertical's max_lead_age_days, set when listed; update_vertical keeps it.
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # "phone" or "email": an upheld dispute proved that field bad; the lead is off sale.
    flagged_field: Mapped[str | None] = mapped_column(String(8))

    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(320))
    email_domain: Mapped[str | None] = mapped_column(String(255))
    email_status: Mapped[str | None] = mapped_column(String(16))
    phone: Mapped[str | None] = mapped_column(String(20))
    phone_type: Mapped[str | None] = mapped_column(String(24))
    phone_confirmed_mobile: Mapped[bool] = mapped_column(Boolean, default=False)
    company: Mapped[str | None] = mapped_column(String(1000))
    job_title: Mapped[str | None] = mapped_column(String(1000))
    country: Mapped[str] = mapped_column(String(2))
    region: Mapped[str | None] = mapped_column(String(1000))
    city: Mapped[str | None] = mapped_column(String(1000))
    postal_code: Mapped[str | None] = mapped_column(String(32))
    postal_prefix: Mapped[str | None] = mapped_column(String(16))
    # The postal code upper-case without spaces: what the postal_prefix filter matches.
    postal_key: Mapped[str | None] = mapped_column(String(32))
    # Region and city lower-cased (derive.area_key): what the market's filters match.
    region_key: Mapped[str | None] = mapped_column(String(1000))
    city_key: Mapped[str | None] = mapped_column(String(1000))
    address: Mapped[str | None] = mapped_column(String(1000))
    captured_at: Mapped[datetime] = mapped_column(UTCDateTime)
    consent_text: Mapped[str] = mapped_column(Text)
    consented_at: Mapped[datetime] = mapped_column(UTCDateTime)
    consent_ip: Mapped[str | None] = mapped_column(String(64))
    consent_url: Mapped[str | None] = mapped_column(String(1000))
    consent_certificate: Mapped[str | None] = mapped_column(String(1000))
    lead_type: Mapped[str | None] = mapped_column(String(16))
    has_budget: Mapped[bool | None] = mapped_column(Boolean)
    budget_cents: Mapped[int | None] = mapped_column(BigInteger)
    is_decision_maker: Mapped[bool | None] = mapped_column(Boolean)
    decision_makers: Mapped[str | None] = mapped_column(Text)
    need: Mapped[str | None] = mapped_column(Text)
    challenge: Mapped[str | None] = mapped_column(Text)
    timeline: Mapped[str | None] = mapped_column(String(16))
    priority: Mapped[str | None] = mapped_column(String(8))
    goals: Mapped[str | None] = mapped_column(Text)
    plans: Mapped[str | None] = mapped_column(Text)
    interest_signals: Mapped[list] = mapped_column(JSON, default=list)
    extra: Mapped[dict] = mapped_column(JSON, default=dict)

    bant_budget: Mapped[bool] = mapped_column(Boolean, default=False)
    bant_authority: Mapped[bool] = mapped_column(Boolean, default=False)
    bant_need: Mapped[bool] = mapped_column(Boolean, default=False)
    bant_timing: Mapped[bool] = mapped_column(Boolean, default=False)
    bant_met: Mapped[int] = mapped_column(Integer, default=0)
    champ: Mapped[int] = mapped_column(Integer, default=0)
    anum: Mapped[int] = mapped_column(Integer, default=0)
    faint: Mapped[int] = mapped_column(Integer, default=0)
    gpct: Mapped[int] = mapped_column(Integer, default=0)
    stage: Mapped[str] = mapped_column(String(16))
    claimed_stage_unsupported: Mapped[bool] = mapped_column(Boolean, default=False)
    score: Mapped[int] = mapped_column(Integer)
    score_breakdown: Mapped[list] = mapped_column(JSON, default=list)
    temperature: Mapped[str] = mapped_column(String(8))

    batch: Mapped[Batch] = relationship(lazy="select")
    vertical: Mapped[Vertical] = relationship(lazy="select")
    seller_account: Mapped[SellerAccount | None] = relationship(
        primaryjoin="foreign(Lead.seller_id) == SellerAccount.organization_id",
        viewonly=True,
        lazy="select",
    )


class Suppression(db.Model):
    """People who asked never to be sold: an email or a phone (E.164), never both."""

    __tablename__ = "suppressions"
    __table_args__ = (
        UniqueConstraint("kind", "value", name="uq_suppressions_kind_value"),
        CheckConstraint("kind IN ('email', 'phone')", name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    value: Mapped[str] = mapped_column(String(320))
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
