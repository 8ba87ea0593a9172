"""Qualification frameworks and stage derived from a lead's answers, per leads.md."""

STAGE_RANKS: dict[str, int] = {"unqualified": 0, "CQL": 1, "MQL": 2, "PQL": 3, "SQL": 4}
# A lost lead is ranked with unqualified: any claim above unqualified overstates it.
_DERIVED_RANKS = STAGE_RANKS | {"lost": 0}

BANT_CRITERIA: tuple[str, ...] = ("budget", "authority", "need", "timing")
_TIMING = frozenset({"immediate", "1-3_months", "3-6_months"})
_URGENT = frozenset({"immediate", "1-3_months"})
_PQL_SIGNALS = frozenset({"free_trial", "product_usage"})
_MQL_SIGNALS = frozenset(
    {"content_download", "newsletter_signup", "webinar", "demo_request", "pricing_request"}
)
_CQL_SIGNALS = frozenset({"form_submission", "click_to_call"})


def qualify(values: dict, *, bant_override: dict | None = None) -> dict:
    """BANT, the other frameworks' counts, the derived stage and whether the claim overstates it.

    `bant_override` holds the four BANT booleans a spot-check or dispute found; they replace the
    seller's answers for every criterion built on them.
    """
    timeline = values.get("timeline")
    signals = frozenset(values.get("interest_signals") or ())
    budget_cents = values.get("budget_cents")
    if bant_override is None:
        budget = values.get("has_budget") is True or (
            isinstance(budget_cents, int) and budget_cents > 0
        )
        authority = values.get("is_decision_maker") is True
        need = _given(values.get("need"))
        timing = timeline in _TIMING
    else:
        budget, authority, need, timing = (bool(bant_override.get(c)) for c in BANT_CRITERIA)
    met = budget + authority + need + timing

    # Criteria resting on an answer a check overturned fall with it: urgency is a stricter
    # timing, and "challenge" may be the stated need.
    urgency = timing and timeline in _URGENT
    challenge = _given(values.get("challenge")) or need
    prioritised = values.get("priority") == "high" or urgency
    frameworks = {
        "champ": challenge + authority + budget + prioritised,
        "anum": authority + need + urgency + budget,
        "faint": budget + authority + bool(signals) + need + timing,
        "gpct": _given(values.get("goals")) + _given(values.get("plans")) + challenge + timing,
    }

    if timeline == "12+_months":
        stage = "lost"
    elif met >= 3:
        stage = "SQL"
    elif signals & _PQL_SIGNALS:
        stage = "PQL"
    elif signals & _MQL_SIGNALS or met >= 2:
        stage = "MQL"
    elif signals & _CQL_SIGNALS:
        stage = "CQL"
    else:
        stage = "unqualified"

    claimed = values.get("lead_type")
    unsupported = claimed in STAGE_RANKS and STAGE_RANKS[claimed] > _DERIVED_RANKS[stage]
    return {
        "bant": {
            "budget": budget,
            "authority": authority,
            "need": need,
            "timing": timing,
            "met": met,
        },
        "frameworks": frameworks,
        "stage": stage,
        "claimed_stage_unsupported": unsupported,
    }


def _given(text: object) -> bool:
    # Checked values are trimmed, so any non-empty string is an answer.
    return text.__class__ is str and text != ""
