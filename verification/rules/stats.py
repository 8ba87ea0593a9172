"""Proportions and their 95% Wilson score intervals."""

from __future__ import annotations

import math

# The two-sided 95% normal quantile, to the precision of a double.
Z_95 = 1.959963984540054


def wilson_interval(successes: int, n: int, z: float = Z_95) -> tuple[float, float]:
    """Wilson score interval for successes out of n; (0.0, 1.0) when there is nothing to go on.

    Wilson rather than the textbook p +/- z*se because it stays inside [0, 1] and stays honest
    for small n and for rates near 0 or 1, which is where a new seller's figures sit.
    """
    _check_counts(successes, n)
    if n == 0:
        return (0.0, 1.0)
    p = successes / n
    z2 = z * z
    denominator = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denominator
    half_width = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denominator
    # At 0 and n the bound is exactly 0 or 1; pin it so rounding cannot show -1e-17.
    lower = 0.0 if successes == 0 else max(0.0, centre - half_width)
    upper = 1.0 if successes == n else min(1.0, centre + half_width)
    return (lower, upper)


def rate(successes: int, n: int) -> float | None:
    """successes / n, or None when n is 0."""
    _check_counts(successes, n)
    if n == 0:
        return None
    return successes / n


def _check_counts(successes: int, n: int) -> None:
    if not 0 <= successes <= n:
        raise ValueError(f"need 0 <= successes ({successes}) <= n ({n})")
