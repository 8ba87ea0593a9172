"""A stream (a seller's live source of single leads), its plan history and its pings.

A stream owns a batch-like row (``Batch`` with ``source_format = "stream"`` and status
``listed``) and every lead posted to it carries that ``batch_id``: search, purchase, disputes,
de-duplication and the quality figures read leads through their batch, so they work for stream
leads unchanged. The batch also holds the stream's price, vertical, ``max_sales`` and the intake
counters (posted, rejected, duplicates), advanced by the same code as a file's chunks.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import UTCDateTime, utcnow
from app.extensions import db
from marketplace.models import Batch

STREAM_STATUSES = ("active", "paused")
PAUSED_BY = ("seller", "plan")
STREAM_SOURCE_FORMAT = "stream"


class Stream(db.Model):
    __tablename__ = "streams"
    __table_args__ = (
        CheckConstraint("status IN ('active', 'paused')", name="status"),
        CheckConstraint("mode IN ('screening', 'sampling')", name="mode"),
        Index("ix_streams_seller", "seller_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    seller_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"), unique=True)
    status: Mapped[str] = mapped_column(String(8), default="active")
    paused_by: Mapped[str | None] = mapped_column(String(8))
    # The CSP-1 plan's state (verification.rules.csp.PlanState).
    mode: Mapped[str] = mapped_column(String(10), default="screening")
    conforming_run: Mapped[int] = mapped_column(Integer, default=0)
    screened: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    batch: Mapped[Batch] = relationship(lazy="joined")


class StreamEvent(db.Model):
    """One change of a stream's plan or status: the audit trail of its inspection history."""

    __tablename__ = "stream_events"
    __table_args__ = (Index("ix_stream_events_stream", "stream_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    stream_id: Mapped[int] = mapped_column(ForeignKey("streams.id", ondelete="CASCADE"))
    # "screening", "sampling", "paused", "resumed"
    state: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str] = mapped_column(Text)
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("leads.id"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class StreamPing(db.Model):
    """What a ping's answer needs and nothing of the lead: its id, stream, price, expiry and
    the standing order's hold it took (if any)."""

    __tablename__ = "stream_pings"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    stream_id: Mapped[int] = mapped_column(ForeignKey("streams.id", ondelete="CASCADE"))
    hold_id: Mapped[int | None] = mapped_column(Integer)
    price_cents: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
