"""Dodge's continuous sampling plan CSP-1 (as MIL-STD-1235 standardises it) for a stream of leads.

The plan: screening inspects every lead; after ``i`` consecutive conforming leads it switches to
sampling, where each lead is inspected with probability ``f`` and the rest pass at once; a defect
found returns it to screening. Under a process fraction defective ``p`` (``q = 1 - p``) the average
outgoing quality is

    AOQ(p) = p (1 - f) q^i / (f + (1 - f) q^i)

and its maximum over ``p`` is the average outgoing quality limit (AOQL). The clearance number
``i`` is computed, not tabulated: the smallest ``i`` whose AOQL is at most the target.

The product adds one rule: a stream that screens more than ``screening_limit`` leads (by default
twice ``i``) without clearing is paused by the plan, and an admin decides.

Every function is pure. The per-lead draw is a keyed hash of (seed, stream, sequence) read as a
number in [0, 1): reproducible for a seeded test, and unpredictable to a seller who lacks the seed.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, replace
from functools import lru_cache

MODES = ("screening", "sampling")

_SEARCH_STEPS = 200  # ternary search over p; shrinks the interval by (2/3)^200


def aoq(p: float, *, f: float, i: int) -> float:
    """The average outgoing quality of a CSP-1 plan (f, i) at process fraction defective p."""
    _check_plan(f, i)
    if not 0.0 <= p <= 1.0:
        raise ValueError("p is a fraction from 0 to 1")
    qi = (1.0 - p) ** i
    return p * (1.0 - f) * qi / (f + (1.0 - f) * qi)


def aoql(*, f: float, i: int) -> float:
    """The average outgoing quality limit: AOQ maximised over p (as a fraction, not percent).

    log AOQ is concave in p (log p is concave, log(f q^-i + 1 - f) convex), so AOQ has one peak
    and a ternary search finds it.
    """
    _check_plan(f, i)
    if f == 1.0:
        return 0.0
    lo, hi = 0.0, 1.0
    for _ in range(_SEARCH_STEPS):
        m1 = lo + (hi - lo) / 3
        m2 = hi - (hi - lo) / 3
        if aoq(m1, f=f, i=i) < aoq(m2, f=f, i=i):
            lo = m1
        else:
            hi = m2
    return aoq((lo + hi) / 2, f=f, i=i)


@lru_cache(maxsize=256)
def clearance_number(*, f: float, aoql_pct: float) -> int:
    """The smallest i whose AOQL is at most ``aoql_pct`` percent for sampling fraction f.

    AOQL falls as i grows, so the search doubles to an upper bound and then bisects.
    """
    if not 0.0 < f <= 1.0:
        raise ValueError("the sampling fraction is above 0 and at most 1")
    if not 0.0 < aoql_pct <= 100.0:
        raise ValueError("the AOQL is a percentage above 0")
    target = aoql_pct / 100.0
    if aoql(f=f, i=1) <= target:
        return 1
    lo, hi = 1, 2  # aoql(lo) > target always holds
    while aoql(f=f, i=hi) > target:
        lo, hi = hi, hi * 2
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if aoql(f=f, i=mid) > target:
            lo = mid
        else:
            hi = mid
    return hi


def screening_limit(*, clearance: int, setting: int | None) -> int:
    """Leads a stream may screen without clearing before the plan pauses it (null: twice i)."""
    return 2 * clearance if setting is None else setting


@lru_cache(maxsize=256)
def plan_aoql_pct(*, f: float, aoql_pct: float) -> float:
    """The AOQL (percent) the plan of the clearance number for this target actually gives:
    at most the target, a little under it since i is a whole number."""
    return 100.0 * aoql(f=f, i=clearance_number(f=f, aoql_pct=aoql_pct))


def draw(*, seed: str, stream_id: int, sequence: int) -> float:
    """The stream's draw for its ``sequence``-th lead: a number in [0, 1), fixed by the seed."""
    message = f"{stream_id}:{sequence}".encode()
    digest = hmac.new(seed.encode(), message, hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def is_drawn(*, seed: str, stream_id: int, sequence: int, f: float) -> bool:
    """Whether a lead in sampling mode is drawn for inspection (probability f)."""
    return draw(seed=seed, stream_id=stream_id, sequence=sequence) < f


@dataclass(frozen=True)
class PlanState:
    mode: str = "screening"
    # Consecutive conforming outcomes in the current screening run.
    conforming_run: int = 0
    # Outcomes recorded since the stream last entered screening (the screening limit counts them).
    screened: int = 0
    paused: bool = False


def needs_inspection(state: PlanState, *, drawn: bool) -> bool:
    """Whether the next lead waits for inspection: always in screening, when drawn in sampling."""
    _check_state(state)
    return state.mode == "screening" or drawn


def after_outcome(state: PlanState, *, conforming: bool, clearance: int, limit: int) -> PlanState:
    """The plan after one inspection outcome; ``state`` is not changed.

    In screening, a conforming lead lengthens the run and the i-th clears to sampling; a defect
    restarts the run; past the screening limit without clearing the plan pauses. In sampling, a
    defect returns to screening with every counter at zero. A paused plan does not move (an
    admin's resume starts screening afresh: ``resumed()``).
    """
    _check_state(state)
    if state.paused:
        return state
    if state.mode == "sampling":
        return PlanState() if not conforming else state
    run = state.conforming_run + 1 if conforming else 0
    screened = state.screened + 1
    if run >= clearance:
        return PlanState(mode="sampling")
    return replace(state, conforming_run=run, screened=screened, paused=screened > limit)


def resumed() -> PlanState:
    """An admin resumes a stream the plan paused: screening again, counters at zero."""
    return PlanState()


def _check_plan(f: float, i: int) -> None:
    if not 0.0 < f <= 1.0:
        raise ValueError("the sampling fraction is above 0 and at most 1")
    if i < 0:
        raise ValueError("the clearance number is not negative")


def _check_state(state: PlanState) -> None:
    if state.mode not in MODES:
        raise ValueError(f"unknown plan mode {state.mode!r}")
