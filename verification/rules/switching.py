"""ISO 2859-1 switching between normal, tightened and reduced inspection, as a state machine.

One state per seller; every batch decided on original inspection moves it with next_state().
The product's rules, a simplification of ISO 2859-1:1999 clause 9:

- Normal to tightened: when 2 batches out of 5 or fewer consecutive batches on normal
  inspection are rejected (the last five outcomes on normal are kept in ``recent``).
- Tightened to normal: after 5 consecutive batches accepted on tightened inspection.
- Normal to reduced: after 10 consecutive batches accepted on normal inspection. The standard's
  switching score and its "production steady, responsible authority approves" conditions are
  replaced by this plain count. A hold in between resets the count (after_hold_cleared()).
- Reduced to normal: on any rejected batch.
- Tightened to hold: when the rejected batches on tightened inspection reach 5 in total (not
  necessarily consecutive; the count restarts when the seller returns to normal), the seller
  goes on hold, which is the standard's "discontinue inspection under this part".
- While on hold nothing moves; outcomes that still arrive (a batch already in the spot-check
  queue) are ignored, since clearing the hold resets every counter anyway.
- Clearing a hold resumes on tightened inspection, as the standard requires after a
  discontinuation, with all counters at zero. The same applies to a hold put on for any other
  reason (an admin's, or too many upheld disputes): a seller comes back on tightened.

Every change of level clears ``recent`` and ``consecutive_accepted``, which only count batches
on the current level.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

LEVELS = ("normal", "tightened", "reduced")

NORMAL_WINDOW = 5  # batches looked at on normal inspection
REJECTIONS_TO_TIGHTEN = 2  # rejected within that window
ACCEPTED_TO_RELAX = 5  # consecutive accepted on tightened, back to normal
ACCEPTED_TO_REDUCE = 10  # consecutive accepted on normal, down to reduced
REJECTIONS_TO_HOLD = 5  # rejected in total while on tightened


@dataclass
class InspectionState:
    level: str = "normal"
    consecutive_accepted: int = 0
    # The last (up to five) outcomes on normal inspection, oldest first; True means accepted.
    recent: tuple[bool, ...] = ()
    rejected_while_tightened: int = 0
    on_hold: bool = False


def next_state(state: InspectionState, *, accepted: bool) -> InspectionState:
    """The state after one more batch decided on original inspection; ``state`` is not changed."""
    if state.level not in LEVELS:
        raise ValueError(f"unknown inspection level {state.level!r}")
    if state.on_hold:
        return replace(state)
    if state.level == "normal":
        return _on_normal(state, accepted)
    if state.level == "tightened":
        return _on_tightened(state, accepted)
    return _on_reduced(state, accepted)


def after_hold_cleared(state: InspectionState) -> InspectionState:
    """The state once an admin clears a hold: tightened inspection, every counter at zero."""
    return InspectionState(level="tightened")


def replay(outcomes: Iterable[bool]) -> InspectionState:
    """Fold a seller's batch outcomes, oldest first, from a fresh state (no holds cleared)."""
    state = InspectionState()
    for accepted in outcomes:
        state = next_state(state, accepted=accepted)
    return state


def _on_normal(state: InspectionState, accepted: bool) -> InspectionState:
    recent = (*state.recent, accepted)[-NORMAL_WINDOW:]
    if not accepted and recent.count(False) >= REJECTIONS_TO_TIGHTEN:
        return InspectionState(level="tightened")
    consecutive = state.consecutive_accepted + 1 if accepted else 0
    if consecutive >= ACCEPTED_TO_REDUCE:
        return InspectionState(level="reduced")
    return replace(state, consecutive_accepted=consecutive, recent=recent)


def _on_tightened(state: InspectionState, accepted: bool) -> InspectionState:
    if accepted:
        consecutive = state.consecutive_accepted + 1
        if consecutive >= ACCEPTED_TO_RELAX:
            return InspectionState(level="normal")
        return replace(state, consecutive_accepted=consecutive)
    rejected = state.rejected_while_tightened + 1
    return replace(
        state,
        consecutive_accepted=0,
        rejected_while_tightened=rejected,
        on_hold=rejected >= REJECTIONS_TO_HOLD,
    )


def _on_reduced(state: InspectionState, accepted: bool) -> InspectionState:
    if not accepted:
        return InspectionState(level="normal")
    return replace(state, consecutive_accepted=state.consecutive_accepted + 1)
