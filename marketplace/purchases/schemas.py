"""Input and output schemas of purchases and purchased leads."""

import marshmallow as ma
from marshmallow import fields, validate

from app.api import PageArgs
from marketplace.listings.schemas import LeadFilterSchema
from marketplace.purchases.models import OUTCOMES
from marketplace.purchases.services import MAX_LEADS
from marketplace.schemas import FullLeadSchema


class PurchaseArgs(ma.Schema):
    lead_ids = fields.List(
        fields.Integer(strict=True, validate=validate.Range(min=1, max=2**31 - 1)),
        validate=validate.Length(min=1, max=MAX_LEADS),
    )
    filter = fields.Nested(LeadFilterSchema)  # the market's filters, in JSON types
    quantity = fields.Integer(strict=True, validate=validate.Range(min=1, max=MAX_LEADS))
    allow_partial = fields.Boolean(load_default=False)
    expected_total_cents = fields.Integer(
        strict=True, allow_none=True, validate=validate.Range(min=0, max=2**62)
    )

    @ma.validates_schema
    def _one_way(self, data, **_kwargs):
        if ("lead_ids" in data) == ("filter" in data):
            raise ma.ValidationError("Send either lead_ids or filter and quantity.", "_schema")
        if "filter" in data and "quantity" not in data:
            raise ma.ValidationError("Missing data for required field.", "quantity")
        if "lead_ids" in data and "quantity" in data:
            raise ma.ValidationError("A quantity goes with a filter only.", "quantity")
        ids = data.get("lead_ids") or []
        if len(set(ids)) != len(ids):
            raise ma.ValidationError("A lead id is repeated.", "lead_ids")


class PurchaseItemSchema(ma.Schema):
    lead_id = fields.Integer()
    price_cents = fields.Integer()
    return_deadline = fields.AwareDateTime()
    lead = fields.Nested(FullLeadSchema)


class PurchaseSchema(ma.Schema):
    id = fields.Integer()
    status = fields.String()
    total_cents = fields.Integer()
    currency = fields.String()
    created_at = fields.AwareDateTime()
    skipped_lead_ids = fields.List(fields.Integer())
    items = fields.List(fields.Nested(PurchaseItemSchema))


class DisputeRefSchema(ma.Schema):
    id = fields.Integer()
    status = fields.String()


class PurchasedLeadSchema(ma.Schema):
    lead_id = fields.Integer()
    purchase_id = fields.Integer()
    purchased_at = fields.AwareDateTime()
    price_cents = fields.Integer()
    return_deadline = fields.AwareDateTime()
    outcome = fields.String(allow_none=True)
    outcome_reason = fields.String(allow_none=True)
    dispute = fields.Nested(DisputeRefSchema, allow_none=True)
    lead = fields.Nested(FullLeadSchema)


class PurchasedLeadArgs(PageArgs):
    outcome = fields.String(validate=validate.OneOf(OUTCOMES), load_default=None)
    purchase_id = fields.Integer(
        strict=False, validate=validate.Range(min=1, max=2**31 - 1), load_default=None
    )


class LeadOutcomeArgs(ma.Schema):
    outcome = fields.String(required=True, validate=validate.OneOf(OUTCOMES))
    reason = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=2000))
