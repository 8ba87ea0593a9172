"""Platform settings an admin changes without a deploy (one row, defaults from api-v1.md).

``SETTINGS`` describes each key once: its type, its bounds (api-v1.md), its label and what it
means. The API schemas, the admin form and ``update_settings`` are all built from it, so a new
key is a column, a migration and one line there.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from dataclasses import dataclass

import marshmallow as ma
from sqlalchemy import CheckConstraint, Float, Integer
from sqlalchemy.orm import Mapped, mapped_column

from app.auth.services import record_audit
from app.db import UTCDateTime, insert_if_absent, transaction, utcnow
from app.errors import Forbidden, Invalid
from app.extensions import db

DEFAULTS = {
    "platform_fee_bps": 2000,
    "aql": 2.5,
    "buyer_dispute_limit_pct": 25,
    "upheld_dispute_limit_pct": 10,
    "lookback_days": 90,
    "seller_response_days": 3,
    "stream_aoql_pct": 2.0,
    "stream_sampling_fraction": 0.1,
    "stream_screening_limit": None,
}


@dataclass(frozen=True)
class Setting:
    """One key: an ``int`` or ``float`` from ``minimum`` to ``maximum`` (inclusive unless
    ``above_minimum``), or one of ``choices``; ``nullable`` when null means "the default rule"."""

    label: str
    description: str
    type: type = int
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple | None = None
    above_minimum: bool = False
    nullable: bool = False

    def field(self, **kwargs) -> ma.fields.Field:
        """The marshmallow field: strict JSON types (no strings, no booleans), bounds in
        ``validate`` so the OpenAPI document shows them."""
        if self.choices is not None:
            check = ma.validate.OneOf(self.choices)
        else:
            check = ma.validate.Range(
                min=self.minimum, max=self.maximum, min_inclusive=not self.above_minimum
            )
        field_class = StrictInteger if self.type is int else StrictFloat
        metadata = {"description": self.description}
        if self.choices is not None:
            metadata["enum"] = list(self.choices)
        return field_class(validate=check, allow_none=self.nullable, metadata=metadata, **kwargs)


class StrictInteger(ma.fields.Integer):
    """A JSON integer: ``"90"``, ``90.0`` and ``true`` are 422, never quietly converted."""

    def __init__(self, **kwargs):
        super().__init__(strict=True, **kwargs)


class StrictFloat(ma.fields.Float):
    """A JSON number (an integer is fine): ``"2.5"`` and ``true`` are 422."""

    def _validated(self, value):
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise self.make_error("invalid")
        return super()._validated(value)


AQL_LEVELS = (1.0, 1.5, 2.5, 4.0, 6.5)
PERCENT = {"minimum": 0, "maximum": 100}
DAYS = {"minimum": 1, "maximum": 3650}  # ten years: no setting can push a date past year 9999

SETTINGS: dict[str, Setting] = {
    "platform_fee_bps": Setting(
        "Platform fee (basis points)",
        "The platform's fee in basis points of the price: 2000 is 20%.",
        minimum=0,
        maximum=10_000,
    ),
    "aql": Setting(
        "AQL (%)",
        "The acceptable quality limit of spot-check sampling, in percent.",
        type=float,
        choices=AQL_LEVELS,
    ),
    "buyer_dispute_limit_pct": Setting(
        "Buyer dispute limit (%)",
        "The share of its purchases over 30 days a buyer may dispute.",
        **PERCENT,
    ),
    "upheld_dispute_limit_pct": Setting(
        "Upheld dispute limit (%)",
        "The upheld-dispute rate whose lower Wilson bound puts a seller on hold.",
        **PERCENT,
    ),
    "lookback_days": Setting(
        "De-duplication look-back (days)",
        "How far back a lead counts as a duplicate of another.",
        **DAYS,
    ),
    "seller_response_days": Setting(
        "Seller response time (days)", "How long a seller has to answer a dispute.", **DAYS
    ),
    "stream_aoql_pct": Setting(
        "Streams: AOQL (%)",
        "The average outgoing quality limit of the streams' continuous sampling plan (CSP-1).",
        type=float,
        minimum=0,
        maximum=10,
        above_minimum=True,
    ),
    "stream_sampling_fraction": Setting(
        "Streams: sampling fraction",
        "The share of a stream's leads inspected once it has cleared screening.",
        type=float,
        minimum=0,
        maximum=1,
        above_minimum=True,
    ),
    "stream_screening_limit": Setting(
        "Streams: screening limit (leads)",
        "Leads a stream may screen without clearing before it is paused; empty means twice "
        "the clearance number.",
        minimum=1,
        maximum=1_000_000,
        nullable=True,
    ),
}


def _schema(name: str, *, required: bool) -> type[ma.Schema]:
    return ma.Schema.from_dict(
        {key: setting.field(required=required) for key, setting in SETTINGS.items()}, name=name
    )


# What GET and PUT answer: every key. What PUT takes: any of them; an unknown key is 422.
SettingsSchema = _schema("PlatformSettings", required=True)
SettingsArgs = _schema("PlatformSettingsArgs", required=False)


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
    stream_aoql_pct: Mapped[float] = mapped_column(Float, default=DEFAULTS["stream_aoql_pct"])
    stream_sampling_fraction: Mapped[float] = mapped_column(
        Float, default=DEFAULTS["stream_sampling_fraction"]
    )
    stream_screening_limit: Mapped[int | None] = mapped_column(Integer, nullable=True)
    updated_at = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, nullable=True)


def get_settings() -> PlatformSettings:
    """The settings row; created with the defaults the first time it is asked for."""
    row = db.session.get(PlatformSettings, 1)
    if row is None:
        row = PlatformSettings(id=1, **DEFAULTS)
        db.session.add(row)
        db.session.flush()
    return row


def update_settings(*, actor, changes: Mapping) -> PlatformSettings:
    """Change the keys in ``changes`` and leave the others as they are (a partial update).

    Every value is checked first: one out of bounds is 422 (``details`` names each bad key)
    and nothing changes. The values that really change are audited with old and new; sending
    the current values again changes and audits nothing. The row is locked, so two admins
    saving at once are audited in the order their changes were applied.
    """
    if actor is None or not actor.is_admin:
        raise Forbidden("Only Leadex staff change the platform's settings.")
    try:
        values = SettingsArgs().load(dict(changes))
    except ma.ValidationError as exc:
        raise Invalid(
            "A setting is out of bounds; nothing was changed.",
            code="validation_error",
            details=exc.messages,
        ) from exc
    with transaction():
        insert_if_absent(PlatformSettings, key=["id"], id=1, **DEFAULTS)
        row = db.session.get(PlatformSettings, 1, with_for_update=True, populate_existing=True)
        changed = {}
        for key, new in values.items():
            old = getattr(row, key)
            if old != new:
                changed[key] = {"old": old, "new": new}
                setattr(row, key, new)
        if changed:
            db.session.flush()
            record_audit(
                actor=actor,
                action="settings.updated",
                object_type="platform_settings",
                object_id=row.id,
                details={"changes": changed},
            )
    return row


def settings_dict(row: PlatformSettings | None = None) -> dict:
    """The settings as the API shows them."""
    row = row or get_settings()
    return {key: getattr(row, key) for key in SETTINGS}
