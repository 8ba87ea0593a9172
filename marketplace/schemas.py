"""API schemas of the market other packages use too: a batch, a lead, a vertical.

Output Schemas and input Args are separate, and masking is structural. A capability's own
schemas are in its sub-package (marketplace/intake/schemas.py).
"""

import marshmallow as ma
from flask import url_for
from marshmallow import fields, validate


def batch_links(batch_id: int) -> dict:
    """A batch's API links: built at dump time, so queries return data only."""
    return {
        "self": url_for("market.get_batch", batch_id=batch_id),
        "rejections": url_for("market.list_rejections", batch_id=batch_id),
    }


class ProgressSchema(ma.Schema):
    processed = fields.Integer()
    total = fields.Integer(allow_none=True)


class CountsSchema(ma.Schema):
    rows = fields.Integer()
    accepted = fields.Integer()
    rejected = fields.Integer()
    duplicates = fields.Integer()
    listed = fields.Integer()
    sold = fields.Integer()


class SpotCheckSchema(ma.Schema):
    sample_size = fields.Integer(allow_none=True)
    accept_number = fields.Integer(allow_none=True)
    reject_number = fields.Integer(allow_none=True)
    inspected = fields.Integer(allow_none=True)
    defects = fields.Integer(allow_none=True)
    decision = fields.String(allow_none=True)


class ErrorInfoSchema(ma.Schema):
    code = fields.String()
    message = fields.String()


class LinksSchema(ma.Schema):
    self = fields.String()
    rejections = fields.String()


class BatchSchema(ma.Schema):
    id = fields.Integer()
    name = fields.String()
    vertical = fields.String()
    price_cents = fields.Integer()
    currency = fields.String()
    max_sales = fields.Integer()
    status = fields.String()
    created_at = fields.AwareDateTime()
    progress = fields.Nested(ProgressSchema)
    counts = fields.Nested(CountsSchema)
    spot_check = fields.Nested(SpotCheckSchema)
    error = fields.Nested(ErrorInfoSchema, allow_none=True)
    links = fields.Nested(LinksSchema)

    @ma.pre_dump
    def _add_links(self, batch: dict, **_kwargs) -> dict:
        """``batch`` is ``marketplace.queries.describe_batch``'s dict."""
        return {**batch, "links": batch_links(batch["id"])}


def dumped_whole(schema_class: type[ma.Schema]) -> fields.Function:
    """A field holding the object itself as ``schema_class`` dumps it, through one instance
    made here: a schema made per object spent most of a 50-lead page copying its fields."""
    schema = schema_class()
    return fields.Function(lambda obj: schema.dump(obj))


class BantSchema(ma.Schema):
    budget = fields.Boolean(attribute="bant_budget")
    authority = fields.Boolean(attribute="bant_authority")
    need = fields.Boolean(attribute="bant_need")
    timing = fields.Boolean(attribute="bant_timing")
    met = fields.Integer(attribute="bant_met")


class FrameworksSchema(ma.Schema):
    champ = fields.Integer()
    anum = fields.Integer()
    faint = fields.Integer()
    gpct = fields.Integer()


class QualificationSchema(ma.Schema):
    stage = fields.String()
    score = fields.Integer()
    temperature = fields.String()
    timeline = fields.String(allow_none=True)
    bant = dumped_whole(BantSchema)
    frameworks = dumped_whole(FrameworksSchema)
    score_breakdown = fields.List(fields.Dict())
    claimed_stage = fields.String(attribute="lead_type", allow_none=True)
    claimed_stage_unsupported = fields.Boolean()


class ContactSchema(ma.Schema):
    first_name = fields.String()
    last_name = fields.String()
    email = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    company = fields.String(allow_none=True)
    job_title = fields.String(allow_none=True)
    address = fields.String(allow_none=True)


class LocationSchema(ma.Schema):
    country = fields.String()
    region = fields.String(allow_none=True)
    city = fields.String(allow_none=True)
    postal_code = fields.String(allow_none=True)
    postal_prefix = fields.String(allow_none=True)


class ConsentSchema(ma.Schema):
    text = fields.String(attribute="consent_text")
    consented_at = fields.AwareDateTime()
    ip = fields.String(attribute="consent_ip", allow_none=True)
    url = fields.String(attribute="consent_url", allow_none=True)
    certificate = fields.String(attribute="consent_certificate", allow_none=True)


class VerificationSchema(ma.Schema):
    phone_type = fields.String(allow_none=True)
    email_status = fields.String(allow_none=True)
    consent_certificate = fields.Function(lambda lead: bool(lead.consent_certificate))


class LeadSaleSchema(ma.Schema):
    """The fields every view of a lead shares: its sale terms and its checks, no contact."""

    id = fields.Integer()
    captured_at = fields.AwareDateTime()
    listed_at = fields.AwareDateTime(allow_none=True)
    price_cents = fields.Integer()
    currency = fields.String()
    max_sales = fields.Integer()
    sales_remaining = fields.Function(lambda lead: lead.max_sales - lead.sales_count)
    verification = dumped_whole(VerificationSchema)


class FullLeadSchema(LeadSaleSchema):
    """A lead with its full contact: for its seller, its buyers and admins only."""

    batch_id = fields.Integer()
    row = fields.Integer(attribute="row_number")
    status = fields.String()
    contact = dumped_whole(ContactSchema)
    location = dumped_whole(LocationSchema)
    consent = dumped_whole(ConsentSchema)
    qualification = dumped_whole(QualificationSchema)
    answers = fields.Function(
        lambda lead: {
            "has_budget": lead.has_budget,
            "budget_cents": lead.budget_cents,
            "is_decision_maker": lead.is_decision_maker,
            "decision_makers": lead.decision_makers,
            "need": lead.need,
            "challenge": lead.challenge,
            "priority": lead.priority,
            "goals": lead.goals,
            "plans": lead.plans,
            "interest_signals": lead.interest_signals,
        }
    )
    extra = fields.Dict()


class VerticalSchema(ma.Schema):
    slug = fields.String()
    name = fields.String()
    return_window_days = fields.Integer()
    max_lead_age_days = fields.Integer()
    required_columns = fields.List(fields.String())
    is_active = fields.Boolean()


class VerticalArgs(ma.Schema):
    slug = fields.String(required=True, validate=validate.Regexp(r"^[a-z0-9][a-z0-9-]{0,62}$"))
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    return_window_days = fields.Integer(
        load_default=7, strict=True, validate=validate.Range(min=0, max=365)
    )
    max_lead_age_days = fields.Integer(
        load_default=90, strict=True, validate=validate.Range(min=1, max=3650)
    )
    required_columns = fields.List(
        fields.String(validate=validate.Length(min=1, max=64)),
        load_default=list,
        validate=validate.Length(max=50),
    )


class VerticalUpdateArgs(ma.Schema):
    name = fields.String(validate=validate.Length(min=1, max=100))
    return_window_days = fields.Integer(strict=True, validate=validate.Range(min=0, max=365))
    max_lead_age_days = fields.Integer(strict=True, validate=validate.Range(min=1, max=3650))
    required_columns = fields.List(
        fields.String(validate=validate.Length(min=1, max=64)), validate=validate.Length(max=50)
    )
    is_active = fields.Boolean()
