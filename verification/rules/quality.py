"""A seller's quality figures, its published 0-100 quality score, and the dispute hold rule."""

from __future__ import annotations

import math
import operator
from collections.abc import Mapping

from verification.rules.stats import rate, wilson_interval

# Rate name -> (numerator count, denominator count), as api-v1.md defines them.
RATES: dict[str, tuple[str, str]] = {
    "rejection_rate": ("leads_rejected", "leads_submitted"),
    "defect_rate": ("leads_defective", "leads_inspected"),
    "batch_rejection_rate": ("batches_rejected", "batches_inspected"),
    "dispute_rate": ("disputes", "leads_sold"),
    "upheld_dispute_rate": ("disputes_upheld", "leads_sold"),
    "won_rate": ("outcomes_won", "outcomes_recorded"),
}

# Key order of the quality figures in the API, before rate_intervals.
FIGURE_KEYS = (
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
)

QUALITY_WEIGHTS: dict[str, float] = {
    "upheld_dispute_rate": 0.4,
    "batch_rejection_rate": 0.3,
    "rejection_rate": 0.2,
    "won_rate": 0.1,
}
# Rates where a higher value is better; the score takes their lower bound, and for the others
# one minus the upper bound, so that every part of the score is the cautious end of the range.
HIGHER_IS_BETTER = frozenset({"won_rate"})


def _pct(name: str) -> str:
    return f"{QUALITY_WEIGHTS[name]:.0%}"


QUALITY_SCORE_FORMULA = (
    "The quality score runs from 0 to 100. It is built from four figures of the seller's history,"
    " each read at the cautious end of its 95% confidence range (a Wilson interval), so that a"
    " short lucky run cannot earn a high score: "
    f"{_pct('upheld_dispute_rate')} comes from how rarely buyers' disputes against the seller's"
    " leads are upheld, "
    f"{_pct('batch_rejection_rate')} from how rarely the seller's batches fail the platform's"
    " spot checks, "
    f"{_pct('rejection_rate')} from how rarely uploaded rows fail the automatic checks, and "
    f"{_pct('won_rate')} from how often buyers report a won deal. "
    "For the first three the score uses 100% minus the highest rate the data still allows; for"
    " won deals it uses the lowest share the data still allows. The weighted sum is rounded to"
    " a whole number. A figure with no history yet counts as nothing, so a new seller starts at"
    " 0 and rises as evidence builds up."
)


def quality_figures(counts: Mapping[str, int | None]) -> dict:
    """Counts, rates and 95% Wilson intervals in the shape of the API's quality figures.

    A rate whose denominator is 0 (a seller who has sold nothing has no dispute rate) is shown
    as 0.0 with the interval (0.0, 1.0): the API promises numbers, and the interval says that
    nothing is known yet. Missing counts are 0. The caller adds quality_score, inspection_level,
    status and last_30_days.
    """
    figures: dict = {}
    intervals: dict[str, dict[str, float]] = {}
    for key in FIGURE_KEYS:
        if key in RATES:
            numerator, denominator = (_count(counts, part) for part in RATES[key])
            value = rate(numerator, denominator)
            figures[key] = 0.0 if value is None else value
            lower, upper = wilson_interval(numerator, denominator)
            intervals[key] = {"lower": lower, "upper": upper}
        else:
            figures[key] = _count(counts, key)
    figures["rate_intervals"] = intervals
    return figures


def quality_score(figures: Mapping[str, int | None]) -> int:
    """The published 0-100 score (see QUALITY_SCORE_FORMULA) from a seller's counts."""
    total = 0.0
    for name, weight in QUALITY_WEIGHTS.items():
        numerator, denominator = (_count(figures, part) for part in RATES[name])
        lower, upper = wilson_interval(numerator, denominator)
        total += weight * (lower if name in HIGHER_IS_BETTER else 1.0 - upper)
    # Half up, not Python's round-half-even, so the published rule is the one people expect.
    return min(100, max(0, math.floor(100 * total + 0.5)))


def should_hold_for_disputes(*, upheld: int, sold: int, limit_pct: float) -> bool:
    """True when the upheld-dispute rate is clearly over the limit: its lower bound exceeds it.

    Using the lower bound means a few unlucky disputes on a handful of sales do not put a seller
    on hold; the rate has to be over the limit with 95% confidence.
    """
    if not 0 <= limit_pct <= 100:
        raise ValueError(f"limit_pct must be between 0 and 100, got {limit_pct}")
    lower, _upper = wilson_interval(upheld, sold)
    return lower > limit_pct / 100


def _count(counts: Mapping[str, int | None], key: str) -> int:
    # A SQL SUM over no rows gives None; that is a count of 0, not a missing figure.
    value = counts.get(key)
    if value is None:
        return 0
    value = operator.index(value)
    if value < 0:
        raise ValueError(f"{key} must not be negative, got {value}")
    return value
