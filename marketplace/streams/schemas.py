"""Input and output schemas of streams, pings and posts."""

import marshmallow as ma
from marshmallow import fields, validate

from marketplace.streams.models import STREAM_STATUSES

MAX_CENTS = 2**31 - 1
MAX_STREAM_SALES = 10


class StreamArgs(ma.Schema):
    vertical = fields.String(required=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    price_cents = fields.Integer(
        strict=True, required=True, validate=validate.Range(min=1, max=MAX_CENTS)
    )
    max_sales = fields.Integer(
        strict=True, load_default=1, validate=validate.Range(min=1, max=MAX_STREAM_SALES)
    )


class StreamPatchArgs(ma.Schema):
    price_cents = fields.Integer(strict=True, validate=validate.Range(min=1, max=MAX_CENTS))
    status = fields.String(validate=validate.OneOf(STREAM_STATUSES))


class InspectionSchema(ma.Schema):
    mode = fields.String()
    clearance_number = fields.Integer()
    sampling_fraction = fields.Float()
    conforming_run = fields.Integer()


class StreamCountsSchema(ma.Schema):
    posted = fields.Integer()
    rejected = fields.Integer()
    duplicates = fields.Integer()
    inspection = fields.Integer()
    listed = fields.Integer()
    sold = fields.Integer()


class StreamSchema(ma.Schema):
    id = fields.Integer()
    vertical = fields.String()
    name = fields.String()
    price_cents = fields.Integer()
    currency = fields.String()
    max_sales = fields.Integer()
    status = fields.String()
    paused_by = fields.String(allow_none=True)
    inspection = fields.Nested(InspectionSchema)
    counts = fields.Nested(StreamCountsSchema)
    created_at = fields.DateTime()


class LeadValuesArgs(ma.Schema):
    """A lead's fields as intake takes them (leads.md), loaded as ``{"values": {...}}``: intake's
    checks judge each field (with its rejection codes), not this schema."""

    values = fields.Dict(required=True)

    @ma.pre_load
    def wrap(self, data, **_kwargs):
        if not isinstance(data, dict):
            raise ma.ValidationError("A JSON object of the lead's fields.", "_schema")
        return {"values": dict(data)}


class PostArgs(LeadValuesArgs):
    ping_id = fields.String(load_default=None, allow_none=True)

    @ma.pre_load
    def wrap(self, data, **_kwargs):
        if not isinstance(data, dict):
            raise ma.ValidationError("A JSON object of the lead's fields.", "_schema")
        values = dict(data)
        return {"values": values, "ping_id": values.pop("ping_id", None)}


class PingSchema(ma.Schema):
    ping_id = fields.String()
    would_sell = fields.Boolean()
    price_cents = fields.Integer()
    expires_at = fields.DateTime()


class PostSchema(ma.Schema):
    lead_id = fields.Integer()
    status = fields.String()
    sales = fields.Integer()
