"""Marshmallow schemas of the disputes API (api-v1.md, "Disputes (returns)")."""

from __future__ import annotations

import marshmallow as ma
from flask import g, has_request_context
from marshmallow import fields, validate

from app.api import PageArgs
from app.fields import Id
from verification.rules.disputes import REASONS, STATUSES
from verification.schemas import BantAnswersSchema

MAX_NOTE = 2000


def _note(**kwargs):
    return fields.String(validate=validate.Length(min=1, max=MAX_NOTE), **kwargs)


class DisputeArgs(ma.Schema):
    lead_id = Id(required=True, strict=True)
    reason = fields.String(required=True, validate=validate.OneOf(REASONS))
    note = _note(required=True, metadata={"description": "What is wrong with the lead."})


class ResponseArgs(ma.Schema):
    note = _note(required=True)


class ResolutionArgs(ma.Schema):
    decision = fields.String(required=True, validate=validate.OneOf(("accept", "reject")))
    note = _note(required=True, metadata={"description": "Why: both parties read it."})
    answers = fields.Nested(
        BantAnswersSchema,
        load_default=None,
        allow_none=True,
        metadata={"description": "Required when accepting a `misqualified` dispute."},
    )

    @ma.validates_schema
    def _answers(self, data, **_kwargs):
        if data.get("answers") is not None and data.get("decision") != "accept":
            raise ma.ValidationError("Only when accepting a 'misqualified' dispute.", "answers")


class DisputeListArgs(PageArgs):
    status = fields.String(load_default=None, validate=validate.OneOf(STATUSES))


class RecheckEvidenceSchema(ma.Schema):
    ok = fields.Boolean()
    checks = fields.List(fields.Dict())


class DuplicateEvidenceSchema(ma.Schema):
    matched = fields.String(metadata={"enum": ["email", "phone"]})
    purchased_at = fields.String(
        metadata={"format": "date-time", "description": "Not shown to the seller."}
    )


class ConsentEvidenceSchema(ma.Schema):
    text = fields.String(allow_none=True)
    consented_at = fields.String(allow_none=True, metadata={"format": "date-time"})
    ip = fields.String(allow_none=True)
    url = fields.String(allow_none=True)
    certificate = fields.String(allow_none=True)


class EvidenceSchema(ma.Schema):
    recheck = fields.Nested(RecheckEvidenceSchema, allow_none=True)
    duplicate = fields.Nested(DuplicateEvidenceSchema, allow_none=True)
    consent = fields.Nested(ConsentEvidenceSchema, allow_none=True)


class DisputeResponseSchema(ma.Schema):
    note = fields.String()
    created_at = fields.AwareDateTime()


def _seller_reads() -> bool:
    user = getattr(g, "api_user", None) if has_request_context() else None
    return user is not None and user.role == "seller"


class DisputeSchema(ma.Schema):
    id = fields.Integer()
    lead_id = fields.Integer()
    purchase_id = fields.Integer()
    status = fields.String(metadata={"enum": list(STATUSES)})
    resolution = fields.String(allow_none=True, metadata={"enum": ["automatic", "admin", None]})
    reason = fields.String(metadata={"enum": list(REASONS)})
    note = fields.String()
    price_cents = fields.Integer()
    currency = fields.String()
    evidence = fields.Nested(EvidenceSchema)
    created_at = fields.AwareDateTime()
    deadline = fields.AwareDateTime(metadata={"description": "Until when the seller may answer."})
    responses = fields.List(fields.Nested(DisputeResponseSchema))
    resolution_note = fields.String(allow_none=True)
    resolved_at = fields.AwareDateTime(allow_none=True)
    answers = fields.Nested(BantAnswersSchema, allow_none=True)

    @ma.post_dump
    def _for_the_seller(self, data, **_kwargs):
        """The seller learns which field matched a duplicate, never when this buyer bought the
        person before (perhaps from another seller), as its page shows it."""
        duplicate = (data.get("evidence") or {}).get("duplicate")
        if duplicate and _seller_reads():
            data["evidence"]["duplicate"] = {"matched": duplicate["matched"]}
        return data
