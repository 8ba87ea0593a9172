"""Line charts drawn on the server as inline SVG: pure geometry, no app, no JavaScript, no CDN.

``line_chart`` turns labelled series into the coordinates a template draws (see the
``line_chart`` macro of ``_chart.html``). The scale and the text of ticks and point titles are
arguments, so the same geometry charts rates, counts and money.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

Scale = Callable[[float], tuple[float, float]]


@dataclass(frozen=True)
class Series:
    """One line: a value per label (None leaves a gap), and optionally an interval per value."""

    key: str
    label: str
    values: Sequence[float | None]
    css: str = ""
    intervals: Sequence[tuple[float, float] | None] | None = None


@dataclass(frozen=True)
class Box:
    """The SVG's size and the margins around the plot, where ticks and labels go."""

    width: int = 960
    height: int = 280
    left: int = 52
    right: int = 32
    top: int = 14
    bottom: int = 34


# (ceiling of the y axis, step between its ticks): the smallest that holds the data is used.
RATE_SCALES = ((0.05, 0.01), (0.1, 0.02), (0.2, 0.05), (0.25, 0.05), (0.5, 0.1), (1.0, 0.25))


def rate_scale(top: float) -> tuple[float, float]:
    """The y axis of rates (0 to 1): the smallest of ``RATE_SCALES`` that holds ``top``."""
    for ceiling, step in RATE_SCALES:
        if top <= ceiling:
            return ceiling, step
    return RATE_SCALES[-1]


def nice_scale(top: float, *, ticks: int = 4) -> tuple[float, float]:
    """A y axis for counts or money: a step of 1, 2, 2.5 or 5 times a power of ten, and at most
    ``ticks`` steps up to the first multiple of the step that holds ``top``."""
    top = top if top > 0 else 1
    power = 10 ** math.floor(math.log10(top / ticks))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power * ticks >= top)
    return round(step * math.ceil(top / step - 1e-9), 10), step


def percent_tick(value: float) -> str:
    return f"{round(100 * value, 1):g}%"


def percent_value(value: float) -> str:
    return f"{100 * value:.1f}%"


def line_chart(
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    titles: Sequence[str] | None = None,
    scale: Scale = rate_scale,
    tick_label: Callable[[float], str] = percent_tick,
    value_label: Callable[[float], str] = percent_value,
    box: Box = Box(),
) -> dict:
    """Coordinates of a line chart: one x per label, lines broken where a value is None.

    ``titles`` name each x in a point's tooltip ("week of 03 Mar"; the label by default). An
    interval ``(low, high)`` is drawn as a whisker at its point and, along a line, as a band.
    """
    titles = list(titles) if titles is not None else list(labels)
    if len(titles) != len(labels) or any(len(s.values) != len(labels) for s in series):
        raise ValueError("every series needs one value per label")
    if any(s.intervals is not None and len(s.intervals) != len(labels) for s in series):
        raise ValueError("intervals, when given, need one per label")
    plot_w = box.width - box.left - box.right
    plot_h = box.height - box.top - box.bottom
    values = [v for s in series for v in s.values if v is not None]
    highs = [i[1] for s in series for i in (s.intervals or ()) if i is not None]
    ceiling, step = scale(max(values + highs, default=0.0))
    n = len(labels)

    def x(i: int) -> float:
        return round(box.left + (plot_w * i / (n - 1) if n > 1 else plot_w / 2), 1)

    def y(value: float) -> float:
        return round(box.top + plot_h * (1 - value / ceiling), 1)

    drawn = []
    for s in series:
        intervals = s.intervals or [None] * n
        segments, points, whiskers, bands = [[]], [], [], [[]]
        for i, value in enumerate(s.values):
            if value is None:
                segments.append([])  # a gap in the line, not a fall to zero
                bands.append([])
                continue
            segments[-1].append(f"{x(i)},{y(value)}")
            points.append(
                {
                    "x": x(i),
                    "y": y(value),
                    "title": f"{s.label}, {titles[i]}: {value_label(value)}",
                }
            )
            if intervals[i] is None:
                bands.append([])
                continue
            low, high = intervals[i]
            whiskers.append({"x": x(i), "y_low": y(low), "y_high": y(high)})
            bands[-1].append((x(i), y(low), y(high)))
        drawn.append(
            {
                "key": s.key,
                "label": s.label,
                "css": s.css,
                "paths": [" ".join(segment) for segment in segments if segment],
                "points": points,
                "whiskers": whiskers,
                # A band is the polygon along the highs, then back along the lows.
                "bands": [
                    " ".join(
                        [f"{bx},{hi}" for bx, _, hi in b] + [f"{bx},{lo}" for bx, lo, _ in b[::-1]]
                    )
                    for b in bands
                    if b
                ],
            }
        )
    ticks = [
        {"y": y(step * i), "label": tick_label(step * i)} for i in range(round(ceiling / step) + 1)
    ]
    return {
        "width": box.width,
        "height": box.height,
        "left": box.left,
        "right": box.width - box.right,
        "top": box.top,
        "bottom": box.top + plot_h,
        "ticks": ticks,
        "labels": [{"x": x(i), "label": label} for i, label in enumerate(labels)],
        "series": drawn,
        "has_data": bool(values),
    }
