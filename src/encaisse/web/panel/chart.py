# SPDX-License-Identifier: AGPL-3.0-or-later
"""The balance chart of the dashboard, drawn on the server as SVG.

No JavaScript library and no external request: the page carries the drawing itself, with a
text alternative (a table of the same figures) for screen readers. Pure function of the series.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

WIDTH, HEIGHT = 720, 240
LEFT, RIGHT, TOP, BOTTOM = 96, 16, 16, 32


@dataclass(frozen=True)
class Point:
    month: dt.date
    balance: Decimal
    x: float
    y: float


@dataclass(frozen=True)
class Chart:
    points: list[Point]
    path: str
    zero_y: float
    ticks: list[tuple[float, Decimal]]
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT


def _nice_step(span: Decimal) -> Decimal:
    """A round grid step (1, 2 or 5 × 10^n) giving about four lines over ``span``."""
    raw = span / 4 if span > 0 else Decimal(1)
    magnitude = Decimal(10) ** raw.adjusted()
    for factor in (1, 2, 5, 10):
        if raw <= factor * magnitude:
            return factor * magnitude
    return 10 * magnitude


def balance_chart(series: list[tuple[dt.date, Decimal]]) -> Chart:
    values = [balance for _, balance in series] or [Decimal(0)]
    top, bottom = max(*values, Decimal(0)), min(*values, Decimal(0))
    step = _nice_step(top - bottom)
    low = (bottom / step).to_integral_value(rounding="ROUND_FLOOR") * step
    high = (top / step).to_integral_value(rounding="ROUND_CEILING") * step
    if high == low:
        high = low + step
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def y_of(value: Decimal) -> float:
        return round(TOP + float((high - value) / (high - low)) * plot_h, 1)

    gap = plot_w / max(len(series) - 1, 1)
    points = [
        Point(month, balance, round(LEFT + i * gap, 1), y_of(balance))
        for i, (month, balance) in enumerate(series)
    ]
    path = " ".join(f"{'M' if i == 0 else 'L'}{p.x},{p.y}" for i, p in enumerate(points))
    count = int((high - low) / step)
    ticks = [(y_of(low + i * step), low + i * step) for i in range(count + 1)]
    return Chart(points=points, path=path, zero_y=y_of(Decimal(0)), ticks=ticks)
