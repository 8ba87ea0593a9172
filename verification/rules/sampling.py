"""ISO 2859-1 single sampling at general inspection level II: plans, decisions, samples."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

INSPECTIONS = ("normal", "tightened", "reduced")
AQLS = (1.0, 1.5, 2.5, 4.0, 6.5)

# The standard skips I and O so they cannot be misread as 1 and 0.
CODE_LETTERS = "ABCDEFGHJKLMNPQR"

# Table I, general inspection level II: (smallest lot, largest lot or None, code letter).
CODE_LETTERS_LEVEL_II: tuple[tuple[int, int | None, str], ...] = (
    (2, 8, "A"),
    (9, 15, "B"),
    (16, 25, "C"),
    (26, 50, "D"),
    (51, 90, "E"),
    (91, 150, "F"),
    (151, 280, "G"),
    (281, 500, "H"),
    (501, 1200, "J"),
    (1201, 3200, "K"),
    (3201, 10000, "L"),
    (10001, 35000, "M"),
    (35001, 150000, "N"),
    (150001, 500000, "P"),
    (500001, None, "Q"),
)

_NORMAL_SIZES = (2, 3, 5, 8, 13, 20, 32, 50, 80, 125, 200, 315, 500, 800, 1250, 2000)
# Reduced inspection has its own column of sample sizes (K is 50, not 125).
_REDUCED_SIZES = (2, 2, 2, 3, 5, 8, 13, 20, 32, 50, 80, 125, 200, 315, 500, 800)

SAMPLE_SIZES: dict[str, dict[str, int]] = {
    "normal": dict(zip(CODE_LETTERS, _NORMAL_SIZES, strict=True)),
    "tightened": dict(zip(CODE_LETTERS, _NORMAL_SIZES, strict=True)),
    "reduced": dict(zip(CODE_LETTERS, _REDUCED_SIZES, strict=True)),
}

# The master tables, one AQL column per line, one cell per code letter A to R, written the way
# the standard prints them: "Ac/Re", "v" (use the first plan below the arrow) or "^" (use the
# first plan above it). Source: ISO 2859-1:1999 Tables 2-A, 2-B and 2-C (in the 1999 edition
# every reduced plan has Re = Ac + 1). The normal and tightened columns are the same as in
# MIL-STD-105E and ANSI/ASQ Z1.4. Cells run A B C D E F G H J K L M N P Q R.
TABLE_II_A_NORMAL: dict[float, str] = {
    1.0: "v v v v 0/1 ^ v 1/2 2/3 3/4 5/6 7/8 10/11 14/15 21/22 ^",
    1.5: "v v v 0/1 ^ v 1/2 2/3 3/4 5/6 7/8 10/11 14/15 21/22 ^ ^",
    2.5: "v v 0/1 ^ v 1/2 2/3 3/4 5/6 7/8 10/11 14/15 21/22 ^ ^ ^",
    4.0: "v 0/1 ^ v 1/2 2/3 3/4 5/6 7/8 10/11 14/15 21/22 ^ ^ ^ ^",
    6.5: "0/1 ^ v 1/2 2/3 3/4 5/6 7/8 10/11 14/15 21/22 ^ ^ ^ ^ ^",
}
TABLE_II_B_TIGHTENED: dict[float, str] = {
    1.0: "v v v v v 0/1 v v 1/2 2/3 3/4 5/6 8/9 12/13 18/19 ^",
    1.5: "v v v v 0/1 v v 1/2 2/3 3/4 5/6 8/9 12/13 18/19 ^ ^",
    2.5: "v v v 0/1 v v 1/2 2/3 3/4 5/6 8/9 12/13 18/19 ^ ^ ^",
    4.0: "v v 0/1 v v 1/2 2/3 3/4 5/6 8/9 12/13 18/19 ^ ^ ^ ^",
    6.5: "v 0/1 v v 1/2 2/3 3/4 5/6 8/9 12/13 18/19 ^ ^ ^ ^ ^",
}
TABLE_II_C_REDUCED: dict[float, str] = {
    1.0: "v v v v 0/1 ^ v v 1/2 2/3 3/4 5/6 6/7 8/9 10/11 ^",
    1.5: "v v v 0/1 ^ v v 1/2 2/3 3/4 5/6 6/7 8/9 10/11 ^ ^",
    2.5: "v v 0/1 ^ v v 1/2 2/3 3/4 5/6 6/7 8/9 10/11 ^ ^ ^",
    4.0: "v 0/1 ^ v v 1/2 2/3 3/4 5/6 6/7 8/9 10/11 ^ ^ ^ ^",
    6.5: "0/1 ^ v v 1/2 2/3 3/4 5/6 6/7 8/9 10/11 ^ ^ ^ ^ ^",
}
MASTER_TABLES: dict[str, dict[float, str]] = {
    "normal": TABLE_II_A_NORMAL,
    "tightened": TABLE_II_B_TIGHTENED,
    "reduced": TABLE_II_C_REDUCED,
}

UP = "^"
DOWN = "v"
Cell = tuple[int, int] | str


def _parse_column(column: str) -> tuple[Cell, ...]:
    cells: list[Cell] = []
    for token in column.split():
        if token in (UP, DOWN):
            cells.append(token)
        else:
            accept, reject = token.split("/")
            cells.append((int(accept), int(reject)))
    if len(cells) != len(CODE_LETTERS):
        raise ValueError(f"a column needs {len(CODE_LETTERS)} cells, got {len(cells)}")
    return tuple(cells)


_COLUMNS: dict[str, dict[float, tuple[Cell, ...]]] = {
    inspection: {aql: _parse_column(column) for aql, column in table.items()}
    for inspection, table in MASTER_TABLES.items()
}


@dataclass(frozen=True)
class SamplingPlan:
    code_letter: str
    sample_size: int
    accept_number: int
    reject_number: int
    inspection: str
    aql: float
    whole_lot: bool


def code_letter_for(lot_size: int) -> str:
    """Table I at general inspection level II; a lot of one is read as the smallest range."""
    if lot_size < 1:
        raise ValueError("lot_size must be at least 1")
    for _low, high, letter in CODE_LETTERS_LEVEL_II:
        if high is None or lot_size <= high:
            return letter
    raise AssertionError("the last range of Table I is open-ended")


def master_plan(code_letter: str, *, aql: float, inspection: str) -> tuple[str, int, int, int]:
    """Read one cell of a master table, following its arrow as the standard says.

    Returns (code letter, sample size, Ac, Re) of the plan actually used: an arrow sends you to
    the first plan below or above it in the same column, and that plan's sample size comes with
    its Ac and Re.
    """
    column = master_column(aql, inspection)
    index = CODE_LETTERS.index(code_letter)
    cell = column[index]
    while isinstance(cell, str):
        index += 1 if cell == DOWN else -1
        if not 0 <= index < len(column):
            raise ValueError(f"arrow at {code_letter} leaves the table (AQL {aql}, {inspection})")
        cell = column[index]
    letter = CODE_LETTERS[index]
    accept, reject = cell
    return letter, SAMPLE_SIZES[inspection][letter], accept, reject


def plan_for(lot_size: int, *, aql: float = 2.5, inspection: str = "normal") -> SamplingPlan:
    """The single sampling plan for a lot, after arrows and the whole-lot rule.

    ``code_letter`` is the letter of the plan used, which differs from the lot's own letter when
    the table sends you along an arrow (a lot of 50 at AQL 2.5 normal is D, whose cell points up
    to C: n=5, Ac 0, Re 1). When that sample would be as large as the lot or larger, the whole lot
    is inspected: ``sample_size`` becomes the lot size, ``whole_lot`` is True, and the plan's Ac
    and Re are kept. Re may then exceed the number of items; decide() still reaches a decision,
    because once every item is inspected a count of defects at or below Ac is accepted.
    """
    master_column(aql, inspection)
    letter, size, accept, reject = master_plan(
        code_letter_for(lot_size), aql=aql, inspection=inspection
    )
    whole_lot = size >= lot_size
    return SamplingPlan(
        code_letter=letter,
        sample_size=lot_size if whole_lot else size,
        accept_number=accept,
        reject_number=reject,
        inspection=inspection,
        aql=float(aql),
        whole_lot=whole_lot,
    )


def decide(plan: SamplingPlan, *, inspected: int, defects: int) -> str | None:
    """'rejected', 'accepted', or None while the sample is still undecided.

    Rejection comes as soon as the defects reach Re, even before the sample is finished;
    acceptance only once the whole sample is inspected with at most Ac defects. With the 1999
    tables Re is always Ac + 1, so every finished sample is decided.
    """
    if not 0 <= defects <= inspected <= plan.sample_size:
        raise ValueError(
            f"need 0 <= defects ({defects}) <= inspected ({inspected})"
            f" <= sample size ({plan.sample_size})"
        )
    if defects >= plan.reject_number:
        return "rejected"
    if inspected == plan.sample_size and defects <= plan.accept_number:
        return "accepted"
    return None


def draw_sample(population_ids: Sequence[int], sample_size: int, *, seed: int) -> list[int]:
    """A reproducible random sample of ids, returned sorted.

    Sorting before sampling makes the result depend only on the set of ids and the seed, not on
    the order a query happened to return them in.
    """
    ids = sorted(population_ids)
    if len(set(ids)) != len(ids):
        raise ValueError("population_ids contains duplicates")
    if not 0 <= sample_size <= len(ids):
        raise ValueError(f"cannot draw {sample_size} from {len(ids)} ids")
    return sorted(random.Random(seed).sample(ids, sample_size))


def master_column(aql: float, inspection: str) -> tuple[Cell, ...]:
    """One parsed column of a master table: (Ac, Re) pairs and arrows, code letters A to R."""
    if inspection not in _COLUMNS:
        raise ValueError(f"inspection must be one of {', '.join(INSPECTIONS)}, got {inspection!r}")
    try:
        return _COLUMNS[inspection][aql]
    except (KeyError, TypeError):
        raise ValueError(f"AQL must be one of {', '.join(map(str, AQLS))}, got {aql!r}") from None
