"""Input and output schemas of saved searches and their auto-buy orders."""

import marshmallow as ma
from marshmallow import fields, validate

from marketplace.autobuy.models import AUTO_BUY_STATUSES
from marketplace.listings.schemas import LeadFilterSchema

MAX_CENTS = 2**31 - 1


def _cents(**kwargs):
    return fields.Integer(strict=True, validate=validate.Range(min=0, max=MAX_CENTS), **kwargs)


class AutoBuyArgs(ma.Schema):
    max_price_cents = _cents(required=True)
    daily_cap = fields.Integer(
        strict=True, required=True, validate=validate.Range(min=1, max=10_000)
    )
    budget_cents = _cents(required=True)
    status = fields.String(load_default="active", validate=validate.OneOf(AUTO_BUY_STATUSES))


class SavedSearchArgs(ma.Schema):
    """POST and PUT (PUT replaces the whole saved search; ``auto_buy`` null turns it off)."""

    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    filter = fields.Nested(LeadFilterSchema, load_default=dict)  # the market's filters
    auto_buy = fields.Nested(AutoBuyArgs, allow_none=True, load_default=None)


class AutoBuySchema(ma.Schema):
    max_price_cents = fields.Integer()
    daily_cap = fields.Integer()
    budget_cents = fields.Integer()
    status = fields.String()
    paused_reason = fields.String(allow_none=True)
    spent_cents = fields.Integer()
    bought_today = fields.Integer()


class SavedSearchSchema(ma.Schema):
    id = fields.Integer()
    name = fields.String()
    filter = fields.Dict()
    auto_buy = fields.Nested(AutoBuySchema, allow_none=True)
    created_at = fields.DateTime()
