"""The console's statistics page for court, union and mediator users: the figures of a quarter or a date
range within the user's scope, trends by quarter, the ranking of mediators, and charts drawn as inline SVG
on the server (no script, no chart library)."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from markupsafe import Markup
from pydantic import ValidationError
from yarl import URL

from cases.deadlines import local_date
from stats import charts
from stats.figures import GroupBy
from stats.labels import text
from stats.periods import asked_period, quarter_of, quarters_back
from stats.schemas import StatisticsQuery
from stats.scope import Filters
from stats.service import Group, statistics, trends
from stats.svg import svg
from web.console.pages import language, render, viewer
from web.errors import invalid_input
from web.services import SERVICES

__all__ = ["PAGE", "statistics_page"]

PAGE = "/console/statistics"
_TREND_QUARTERS = 4
_FIELDS = ("quarter", "from", "to", "group_by")


def _query(request: web.Request) -> StatisticsQuery:
    values = {k: v for k, v in request.query.items() if k in _FIELDS and v.strip()}
    try:
        return StatisticsQuery.model_validate(values)
    except ValidationError as exc:
        raise invalid_input(exc) from None


def _group_name(group: Group, lang: str) -> str:
    return group.name or (text(lang, "stats.unassigned") if group.key is None else group.key)


async def statistics_page(request: web.Request) -> web.Response:
    who = await viewer(request)
    lang = language(request)
    services = request.app[SERVICES]
    query = _query(request)
    today = local_date(services.clock.now())
    period = asked_period(query.quarter, query.start, query.end, today)
    async with services.db.read() as session:
        found = await statistics(session, who.principal, Filters(), period, query.group_by)
        people = found
        if query.group_by is not GroupBy.MEDIATOR:
            people = await statistics(session, who.principal, Filters(), period, GroupBy.MEDIATOR)
        trend = await trends(
            session, who.principal, Filters(), quarters_back(quarter_of(period.end), _TREND_QUARTERS)
        )
    ranking = [g for g in people.groups if g.key is not None]
    pictures = {
        "trend_counts": (charts.trend_counts(trend.quarters, lang), "stats.trends.counts"),
        "trend_rates": (charts.trend_rates(trend.quarters, lang), "stats.trends.rates"),
        "reasons": (charts.reasons(found.total, lang), "stats.reasons"),
        "durations": (charts.durations(found.total, lang), "stats.durations"),
        "ranking": (
            charts.ranking([_group_name(g, lang) for g in ranking], [g.figures for g in ranking], lang),
            "stats.ranking",
        ),
    }
    sizes = {"ranking": (960.0, max(60.0, 30.0 * len(pictures["ranking"][0].categories)))}
    svgs: dict[str, Any] = {
        name: None if chart.empty else Markup(svg(chart, text(lang, key), *sizes.get(name, (640.0, 260.0))))  # noqa: S704 - stats.svg escapes
        for name, (chart, key) in pictures.items()
    }
    csv_query = {"group_by": query.group_by.value, "format": "csv"}
    if period.quarter:
        csv_query["quarter"] = period.quarter
    else:
        csv_query.update({"from": period.start.isoformat(), "to": period.end.isoformat()})
    return render(
        request,
        "statistics.html",
        who=who,
        stats=found,
        period=period,
        group_by=query.group_by.value,
        group_bys=[g.value for g in GroupBy],
        ranking=ranking,
        trend=trend.quarters,
        charts=svgs,
        group_name=lambda g: _group_name(g, lang),
        csv_url=str(URL("/api/v1/statistics").with_query(csv_query)),
        form={
            "quarter": period.quarter or "",
            "from": period.start.isoformat(),
            "to": period.end.isoformat(),
        },
    )
