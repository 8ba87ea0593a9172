"""A buyer's saved search (a named market filter) with its optional auto-buy order, and the
record that a listed batch's auto-buy run has happened (so the sweep finds missed ones)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import UTCDateTime, utcnow
from app.extensions import db

AUTO_BUY_STATUSES = ("active", "paused")


class SavedSearch(db.Model):
    __tablename__ = "saved_searches"
    __table_args__ = (
        Index("ix_saved_searches_buyer", "buyer_org_id", "id"),
        # The auto-buy run reads the active orders, oldest served first.
        Index("ix_saved_searches_auto_buy", "auto_buy_status", "last_bought_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    buyer_org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    name: Mapped[str] = mapped_column(String(200))
    filter: Mapped[dict] = mapped_column(JSON, default=dict)
    # Auto-buy: all None when the saved search does not buy.
    auto_buy_status: Mapped[str | None] = mapped_column(String(8))
    max_price_cents: Mapped[int | None] = mapped_column(Integer)
    daily_cap: Mapped[int | None] = mapped_column(Integer)
    budget_cents: Mapped[int | None] = mapped_column(Integer)
    paused_reason: Mapped[str | None] = mapped_column(Text)
    spent_cents: Mapped[int] = mapped_column(Integer, default=0)
    bought_day: Mapped[date | None] = mapped_column(Date)
    bought_on_day: Mapped[int] = mapped_column(Integer, default=0)
    # When the order last got a lead: the round robin serves the least recently served first.
    last_bought_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def auto_buy(self) -> dict | None:
        if self.auto_buy_status is None:
            return None
        today = utcnow().date()
        return {
            "max_price_cents": self.max_price_cents,
            "daily_cap": self.daily_cap,
            "budget_cents": self.budget_cents,
            "status": self.auto_buy_status,
            "paused_reason": self.paused_reason,
            "spent_cents": self.spent_cents,
            "bought_today": self.bought_on_day if self.bought_day == today else 0,
        }


class AutobuyRun(db.Model):
    """A listed batch whose auto-buy run has finished (the sweep runs the others)."""

    __tablename__ = "autobuy_runs"

    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"), primary_key=True)
    done_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OrderHold(db.Model):
    """Capacity of a standing order held for a ping's lead: its daily cap and budget count it
    until ``expires_at``, or until the post claims or releases it."""

    __tablename__ = "order_holds"
    __table_args__ = (Index("ix_order_holds_search", "saved_search_id", "expires_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    saved_search_id: Mapped[int] = mapped_column(
        ForeignKey("saved_searches.id", ondelete="CASCADE")
    )
    cents: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Set when the post claims it or the plan sends the post to inspection.
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
