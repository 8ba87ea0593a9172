"""Input and output schemas of purchases and purchased leads."""

import marshmallow as ma
from marshmallow import fields, validate
from webargs.fields import DelimitedList

from app.api import PageArgs
from marketplace.listings.schemas import SORT_NAMES, LeadFilterArgs, LeadFilterSchema
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
    sort = fields.String(
        validate=validate.OneOf(SORT_NAMES),
        metadata={
            "description": "With a filter: which matches are taken first, in the market's "
            "sort (newest when absent), so the buyer gets the leads the market page showed."
        },
    )
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
        if "lead_ids" in data and "sort" in data:
            raise ma.ValidationError("A sort goes with a filter only.", "sort")
        ids = data.get("lead_ids") or []
        if len(set(ids)) != len(ids):
            raise ma.ValidationError("A lead id is repeated.", "lead_ids")


class MarketPurchaseArgs(LeadFilterArgs):
    """The market page's buy buttons, as a query string: the ticked ``lead_ids``, or the
    page's filters and sort with a ``quantity`` (buy the first N matches)."""

    lead_ids = DelimitedList(
        fields.Integer(validate=validate.Range(min=1, max=2**31 - 1)),
        validate=validate.Length(min=1, max=MAX_LEADS, error="Tick 1 to {max} leads."),
    )
    quantity = fields.Integer(
        validate=validate.Range(min=1, max=MAX_LEADS, error="A number from {min} to {max}.")
    )

    class Meta:
        exclude = ("cursor", "limit")

    @ma.validates_schema
    def _one_way(self, data, **_kwargs):
        if ("lead_ids" in data) == ("quantity" in data):
            raise ma.ValidationError("Tick the leads to buy, or say how many.", "_schema")
        filters = set(data) - {"lead_ids", "quantity", "sort"}
        if "lead_ids" in data and filters:
            raise ma.ValidationError("Ticked leads are bought as they are.", "_schema")
        ids = data.get("lead_ids") or []
        if len(set(ids)) != len(ids):
            raise ma.ValidationError("A lead id is repeated.", "lead_ids")


def market_purchase_request(args: dict) -> dict:
    """``purchase_leads``'s arguments from a loaded ``MarketPurchaseArgs``."""
    args = dict(args)
    if "lead_ids" in args:
        return {"lead_ids": args["lead_ids"]}
    quantity, sort = args.pop("quantity"), args.pop("sort")
    return {"filter": args, "quantity": quantity, "sort": sort}


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
