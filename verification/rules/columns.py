"""The lead columns of leads.md: names, required ones, allowed values and header matching.

Marketplace (upload forms, column mapping, intake) reads this vocabulary; the row checks use it.
"""

from __future__ import annotations

from functools import lru_cache

LEAD_COLUMNS: tuple[str, ...] = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "company",
    "job_title",
    "country",
    "region",
    "city",
    "postal_code",
    "address",
    "captured_at",
    "consent_text",
    "consented_at",
    "consent_ip",
    "consent_url",
    "consent_certificate",
    "lead_type",
    "has_budget",
    "budget_cents",
    "is_decision_maker",
    "decision_makers",
    "need",
    "challenge",
    "timeline",
    "priority",
    "goals",
    "plans",
    "interest_signals",
)
REQUIRED_COLUMNS: tuple[str, ...] = (
    "first_name",
    "last_name",
    "country",
    "captured_at",
    "consent_text",
    "consented_at",
)

LEAD_TYPES: tuple[str, ...] = ("unqualified", "CQL", "MQL", "PQL", "SQL")
TIMELINES: tuple[str, ...] = (
    "immediate",
    "1-3_months",
    "3-6_months",
    "6-12_months",
    "12+_months",
    "unknown",
)
PRIORITIES: tuple[str, ...] = ("high", "medium", "low")
INTEREST_SIGNALS: tuple[str, ...] = (
    "form_submission",
    "click_to_call",
    "content_download",
    "newsletter_signup",
    "webinar",
    "demo_request",
    "free_trial",
    "product_usage",
    "pricing_request",
    "spoke_with_sales",
    "budget_provided",
)

HEADER_JUNK = str.maketrans("", "", " -_\t\ufeff")
_CANONICAL_BY_KEY = {column.replace("_", ""): column for column in LEAD_COLUMNS}


@lru_cache(maxsize=1024)
def canonical_header(name: str) -> str:
    """The canonical column a header names, else the header itself, trimmed, for `extra`."""
    name = str(name).replace("\ufeff", "").strip()
    return _CANONICAL_BY_KEY.get(name.lower().translate(HEADER_JUNK), name)
