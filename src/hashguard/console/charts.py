"""The statistics page's charts, drawn on the server as SVG: no script, nothing fetched. Here
the figures are put in time buckets and turned into geometry; templates/stats.html draws
it (every label through the template's escaping)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from hashguard.reports.stats import COUNTED

WIDTH, HEIGHT = 720, 220
LEFT, RIGHT, TOP, BOTTOM = 64, 12, 10, 30  # room for the axes' labels
X_LABELS = 6


@dataclass(frozen=True)
class Bucket:
    start: date
    label: str
    figures: dict[str, int]


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    title: str
    label: str = ""  # a horizontal bar's: drawn before it, its value after
    value: int = 0


@dataclass(frozen=True)
class Line:
    css: str
    points: str
    dots: tuple[tuple[float, float, str], ...]


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    description: str
    legend: tuple[tuple[str, str], ...]  # (css class, name)
    bars: tuple[Bar, ...] = ()
    bar_css: str = ""
    lines: tuple[Line, ...] = ()
    yticks: tuple[tuple[float, str], ...] = ()
    xlabels: tuple[tuple[float, str], ...] = ()
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    bottom: float = field(default=HEIGHT - BOTTOM)


def unit_for(since: date, until: date) -> str:
    """Days for up to a quarter, weeks for up to two years, months beyond."""
    days = (until - since).days + 1
    return "day" if days <= 92 else "week" if days <= 732 else "month"


def _start(d: date, unit: str, since: date) -> date:
    if unit == "week":
        d = d - timedelta(days=d.weekday())
    elif unit == "month":
        d = d.replace(day=1)
    return max(d, since)  # the first bucket may be a part of a week or month


def _next(d: date, unit: str) -> date:
    if unit == "day":
        return d + timedelta(days=1)
    if unit == "week":
        return d + timedelta(days=7 - d.weekday())
    return (d.replace(day=28) + timedelta(days=4)).replace(day=1)


def buckets(rows: Iterable[dict[str, Any]], since: date, until: date) -> list[Bucket]:
    """Every bucket of the range (empty ones too: a gap is a figure), with its sums."""
    unit = unit_for(since, until)
    sums: dict[date, dict[str, int]] = {}
    d = since
    while d <= until:
        sums[d] = dict.fromkeys(COUNTED, 0)
        try:
            d = _next(d, unit)
        except OverflowError:  # the calendar ends within this bucket
            break
    for row in rows:
        figures = sums[_start(date.fromisoformat(row["day"]), unit, since)]
        for m in COUNTED:
            figures[m] += row[m]
    names = {"day": "{}", "week": "week of {}", "month": "{}"}
    return [
        Bucket(start, names[unit].format(start.isoformat()[:7] if unit == "month" else start), f)
        for start, f in sums.items()
    ]


def _scale(top: int) -> tuple[int, tuple[int, ...]]:
    """A round maximum at or above ``top`` and the axis' ticks up to it."""
    if top <= 0:
        return 1, (0, 1)
    magnitude = 10 ** math.floor(math.log10(top))
    lead = next(m for m in (1, 2, 5, 10) if m * magnitude >= top)
    nice = lead * magnitude
    steps = min(nice, 4 if lead == 2 else 5)  # whole numbers: 0 5 10 15 20, 0 2 4 .. 10
    return nice, tuple(nice * i // steps for i in range(steps + 1))


def _axes(values: Iterable[int]) -> tuple[int, tuple[tuple[float, str], ...]]:
    nice, ticks = _scale(max(values, default=0))
    plot = HEIGHT - TOP - BOTTOM
    return nice, tuple((HEIGHT - BOTTOM - plot * t / nice, f"{t:,}") for t in ticks)


def _xlabels(slots: Sequence[Bucket], x_of: Any) -> tuple[tuple[float, str], ...]:
    if not slots:
        return ()
    every = max(1, math.ceil(len(slots) / X_LABELS))
    return tuple((x_of(i), b.label.removeprefix("week of ")) for i, b in enumerate(slots)
                 if i % every == 0)  # fmt: skip


def bars(id: str, title: str, slots: Sequence[Bucket], metric: str, name: str,
         css: str) -> Chart:  # fmt: skip
    """One figure over time, a bar per bucket."""
    nice, yticks = _axes(b.figures[metric] for b in slots)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(1, len(slots))
    drawn = []
    for i, b in enumerate(slots):
        value = b.figures[metric]
        h = plot_h * value / nice
        drawn.append(Bar(LEFT + i * slot + slot * 0.1, HEIGHT - BOTTOM - h, max(slot * 0.8, 0.5),
                         h, f"{b.label}: {value:,} {name}"))  # fmt: skip
    total = sum(b.figures[metric] for b in slots)
    return Chart(
        id, title, f"{total:,} {name} in {len(slots)} buckets; the table below has each one.",
        ((css, name),), bars=tuple(drawn), bar_css=css, yticks=yticks,
        xlabels=_xlabels(slots, lambda i: LEFT + (i + 0.5) * slot),
    )  # fmt: skip


def lines(id: str, title: str, slots: Sequence[Bucket],
          series: Sequence[tuple[str, str, str]]) -> Chart:  # fmt: skip
    """Several figures over time, a line each; ``series`` holds (metric, name, css)."""
    nice, yticks = _axes(b.figures[m] for b in slots for m, _, _ in series)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(1, len(slots) - 1)

    def x(i: int) -> float:
        return LEFT + (i * step if len(slots) > 1 else plot_w / 2)

    drawn = []
    for metric, name, css in series:
        at = [
            (round(x(i), 1), round(HEIGHT - BOTTOM - plot_h * b.figures[metric] / nice, 1),
             f"{b.label}: {b.figures[metric]:,} {name}")
            for i, b in enumerate(slots)
        ]  # fmt: skip
        points = " ".join(f"{px},{py}" for px, py, _ in at)
        drawn.append(Line(css, points, tuple(at)))
    totals = ", ".join(f"{sum(b.figures[m] for b in slots):,} {n}" for m, n, _ in series)
    return Chart(
        id, title, f"In {len(slots)} buckets: {totals}; the table below has each one.",
        tuple((css, name) for _, name, css in series), lines=tuple(drawn), yticks=yticks,
        xlabels=_xlabels(slots, x),
    )  # fmt: skip


def ranked(id: str, title: str, items: Sequence[tuple[str, int]], name: str,
           css: str) -> Chart:  # fmt: skip
    """A horizontal bar per item (a bank, say), largest first."""
    items = sorted(items, key=lambda kv: (-kv[1], kv[0]))
    row, label_w = 26, 180
    height = TOP + row * max(1, len(items)) + 8
    top = max((v for _, v in items), default=0) or 1
    plot_w = WIDTH - label_w - 90
    drawn = tuple(
        Bar(label_w, TOP + i * row + 4, max(plot_w * v / top, 1.0), row - 8,
            f"{label}: {v:,} {name}", label, v)
        for i, (label, v) in enumerate(items)
    )  # fmt: skip
    return Chart(
        id, title, "; ".join(f"{label}: {v:,}" for label, v in items) or "nothing yet",
        ((css, name),), bars=drawn, bar_css=css, height=height, left=label_w, bottom=height,
    )  # fmt: skip
