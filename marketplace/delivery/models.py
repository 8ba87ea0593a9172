"""A buyer organisation's webhook endpoint and each try at delivering a bought lead to it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import UTCDateTime, utcnow
from app.extensions import db

STATUSES = ("pending", "delivered", "failed", "gave_up")


class DeliveryEndpoint(db.Model):
    """One per buyer organisation. The secret is stored as is: Leadex signs with it, so it must
    be recoverable (it is shown to the buyer only when made)."""

    __tablename__ = "delivery_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), unique=True)
    url: Mapped[str] = mapped_column(String(2048))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    secret: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DeliveryAttempt(db.Model):
    """One try at POSTing one bought lead; a failed try names when the next one is due."""

    __tablename__ = "delivery_attempts"
    __table_args__ = (
        Index("ix_delivery_attempts_org_id", "organization_id", "id"),
        Index("ix_delivery_attempts_status_next", "status", "next_retry_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    purchase_id: Mapped[int] = mapped_column(ForeignKey("purchases.id"))
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id"))
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    http_status: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    next_retry_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
