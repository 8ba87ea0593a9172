"""Input and output schemas of delivery."""

import marshmallow as ma
from marshmallow import fields, validate

from marketplace.delivery.models import STATUSES


class DeliveryArgs(ma.Schema):
    url = fields.String(required=True, validate=validate.Length(min=1, max=2048))
    active = fields.Boolean(load_default=True)


class DeliverySchema(ma.Schema):
    url = fields.String(allow_none=True)
    active = fields.Boolean()
    secret = fields.String()  # only in the answer that makes it


class DeliveryAttemptSchema(ma.Schema):
    id = fields.Integer()
    purchase_id = fields.Integer()
    lead_id = fields.Integer()
    attempt = fields.Integer()
    status = fields.String(validate=validate.OneOf(STATUSES))
    http_status = fields.Integer(allow_none=True)
    error = fields.String(allow_none=True)
    created_at = fields.AwareDateTime()
    next_retry_at = fields.AwareDateTime(allow_none=True)
