"""The published lead score: points per sign of readiness, per scoring.md."""

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
    has_phone = bool(values.get("phone"))
    email_status = values.get("email_status")
    # A role account is still a working address: it misses the email points, not the "both".
    has_email = bool(values.get("email")) and email_status in ("valid", "role")
    earned = {
        "phone_valid": has_phone,
        "phone_mobile": has_phone and values.get("phone_confirmed_mobile") is True,
        "email_valid": has_email and email_status == "valid",
        "phone_and_email": has_phone and has_email,
        "address_or_company": _given(values.get("address")) or _given(values.get("company")),
        "consent_complete": _given(values.get("consent_text"))
        and values.get("consented_at") is not None
        and _given(values.get("consent_ip"))
        and _given(values.get("consent_url")),
        "consent_certificate": _given(values.get("consent_certificate")),
        "bant_budget": bant.get("budget") is True,
        "bant_authority": bant.get("authority") is True,
        "bant_need": bant.get("need") is True,
        "bant_timing": bant.get("timing") is True,
    }
    breakdown = [
        {"sign": sign, "points": points, "label": label}
        for sign, (points, label) in _SIGNS.items()
        if earned[sign]
    ]

    signals = [s for s in dict.fromkeys(values.get("interest_signals") or ()) if _is_signal(s)]
    if signals:
        raw = sum(
            HIGH_INTENT_POINTS if s in HIGH_INTENT_SIGNALS else OTHER_SIGNAL_POINTS
            for s in signals
        )
        points = min(INTENT_CAP, raw)
        capped = f", capped at {INTENT_CAP}" if raw > INTENT_CAP else ""
        label = f"Intent signals: {', '.join(signals)}{capped}"
        breakdown.append({"sign": "intent", "points": points, "label": label})

    score = min(100, sum(item["points"] for item in breakdown))
    return score, breakdown


def temperature(score: int) -> str:
    """hot from 70, warm from 40, else cold."""
    if score >= 70:
        return "hot"
    if score >= 40:
        return "warm"
    return "cold"


def _is_signal(signal: object) -> bool:
    return signal in HIGH_INTENT_SIGNALS or signal in OTHER_SIGNALS


def _given(text: object) -> bool:
    return isinstance(text, str) and bool(text.strip())
