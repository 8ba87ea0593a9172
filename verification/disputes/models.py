"""A dispute per returned lead and the seller's answers to it.

One dispute per purchased lead (UNIQUE): a buyer returns a lead once. The row keeps what the
decision needs without reaching back into the market: the buyer, the seller, the sale to hold
and reverse, and the evidence gathered when it was opened.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import UTCDateTime, utcnow
from app.extensions import db


class Dispute(db.Model):
    __tablename__ = "disputes"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'accepted', 'rejected')", name="status"),
        Index("ix_disputes_status_created", "status", "created_at", "id"),
        Index("ix_disputes_seller_created", "seller_org_id", "created_at"),
        Index("ix_disputes_buyer_created", "buyer_org_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    purchased_lead_id: Mapped[int] = mapped_column(ForeignKey("purchased_leads.id"), unique=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id"), index=True)
    purchase_id: Mapped[int] = mapped_column(ForeignKey("purchases.id"))
    buyer_org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    seller_org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    vertical_id: Mapped[int] = mapped_column(ForeignKey("verticals.id"))
    sale_id: Mapped[int | None] = mapped_column(ForeignKey("sales.id"))
    price_cents: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3), default="usd")
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text)
    evidence: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(8), default="open")
    resolution: Mapped[str | None] = mapped_column(String(9))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deadline: Mapped[datetime] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolution_note: Mapped[str | None] = mapped_column(Text)
    answers: Mapped[dict | None] = mapped_column(JSON)

    responses: Mapped[list[DisputeResponse]] = relationship(
        order_by="DisputeResponse.id", lazy="selectin"
    )
    # Read-only ways to the rows the pages name (the parties, the vertical, who decided);
    # named by string, so the model imports nothing of the market.
    buyer = relationship("Organization", foreign_keys=[buyer_org_id], viewonly=True)
    seller = relationship("Organization", foreign_keys=[seller_org_id], viewonly=True)
    vertical = relationship("Vertical", viewonly=True)
    resolved_by = relationship("User", foreign_keys=[resolved_by_id], viewonly=True)


class DisputeResponse(db.Model):
    """A seller's note on a dispute against its lead."""

    __tablename__ = "dispute_responses"

    id: Mapped[int] = mapped_column(primary_key=True)
    dispute_id: Mapped[int] = mapped_column(ForeignKey("disputes.id"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
