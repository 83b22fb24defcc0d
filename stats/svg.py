"""A laid-out chart (:mod:`stats.shapes`) as inline SVG markup for the console: no script, no style
attribute (the Content-Security-Policy allows neither inline), only presentation attributes."""

from __future__ import annotations

from html import escape

from stats.shapes import Chart, Layout, layout

__all__ = ["render", "svg"]

_ANCHORS = {"start": "start", "middle": "middle", "end": "end"}


def _n(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def render(shapes: Layout, title: str) -> str:
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {_n(shapes.width)} '
        f'{_n(shapes.height)}" role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>'
    ]
    for line in shapes.lines:
        parts.append(
            f'<line x1="{_n(line.x1)}" y1="{_n(line.y1)}" x2="{_n(line.x2)}" y2="{_n(line.y2)}" '
            f'stroke="{line.color}" stroke-width="{_n(line.width)}"/>'
        )
    for rect in shapes.rects:
        tip = f"<title>{escape(rect.title)}</title>" if rect.title else ""
        parts.append(
            f'<rect x="{_n(rect.x)}" y="{_n(rect.y)}" width="{_n(rect.w)}" height="{_n(rect.h)}" '
            f'fill="{rect.color}">{tip}</rect>'
        )
    for t in shapes.texts:
        parts.append(
            f'<text x="{_n(t.x)}" y="{_n(t.y)}" font-size="{_n(t.size)}" fill="{t.color}" '
            f'text-anchor="{_ANCHORS.get(t.anchor, "start")}">{escape(t.text)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def svg(chart: Chart, title: str, width: float = 640, height: float = 260, size: float = 12) -> str:
    return render(layout(chart, width, height, size), title)
