"""Charts as plain shapes: a chart (bars, horizontal bars or lines) laid out into rectangles, lines and
texts in a box, for :mod:`stats.svg` (the console) and :mod:`stats.pdf` (the report) to draw the same way.

Coordinates start at the box's top left, in the renderer's unit (pixels, millimetres); ``size`` of a text
is its height in that unit. Nothing here draws.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from enum import StrEnum

__all__ = [
    "GRID",
    "INK",
    "PALETTE",
    "Chart",
    "Kind",
    "Layout",
    "Line",
    "Rect",
    "Series",
    "Text",
    "layout",
    "nice_ticks",
]

PALETTE = ("#2f6db3", "#e08a2e", "#3a9a5b", "#b34a4a", "#7b61b3", "#4aa3a3")
GRID = "#d5d9df"
INK = "#2b2f36"


class Kind(StrEnum):
    BARS = "bars"  # vertical bars, one group per category, one bar per series
    HBARS = "hbars"  # horizontal bars, one per category (the first series)
    LINES = "lines"  # one line per series over the categories


@dataclass(frozen=True, slots=True)
class Series:
    label: str
    values: tuple[float | None, ...]


@dataclass(frozen=True, slots=True)
class Chart:
    kind: Kind
    categories: tuple[str, ...]
    series: tuple[Series, ...]
    percent: bool = False  # values are fractions, shown as percentages on a 0–100 % axis

    @property
    def empty(self) -> bool:
        return not self.categories or all(v is None or v == 0 for s in self.series for v in s.values)


@dataclass(frozen=True, slots=True)
class Rect:
    x: float
    y: float
    w: float
    h: float
    color: str
    title: str = ""  # the exact value, for a tooltip


@dataclass(frozen=True, slots=True)
class Line:
    x1: float
    y1: float
    x2: float
    y2: float
    color: str
    width: float = 1.0


@dataclass(frozen=True, slots=True)
class Text:
    x: float
    y: float  # the baseline
    text: str
    size: float
    anchor: str = "start"  # start | middle | end
    color: str = INK


@dataclass(slots=True)
class Layout:
    width: float
    height: float
    rects: list[Rect] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    texts: list[Text] = field(default_factory=list)


def nice_ticks(top: float, count: int = 4) -> list[float]:
    """Round axis values from 0 up to at least ``top`` (whole numbers for counts of cases)."""
    if top <= 0:
        return [0.0, 1.0]
    raw = top / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    step = max(step, 1.0) if top >= 1 else step
    return [i * step for i in range(math.ceil(top / step - 1e-9) + 1)]


def _fmt(value: float, percent: bool) -> str:
    if percent:
        return f"{value * 100:.0f}%"
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


def _legend(out: Layout, chart: Chart, y: float, size: float) -> None:
    x = 0.0
    for index, series in enumerate(chart.series):
        color = PALETTE[index % len(PALETTE)]
        out.rects.append(Rect(x, y - size * 0.8, size * 0.8, size * 0.8, color))
        out.texts.append(Text(x + size * 1.1, y, series.label, size))
        x += size * (2.3 + _text_units(series.label))


def _text_units(words: str) -> float:
    """Rough width of ``words`` in ems: CJK characters are one em, others about half."""
    return sum(1.0 if ord(ch) > 0x2E80 else 0.55 for ch in words)


def layout(chart: Chart, width: float, height: float, size: float) -> Layout:
    """``chart`` laid out in a ``width`` × ``height`` box with texts ``size`` high."""
    out = Layout(width, height)
    if chart.kind is Kind.HBARS:
        _hbars(out, chart, size)
        return out
    legend = len(chart.series) > 1 or chart.kind is Kind.LINES
    top = size * (2.2 if legend else 0.8)
    bottom = height - size * 2.0
    left = size * (3.2 if chart.percent else 2.6)
    right = width - size * 0.5
    values = [v for s in chart.series for v in s.values if v is not None]
    ticks = [0.0, 0.25, 0.5, 0.75, 1.0] if chart.percent else nice_ticks(max(values, default=0.0))
    high = ticks[-1]

    def y_of(value: float) -> float:
        return bottom - (bottom - top) * (value / high)

    for tick in ticks:
        y = y_of(tick)
        out.lines.append(Line(left, y, right, y, GRID, 0.6))
        out.texts.append(Text(left - size * 0.4, y + size * 0.35, _fmt(tick, chart.percent), size, "end"))
    if legend:
        _legend(out, chart, size * 1.0, size)
    n = max(len(chart.categories), 1)
    slot = (right - left) / n
    for i, category in enumerate(chart.categories):
        out.texts.append(Text(left + slot * (i + 0.5), bottom + size * 1.4, category, size, "middle"))
    if chart.kind is Kind.BARS:
        k = max(len(chart.series), 1)
        bar = slot * 0.7 / k
        for j, series in enumerate(chart.series):
            color = PALETTE[j % len(PALETTE)]
            for i, value in enumerate(series.values):
                if value is None:
                    continue
                x = left + slot * i + slot * 0.15 + bar * j
                y = y_of(value)
                out.rects.append(
                    Rect(x, y, bar, bottom - y, color, f"{series.label}: {_fmt(value, chart.percent)}")
                )
                if value:
                    out.texts.append(
                        Text(x + bar / 2, y - size * 0.3, _fmt(value, chart.percent), size * 0.8, "middle")
                    )
    else:
        for j, series in enumerate(chart.series):
            color = PALETTE[j % len(PALETTE)]
            points = [
                (left + slot * (i + 0.5), y_of(v)) for i, v in enumerate(series.values) if v is not None
            ]
            for (x1, y1), (x2, y2) in itertools.pairwise(points):
                out.lines.append(Line(x1, y1, x2, y2, color, 1.6))
            for x, y in points:
                out.rects.append(Rect(x - size * 0.25, y - size * 0.25, size * 0.5, size * 0.5, color))
    out.lines.append(Line(left, bottom, right, bottom, INK, 0.8))
    return out


def _hbars(out: Layout, chart: Chart, size: float) -> None:
    values = chart.series[0].values if chart.series else ()
    label_width = out.width * 0.38
    left = label_width + size * 0.5
    right = out.width - size * 3.5
    high = max((v for v in values if v is not None), default=0.0) or 1.0
    n = max(len(chart.categories), 1)
    row = out.height / n
    bar = min(row * 0.65, size * 1.6)
    for i, category in enumerate(chart.categories):
        value = values[i] if i < len(values) else None
        middle = row * (i + 0.5)
        out.texts.append(Text(label_width, middle + size * 0.35, category, size, "end"))
        width = 0.0 if value is None else (right - left) * value / high
        out.rects.append(
            Rect(
                left,
                middle - bar / 2,
                width,
                bar,
                PALETTE[0],
                f"{category}: {_fmt(value or 0, chart.percent)}",
            )
        )
        shown = "—" if value is None else _fmt(value, chart.percent)
        out.texts.append(Text(left + width + size * 0.4, middle + size * 0.35, shown, size))
    out.lines.append(Line(left, 0, left, out.height, INK, 0.8))
