"""Wilson intervals, the switching rules between inspection levels, and the quality score."""

from itertools import pairwise

import pytest

from verification.rules.quality import (
    QUALITY_SCORE_FORMULA,
    QUALITY_WEIGHTS,
    quality_figures,
    quality_score,
    should_hold_for_disputes,
)
from verification.rules.stats import rate, wilson_interval
from verification.rules.switching import (
    InspectionState,
    after_hold_cleared,
    next_state,
    replay,
)

pytestmark = pytest.mark.unit

ACCEPT, REJECT = True, False


def test_wilson_interval_of_5_in_50():
    lower, upper = wilson_interval(5, 50)
    assert (round(lower, 4), round(upper, 4)) == (0.0435, 0.2136)


def test_wilson_interval_with_no_data_is_the_whole_range():
    assert wilson_interval(0, 0) == (0.0, 1.0)


def test_wilson_interval_touches_the_ends_exactly_at_0_and_n():
    assert wilson_interval(0, 20)[0] == 0.0
    assert wilson_interval(20, 20)[1] == 1.0
    lower, upper = wilson_interval(0, 20)
    assert 0.0 < upper < 0.2


def test_wilson_interval_is_symmetric_and_narrows_with_more_data():
    lower, upper = wilson_interval(3, 10)
    mirror_lower, mirror_upper = wilson_interval(7, 10)
    assert lower == pytest.approx(1 - mirror_upper)
    assert upper == pytest.approx(1 - mirror_lower)
    wide = wilson_interval(10, 100)
    narrow = wilson_interval(100, 1000)
    assert narrow[1] - narrow[0] < wide[1] - wide[0]


@pytest.mark.parametrize(("successes", "n"), [(-1, 5), (6, 5), (0, -1)])
def test_wilson_interval_refuses_impossible_counts(successes, n):
    with pytest.raises(ValueError):
        wilson_interval(successes, n)


def test_rate():
    assert rate(5, 50) == 0.1
    assert rate(0, 0) is None


# Switching rules


def fold(state, outcomes):
    for accepted in outcomes:
        state = next_state(state, accepted=accepted)
    return state


def test_switching_walks_through_every_level_and_onto_hold():
    """normal, tightened, normal, reduced, normal, tightened, then hold, as the rules say."""
    state = InspectionState()

    state = fold(state, [REJECT, ACCEPT, ACCEPT])
    assert state.level == "normal"
    state = next_state(state, accepted=REJECT)  # 2 rejected in 4 consecutive batches
    assert state == InspectionState(level="tightened")

    state = fold(state, [ACCEPT] * 4)
    assert (state.level, state.consecutive_accepted) == ("tightened", 4)
    state = next_state(state, accepted=ACCEPT)  # 5 in a row on tightened
    assert state == InspectionState(level="normal")

    state = fold(state, [ACCEPT] * 9)
    assert (state.level, state.consecutive_accepted) == ("normal", 9)
    state = next_state(state, accepted=ACCEPT)  # 10 in a row on normal
    assert state == InspectionState(level="reduced")

    state = fold(state, [ACCEPT] * 3)
    assert state.level == "reduced"
    state = next_state(state, accepted=REJECT)  # any rejection on reduced
    assert state == InspectionState(level="normal")

    state = fold(state, [REJECT, REJECT])
    assert state == InspectionState(level="tightened")

    state = fold(state, [REJECT, ACCEPT, REJECT, ACCEPT, ACCEPT, REJECT, REJECT])
    assert (state.level, state.rejected_while_tightened, state.on_hold) == ("tightened", 4, False)
    state = next_state(state, accepted=REJECT)  # the fifth rejection on tightened
    assert state.on_hold is True
    assert (state.level, state.rejected_while_tightened) == ("tightened", 5)


def test_two_rejections_more_than_five_batches_apart_do_not_tighten():
    state = fold(InspectionState(), [REJECT, ACCEPT, ACCEPT, ACCEPT, ACCEPT, REJECT])
    assert state.level == "normal"
    assert state.recent == (ACCEPT, ACCEPT, ACCEPT, ACCEPT, REJECT)


def test_two_rejections_within_five_batches_tighten():
    state = fold(InspectionState(), [REJECT, ACCEPT, ACCEPT, ACCEPT, REJECT])
    assert state.level == "tightened"


def test_a_rejection_on_normal_restarts_the_count_towards_reduced():
    state = fold(InspectionState(), [ACCEPT] * 9 + [REJECT] + [ACCEPT] * 9)
    assert (state.level, state.consecutive_accepted) == ("normal", 9)
    assert next_state(state, accepted=ACCEPT).level == "reduced"


def test_a_rejection_on_tightened_restarts_the_count_towards_normal():
    state = fold(InspectionState(level="tightened"), [ACCEPT] * 4 + [REJECT] + [ACCEPT] * 4)
    assert (state.level, state.consecutive_accepted) == ("tightened", 4)


def test_rejections_on_tightened_are_counted_afresh_after_returning_to_normal():
    state = fold(InspectionState(level="tightened"), [REJECT] * 4 + [ACCEPT] * 5)
    assert state == InspectionState(level="normal")
    state = fold(state, [REJECT, REJECT, REJECT])
    assert (state.level, state.rejected_while_tightened, state.on_hold) == ("tightened", 1, False)


def test_outcomes_arriving_while_on_hold_change_nothing():
    held = replay([REJECT, REJECT] + [REJECT] * 5)
    assert held.on_hold is True
    assert next_state(held, accepted=ACCEPT) == held
    assert next_state(held, accepted=REJECT) == held


def test_clearing_a_hold_resumes_on_tightened_with_counters_at_zero():
    held = replay([REJECT, REJECT] + [REJECT] * 5)
    assert after_hold_cleared(held) == InspectionState(level="tightened")


def test_clearing_a_hold_restarts_the_count_towards_reduced():
    state = fold(InspectionState(), [ACCEPT] * 8)
    state = after_hold_cleared(state)
    assert state.consecutive_accepted == 0
    state = fold(state, [ACCEPT] * 5)  # back to normal, then counting from zero
    assert state == InspectionState(level="normal")


def test_next_state_does_not_change_its_argument():
    state = InspectionState(level="tightened", consecutive_accepted=4)
    next_state(state, accepted=ACCEPT)
    assert state == InspectionState(level="tightened", consecutive_accepted=4)


def test_replay_folds_from_a_fresh_state():
    outcomes = [ACCEPT, REJECT, ACCEPT, ACCEPT, REJECT, ACCEPT]
    assert replay(outcomes) == fold(InspectionState(), outcomes)
    assert replay([]) == InspectionState()


# Quality figures and score

HISTORY = {
    "leads_submitted": 2000,
    "leads_rejected": 60,
    "batches_inspected": 40,
    "batches_rejected": 2,
    "leads_sold": 800,
    "disputes": 30,
    "disputes_upheld": 12,
    "outcomes_recorded": 200,
    "outcomes_won": 40,
}


def test_quality_score_falls_as_upheld_disputes_rise():
    scores = [quality_score({**HISTORY, "disputes_upheld": upheld}) for upheld in range(0, 801, 8)]
    assert all(later <= earlier for earlier, later in pairwise(scores))
    assert scores[0] > scores[-1]


@pytest.mark.parametrize(
    "figures",
    [
        {},
        HISTORY,
        {**HISTORY, "leads_rejected": 2000, "batches_rejected": 40, "disputes_upheld": 800},
        {**HISTORY, "leads_rejected": 0, "batches_rejected": 0, "disputes_upheld": 0},
        {
            "leads_submitted": 10**7,
            "batches_inspected": 10**6,
            "leads_sold": 10**7,
            "outcomes_recorded": 10**6,
            "outcomes_won": 10**6,
        },
    ],
)
def test_quality_score_is_a_whole_number_from_0_to_100(figures):
    score = quality_score(figures)
    assert isinstance(score, int)
    assert 0 <= score <= 100


def test_quality_score_of_a_worked_history_is_85():
    """Worked by hand from the published formula, each part at the cautious end of its 95% range.

    upheld 12/800: Wilson upper 0.02603 -> 0.4 x 0.97397 = 0.38959
    batches rejected 2/40: upper 0.16504 -> 0.3 x 0.83496 = 0.25049
    rows rejected 60/2000: upper 0.03842 -> 0.2 x 0.96158 = 0.19232
    won 40/200: Wilson lower 0.15045 -> 0.1 x 0.15045 = 0.01505
    total 0.84744 -> 84.7 -> 85 (half up)
    """
    assert quality_score(HISTORY) == 85
    assert quality_score({**HISTORY, "outcomes_won": 0}) == 83  # the won part, 1.5 points, gone
    # upheld 0/800: upper 0.00478 -> 0.4 x 0.99522 = 0.39809, 0.85 points more: 85.59 -> 86
    assert quality_score({**HISTORY, "disputes_upheld": 0}) == 86


def test_a_seller_without_history_scores_0_and_a_long_clean_one_nearly_100():
    assert quality_score({}) == 0
    clean = {
        "leads_submitted": 10**6,
        "batches_inspected": 10**5,
        "leads_sold": 10**6,
        "outcomes_recorded": 10**5,
        "outcomes_won": 10**5,
    }
    assert quality_score(clean) == 100


def test_a_short_clean_history_is_not_over_trusted():
    short = {"leads_submitted": 20, "batches_inspected": 1, "leads_sold": 5}
    assert quality_score(short) < 50


def test_quality_weights_sum_to_one_and_are_published():
    assert sum(QUALITY_WEIGHTS.values()) == pytest.approx(1.0)
    for weight in QUALITY_WEIGHTS.values():
        assert f"{weight:.0%}" in QUALITY_SCORE_FORMULA


def test_quality_figures_have_the_api_shape():
    figures = quality_figures(HISTORY)
    assert list(figures) == [
        "leads_submitted",
        "leads_rejected",
        "rejection_rate",
        "leads_inspected",
        "leads_defective",
        "defect_rate",
        "batches_inspected",
        "batches_rejected",
        "batch_rejection_rate",
        "leads_sold",
        "disputes",
        "disputes_upheld",
        "dispute_rate",
        "upheld_dispute_rate",
        "won_rate",
        "rate_intervals",
    ]
    assert figures["rejection_rate"] == 0.03
    assert figures["dispute_rate"] == 30 / 800
    assert figures["upheld_dispute_rate"] == 12 / 800
    assert figures["won_rate"] == 0.2
    lower, upper = wilson_interval(12, 800)
    assert figures["rate_intervals"]["upheld_dispute_rate"] == {"lower": lower, "upper": upper}
    assert set(figures["rate_intervals"]) == {
        "rejection_rate",
        "defect_rate",
        "batch_rejection_rate",
        "dispute_rate",
        "upheld_dispute_rate",
        "won_rate",
    }


def test_a_rate_without_a_denominator_is_0_with_the_whole_range_as_interval():
    figures = quality_figures({"leads_submitted": 10, "leads_rejected": None})
    assert figures["leads_rejected"] == 0
    assert figures["dispute_rate"] == 0.0
    assert figures["rate_intervals"]["dispute_rate"] == {"lower": 0.0, "upper": 1.0}


@pytest.mark.parametrize(
    "counts",
    [{"leads_sold": 5, "disputes_upheld": 6}, {"leads_submitted": -1}, {"leads_sold": 2.5}],
)
def test_quality_figures_refuse_impossible_counts(counts):
    with pytest.raises((ValueError, TypeError)):
        quality_figures(counts)


@pytest.mark.parametrize(
    ("upheld", "sold", "held"),
    [
        (0, 0, False),
        (2, 10, False),  # 20% raw, but the lower bound is under 10%
        (3, 10, True),  # lower bound about 10.8%
        (15, 100, False),  # lower bound about 9.3%
        (20, 100, True),  # lower bound about 13.3%
        (100, 1000, False),  # exactly at the limit is not clearly over it
    ],
)
def test_should_hold_for_disputes_only_when_clearly_over_the_limit(upheld, sold, held):
    assert should_hold_for_disputes(upheld=upheld, sold=sold, limit_pct=10) is held


def test_should_hold_for_disputes_refuses_a_limit_outside_0_to_100():
    with pytest.raises(ValueError):
        should_hold_for_disputes(upheld=1, sold=10, limit_pct=150)
