"""ISO 2859-1 single sampling plans, level II: code letters, master tables, arrows, decisions."""

from itertools import pairwise

import pytest

from verification.rules.sampling import (
    AQLS,
    CODE_LETTERS,
    CODE_LETTERS_LEVEL_II,
    DOWN,
    INSPECTIONS,
    SAMPLE_SIZES,
    UP,
    SamplingPlan,
    code_letter_for,
    decide,
    draw_sample,
    master_column,
    master_plan,
    plan_for,
)

pytestmark = pytest.mark.unit


def plan_tuple(lot_size, **kwargs):
    plan = plan_for(lot_size, **kwargs)
    return plan.code_letter, plan.sample_size, plan.accept_number, plan.reject_number


@pytest.mark.parametrize(
    ("lot_size", "expected"),
    [
        (8, ("C", 5, 0, 1)),
        (50, ("C", 5, 0, 1)),
        (90, ("F", 20, 1, 2)),
        (150, ("F", 20, 1, 2)),
        (280, ("G", 32, 2, 3)),
        (500, ("H", 50, 3, 4)),
        (1200, ("J", 80, 5, 6)),
        (3200, ("K", 125, 7, 8)),
        (10000, ("L", 200, 10, 11)),
        (35000, ("M", 315, 14, 15)),
        (150000, ("N", 500, 21, 22)),
    ],
)
def test_normal_aql_2_5_plans_match_table_ii_a(lot_size, expected):
    """Lots of 50 (D) and 90 (E) follow their arrows, taking the target plan's sample size.

    In Table II-A at AQL 2.5 the D cell is an up arrow (to C: n=5, 0/1) and the E cell a down
    arrow (to F: n=20, 1/2); reading D as n=8 0/1 or E as n=13 1/2 ignores the arrows.
    """
    assert plan_tuple(lot_size) == expected
    assert plan_for(lot_size).whole_lot is False


@pytest.mark.parametrize(
    ("lot_size", "letter"),
    [
        (1, "A"),
        (2, "A"),
        (8, "A"),
        (9, "B"),
        (15, "B"),
        (16, "C"),
        (26, "D"),
        (51, "E"),
        (91, "F"),
        (151, "G"),
        (281, "H"),
        (501, "J"),
        (1201, "K"),
        (3201, "L"),
        (10001, "M"),
        (35001, "N"),
        (150001, "P"),
        (500000, "P"),
        (500001, "Q"),
        (10**9, "Q"),
    ],
)
def test_code_letter_ranges_of_table_i_level_ii(lot_size, letter):
    assert code_letter_for(lot_size) == letter


def test_code_letter_ranges_are_contiguous():
    for (_, high, _), (low, _, _) in pairwise(CODE_LETTERS_LEVEL_II):
        assert low == high + 1


def test_sample_sizes_per_code_letter():
    def sizes(inspection):
        return " ".join(str(SAMPLE_SIZES[inspection][letter]) for letter in CODE_LETTERS)

    assert sizes("normal") == "2 3 5 8 13 20 32 50 80 125 200 315 500 800 1250 2000"
    assert sizes("tightened") == sizes("normal")
    assert sizes("reduced") == "2 2 2 3 5 8 13 20 32 50 80 125 200 315 500 800"


@pytest.mark.parametrize(
    ("inspection", "aql", "lot_size", "expected"),
    [
        # Table II-B, tightened.
        ("tightened", 2.5, 50, ("D", 8, 0, 1)),
        ("tightened", 2.5, 90, ("G", 32, 1, 2)),  # E points down past F to G
        ("tightened", 2.5, 500, ("H", 50, 2, 3)),
        ("tightened", 2.5, 1200, ("J", 80, 3, 4)),
        ("tightened", 2.5, 3200, ("K", 125, 5, 6)),
        ("tightened", 2.5, 10000, ("L", 200, 8, 9)),
        ("tightened", 2.5, 35000, ("M", 315, 12, 13)),
        ("tightened", 2.5, 150000, ("N", 500, 18, 19)),
        ("tightened", 1.0, 1200, ("J", 80, 1, 2)),
        ("tightened", 4.0, 1200, ("J", 80, 5, 6)),
        ("tightened", 6.5, 3200, ("K", 125, 12, 13)),
        ("tightened", 6.5, 35000, ("L", 200, 18, 19)),  # M points up to L
        # Table II-A, normal, other AQLs.
        ("normal", 1.0, 1200, ("J", 80, 2, 3)),
        ("normal", 1.0, 280, ("H", 50, 1, 2)),  # G points down to H
        ("normal", 1.0, 150, ("E", 13, 0, 1)),  # F points up to E
        ("normal", 1.5, 3200, ("K", 125, 5, 6)),
        ("normal", 4.0, 500, ("H", 50, 5, 6)),
        ("normal", 4.0, 1200, ("J", 80, 7, 8)),
        ("normal", 6.5, 150, ("F", 20, 3, 4)),
        ("normal", 6.5, 10000, ("L", 200, 21, 22)),
        ("normal", 6.5, 35000, ("L", 200, 21, 22)),  # M points up to L
        # Table II-C, reduced (1999 edition: Re = Ac + 1).
        ("reduced", 2.5, 150, ("G", 13, 1, 2)),  # F points down to G
        ("reduced", 2.5, 500, ("H", 20, 2, 3)),
        ("reduced", 2.5, 1200, ("J", 32, 3, 4)),
        ("reduced", 2.5, 3200, ("K", 50, 5, 6)),
        ("reduced", 2.5, 10000, ("L", 80, 6, 7)),
        ("reduced", 2.5, 35000, ("M", 125, 8, 9)),
        ("reduced", 2.5, 150000, ("N", 200, 10, 11)),
        ("reduced", 2.5, 500000, ("N", 200, 10, 11)),  # P points up to N
        ("reduced", 1.0, 3200, ("K", 50, 2, 3)),
        ("reduced", 6.5, 35000, ("L", 80, 10, 11)),  # M points up to L
    ],
)
def test_spot_checks_of_the_master_tables(inspection, aql, lot_size, expected):
    assert plan_tuple(lot_size, aql=aql, inspection=inspection) == expected


# The plans met along a diagonal of each master table, from Ac 0 upwards, and the cells
# between the 0/1 plan and the 1/2 plan in a row.
DIAGONALS = {
    "normal": [0, 1, 2, 3, 5, 7, 10, 14, 21],
    "tightened": [0, 1, 2, 3, 5, 8, 12, 18],
    "reduced": [0, 1, 2, 3, 5, 6, 8, 10],
}
ARROWS_BETWEEN_0_AND_1 = {
    "normal": [UP, DOWN],
    "tightened": [DOWN, DOWN],
    "reduced": [UP, DOWN, DOWN],
}


@pytest.mark.parametrize("inspection", INSPECTIONS)
def test_every_column_is_the_next_one_shifted_by_one_code_letter(inspection):
    """Table II is diagonal: moving one AQL step left and one code letter down keeps the cell."""
    for tighter, looser in pairwise(AQLS):
        assert master_column(looser, inspection)[:-1] == master_column(tighter, inspection)[1:]


@pytest.mark.parametrize("inspection", INSPECTIONS)
def test_each_column_reads_like_the_printed_table(inspection):
    for aql in AQLS:
        column = list(master_column(aql, inspection))
        first_plan = next(i for i, cell in enumerate(column) if not isinstance(cell, str))
        assert column[:first_plan] == [DOWN] * first_plan
        gap = ARROWS_BETWEEN_0_AND_1[inspection]
        after = first_plan + 1 + len(gap)
        assert column[first_plan + 1 : after] == gap
        plans = [cell for cell in column[after:] if not isinstance(cell, str)]
        accepts = [column[first_plan][0], *(accept for accept, _ in plans)]
        expected = DIAGONALS[inspection]
        assert accepts == expected[: len(accepts)]
        # Below the last plan printed in the column, only up arrows remain.
        last_plan = max(i for i, cell in enumerate(column) if not isinstance(cell, str))
        assert column[last_plan + 1 :] == [UP] * (len(column) - last_plan - 1)
        assert all(reject == accept + 1 for accept, reject in [column[first_plan], *plans])


@pytest.mark.parametrize("inspection", INSPECTIONS)
@pytest.mark.parametrize("aql", AQLS)
def test_every_cell_leads_to_a_plan_in_the_direction_of_its_arrow(inspection, aql):
    column = master_column(aql, inspection)
    for index, letter in enumerate(CODE_LETTERS):
        used, size, accept, reject = master_plan(letter, aql=aql, inspection=inspection)
        target = CODE_LETTERS.index(used)
        cell = column[index]
        if cell == DOWN:
            assert target > index
        elif cell == UP:
            assert target < index
        else:
            assert (target, (accept, reject)) == (index, cell)
        assert size == SAMPLE_SIZES[inspection][used]
        assert all(isinstance(column[i], str) for i in range(min(index, target) + 1, target))


def test_tightened_and_reduced_are_stricter_and_looser_than_normal_at_the_same_lot():
    for lot_size in (90, 500, 3200, 35000, 500001):
        for aql in AQLS:
            normal = plan_for(lot_size, aql=aql)
            tightened = plan_for(lot_size, aql=aql, inspection="tightened")
            reduced = plan_for(lot_size, aql=aql, inspection="reduced")
            # As a share of the sample, tightened accepts no more defects and reduced no fewer.
            assert (
                tightened.accept_number / tightened.sample_size
                <= normal.accept_number / normal.sample_size
            )
            assert reduced.sample_size <= normal.sample_size


def test_every_plan_reaches_a_decision():
    for lot_size in (1, 2, 7, 40, 90, 1000, 20000, 600000):
        for aql in AQLS:
            for inspection in INSPECTIONS:
                plan = plan_for(lot_size, aql=aql, inspection=inspection)
                assert plan.reject_number == plan.accept_number + 1
                for defects in range(plan.sample_size + 1):
                    outcome = decide(plan, inspected=plan.sample_size, defects=defects)
                    assert outcome in ("accepted", "rejected")


@pytest.mark.parametrize(
    ("lot_size", "aql", "inspection", "expected"),
    [
        (1, 2.5, "normal", ("C", 1, 0, 1)),
        (3, 2.5, "normal", ("C", 3, 0, 1)),
        (5, 2.5, "normal", ("C", 5, 0, 1)),  # a sample equal to the lot is the whole lot
        (12, 1.0, "normal", ("E", 12, 0, 1)),
        (18, 1.0, "tightened", ("F", 18, 0, 1)),
    ],
)
def test_whole_lot_is_inspected_when_the_sample_would_not_be_smaller(
    lot_size, aql, inspection, expected
):
    plan = plan_for(lot_size, aql=aql, inspection=inspection)
    assert plan.whole_lot is True
    assert (plan.code_letter, plan.sample_size, plan.accept_number, plan.reject_number) == expected


def test_a_sample_smaller_than_the_lot_is_not_the_whole_lot():
    assert plan_for(6).whole_lot is False
    assert plan_for(6).sample_size == 5


def test_plan_records_its_inspection_and_aql():
    plan = plan_for(1200, aql=4, inspection="reduced")
    assert (plan.inspection, plan.aql) == ("reduced", 4.0)
    assert isinstance(plan.aql, float)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"lot_size": 0},
        {"lot_size": -5},
        {"lot_size": 100, "aql": 2.0},
        {"lot_size": 100, "aql": 10.0},
        {"lot_size": 100, "aql": "2.5"},
        {"lot_size": 100, "inspection": "strict"},
    ],
)
def test_plan_for_rejects_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        plan_for(**kwargs)


def test_decide_rejects_as_soon_as_defects_reach_the_reject_number():
    plan = plan_for(500)  # n=50, Ac 3, Re 4
    assert decide(plan, inspected=4, defects=4) == "rejected"
    assert decide(plan, inspected=10, defects=3) is None
    assert decide(plan, inspected=49, defects=0) is None
    assert decide(plan, inspected=50, defects=3) == "accepted"
    assert decide(plan, inspected=50, defects=4) == "rejected"


def test_decide_accepts_a_whole_lot_whose_reject_number_cannot_be_reached():
    """With every item inspected and defects at most Ac, the lot is accepted even if Re > n."""
    plan = SamplingPlan(
        code_letter="C",
        sample_size=3,
        accept_number=3,
        reject_number=4,
        inspection="normal",
        aql=6.5,
        whole_lot=True,
    )
    assert decide(plan, inspected=2, defects=2) is None
    assert decide(plan, inspected=3, defects=3) == "accepted"


@pytest.mark.parametrize(
    ("inspected", "defects"),
    [(-1, 0), (5, -1), (3, 4), (51, 0)],
)
def test_decide_refuses_impossible_counts(inspected, defects):
    with pytest.raises(ValueError):
        decide(plan_for(500), inspected=inspected, defects=defects)


def test_draw_sample_is_reproducible_and_independent_of_input_order():
    ids = list(range(1000, 1500))
    first = draw_sample(ids, 50, seed=42)
    assert first == draw_sample(list(reversed(ids)), 50, seed=42)
    assert first == sorted(first)
    assert len(set(first)) == 50
    assert set(first) <= set(ids)


def test_draw_sample_differs_for_another_seed():
    ids = list(range(500))
    assert draw_sample(ids, 50, seed=1) != draw_sample(ids, 50, seed=2)


def test_draw_sample_of_the_whole_lot_returns_every_id():
    assert draw_sample([5, 3, 9], 3, seed=7) == [3, 5, 9]
    assert draw_sample([5, 3, 9], 0, seed=7) == []


@pytest.mark.parametrize(("ids", "size"), [([1, 2, 3], 4), ([1, 2, 3], -1), ([1, 1, 2], 1)])
def test_draw_sample_refuses_impossible_requests(ids, size):
    with pytest.raises(ValueError):
        draw_sample(ids, size, seed=0)
