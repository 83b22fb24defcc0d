"""The quarterly analysis report (``tiaojie report``): the PDF and the CSV files of the same figures.

The figures are read once per grouping through :mod:`stats.service`, as the API reads them, so the CSV
files are byte for byte what ``GET /api/v1/statistics?format=csv`` returns for the same scope and quarter.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from accounts.principal import Principal
from stats.figures import GroupBy
from stats.labels import text
from stats.pdf import ReportData, render
from stats.periods import Period, quarters_back
from stats.scope import Filters
from stats.service import Statistics, statistics, statistics_json, trends, trends_json
from stats.table import statistics_csv, trends_csv
from store.database import Database

__all__ = ["TREND_QUARTERS", "build_report", "scope_name"]

TREND_QUARTERS = 4


def scope_name(names: dict[str, str | None], lang: str) -> str:
    shown = [n for n in (names.get("court_name"), names.get("org_name"), names.get("mediator_name")) if n]
    return " · ".join(shown) if shown else text(lang, "stats.scope.all")


async def build_report(
    db: Database,
    actor: Principal,
    filters: Filters,
    quarter: str,
    *,
    lang: str,
    out_dir: Path,
    font: Path,
    now: datetime,
    on_progress: Callable[[float], None] = lambda _: None,
) -> list[Path]:
    """Write the report of ``quarter`` into ``out_dir``; returns the files written (the PDF first)."""
    period = Period.of_quarter(quarter)
    name = period.quarter or period.label
    by: dict[GroupBy, Statistics] = {}
    async with db.read() as session:
        for index, grouping in enumerate(GroupBy):
            by[grouping] = await statistics(session, actor, filters, period, grouping)
            on_progress(0.1 * (index + 1))
        trend = await trends(session, actor, filters, quarters_back(name, TREND_QUARTERS))
    on_progress(0.4)
    data = ReportData(
        scope_name=scope_name(by[GroupBy.MEDIATOR].filter_names, lang),
        by_mediator=by[GroupBy.MEDIATOR],
        by_organisation=by[GroupBy.ORGANISATION],
        by_court=by[GroupBy.COURT],
        trend=trend,
    )
    pdf = await asyncio.to_thread(
        render, data, lang=lang, generated_at=now, font=font, on_progress=lambda f: on_progress(0.4 + 0.5 * f)
    )
    await asyncio.to_thread(out_dir.mkdir, parents=True, exist_ok=True)
    files = {out_dir / f"report-{name}.pdf": pdf}
    for grouping, stats in (
        (GroupBy.MEDIATOR, data.by_mediator),
        (GroupBy.ORGANISATION, data.by_organisation),
        (GroupBy.COURT, data.by_court),
    ):
        files[out_dir / f"statistics-{name}-{grouping.value}.csv"] = statistics_csv(
            statistics_json(stats)
        ).encode()
    files[out_dir / f"trends-{name}.csv"] = trends_csv(trends_json(trend)).encode()
    for path, content in files.items():
        await asyncio.to_thread(path.write_bytes, content)
    on_progress(1.0)
    return list(files)
