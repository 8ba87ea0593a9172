"""A purchase and the leads it bought (one row per lead and buyer organisation, ever)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import UTCDateTime, utcnow
from app.extensions import db
from marketplace.models import Lead

OUTCOMES = ("contacted", "qualified", "won", "lost")


class Purchase(db.Model):
    __tablename__ = "purchases"
    __table_args__ = (
        # The service's own idempotency: one purchase per buyer organisation and key.
        UniqueConstraint("buyer_org_id", "idempotency_key", name="uq_purchases_buyer_key"),
        Index("ix_purchases_buyer_created", "buyer_org_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    buyer_org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    buyer_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="completed")
    total_cents: Mapped[int] = mapped_column(Integer, default=0)
    currency: Mapped[str] = mapped_column(String(3), default="usd")
    skipped_lead_ids: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    items: Mapped[list[PurchasedLead]] = relationship(
        back_populates="purchase", order_by="PurchasedLead.lead_id", lazy="selectin"
    )


class PurchasedLead(db.Model):
    """A lead a buyer organisation bought: never twice (the UNIQUE constraint settles races)."""

    __tablename__ = "purchased_leads"
    __table_args__ = (
        UniqueConstraint("lead_id", "buyer_org_id", name="uq_purchased_leads_lead_buyer"),
        Index("ix_purchased_leads_buyer_purchased", "buyer_org_id", "purchased_at", "id"),
        Index("ix_purchased_leads_seller_purchased", "seller_org_id", "purchased_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    purchase_id: Mapped[int] = mapped_column(ForeignKey("purchases.id"), index=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id"))
    buyer_org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    seller_org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    price_cents: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3), default="usd")
    sale_id: Mapped[int | None] = mapped_column(ForeignKey("sales.id"))
    purchased_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    return_deadline: Mapped[datetime] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(String(16))
    outcome_reason: Mapped[str | None] = mapped_column(Text)
    outcome_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The buyer's return of this lead, kept in step by the disputes workflow (verification), so
    # the bought-leads list shows it without the market importing disputes.
    dispute_id: Mapped[int | None] = mapped_column(Integer)
    dispute_status: Mapped[str | None] = mapped_column(String(8))

    purchase: Mapped[Purchase] = relationship(back_populates="items")
    lead: Mapped[Lead] = relationship(lazy="joined")

    @property
    def dispute(self) -> dict | None:
        """``{"id", "status"}`` of the buyer's return of this lead, or None."""
        if self.dispute_id is None:
            return None
        return {"id": self.dispute_id, "status": self.dispute_status}
