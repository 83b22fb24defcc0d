"""The charts of the statistics page and the quarterly report, in the reader's language."""

from __future__ import annotations

from stats.figures import FAILURE_REASONS, Figures
from stats.labels import reason_short, text
from stats.periods import Period
from stats.shapes import Chart, Kind, Series

__all__ = ["durations", "ranking", "reasons", "trend_counts", "trend_rates"]


def trend_counts(quarters: list[tuple[Period, Figures]], lang: str) -> Chart:
    return Chart(
        Kind.BARS,
        tuple(p.label for p, _ in quarters),
        tuple(
            Series(text(lang, f"stats.field.{name}"), tuple(float(getattr(f, name)) for _, f in quarters))
            for name in ("received", "closed", "agreed")
        ),
    )


def trend_rates(quarters: list[tuple[Period, Figures]], lang: str) -> Chart:
    return Chart(
        Kind.LINES,
        tuple(p.label for p, _ in quarters),
        tuple(
            Series(text(lang, f"stats.field.{name}"), tuple(getattr(f, name) for _, f in quarters))
            for name in ("success_rate", "av_rate", "compliance_rate")
        ),
        percent=True,
    )


def reasons(figures: Figures, lang: str) -> Chart:
    counts = figures.terminated_by_reason()
    return Chart(
        Kind.HBARS,
        tuple(reason_short(lang, r) for r in FAILURE_REASONS),
        (Series(text(lang, "stats.field.terminated"), tuple(float(counts[r]) for r in FAILURE_REASONS)),),
    )


def durations(figures: Figures, lang: str) -> Chart:
    buckets = figures.duration_buckets()
    return Chart(
        Kind.BARS,
        tuple(label for label, _ in buckets),
        (Series(text(lang, "stats.field.duration_cases"), tuple(float(n) for _, n in buckets)),),
    )


def ranking(names: list[str], values: list[Figures], lang: str, limit: int = 10) -> Chart:
    """The first ``limit`` mediators by cases agreed."""
    return Chart(
        Kind.HBARS,
        tuple(names[:limit]),
        (Series(text(lang, "stats.field.agreed"), tuple(float(f.agreed) for f in values[:limit])),),
    )
