"""Routes: mediator evaluation figures by quarter or date range, and their trend by quarter, as JSON or CSV.

Scoped like cases (:mod:`stats.scope`): a court its own cases, a union its organisations', a mediator their
own; a court, organisation or mediator outside the caller's scope is 404. The figures and what counts in
which period: ``docs/statistics.md``.
"""

from __future__ import annotations

from aiohttp import web

from cases.deadlines import local_date
from stats.periods import Period, asked_period, quarter_of, quarters_back
from stats.schemas import StatisticsOut, StatisticsQuery, TrendsOut, TrendsQuery
from stats.scope import Filters
from stats.service import statistics, statistics_json, trends, trends_json
from stats.table import statistics_csv, trends_csv
from web.router import ApiCall, ApiRouter, Json

__all__ = ["register", "wants_csv"]

_CSV = "text/csv"


def wants_csv(request: web.Request, format: str | None) -> bool:
    """``format=csv``, or no ``format`` and an Accept header that names text/csv (and not JSON first)."""
    if format is not None:
        return format == "csv"
    accept = [part.split(";")[0].strip().lower() for part in request.headers.get("Accept", "").split(",")]
    return _CSV in accept and (
        "application/json" not in accept or accept.index(_CSV) < accept.index("application/json")
    )


def _csv_response(text: str, filename: str) -> web.Response:
    return web.Response(
        text=text,
        content_type=_CSV,
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )


def _period(call: ApiCall, query: StatisticsQuery) -> Period:
    return asked_period(query.quarter, query.start, query.end, local_date(call.services.clock.now()))


def _filters(query: StatisticsQuery | TrendsQuery) -> Filters:
    return Filters(court_id=query.court_id, organisation_id=query.org_id, mediator_id=query.mediator_id)


def register(api: ApiRouter) -> None:
    tags = ["statistics"]

    @api.route(
        "GET",
        "/statistics",
        summary="Figures per mediator, organisation or court for a quarter or a date range",
        tags=tags,
        query=StatisticsQuery,
        response=StatisticsOut,
        alternatives=(_CSV,),
        errors=(403, 404, 422),
    )
    async def get_statistics(call: ApiCall) -> Json | web.Response:
        """Cases received, accepted and closed; agreements (full, partial) and terminations by OMR 25
        reason; success rate, audio/video rate, duration (median, mean, buckets), time to accept, deadline
        compliance and judicial confirmations, in total and per `group_by` unit (ranked: most agreed first).
        The period is a `quarter` (default: the current one) or `from` … `to` in Asia/Shanghai dates.
        `format=csv` or `Accept: text/csv` gives the same figures as CSV: a total line, then one per group."""
        query = call.query_as(StatisticsQuery)
        period = _period(call, query)
        found = await statistics(call.session, call.principal, _filters(query), period, query.group_by)
        document = statistics_json(found)
        if wants_csv(call.request, query.format):
            return _csv_response(
                statistics_csv(document), f"statistics-{period.label}-{query.group_by.value}.csv"
            )
        return Json(document)

    @api.route(
        "GET",
        "/statistics/trends",
        summary="The figures quarter by quarter",
        tags=tags,
        query=TrendsQuery,
        response=TrendsOut,
        alternatives=(_CSV,),
        errors=(403, 404, 422),
    )
    async def get_statistics_trends(call: ApiCall) -> Json | web.Response:
        """The caller's (or the filtered) total figures for `count` quarters ending with `quarter` (default:
        the current one), oldest first. `format=csv` or `Accept: text/csv`: one CSV line per quarter."""
        query = call.query_as(TrendsQuery)
        last = query.quarter or quarter_of(local_date(call.services.clock.now()))
        quarters = quarters_back(last, query.count)
        found = await trends(call.session, call.principal, _filters(query), quarters)
        document = trends_json(found)
        if wants_csv(call.request, query.format):
            return _csv_response(trends_csv(document), f"trends-{quarters[-1].label}.csv")
        return Json(document)
