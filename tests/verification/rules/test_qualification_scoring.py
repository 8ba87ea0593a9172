"""Frameworks, stage and score of hand-worked leads, each figure computed from the specs."""

from datetime import UTC, datetime

import pytest

from verification.rules.checks import CheckContext, check_row
from verification.rules.qualification import qualify
from verification.rules.scoring import HIGH_INTENT_SIGNALS, OTHER_SIGNALS, score_lead, temperature

pytestmark = pytest.mark.unit

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
CERTIFICATE = "https://cert.trustedform.com/0123456789abcdef0123456789abcdef01234567"


def checked(context: CheckContext | None = None, **answers) -> dict:
    """The values check_row stores for a lead with these columns (and a valid base)."""
    row = {
        "first_name": "Jane",
        "last_name": "Doe",
        "country": "US",
        "captured_at": "2026-11-20T10:00:00Z",
        "consent_text": "I agree to be contacted.",
        "consented_at": "2026-11-20T10:00:00Z",
    }
    row.update(answers)
    result = check_row(row, context or CheckContext(now=NOW))
    assert result.ok, result.rejections
    return result.values


def signs(breakdown: list[dict]) -> list[tuple[str, int]]:
    return [(item["sign"], item["points"]) for item in breakdown]


# Lead A: every BANT answer, a UK mobile, a personal email, address, full consent, certificate.
LEAD_A = {
    "email": "jane.doe@acme-insurance.com",
    "phone": "07400 123456",
    "country": "GB",
    "address": "10 Downing Street",
    "consent_ip": "203.0.113.7",
    "consent_url": "https://acme.example/quote",
    "consent_certificate": CERTIFICATE,
    "has_budget": "yes",
    "is_decision_maker": "yes",
    "need": "Cheaper fleet insurance",
    "timeline": "1-3 months",
    "interest_signals": "demo_request;pricing_request;form_submission;webinar",
    "lead_type": "MQL",
}


def test_lead_a_meets_everything_and_is_a_hot_sql():
    values = checked(**LEAD_A)
    result = qualify(values)

    # BANT: has_budget yes, decision maker yes, need given, 1-3 months is within timing.
    assert result["bant"] == {
        "budget": True,
        "authority": True,
        "need": True,
        "timing": True,
        "met": 4,
    }
    # CHAMP: challenge (the need) + authority + money + prioritisation (1-3 months) = 4.
    # ANUM: authority + need + urgency (1-3 months) + money = 4.
    # FAINT: funds + authority + interest (4 signals) + need + timing = 5.
    # GPCT: no goals, no plans; challenges (the need) + timeline = 2.
    assert result["frameworks"] == {"champ": 4, "anum": 4, "faint": 5, "gpct": 2}
    # Not 12+ months; BANT 4 >= 3: SQL, above the MQL claimed.
    assert result["stage"] == "SQL"
    assert result["claimed_stage_unsupported"] is False

    score, breakdown = score_lead(values, result["bant"])
    # 10 phone + 5 mobile + 10 email + 5 both + 5 address + 5 consent + 5 certificate
    # + 4 x 10 BANT + intent min(15, 5 demo + 5 pricing + 2 form + 2 webinar = 14) = 99.
    assert signs(breakdown) == [
        ("phone_valid", 10),
        ("phone_mobile", 5),
        ("email_valid", 10),
        ("phone_and_email", 5),
        ("address_or_company", 5),
        ("consent_complete", 5),
        ("consent_certificate", 5),
        ("bant_budget", 10),
        ("bant_authority", 10),
        ("bant_need", 10),
        ("bant_timing", 10),
        ("intent", 14),
    ]
    assert score == 99
    assert temperature(score) == "hot"
    assert breakdown[0]["label"] == "Phone number is valid"
    assert "capped" not in breakdown[-1]["label"]


def test_lead_b_buying_next_year_is_lost_whatever_its_bant():
    values = checked(
        email="sam@northwind.example",
        company="Northwind Traders",
        consent_url="https://northwind.example/form",
        has_budget="yes",
        is_decision_maker="y",
        need="Replace our CRM",
        timeline="12+ months",
        lead_type="SQL",
    )
    result = qualify(values)

    # BANT: budget, authority, need; 12+ months is not timing: 3 of 4.
    assert result["bant"] == {
        "budget": True,
        "authority": True,
        "need": True,
        "timing": False,
        "met": 3,
    }
    # CHAMP: challenge (need) + authority + money; no priority, 12+ months not urgent = 3.
    # ANUM: authority + need + money, no urgency = 3.
    # FAINT: funds + authority + need; no signals, no timing = 3.
    # GPCT: challenges only = 1.
    assert result["frameworks"] == {"champ": 3, "anum": 3, "faint": 3, "gpct": 1}
    # Rule 1 comes first: 12+ months is lost even with BANT 3; the SQL claim is unsupported.
    assert result["stage"] == "lost"
    assert result["claimed_stage_unsupported"] is True

    score, breakdown = score_lead(values, result["bant"])
    # No phone; 10 email; 5 company; consent lacks the IP so not complete; 3 x 10 BANT = 45.
    assert signs(breakdown) == [
        ("email_valid", 10),
        ("address_or_company", 5),
        ("bant_budget", 10),
        ("bant_authority", 10),
        ("bant_need", 10),
    ]
    assert score == 45
    assert temperature(score) == "warm"


def test_lead_c_trial_user_is_a_pql_with_a_role_email():
    values = checked(
        country="DE",
        phone="030 123456",
        email="info@firma.de",
        consent_ip="198.51.100.20",
        consent_url="https://firma.de/kontakt",
        budget_cents="500000",
        priority="High",
        goals="Automate invoicing",
        plans="Roll out in Q3",
        interest_signals="free_trial;product_usage;click_to_call",
        lead_type="PQL",
    )
    assert values["phone_type"] == "fixed_line"
    assert values["email_status"] == "role"
    result = qualify(values)

    # BANT: budget_cents 500000 > 0 is budget; nothing else: 1.
    assert result["bant"] == {
        "budget": True,
        "authority": False,
        "need": False,
        "timing": False,
        "met": 1,
    }
    # CHAMP: money + prioritisation (priority high) = 2.  ANUM: money = 1.
    # FAINT: funds + interest = 2.  GPCT: goals + plans = 2.
    assert result["frameworks"] == {"champ": 2, "anum": 1, "faint": 2, "gpct": 2}
    # BANT 1 < 3, a free_trial signal: PQL, as claimed.
    assert result["stage"] == "PQL"
    assert result["claimed_stage_unsupported"] is False

    score, breakdown = score_lead(values, result["bant"])
    # 10 phone (fixed line: no mobile points); role email: no email points but it is a valid
    # address, so 5 for both; no address or company; 5 consent; 10 BANT;
    # intent 5 free_trial + 5 product_usage + 2 click_to_call = 12.  Total 42.
    assert signs(breakdown) == [
        ("phone_valid", 10),
        ("phone_and_email", 5),
        ("consent_complete", 5),
        ("bant_budget", 10),
        ("intent", 12),
    ]
    assert score == 42
    assert temperature(score) == "warm"


def test_lead_d_two_bant_criteria_make_an_mql_not_the_sql_claimed():
    values = checked(
        phone="(201) 555-0123",
        company="Acme",
        consent_ip="203.0.113.9",
        consent_url="https://acme.example/quote",
        consent_certificate="C8F4A9A2-7B1E-4E8B-9D7E-0A1B2C3D4E5F",
        is_decision_maker="true",
        timeline="3-6 months",
        priority="medium",
        challenge="Rising costs",
        lead_type="sql",
    )
    result = qualify(values)

    # BANT: authority + timing (3-6 months) = 2.
    assert result["bant"] == {
        "budget": False,
        "authority": True,
        "need": False,
        "timing": True,
        "met": 2,
    }
    # CHAMP: challenge (its own answer) + authority; medium priority, 3-6 months not urgent = 2.
    # ANUM: authority only (3-6 months is not urgency) = 1.
    # FAINT: authority + timing = 2.  GPCT: challenges + timeline = 2.
    assert result["frameworks"] == {"champ": 2, "anum": 1, "faint": 2, "gpct": 2}
    # No signals; BANT 2 >= 2: MQL; SQL claimed is higher.
    assert result["stage"] == "MQL"
    assert result["claimed_stage_unsupported"] is True

    score, breakdown = score_lead(values, result["bant"])
    # US numbers are fixed_line_or_mobile: 10 phone, no mobile points; no email; 5 company;
    # 5 consent; 5 certificate; 2 x 10 BANT.  Total 45.
    assert signs(breakdown) == [
        ("phone_valid", 10),
        ("address_or_company", 5),
        ("consent_complete", 5),
        ("consent_certificate", 5),
        ("bant_authority", 10),
        ("bant_timing", 10),
    ]
    assert score == 45


def test_lead_e_form_fill_is_a_cold_cql_claimed_as_mql():
    values = checked(
        country="IR",
        phone="0912 345 6789",
        email="reza@example.ir",
        has_budget="no",
        budget_cents="0",
        interest_signals="form_submission",
        lead_type="MQL",
    )
    result = qualify(values)

    # has_budget no and 0 cents: no budget; nothing else.
    assert result["bant"]["met"] == 0
    # Only FAINT's interest (a signal) counts.
    assert result["frameworks"] == {"champ": 0, "anum": 0, "faint": 1, "gpct": 0}
    assert result["stage"] == "CQL"
    assert result["claimed_stage_unsupported"] is True

    score, breakdown = score_lead(values, result["bant"])
    # 10 phone + 5 mobile + 10 email + 5 both + 2 form_submission = 32.
    assert signs(breakdown) == [
        ("phone_valid", 10),
        ("phone_mobile", 5),
        ("email_valid", 10),
        ("phone_and_email", 5),
        ("intent", 2),
    ]
    assert score == 32
    assert temperature(score) == "cold"


def test_lead_f_bare_contact_is_unqualified_and_a_looked_up_mobile_scores():
    context = CheckContext(now=NOW, line_type_lookup=lambda e164: "mobile")
    values = checked(context, phone="(201) 555-0123", lead_type="unqualified")
    result = qualify(values)

    assert result["bant"]["met"] == 0
    assert result["frameworks"] == {"champ": 0, "anum": 0, "faint": 0, "gpct": 0}
    assert result["stage"] == "unqualified"
    assert result["claimed_stage_unsupported"] is False

    score, breakdown = score_lead(values, result["bant"])
    # fixed_line_or_mobile, confirmed mobile by the lookup: 10 + 5 = 15.
    assert signs(breakdown) == [("phone_valid", 10), ("phone_mobile", 5)]
    assert score == 15
    assert temperature(score) == "cold"


def test_lead_g_spot_check_override_replaces_bant_and_what_rests_on_it():
    values = checked(**LEAD_A)
    found = {"budget": False, "authority": True, "need": False, "timing": False}
    result = qualify(values, bant_override=found)

    assert result["bant"] == {**found, "met": 1}
    # CHAMP: no challenge answer and the need was overturned; authority; no money; no priority
    # and the timing (so the 1-3 month urgency) was overturned = 1.
    # ANUM: authority = 1.  FAINT: authority + interest (signals) = 2.  GPCT: 0.
    assert result["frameworks"] == {"champ": 1, "anum": 1, "faint": 2, "gpct": 0}
    # BANT 1; no trial or usage signal; demo_request makes it MQL, as claimed.
    assert result["stage"] == "MQL"
    assert result["claimed_stage_unsupported"] is False

    score, breakdown = score_lead(values, result["bant"])
    # Lead A's 99 less 30 of the 40 BANT points: 69, just under hot.
    assert score == 69
    assert ("bant_authority", 10) in signs(breakdown)
    assert not {"bant_budget", "bant_need", "bant_timing"} & {item["sign"] for item in breakdown}
    assert temperature(score) == "warm"


def test_lead_h_intent_is_capped_at_15_and_a_missing_claim_is_not_unsupported():
    values = checked(
        email="kim@example.com",
        interest_signals="demo_request;pricing_request;spoke_with_sales;budget_provided",
    )
    result = qualify(values)

    # budget_provided is a signal, not the BANT budget answer.
    assert result["bant"]["met"] == 0
    assert result["frameworks"] == {"champ": 0, "anum": 0, "faint": 1, "gpct": 0}
    assert result["stage"] == "MQL"
    assert result["claimed_stage_unsupported"] is False

    score, breakdown = score_lead(values, result["bant"])
    # 10 email + intent min(15, 4 x 5 = 20) = 25.
    assert signs(breakdown) == [("email_valid", 10), ("intent", 15)]
    assert "capped at 15" in breakdown[-1]["label"]
    assert score == 25


@pytest.mark.parametrize(
    ("claim", "stage", "unsupported"),
    [
        ("unqualified", "lost", False),
        ("CQL", "lost", True),
        ("SQL", "SQL", False),
        ("PQL", "MQL", True),
        ("MQL", "PQL", False),
        (None, "unqualified", False),
    ],
)
def test_claim_is_unsupported_only_above_the_derived_stage(claim, stage, unsupported):
    answers = {
        "lost": {"timeline": "12+_months"},
        "SQL": {"has_budget": True, "is_decision_maker": True, "need": "x"},
        "MQL": {"interest_signals": ["webinar"]},
        "PQL": {"interest_signals": ["product_usage"]},
        "unqualified": {},
    }[stage]
    result = qualify({"lead_type": claim, **answers})

    assert result["stage"] == stage
    assert result["claimed_stage_unsupported"] is unsupported


def test_pql_signal_outranks_mql_signals_but_not_three_bant():
    trial = {"interest_signals": ["webinar", "free_trial"]}
    assert qualify(trial)["stage"] == "PQL"
    sql = {**trial, "has_budget": True, "is_decision_maker": True, "timeline": "immediate"}
    assert qualify(sql)["stage"] == "SQL"


def test_qualify_handles_empty_values():
    result = qualify({})

    assert result == {
        "bant": {"budget": False, "authority": False, "need": False, "timing": False, "met": 0},
        "frameworks": {"champ": 0, "anum": 0, "faint": 0, "gpct": 0},
        "stage": "unqualified",
        "claimed_stage_unsupported": False,
    }


def test_each_distinct_signal_counts_once_and_unknown_ones_not_at_all():
    score, breakdown = score_lead(
        {"interest_signals": ["webinar", "webinar", "demo_request", "cold_call"]}, {}
    )

    assert score == 7
    assert signs(breakdown) == [("intent", 7)]


def test_signal_tables_cover_every_listed_signal_once():
    assert HIGH_INTENT_SIGNALS.isdisjoint(OTHER_SIGNALS)
    assert len(HIGH_INTENT_SIGNALS | OTHER_SIGNALS) == 11


def test_score_of_nothing_is_zero():
    assert score_lead({}, {}) == (0, [])


@pytest.mark.parametrize(
    ("score", "label"),
    [(100, "hot"), (70, "hot"), (69, "warm"), (40, "warm"), (39, "cold"), (0, "cold")],
)
def test_temperature_bands(score, label):
    assert temperature(score) == label


def test_breakdown_always_adds_up_to_the_score():
    for answers in (LEAD_A, {"phone": "(201) 555-0123"}, {"email": "info@example.com"}):
        values = checked(**answers)
        score, breakdown = score_lead(values, qualify(values)["bant"])

        assert score == sum(item["points"] for item in breakdown)
        assert all(set(item) == {"sign", "points", "label"} for item in breakdown)
