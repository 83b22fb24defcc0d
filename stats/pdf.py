"""The quarterly analysis report as PDF (fpdf2): the overview, charts drawn with fpdf2's own lines and
rectangles from :mod:`stats.shapes`, the ranking of mediators, and tables by organisation and court.

Deterministic for the same figures and ``generated_at`` (the creation date is that instant). The CJK font
is embedded as a subset of the one font file given (a TTC face or a TTF), as for agreements.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import Align, XPos, YPos
from fpdf.fonts import FontFace

from cases.deadlines import SHANGHAI
from stats import charts
from stats.figures import Figures
from stats.labels import text
from stats.service import Group, Statistics, Trend
from stats.shapes import Chart, Layout, layout

__all__ = ["ReportData", "render"]

_FONT = "cjk"
_PT_PER_MM = 1 / 0.3528
_CONTENT_WIDTH = 180.0  # A4 less 15 mm margins


@dataclass(frozen=True, slots=True)
class ReportData:
    """Everything the report shows: the quarter's statistics three ways, and the trend before it."""

    scope_name: str
    by_mediator: Statistics
    by_organisation: Statistics
    by_court: Statistics
    trend: Trend


def _rgb(color: str) -> tuple[int, int, int]:
    value = color.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def _draw(doc: FPDF, shapes: Layout, x0: float, y0: float) -> None:
    for line in shapes.lines:
        doc.set_draw_color(*_rgb(line.color))
        doc.set_line_width(line.width * 0.25)
        doc.line(x0 + line.x1, y0 + line.y1, x0 + line.x2, y0 + line.y2)
    for rect in shapes.rects:
        if rect.w <= 0 or rect.h <= 0:
            continue
        doc.set_fill_color(*_rgb(rect.color))
        doc.rect(x0 + rect.x, y0 + rect.y, rect.w, rect.h, style="F")
    for t in shapes.texts:
        doc.set_font(_FONT, size=t.size * _PT_PER_MM)
        doc.set_text_color(*_rgb(t.color))
        width = doc.get_string_width(t.text)
        shift = {"middle": width / 2, "end": width}.get(t.anchor, 0.0)
        doc.text(x0 + t.x - shift, y0 + t.y, t.text)
    doc.set_text_color(0, 0, 0)
    doc.set_draw_color(0, 0, 0)
    doc.set_fill_color(255, 255, 255)


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _number(value: float | None) -> str:
    return "—" if value is None else f"{value:g}"


class _Report(FPDF):
    def __init__(self, footer: str) -> None:
        super().__init__(format="A4")
        self._footer_text = footer

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(_FONT, size=8)
        self.cell(0, 6, f"{self._footer_text}    {self.page_no()}/{{nb}}", align=Align.C)


def render(
    data: ReportData,
    *,
    lang: str,
    generated_at: datetime,
    font: Path,
    on_progress: Callable[[float], None] | None = None,
) -> bytes:
    """The report as PDF bytes; ``on_progress`` hears the fraction of the sections drawn."""
    if generated_at.tzinfo is None:
        raise ValueError("generated_at must be aware")
    stats = data.by_mediator
    period = stats.period
    title = text(lang, "stats.report_title")
    heading = f"{period.label}  ({period.start.isoformat()} – {period.end.isoformat()})"
    doc = _Report(f"{title} · {data.scope_name} · {period.label}")
    doc.set_creation_date(generated_at.astimezone(UTC).replace(microsecond=0))
    doc.set_producer("tiaojie")
    doc.set_creator("tiaojie")
    doc.set_title(f"{title} {period.label}")
    doc.set_lang(lang)
    doc.set_margins(15, 15, 15)
    doc.set_auto_page_break(True, margin=16)
    doc.add_font(_FONT, fname=str(font), collection_font_number=0)
    doc.add_page()

    def h1(words: str) -> None:
        doc.set_font(_FONT, size=18)
        doc.cell(0, 12, words, align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def h2(words: str) -> None:
        if doc.get_y() > 250:
            doc.add_page()
        doc.ln(3)
        doc.set_font(_FONT, size=13)
        doc.cell(0, 9, words, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        doc.set_font(_FONT, size=9)

    def paragraph(words: str, size: float = 9) -> None:
        doc.set_font(_FONT, size=size)
        doc.multi_cell(0, 5, words, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def chart(shape: Chart, subtitle: str, height: float = 62.0) -> None:
        if doc.get_y() + height + 10 > doc.h - 18:
            doc.add_page()
        doc.set_font(_FONT, size=10)
        doc.cell(0, 7, subtitle, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        if shape.empty:
            paragraph(text(lang, "stats.none"))
            return
        top = doc.get_y()
        _draw(doc, layout(shape, _CONTENT_WIDTH, height, 3.0), doc.l_margin, top)
        doc.set_y(top + height + 3)

    def table(headings: Sequence[str], rows: Sequence[Sequence[str]], widths: Sequence[float]) -> None:
        doc.set_font(_FONT, size=8)
        with doc.table(
            col_widths=tuple(widths),
            text_align="CENTER",
            line_height=5.2,
            first_row_as_headings=True,
            headings_style=FontFace(emphasis="", fill_color=(232, 237, 244)),
            width=_CONTENT_WIDTH,
        ) as grid:
            grid.row(list(headings))
            for values in rows:
                grid.row(list(values))
        doc.ln(2)

    steps = 6
    done = 0

    def step() -> None:
        nonlocal done
        done += 1
        if on_progress is not None:
            on_progress(done / steps)

    # 1. Title and overview.
    h1(title)
    doc.set_font(_FONT, size=11)
    doc.cell(0, 7, heading, align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    doc.cell(
        0,
        7,
        f"{text(lang, 'stats.scope')}: {data.scope_name}",
        align=Align.C,
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    local = generated_at.astimezone(SHANGHAI)
    doc.set_font(_FONT, size=8)
    doc.cell(
        0,
        6,
        text(lang, "stats.generated", at=f"{local:%Y-%m-%d %H:%M}"),
        align=Align.C,
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    h2(text(lang, "stats.overview"))
    total = stats.total
    overview = _overview(total, lang)
    half = (len(overview) + 1) // 2
    left, right = overview[:half], overview[half:]
    table(
        [text(lang, "stats.figure"), text(lang, "stats.value")] * 2,
        [[*left[i], *(right[i] if i < len(right) else ("", ""))] for i in range(half)],
        (60, 30, 60, 30),
    )
    paragraph(text(lang, "stats.definitions"), size=8)
    step()

    # 2. Trends.
    h2(text(lang, "stats.trends"))
    chart(charts.trend_counts(data.trend.quarters, lang), text(lang, "stats.trends.counts"))
    chart(charts.trend_rates(data.trend.quarters, lang), text(lang, "stats.trends.rates"))
    quarter_rows = [
        [
            p.label,
            str(f.received),
            str(f.closed),
            str(f.agreed),
            _percent(f.success_rate),
            _percent(f.av_rate),
            _number(f.duration_median_days),
            _percent(f.compliance_rate),
        ]
        for p, f in data.trend.quarters
    ]
    table(
        [
            text(lang, "stats.quarter"),
            *(
                text(lang, f"stats.field.{n}")
                for n in (
                    "received",
                    "closed",
                    "agreed",
                    "success_rate",
                    "av_rate",
                    "duration_median_days",
                    "compliance_rate",
                )
            ),
        ],
        quarter_rows,
        (24, 20, 20, 20, 24, 24, 26, 22),
    )
    step()

    # 3. Why mediations ended, and how long they took.
    chart(charts.reasons(total, lang), text(lang, "stats.reasons"), height=56)
    chart(charts.durations(total, lang), text(lang, "stats.durations"), height=52)
    step()

    # 4. Ranking of mediators.
    doc.add_page()
    h2(text(lang, "stats.ranking"))
    paragraph(text(lang, "stats.ranking.help"), size=8)
    people = [g for g in stats.groups if g.key is not None]
    chart(
        charts.ranking([g.name or g.key or "" for g in people], [g.figures for g in people], lang),
        text(lang, "stats.field.agreed"),
        height=max(30.0, 7.0 * min(len(people), 10)),
    )
    table(
        [
            text(lang, "stats.rank"),
            text(lang, "stats.group.mediator"),
            text(lang, "stats.group.organisation"),
            *_short_headings(lang),
        ],
        [
            [str(i), g.name or "", g.organisation_name or "", *_short_values(g.figures)]
            for i, g in enumerate(people, 1)
        ],
        (10, 22, 34, 14, 14, 14, 18, 18, 18, 18),
    )
    step()

    # 5. By organisation and by court.
    for by_stats, label in (
        (data.by_organisation, "stats.group.organisation"),
        (data.by_court, "stats.group.court"),
    ):
        h2(f"{text(lang, 'stats.by_group')} · {text(lang, label)}")
        table(
            [text(lang, label), *_short_headings(lang)],
            [[_group_name(g, lang), *_short_values(g.figures)] for g in by_stats.groups],
            (56, 14, 14, 14, 18, 18, 18, 18),
        )
    step()

    # 6. Judicial confirmation and deadlines.
    h2(text(lang, "stats.deadlines_jc"))
    names = (
        "within_period",
        "overdue",
        "extended",
        "compliance_rate",
        "jc_applied",
        "jc_confirmed",
        "jc_rejected",
    )
    table(
        [text(lang, f"stats.field.{n}") for n in names],
        [
            [
                _percent(total.compliance_rate) if n == "compliance_rate" else str(getattr(total, n))
                for n in names
            ]
        ],
        (26, 26, 24, 28, 26, 26, 24),
    )
    step()
    return bytes(doc.output())


def _group_name(group: Group, lang: str) -> str:
    return group.name or (text(lang, "stats.unassigned") if group.key is None else group.key)


def _short_headings(lang: str) -> list[str]:
    return [
        text(lang, f"stats.field.{n}")
        for n in (
            "closed",
            "agreed",
            "terminated",
            "success_rate",
            "av_rate",
            "duration_median_days",
            "compliance_rate",
        )
    ]


def _short_values(f: Figures) -> list[str]:
    return [
        str(f.closed),
        str(f.agreed),
        str(f.terminated),
        _percent(f.success_rate),
        _percent(f.av_rate),
        _number(f.duration_median_days),
        _percent(f.compliance_rate),
    ]


def _overview(f: Figures, lang: str) -> list[tuple[str, str]]:
    def label(name: str) -> str:
        return text(lang, f"stats.field.{name}")

    return [
        (label("received"), str(f.received)),
        (label("accepted"), str(f.accepted)),
        (label("closed"), str(f.closed)),
        (label("agreed"), f"{f.agreed} ({f.agreed_full} + {f.agreed_partial})"),
        (label("terminated"), str(f.terminated)),
        (label("success_rate"), _percent(f.success_rate)),
        (label("av_cases"), str(f.av_cases)),
        (label("av_rate"), _percent(f.av_rate)),
        (label("duration_median_days"), _number(f.duration_median_days)),
        (label("duration_mean_days"), _number(f.duration_mean_days)),
        (label("acceptance_median_hours"), _number(f.acceptance_median_hours)),
        (label("compliance_rate"), _percent(f.compliance_rate)),
        (label("extended"), str(f.extended)),
        (label("overdue"), str(f.overdue)),
        (label("jc_applied"), str(f.jc_applied)),
        (label("jc_confirmed"), str(f.jc_confirmed)),
    ]
