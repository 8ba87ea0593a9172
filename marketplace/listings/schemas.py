"""API schemas of the listings: the market's filters (query and JSON), the masked lead, a
batch's new price, suppressions.

Masking is structural: every field of ``LeadPreviewSchema`` that touches a contact is computed
by a masking function from the lead, so no field of it can carry a name, an email, a phone, a
street address or a consent record.
"""

from __future__ import annotations

from functools import lru_cache

import marshmallow as ma
import phonenumbers
from marshmallow import fields, validate
from webargs.fields import DelimitedList

from app.api import MAX_CURSOR_LENGTH
from marketplace.derive import area_key
from marketplace.intake.services import MAX_PRICE_CENTS
from marketplace.schemas import LeadSaleSchema
from verification.rules.columns import TIMELINES

STAGES = ("unqualified", "CQL", "MQL", "PQL", "SQL", "lost")
TEMPERATURES = ("hot", "warm", "cold")
BANT_CRITERIA = ("budget", "authority", "need", "timing")
PHONE_TYPES = (
    "mobile",
    "fixed_line",
    "fixed_line_or_mobile",
    "toll_free",
    "premium_rate",
    "shared_cost",
    "voip",
    "personal_number",
    "pager",
    "uan",
    "voicemail",
    "unknown",
)
SORT_NAMES = ("newest", "score", "price")
MAX_LIST_VALUES = 20
MASK = "\u2022"


class StrictBoolean(fields.Boolean):
    """A JSON boolean only: ``"true"`` or ``1`` in a JSON filter is a 422."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


def _filter_fields(*, json: bool) -> dict:
    """The filter keys of api-v1.md; ``json``: JSON types (arrays, integers, booleans) rather
    than query strings (comma lists)."""

    def one_of(values):
        item = fields.String(validate=validate.OneOf(values))
        length = validate.Length(min=1, max=MAX_LIST_VALUES)
        if json:
            return fields.List(item, validate=length)
        return DelimitedList(item, validate=length)

    def integer(low: int, high: int):
        return fields.Integer(strict=json, validate=validate.Range(min=low, max=high))

    boolean = StrictBoolean if json else fields.Boolean
    return {
        "vertical": fields.String(validate=validate.Length(min=1, max=64)),
        "country": fields.String(validate=validate.Regexp(r"^[A-Za-z]{2}$")),
        "region": fields.String(validate=validate.Length(min=1, max=1000)),
        "city": fields.String(validate=validate.Length(min=1, max=1000)),
        "postal_prefix": fields.String(validate=validate.Regexp(r"^[0-9A-Za-z -]{1,32}$")),
        "stage": one_of(STAGES),
        "min_score": integer(0, 100),
        "min_bant": integer(0, 4),
        "bant": one_of(BANT_CRITERIA),
        "timeline": one_of(TIMELINES),
        "temperature": one_of(TEMPERATURES),
        "max_price_cents": integer(0, MAX_PRICE_CENTS),
        "max_age_days": integer(1, 3650),
        "exclusive": boolean(),
        "has_consent_certificate": boolean(),
        "phone_type": one_of(PHONE_TYPES),
        "min_seller_quality": integer(0, 100),
    }


class _FilterMixin:
    @ma.post_load
    def _normalise(self, data: dict, **_kwargs) -> dict:
        if "country" in data:
            data["country"] = data["country"].upper()
        for key in ("region", "city"):
            if key in data:
                data[key] = area_key(data[key]) or ""
        if "postal_prefix" in data:
            data["postal_prefix"] = "".join(data["postal_prefix"].split()).upper()
        for key, value in data.items():
            if isinstance(value, list):
                data[key] = sorted(set(value))
        return data


class LeadFilterSchema(_FilterMixin, ma.Schema.from_dict(_filter_fields(json=True))):
    """A JSON ``filter`` object (purchases, saved searches): no cursor, limit or sort."""


class LeadFilterArgs(_FilterMixin, ma.Schema.from_dict(_filter_fields(json=False))):
    """GET /api/v1/leads: the filters as query strings, a sort and a page."""

    sort = fields.String(load_default="newest", validate=validate.OneOf(SORT_NAMES))
    cursor = fields.String(load_default=None, validate=validate.Length(max=MAX_CURSOR_LENGTH))
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))


def load_filter(data) -> dict:
    """Validate a JSON filter object; raises marshmallow's ValidationError (a 422)."""
    if not isinstance(data, dict):
        raise ma.ValidationError({"filter": ["A JSON object of the market's filters."]})
    return LeadFilterSchema().load(data)


# --- masking -------------------------------------------------------------------------------------


def mask_name(name: str | None) -> str:
    """``"John"`` -> ``"J."``."""
    name = (name or "").strip()
    return f"{name[0].upper()}." if name else ""


def mask_email(email: str | None) -> str | None:
    """``"john@example.com"`` -> ``"j***@example.com"``."""
    if not email or "@" not in email:
        return None
    local, _, domain = email.rpartition("@")
    return f"{local[:1]}***@{domain}"


@lru_cache(maxsize=65_536)
def mask_phone(phone: str | None) -> str | None:
    """``"+14155550142"`` -> ``"+1 415 ••• ••42"``: country code and area, last two digits."""
    if not phone:
        return None
    try:
        groups = (
            phonenumbers.format_number(
                phonenumbers.parse(phone), phonenumbers.PhoneNumberFormat.INTERNATIONAL
            )
            .replace("-", " ")
            .split()
        )
    except phonenumbers.NumberParseException:
        return None
    keep = 2 if len(groups) > 2 else 1
    shown, hidden = groups[:keep], " ".join(groups[keep:])
    digits = sum(ch.isdigit() for ch in hidden)
    masked, seen = [], 0
    for ch in hidden:
        if ch.isdigit():
            seen += 1
            masked.append(ch if seen > digits - 2 else MASK)
        else:
            masked.append(ch)
    return " ".join([*shown, "".join(masked)])


# The preview's parts are built as plain dicts: a nested schema's dump per part and per lead
# was most of a 50-lead page's time (bench/README.md, the market). Each names exactly the
# fields api-v1.md shows; no part can carry a contact except through a masking function.


def _masked_contact(lead) -> dict:
    return {
        "first_name": mask_name(lead.first_name),
        "last_name": mask_name(lead.last_name),
        "email": mask_email(lead.email),
        "phone": mask_phone(lead.phone),
        "company": lead.company,
        "job_title": lead.job_title,
    }


def _area(lead) -> dict:
    return {
        "country": lead.country,
        "region": lead.region,
        "city": lead.city,
        "postal_prefix": lead.postal_prefix,
    }


def _qualification_preview(lead) -> dict:
    return {
        "stage": lead.stage,
        "score": lead.score,
        "temperature": lead.temperature,
        "timeline": lead.timeline,
        "bant": {
            "budget": lead.bant_budget,
            "authority": lead.bant_authority,
            "need": lead.bant_need,
            "timing": lead.bant_timing,
            "met": lead.bant_met,
        },
        "frameworks": {
            "champ": lead.champ,
            "anum": lead.anum,
            "faint": lead.faint,
            "gpct": lead.gpct,
        },
        "score_breakdown": list(lead.score_breakdown or []),
    }


def _seller(lead) -> dict:
    account = lead.seller_account
    return {"id": lead.seller_id, "quality_score": account.quality_score if account else None}


class LeadPreviewSchema(LeadSaleSchema):
    """A lead on sale as every signed-in account sees it (api-v1.md's masked lead)."""

    vertical = fields.Function(lambda lead: lead.vertical.slug)
    preview = fields.Function(_masked_contact)
    location = fields.Function(_area)
    qualification = fields.Function(_qualification_preview)
    seller = fields.Function(_seller)


# --- sellers' and admins' writes -----------------------------------------------------------------


class BatchPriceArgs(ma.Schema):
    price_cents = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=1, max=MAX_PRICE_CENTS)
    )


class SuppressionArgs(ma.Schema):
    email = fields.String(validate=validate.Length(min=1, max=320))
    phone = fields.String(validate=validate.Length(min=1, max=40))
    reason = fields.String(load_default=None, validate=validate.Length(max=1000))

    @ma.validates_schema
    def _one_of_them(self, data: dict, **_kwargs) -> None:
        if bool(data.get("email")) == bool(data.get("phone")):
            raise ma.ValidationError("Give an email or a phone, not both.", "_schema")


class SuppressionSchema(ma.Schema):
    id = fields.Integer()
    kind = fields.String()
    value = fields.String()
    reason = fields.String(allow_none=True)
    created_at = fields.AwareDateTime()
