"""The pure rules of a dispute: the return window, the seller's answer window, the buyer's share
of returns, and which evidence settles which reason."""

from datetime import UTC, datetime, timedelta

import pytest

from verification.rules.disputes import (
    response_deadline,
    settles,
    window_is_open,
    within_dispute_share,
)

pytestmark = pytest.mark.unit

DEADLINE = datetime(2026, 12, 9, 12, 0, 0, tzinfo=UTC)


def test_the_return_window_closes_at_its_deadline_to_the_second():
    assert window_is_open(now=DEADLINE - timedelta(seconds=1), return_deadline=DEADLINE)
    assert not window_is_open(now=DEADLINE, return_deadline=DEADLINE)
    assert not window_is_open(now=DEADLINE + timedelta(seconds=1), return_deadline=DEADLINE)


def test_the_seller_may_answer_for_the_configured_days():
    assert response_deadline(opened_at=DEADLINE, seller_response_days=3) == DEADLINE + timedelta(
        days=3
    )


@pytest.mark.parametrize(
    ("disputed", "bought", "limit", "allowed"),
    [
        (0, 1, 25, True),  # the first dispute is always allowed
        (0, 0, 0, True),
        (1, 8, 25, True),  # 2 of 8 = 25%: at the limit
        (2, 8, 25, False),  # 3 of 8 = 37.5%: the first over the share
        (3, 16, 25, True),  # 4 of 16
        (4, 16, 25, False),  # 5 of 16
        (1, 100, 0, False),
        (99, 100, 100, True),
    ],
)
def test_the_share_refuses_the_first_dispute_over_it_and_not_one_before(
    disputed, bought, limit, allowed
):
    assert within_dispute_share(disputed=disputed, bought=bought, limit_pct=limit) is allowed


def _recheck(*codes):
    checks = [{"field": "x", "code": code, "message": "", "details": None} for code in codes]
    return {"recheck": {"ok": not codes, "checks": checks}, "duplicate": None, "consent": None}


def test_only_the_disputed_fields_codes_settle_it():
    assert settles("bad_phone", _recheck("invalid_phone"))
    assert settles("bad_email", _recheck("invalid_email"))
    assert settles("bad_email", _recheck("disposable_email"))
    # A lead that has merely grown old proves nothing about its phone or email.
    assert not settles("bad_phone", _recheck("too_old"))
    assert not settles("bad_email", _recheck("too_old", "invalid_phone"))
    assert not settles("bad_phone", _recheck())


def test_a_duplicate_settles_only_when_found_and_other_reasons_never_by_themselves():
    found = {"recheck": None, "duplicate": {"matched": "email"}, "consent": None}
    assert settles("duplicate", found)
    assert not settles("duplicate", {"recheck": None, "duplicate": None, "consent": None})
    for reason in ("wrong_person", "no_consent", "fake_info", "misqualified", "other"):
        assert not settles(reason, found | _recheck("invalid_phone"))
