"""CSP-1: the AOQ formula, the computed clearance number against published tables, the draw and
the plan's moves between screening, sampling and paused."""

import pytest

from verification.rules.csp import (
    PlanState,
    after_outcome,
    aoq,
    aoql,
    clearance_number,
    is_drawn,
    needs_inspection,
    resumed,
    screening_limit,
)

pytestmark = pytest.mark.unit


def test_aoq_follows_dodges_formula():
    p, f, i = 0.02, 0.1, 54
    q = 1 - p
    expected = p * (1 - f) * q**i / (f + (1 - f) * q**i)
    assert aoq(p, f=f, i=i) == pytest.approx(expected)
    assert aoq(0.0, f=f, i=i) == 0.0
    # Everything screened (i = 0 passes nothing unscreened at f = 1): nothing defective goes out.
    assert aoq(0.3, f=1.0, i=5) == 0.0


def test_aoql_is_the_maximum_of_aoq_over_p():
    f, i = 0.1, 54
    grid = max(aoq(k / 100000, f=f, i=i) for k in range(1, 20000))
    assert aoql(f=f, i=i) == pytest.approx(grid, rel=1e-6)
    assert aoql(f=f, i=i) <= 0.02 < aoql(f=f, i=53)


def test_default_plan_clears_after_54_leads():
    assert clearance_number(f=0.1, aoql_pct=2.0) == 54


# (f, AOQL %, i) from the CSP-1 table of MIL-STD-1235 (Dodge's plans, as reprinted in
# Montgomery's "Introduction to Statistical Quality Control"), where the computed value agrees.
@pytest.mark.parametrize(
    ("f", "aoql_pct", "published_i"),
    [
        (1 / 2, 1.90, 15),
        (1 / 2, 1.22, 23),
        (1 / 5, 0.79, 91),
        (1 / 10, 1.90, 57),
        (1 / 10, 0.53, 207),
        (1 / 10, 4.94, 22),
        (1 / 100, 2.90, 89),
    ],
)
def test_clearance_number_matches_published_tables(f, aoql_pct, published_i):
    assert clearance_number(f=f, aoql_pct=aoql_pct) == published_i


# Where the table's AOQL column is itself a rounded figure (2.90 for the exact 2.9x...), the
# computed i differs from the printed one by one.
@pytest.mark.parametrize(
    ("f", "aoql_pct", "published_i", "computed_i"),
    [
        (1 / 2, 2.90, 10, 9),
        (1 / 10, 1.22, 89, 90),
        (1 / 10, 2.90, 38, 37),
        (1 / 5, 1.90, 38, 37),
    ],
)
def test_clearance_number_is_within_one_of_tables_where_rounding_differs(
    f, aoql_pct, published_i, computed_i
):
    assert clearance_number(f=f, aoql_pct=aoql_pct) == computed_i
    assert abs(computed_i - published_i) == 1


def test_clearance_number_grows_as_the_limit_tightens_or_sampling_thins():
    assert clearance_number(f=0.1, aoql_pct=1.0) > clearance_number(f=0.1, aoql_pct=2.0)
    assert clearance_number(f=0.05, aoql_pct=2.0) > clearance_number(f=0.1, aoql_pct=2.0)
    assert clearance_number(f=1.0, aoql_pct=2.0) == 1


@pytest.mark.parametrize(("f", "aoql_pct"), [(0.0, 2.0), (1.5, 2.0), (0.1, 0.0), (0.1, -1)])
def test_clearance_number_refuses_impossible_plans(f, aoql_pct):
    with pytest.raises(ValueError):
        clearance_number(f=f, aoql_pct=aoql_pct)


def test_screening_limit_defaults_to_twice_the_clearance_number():
    assert screening_limit(clearance=54, setting=None) == 108
    assert screening_limit(clearance=54, setting=70) == 70


def test_draw_is_fixed_by_the_seed_and_near_f_over_many_leads():
    drawn = [is_drawn(seed="s", stream_id=1, sequence=n, f=0.1) for n in range(5000)]
    assert drawn == [is_drawn(seed="s", stream_id=1, sequence=n, f=0.1) for n in range(5000)]
    assert 400 <= sum(drawn) <= 600
    other = [is_drawn(seed="t", stream_id=1, sequence=n, f=0.1) for n in range(5000)]
    assert other != drawn


def test_screening_inspects_every_lead_and_sampling_only_drawn_ones():
    assert needs_inspection(PlanState(), drawn=False)
    sampling = PlanState(mode="sampling")
    assert needs_inspection(sampling, drawn=True)
    assert not needs_inspection(sampling, drawn=False)


def test_i_conforming_outcomes_clear_screening_and_a_defect_restarts_it():
    state = PlanState()
    for _ in range(3):
        state = after_outcome(state, conforming=True, clearance=4, limit=8)
    assert state == PlanState(conforming_run=3, screened=3)
    state = after_outcome(state, conforming=False, clearance=4, limit=8)
    assert state == PlanState(conforming_run=0, screened=4)
    for _ in range(4):
        state = after_outcome(state, conforming=True, clearance=4, limit=8)
    assert state == PlanState(mode="sampling")
    state = after_outcome(state, conforming=True, clearance=4, limit=8)
    assert state.mode == "sampling"
    state = after_outcome(state, conforming=False, clearance=4, limit=8)
    assert state == PlanState()


def test_screening_past_the_limit_without_clearing_pauses_until_resumed():
    state = PlanState()
    for n in range(9):
        state = after_outcome(state, conforming=n % 3 != 2, clearance=4, limit=8)
    assert state.paused and state.mode == "screening"
    assert after_outcome(state, conforming=True, clearance=4, limit=8) == state
    assert resumed() == PlanState()
