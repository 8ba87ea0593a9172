"""API schemas of verification: spot-check items, outcomes, quality figures, holds, re-checks."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from app.api import PageArgs
from app.db import utcnow
from app.fields import Id
from marketplace.schemas import BatchSchema, FullLeadSchema
from verification.models import ITEM_STATUSES, OUTCOMES
from verification.rules.quality import FIGURE_KEYS, RATES
from verification.rules.sampling import INSPECTIONS


def call_script(item) -> list[str]:
    """The short script an admin reads to the sampled person, built from the lead."""
    lead = item.lead
    captured = lead.captured_at
    when = f"{captured.day} {captured:%B %Y}"
    return [
        f"Did you ask to be contacted about {item.batch.vertical.name} around {when}?",
        "What are you looking to solve?",
        "When do you plan to decide?",
    ]


class SpotCheckListArgs(PageArgs):
    status = fields.String(validate=validate.OneOf(ITEM_STATUSES), load_default=None)
    batch_id = Id(load_default=None)


class BantAnswersSchema(ma.Schema):
    budget = fields.Boolean(required=True, truthy={True}, falsy={False})
    authority = fields.Boolean(required=True, truthy={True}, falsy={False})
    need = fields.Boolean(required=True, truthy={True}, falsy={False})
    timing = fields.Boolean(required=True, truthy={True}, falsy={False})


class OutcomeArgs(ma.Schema):
    outcome = fields.String(required=True, validate=validate.OneOf(OUTCOMES))
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))
    answers = fields.Nested(BantAnswersSchema, load_default=None, allow_none=True)

    @ma.validates_schema
    def _answers_for_misqualified(self, data, **_kwargs):
        if data.get("outcome") == "misqualified" and not data.get("answers"):
            raise ma.ValidationError(
                "Required for 'misqualified': what the person said for budget, authority, "
                "need and timing.",
                "answers",
            )
        if data.get("outcome") != "misqualified" and data.get("answers") is not None:
            raise ma.ValidationError("Only with outcome 'misqualified'.", "answers")


def _waiting_seconds(item) -> int | None:
    """How long a pending item has waited (None once done, or for items queued before this)."""
    if item.status != "pending" or item.queued_at is None:
        return None
    return int((utcnow() - item.queued_at).total_seconds())


class SpotCheckItemSchema(ma.Schema):
    id = fields.Integer()
    batch_id = fields.Integer()
    lead_id = fields.Integer()
    status = fields.String()
    lead = fields.Nested(FullLeadSchema)
    script = fields.Function(call_script)
    outcome = fields.String(allow_none=True)
    note = fields.String(allow_none=True)
    answers = fields.Dict(allow_none=True)
    inspected_at = fields.AwareDateTime(allow_none=True)
    is_live = fields.Function(lambda item: item.queue_rank == 0)
    queued_at = fields.AwareDateTime(allow_none=True)
    waiting_seconds = fields.Function(_waiting_seconds)


class OutcomeResultSchema(ma.Schema):
    item = fields.Nested(SpotCheckItemSchema)
    batch = fields.Nested(BatchSchema)


class IntervalSchema(ma.Schema):
    lower = fields.Float()
    upper = fields.Float()


def _figure_fields() -> dict:
    result = {}
    for key in FIGURE_KEYS:
        result[key] = fields.Float() if key in RATES else fields.Integer()
    result["rate_intervals"] = fields.Dict(
        keys=fields.String(), values=fields.Nested(IntervalSchema)
    )
    return result


WindowFiguresSchema = ma.Schema.from_dict(_figure_fields(), name="WindowFigures")


def _quality_fields() -> dict:
    return {
        **_figure_fields(),
        "last_30_days": fields.Nested(WindowFiguresSchema),
        "quality_score": fields.Integer(),
        "inspection_level": fields.String(validate=validate.OneOf(INSPECTIONS)),
        "status": fields.String(validate=validate.OneOf(["active", "on_hold"])),
    }


QualityFiguresSchema = ma.Schema.from_dict(_quality_fields(), name="QualityFigures")
SellerQualitySchema = ma.Schema.from_dict(
    {"id": fields.Integer(), "name": fields.String(), **_quality_fields()}, name="SellerQuality"
)


class HoldArgs(ma.Schema):
    note = fields.String(
        required=True, validate=validate.Length(min=1, max=2000, error="A note is required.")
    )


class RecheckFailureSchema(ma.Schema):
    field = fields.String()
    code = fields.String()
    message = fields.String()
    details = fields.Dict(allow_none=True)


class RecheckSchema(ma.Schema):
    lead_id = fields.Integer()
    ok = fields.Boolean()
    changed = fields.Dict(keys=fields.String(), values=fields.Dict())
    checks = fields.List(fields.Nested(RecheckFailureSchema))
