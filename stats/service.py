"""The statistics a caller asked for: resolve the scope, read the rows once, compute the figures.

What the API, the console page and the quarterly report show all comes from :func:`statistics` and
:func:`trends`, and is turned into JSON values by :func:`statistics_json` and :func:`trends_json`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from accounts.principal import Principal, PrincipalKind
from accounts.service import organisation_subtree
from accounts.tables import Court
from cases.roster_admin import get_mediator, get_organisation
from stats.figures import Figures, GroupBy, compute, group
from stats.load import Names, load_names, load_rows, natural_units
from stats.periods import Period
from stats.scope import Filters, Scope, scope_for
from store.rows import AsyncRows
from tiaojie.errors import NotFound, PermissionDenied
from tiaojie.ids import is_id

__all__ = [
    "Group",
    "Statistics",
    "Trend",
    "ranked",
    "resolve_scope",
    "statistics",
    "statistics_json",
    "trends",
    "trends_json",
]

T = TypeVar("T")
_SEEING = frozenset({PrincipalKind.SYSTEM, PrincipalKind.COURT, PrincipalKind.UNION, PrincipalKind.MEDIATOR})


@dataclass(frozen=True, slots=True)
class Group:
    """One unit's figures; ``key`` None is the cases no mediator or organisation holds."""

    key: str | None
    name: str | None
    figures: Figures
    organisation_id: str | None = None  # a mediator's organisation
    organisation_name: str | None = None


@dataclass(frozen=True, slots=True)
class Statistics:
    period: Period
    group_by: GroupBy
    filters: Filters
    filter_names: dict[str, str | None]
    total: Figures
    groups: list[Group]  # in ranking order (see ranked)


@dataclass(frozen=True, slots=True)
class Trend:
    filters: Filters
    filter_names: dict[str, str | None]
    quarters: list[tuple[Period, Figures]]


def _not_found(what: str, field: str) -> NotFound:
    return NotFound(f"{what} not found", resource=what, field=field)


async def _visible(
    lookup: Callable[[AsyncSession, Principal, str], Awaitable[T]],
    session: AsyncSession,
    actor: Principal,
    value: str,
    prefix: str,
    field: str,
) -> T:
    """The organisation or mediator ``value`` if ``actor`` sees it, else NotFound naming the filter."""
    what = "organisation" if prefix == "org" else "mediator"
    if not is_id(value, prefix):
        raise _not_found(what, field)
    try:
        return await lookup(session, actor, value)
    except NotFound:
        raise _not_found(what, field) from None


async def resolve_scope(session: AsyncSession, actor: Principal, filters: Filters) -> tuple[Scope, Names]:
    """The scope of ``actor`` narrowed by ``filters``, and the names of the filtered units. A filter the
    actor may not see is NotFound, as if it did not exist."""
    if actor.kind not in _SEEING:
        raise PermissionDenied("statistics are for courts, unions and mediators", code="no_statistics_access")
    names = Names()
    subtree: frozenset[str] | None = None
    if filters.organisation_id is not None:
        org = await _visible(get_organisation, session, actor, filters.organisation_id, "org", "org_id")
        names.organisations[org.id] = org.name
        subtree = await organisation_subtree(AsyncRows(session), org.id)
    if filters.mediator_id is not None:
        mediator = await _visible(get_mediator, session, actor, filters.mediator_id, "med", "mediator_id")
        names.mediators[mediator.id] = mediator.name
    if filters.court_id is not None:
        court = await session.get(Court, filters.court_id) if is_id(filters.court_id, "crt") else None
        if court is None:
            raise _not_found("court", "court_id")
        names.courts[court.id] = court.name
    return scope_for(actor, filters, subtree), names


def _filter_names(filters: Filters, names: Names) -> dict[str, str | None]:
    return {
        "court_name": names.courts.get(filters.court_id or ""),
        "org_name": names.organisations.get(filters.organisation_id or ""),
        "mediator_name": names.mediators.get(filters.mediator_id or ""),
    }


def _rank_key(g: Group) -> tuple[Any, ...]:
    f = g.figures
    return (g.key is None, -f.agreed, -(f.success_rate or 0.0), -f.closed, -f.received, g.name or "", g.key)


def ranked(groups: list[Group]) -> list[Group]:
    """Most disputes resolved (agreed) first, then the higher success rate, more closed, more received;
    the cases held by no one last."""
    return sorted(groups, key=_rank_key)


async def statistics(
    session: AsyncSession, actor: Principal, filters: Filters, period: Period, by: GroupBy
) -> Statistics:
    scope, filtered = await resolve_scope(session, actor, filters)
    rows = await load_rows(session, scope, period)
    figures = group(rows.cases, rows.jcs, period, by)
    for unit in await natural_units(session, scope, by):
        figures.setdefault(unit, Figures())
    keys = [k for k in figures if k is not None]
    names = await load_names(
        session,
        courts=keys if by is GroupBy.COURT else (),
        organisations=keys if by is GroupBy.ORGANISATION else (),
        mediators=keys if by is GroupBy.MEDIATOR else (),
    )
    groups = [
        Group(
            key=key,
            name=names.of(by, key),
            figures=value,
            organisation_id=names.mediator_orgs.get(key) if key else None,
            organisation_name=names.organisations.get(names.mediator_orgs.get(key, "")) if key else None,
        )
        for key, value in figures.items()
    ]
    return Statistics(
        period=period,
        group_by=by,
        filters=filters,
        filter_names=_filter_names(filters, filtered),
        total=compute(rows.cases, rows.jcs, period),
        groups=ranked(groups),
    )


async def trends(session: AsyncSession, actor: Principal, filters: Filters, quarters: list[Period]) -> Trend:
    """The scope's figures quarter by quarter; the rows of all the quarters are read once."""
    scope, filtered = await resolve_scope(session, actor, filters)
    span = Period(quarters[0].start, quarters[-1].end)
    rows = await load_rows(session, scope, span)
    return Trend(
        filters=filters,
        filter_names=_filter_names(filters, filtered),
        quarters=[(q, compute(rows.cases, rows.jcs, q)) for q in quarters],
    )


def _period_json(period: Period) -> dict[str, Any]:
    return {"from": period.start.isoformat(), "to": period.end.isoformat(), "quarter": period.quarter}


def _filters_json(filters: Filters, names: dict[str, str | None]) -> dict[str, Any]:
    return {
        "court_id": filters.court_id,
        "org_id": filters.organisation_id,
        "mediator_id": filters.mediator_id,
        **names,
    }


def statistics_json(stats: Statistics) -> dict[str, Any]:
    return {
        "period": _period_json(stats.period),
        "group_by": stats.group_by.value,
        "filters": _filters_json(stats.filters, stats.filter_names),
        "total": stats.total.as_dict(),
        "groups": [
            {
                "key": g.key,
                "name": g.name,
                "organisation_id": g.organisation_id,
                "organisation_name": g.organisation_name,
                "figures": g.figures.as_dict(),
            }
            for g in stats.groups
        ],
    }


def trends_json(trend: Trend) -> dict[str, Any]:
    return {
        "filters": _filters_json(trend.filters, trend.filter_names),
        "quarters": [{**_period_json(p), "figures": f.as_dict()} for p, f in trend.quarters],
    }
