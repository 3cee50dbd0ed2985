"""Server-drawn SVG charts as plain data, for every page that shows one (the dashboard's
trends, a student's check-ins): the geometry is computed here, and the Jinja macros in
templates/_charts.html only draw it. No script. Each chart carries a title, a
description and an accessible name, and its page shows the same numbers in a table.
Lines differ by colour, dash and marker shape, so colour is never the only cue.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

WIDTH, HEIGHT = 640, 280
LEFT, RIGHT, TOP, BOTTOM = 56, 20, 16, 56  # plot margins, room for axis labels
TABLE_BELOW = "The same numbers are in the table below."

# The parts a chart repeats (ticks, bars, points, labels) are named tuples: the macros
# unpack them in their loops (`{% for x, y, value in series.points %}`) rather than look
# up each attribute, which on a dashboard of a hundred points is most of the drawing.


class Tick(NamedTuple):
    value: int
    y: float


class Bar(NamedTuple):
    label: str
    value: int
    x: float
    y: float
    width: float
    height: float

    @property
    def centre(self) -> float:
        return round(self.x + self.width / 2, 1)


@dataclass(frozen=True, kw_only=True)
class Chart:
    """What every chart has: `title` (the SVG <title>), `description` (its <desc>, saying
    what a sighted reader sees), and `name`, its accessible name (aria-label)."""

    title: str
    description: str
    ticks: list[Tick]
    name: str = ""
    width: int = WIDTH
    height: int = HEIGHT
    baseline: float = HEIGHT - BOTTOM
    left: int = LEFT
    right_edge: int = WIDTH - RIGHT

    @property
    def label(self) -> str:
        return self.name or f"{self.title}. {self.description}"


@dataclass(frozen=True, kw_only=True)
class BarChart(Chart):
    bars: list[Bar]


class Point(NamedTuple):
    x: float
    y: float
    value: int


@dataclass(frozen=True)
class Series:
    name: str
    colour: str
    dash: str
    marker: str  # "circle", "square" or "triangle"
    points: list[Point]
    legend_x: float  # where its key starts, below the plot
    key_marker: Point  # its marker in the key

    @property
    def polyline(self) -> str:
        return " ".join(f"{p.x},{p.y}" for p in self.points)


class XLabel(NamedTuple):
    x: float
    text: str


@dataclass(frozen=True, kw_only=True)
class LineChart(Chart):
    series: list[Series]
    x_labels: list[XLabel]


def nice_ticks(maximum: int, count: int = 4) -> list[int]:
    """Whole-number axis ticks from 0 to at least `maximum`, at a step of 1, 2 or 5 × 10ⁿ."""
    if maximum <= 0:
        return [0, 1]
    raw = maximum / count
    magnitude = 1
    while magnitude * 10 <= raw:
        magnitude *= 10
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    top = step * -(-maximum // step)
    return list(range(0, top + 1, step))


def _y(value: float, bottom: int, top: int) -> float:
    plot = HEIGHT - BOTTOM - TOP
    return round(HEIGHT - BOTTOM - ((value - bottom) / (top - bottom)) * plot, 1)


def _ticks(values: list[int]) -> list[Tick]:
    return [Tick(value, _y(value, values[0], values[-1])) for value in values]


def bar_chart(title: str, items: list[tuple[str, int]], unit: str = "") -> BarChart:
    """Vertical bars, one per (label, value)."""
    ticks = nice_ticks(max((value for _, value in items), default=0))
    top = ticks[-1]
    slot = (WIDTH - LEFT - RIGHT) / max(len(items), 1)
    width = round(min(slot * 0.6, 120), 1)
    bars = []
    for index, (label, value) in enumerate(items):
        y = _y(value, 0, top)
        x = round(LEFT + slot * index + (slot - width) / 2, 1)
        bars.append(Bar(label, value, x, y, width, round(HEIGHT - BOTTOM - y, 1)))
    parts = ", ".join(f"{label}: {value}{unit}" for label, value in items)
    return BarChart(
        title=title,
        description=f"Bar chart. {parts}. {TABLE_BELOW}",
        ticks=_ticks(ticks),
        bars=bars,
    )


SERIES_STYLES = [
    ("#1f5f8b", "", "circle"),
    ("#a4262c", "7 4", "square"),
    ("#1e6b3a", "2 3", "triangle"),
]


def _listed(names: Sequence[str]) -> str:
    """ "a", "a and b", "a, b and c"."""
    return " and ".join([", ".join(names[:-1]), names[-1]] if len(names) > 2 else names)


def line_chart(
    title: str,
    labels: list[str],
    series: list[tuple[str, list[int]]],
    max_labels: int = 12,
    *,
    positions: list[int] | None = None,
    scale: tuple[int, int] | None = None,
    name_is_description: bool = False,
) -> LineChart:
    """Lines over shared x positions, one point per label, at most `max_labels` labels
    written.

    `positions` spaces the points (e.g. week numbers, so a missed week leaves a gap);
    by default they are evenly spaced. `scale` fixes the y axis (answers from 1 to 5);
    by default it runs from 0 to a round number above the largest value. The accessible
    name is the title and the description, or the description alone.
    """
    if scale is None:
        ticks = nice_ticks(max((max(values, default=0) for _, values in series), default=0))
    else:
        ticks = list(range(scale[0], scale[1] + 1))
    bottom, top = ticks[0], ticks[-1]
    positions = list(range(len(labels))) if positions is None else positions
    first, span = (positions[0], max(positions[-1] - positions[0], 1)) if positions else (0, 1)
    plot = WIDTH - LEFT - RIGHT - 20

    def x_at(index: int) -> float:
        if len(labels) == 1:
            return LEFT + plot / 2 + 10
        return round(LEFT + 10 + (positions[index] - first) * plot / span, 1)

    xs = [x_at(i) for i in range(len(labels))]  # shared by every series
    every = 1 if len(labels) <= max_labels else -(-len(labels) // max_labels)
    x_labels = [
        XLabel(xs[i], text)
        for i, text in enumerate(labels)
        if i % every == 0 or i == len(labels) - 1
    ]
    key_y = HEIGHT - 12  # the line of keys below the plot
    drawn = []
    for index, (name, values) in enumerate(series):
        legend_x = LEFT + 40 + index * (220 if len(series) < 3 else 180)
        drawn.append(
            Series(
                name,
                *SERIES_STYLES[index % len(SERIES_STYLES)],
                [Point(xs[i], _y(value, bottom, top), value) for i, value in enumerate(values)],
                legend_x,
                Point(legend_x + 18, key_y, 0),
            )
        )
    names = _listed([name.lower() for name, _ in series])
    weeks = f"{len(labels)} week{'s' if len(labels) != 1 else ''}"
    each = f", each from {bottom} to {top}" if scale else ""
    description = f"Line chart of {names} over {weeks}{each}. {TABLE_BELOW}"
    return LineChart(
        title=title,
        description=description,
        name=description if name_is_description else "",
        ticks=_ticks(ticks),
        series=drawn,
        x_labels=x_labels,
    )
