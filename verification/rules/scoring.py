"""The published lead score: points per sign of readiness, per scoring.md."""

from functools import lru_cache

HIGH_INTENT_SIGNALS: frozenset[str] = frozenset(
    {
        "demo_request",
        "pricing_request",
        "spoke_with_sales",
        "budget_provided",
        "free_trial",
        "product_usage",
    }
)
OTHER_SIGNALS: frozenset[str] = frozenset(
    {"form_submission", "click_to_call", "content_download", "newsletter_signup", "webinar"}
)
HIGH_INTENT_POINTS = 5
OTHER_SIGNAL_POINTS = 2
INTENT_CAP = 15

# (sign, points, label) in the order the listing shows them.
_SIGNS: dict[str, tuple[int, str]] = {
    "phone_valid": (10, "Phone number is valid"),
    "phone_mobile": (5, "Phone is a mobile number"),
    "email_valid": (10, "Email is valid, not disposable, not a role account"),
    "phone_and_email": (5, "Both a valid phone and a valid email"),
    "address_or_company": (5, "Street address or company given"),
    "consent_complete": (5, "Consent record complete (text, time, IP, page URL)"),
    "consent_certificate": (5, "Consent certificate present"),
    "bant_budget": (10, "Budget confirmed (BANT)"),
    "bant_authority": (10, "Decision maker (BANT)"),
    "bant_need": (10, "Need stated (BANT)"),
    "bant_timing": (10, "Buying within 6 months (BANT)"),
}


def score_lead(values: dict, bant: dict) -> tuple[int, list[dict]]:
    """The score 0-100 and the signs that earned it, from checked values and the BANT found."""
    get = values.get
    has_phone = bool(get("phone"))
    email_status = get("email_status")
    # A role account is still a working address: it misses the email points, not the "both".
    has_email = bool(get("email")) and email_status in ("valid", "role")
    earned = []
    if has_phone:
        earned.append("phone_valid")
        if get("phone_confirmed_mobile") is True:
            earned.append("phone_mobile")
    if has_email and email_status == "valid":
        earned.append("email_valid")
    if has_phone and has_email:
        earned.append("phone_and_email")
    if _given(get("address")) or _given(get("company")):
        earned.append("address_or_company")
    if (
        _given(get("consent_text"))
        and get("consented_at") is not None
        and _given(get("consent_ip"))
        and _given(get("consent_url"))
    ):
        earned.append("consent_complete")
    if _given(get("consent_certificate")):
        earned.append("consent_certificate")
    for criterion in ("budget", "authority", "need", "timing"):
        if bant.get(criterion) is True:
            earned.append("bant_" + criterion)

    breakdown = [
        {"sign": sign, "points": _SIGNS[sign][0], "label": _SIGNS[sign][1]} for sign in earned
    ]
    score = sum(item["points"] for item in breakdown)

    signals = get("interest_signals")
    if signals:
        intent = _intent(tuple(signals))
        if intent is not None:
            breakdown.append({"sign": "intent", "points": intent[0], "label": intent[1]})
            score += intent[0]
    return min(100, score), breakdown


@lru_cache(maxsize=2048)
def _intent(signals: tuple[str, ...]) -> tuple[int, str] | None:
    """(points, label) for a lead's signals, each distinct signal counted once, capped."""
    known = [s for s in dict.fromkeys(signals) if s in HIGH_INTENT_SIGNALS or s in OTHER_SIGNALS]
    if not known:
        return None
    raw = sum(
        HIGH_INTENT_POINTS if s in HIGH_INTENT_SIGNALS else OTHER_SIGNAL_POINTS for s in known
    )
    capped = f", capped at {INTENT_CAP}" if raw > INTENT_CAP else ""
    return min(INTENT_CAP, raw), f"Intent signals: {', '.join(known)}{capped}"


def temperature(score: int) -> str:
    """hot from 70, warm from 40, else cold."""
    if score >= 70:
        return "hot"
    if score >= 40:
        return "warm"
    return "cold"


def _given(text: object) -> bool:
    # Checked values are trimmed, so any non-empty string is an answer.
    return text.__class__ is str and text != ""
