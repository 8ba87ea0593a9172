"""Platform settings an admin changes without a deploy (one row, defaults from api-v1.md)."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Float, Integer
from sqlalchemy.orm import Mapped, mapped_column

from app.db import UTCDateTime, utcnow
from app.extensions import db

DEFAULTS = {
    "platform_fee_bps": 2000,
    "aql": 2.5,
    "buyer_dispute_limit_pct": 25,
    "upheld_dispute_limit_pct": 10,
    "lookback_days": 90,
    "seller_response_days": 3,
}


class PlatformSettings(db.Model):
    __tablename__ = "platform_settings"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, default=1)
    platform_fee_bps: Mapped[int] = mapped_column(default=DEFAULTS["platform_fee_bps"])
    aql: Mapped[float] = mapped_column(Float, default=DEFAULTS["aql"])
    buyer_dispute_limit_pct: Mapped[int] = mapped_column(
        default=DEFAULTS["buyer_dispute_limit_pct"]
    )
    upheld_dispute_limit_pct: Mapped[int] = mapped_column(
        default=DEFAULTS["upheld_dispute_limit_pct"]
    )
    lookback_days: Mapped[int] = mapped_column(default=DEFAULTS["lookback_days"])
    seller_response_days: Mapped[int] = mapped_column(default=DEFAULTS["seller_response_days"])
    updated_at = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, nullable=True)


def get_settings() -> PlatformSettings:
    """The settings row; created with the defaults the first time it is asked for."""
    row = db.session.get(PlatformSettings, 1)
    if row is None:
        row = PlatformSettings(id=1, **DEFAULTS)
        db.session.add(row)
        db.session.flush()
    return row
