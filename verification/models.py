"""Spot-check samples and their items: the recorded draw, each inspection, each decision.

A ``SpotCheck`` row per batch keeps the sampling plan used, the seed of the draw (so the choice
of leads can be reproduced and audited), the running figures and the decision. Decided rows are
also the seller's inspection history: batches inspected and rejected, overall, by window or by
week, are aggregates over this table.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import UTCDateTime, utcnow
from app.extensions import db

OUTCOMES = (
    "confirmed",
    "wrong_contact",
    "unreachable",
    "denied_request",
    "fake",
    "misqualified",
    "refused",
)
# Every outcome but "confirmed" is a defect; "refused" too: a lead that will not talk is not
# qualified (issue 5).
DEFECT_OUTCOMES = tuple(o for o in OUTCOMES if o != "confirmed")
# A stream's spot-check row: the continuous plan (CSP-1) rather than an ISO 2859-1 sample; its
# items are live leads, queued one by one as the plan sends them, and it is never decided.
LIVE_PLAN = "csp-1"
# pending: waiting for an admin; done: outcome recorded; closed: not needed any more, because
# the batch was rejected before the sample was finished.
ITEM_STATUSES = ("pending", "done", "closed")
DECISIONS = ("accepted", "rejected")


def _in(values) -> str:
    return ", ".join(f"'{v}'" for v in values)


def _batch_rank(context) -> int:
    return context.get_current_parameters()["batch_id"]


class SpotCheck(db.Model):
    """The sample of one batch: its plan, its recorded draw, its figures and its decision."""

    __tablename__ = "spot_checks"
    __table_args__ = (
        CheckConstraint(f"decision IS NULL OR decision IN ({_in(DECISIONS)})", name="decision"),
        CheckConstraint("0 <= defects AND defects <= inspected", name="counts"),
        Index("ix_spot_checks_seller_decided", "seller_id", "decided_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"), unique=True)
    seller_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    # The plan: ISO 2859-1 single sampling, general inspection level II.
    inspection_level: Mapped[str] = mapped_column(String(16))
    aql: Mapped[float] = mapped_column(Float)
    lot_size: Mapped[int] = mapped_column(Integer)
    code_letter: Mapped[str] = mapped_column(String(1))
    sample_size: Mapped[int] = mapped_column(Integer)
    accept_number: Mapped[int] = mapped_column(Integer)
    reject_number: Mapped[int] = mapped_column(Integer)
    whole_lot: Mapped[bool] = mapped_column(Boolean, default=False)
    # draw_sample(sorted lead ids of the lot, sample_size, seed=seed) gives the items again.
    seed: Mapped[int] = mapped_column(BigInteger)
    drawn_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    inspected: Mapped[int] = mapped_column(Integer, default=0)
    defects: Mapped[int] = mapped_column(Integer, default=0)
    decision: Mapped[str | None] = mapped_column(String(16))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    batch = relationship("Batch", lazy="select")


class SpotCheckItem(db.Model):
    """One sampled lead and what the admin found when calling the person."""

    __tablename__ = "spot_check_items"
    __table_args__ = (
        UniqueConstraint("batch_id", "lead_id", name="uq_spot_check_items_batch_lead"),
        CheckConstraint(f"status IN ({_in(ITEM_STATUSES)})", name="status"),
        CheckConstraint(f"outcome IS NULL OR outcome IN ({_in(OUTCOMES)})", name="outcome"),
        # The queue: pending items, oldest batch first.
        Index("ix_spot_check_items_status_batch", "status", "batch_id", "id"),
        Index("ix_spot_check_items_status_rank", "status", "queue_rank", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    spot_check_id: Mapped[int] = mapped_column(
        ForeignKey("spot_checks.id", ondelete="CASCADE"), index=True
    )
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"))
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id"), index=True)
    status: Mapped[str] = mapped_column(String(8), default="pending")
    # The queue's order: 0 for a live lead (first, longest waiting first by id), the batch id
    # for a batch's sample (oldest batch next).
    queue_rank: Mapped[int] = mapped_column(Integer, default=_batch_rank)
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=utcnow)
    outcome: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    # For "misqualified": what the person said, {"budget", "authority", "need", "timing"}.
    answers: Mapped[dict | None] = mapped_column(JSON)
    inspected_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    inspected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    spot_check: Mapped[SpotCheck] = relationship(lazy="select")
    lead = relationship("Lead", lazy="select")
    batch = relationship("Batch", lazy="select")

    @property
    def is_defect(self) -> bool:
        return self.outcome is not None and self.outcome != "confirmed"
