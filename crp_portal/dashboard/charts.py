"""Server-drawn SVG charts as plain data: the geometry is computed here, and the Jinja
macros in templates/dashboard/_charts.html only draw it. No script; each chart carries a
title and an aria-label, and the page shows the same numbers in a table behind it."""

from dataclasses import dataclass

WIDTH, HEIGHT = 640, 280
LEFT, RIGHT, TOP, BOTTOM = 56, 20, 16, 56  # plot margins, room for axis labels


@dataclass(frozen=True)
class Tick:
    value: int
    y: float


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    x: float
    y: float
    width: float
    height: float

    @property
    def centre(self) -> float:
        return round(self.x + self.width / 2, 1)


@dataclass(frozen=True)
class BarChart:
    title: str
    description: str
    bars: list[Bar]
    ticks: list[Tick]
    width: int = WIDTH
    height: int = HEIGHT
    baseline: float = HEIGHT - BOTTOM
    left: int = LEFT
    right_edge: int = WIDTH - RIGHT


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    value: int


@dataclass(frozen=True)
class Series:
    name: str
    colour: str
    dash: str
    marker: str  # "circle" or "square": colour is never the only cue
    points: list[Point]

    @property
    def polyline(self) -> str:
        return " ".join(f"{p.x},{p.y}" for p in self.points)


@dataclass(frozen=True)
class XLabel:
    x: float
    text: str


@dataclass(frozen=True)
class LineChart:
    title: str
    description: str
    series: list[Series]
    ticks: list[Tick]
    x_labels: list[XLabel]
    width: int = WIDTH
    height: int = HEIGHT
    baseline: float = HEIGHT - BOTTOM
    left: int = LEFT
    right_edge: int = WIDTH - RIGHT


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


def _y(value: float, top: int) -> float:
    plot = HEIGHT - BOTTOM - TOP
    return round(HEIGHT - BOTTOM - (value / top) * plot, 1)


def bar_chart(title: str, items: list[tuple[str, int]], unit: str = "") -> BarChart:
    """Vertical bars, one per (label, value)."""
    ticks = nice_ticks(max((value for _, value in items), default=0))
    top = ticks[-1]
    slot = (WIDTH - LEFT - RIGHT) / max(len(items), 1)
    width = round(min(slot * 0.6, 120), 1)
    bars = []
    for index, (label, value) in enumerate(items):
        y = _y(value, top)
        x = round(LEFT + slot * index + (slot - width) / 2, 1)
        bars.append(Bar(label, value, x, y, width, round(HEIGHT - BOTTOM - y, 1)))
    parts = ", ".join(f"{label}: {value}{unit}" for label, value in items)
    return BarChart(
        title=title,
        description=f"Bar chart. {parts}. The same numbers are in the table below.",
        bars=bars,
        ticks=[Tick(value, _y(value, top)) for value in ticks],
    )


SERIES_STYLES = [("#1f5f8b", "", "circle"), ("#a4262c", "7 4", "square")]


def line_chart(
    title: str, labels: list[str], series: list[tuple[str, list[int]]], max_labels: int = 12
) -> LineChart:
    """Lines over shared x positions (`labels`), at most `max_labels` of them written."""
    ticks = nice_ticks(max((max(values, default=0) for _, values in series), default=0))
    top = ticks[-1]
    span = max(len(labels) - 1, 1)
    plot = WIDTH - LEFT - RIGHT - 20

    def x_at(index: int) -> float:
        if len(labels) == 1:
            return LEFT + plot / 2 + 10
        return round(LEFT + 10 + index * plot / span, 1)

    every = 1 if len(labels) <= max_labels else -(-len(labels) // max_labels)
    x_labels = [
        XLabel(x_at(i), text)
        for i, text in enumerate(labels)
        if i % every == 0 or i == len(labels) - 1
    ]
    drawn = [
        Series(
            name,
            *SERIES_STYLES[index % len(SERIES_STYLES)],
            [Point(x_at(i), _y(value, top), value) for i, value in enumerate(values)],
        )
        for index, (name, values) in enumerate(series)
    ]
    names = " and ".join(name.lower() for name, _ in series)
    return LineChart(
        title=title,
        description=(
            f"Line chart of {names} over {len(labels)} week{'s' if len(labels) != 1 else ''}."
            " The same numbers are in the table below."
        ),
        series=drawn,
        ticks=[Tick(value, _y(value, top)) for value in ticks],
        x_labels=x_labels,
    )
