"""Finding cases: the caller's inbox with filters, deadlines due and overdue, pages by cursor, and one case
with its parties, assignment and pauses.

The API's read paths use Core selects built once (or from table columns, so that SQLAlchemy takes its plain
Core path) and read rows rather than identity-mapped ORM objects, through a :class:`store.rows.Rows` unit
(on SQLite in the event-loop thread); a case page and a whole case are one bounded, indexed statement each.
Rows come back as records whose fields are named like the ORM attributes, so the rules in
:mod:`cases.access` and :mod:`cases.workflow` read them as they read ``Case`` objects.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any, cast

from sqlalchemy import (
    LABEL_STYLE_TABLENAME_PLUS_COL,
    ColumnElement,
    FromClause,
    Select,
    bindparam,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.principal import Principal
from cases.access import case_filter
from cases.context import CaseEnv
from cases.deadlines import SHANGHAI
from cases.lifecycle import CaseState
from cases.schemas import CaseListQuery
from cases.tables import Assignment, Case, CasePause, Party
from store.rows import Rows
from tiaojie.ids import is_id

__all__ = [
    "CLOCK_RUNNING_STATES",
    "CaseDetail",
    "CasePage",
    "case_detail",
    "case_page",
    "list_cases",
    "party_records",
]

CLOCK_RUNNING_STATES = (
    CaseState.ACCEPTED.value,
    CaseState.IN_MEDIATION.value,
    CaseState.EXTENDED.value,
    CaseState.AWAITING_SIGNATURES.value,
)

_CASES = Case.__table__
_PARTIES = Party.__table__
_ASSIGNMENTS = Assignment.__table__
_PAUSES = CasePause.__table__
_C = _CASES.c


def _record_type(name: str, columns: Sequence[str]) -> Any:
    """A namedtuple class with these fields (built from the table, so it cannot miss a column)."""
    factory: Callable[..., Any] = namedtuple
    return factory(name, columns)


def _columns(table: FromClause) -> list[str]:
    return [column.key for column in table.c]


# What a case summary reads: its output fields, ``accepted_at`` for the deadline status, and the columns
# that decide who sees the case.
SUMMARY_COLUMNS = (
    "id",
    "court_id",
    "case_number",
    "kind",
    "instance",
    "procedure",
    "cause",
    "state",
    "outcome",
    "termination_reason",
    "current_mediator_id",
    "current_organisation_id",
    "acceptance_due",
    "last_day",
    "accepted_at",
    "created_at",
    "updated_at",
    "version",
)
_CaseRecord = _record_type("CaseRecord", _columns(_CASES))
_SummaryRecord = _record_type("CaseSummaryRecord", SUMMARY_COLUMNS)
_PartyRecord = _record_type("PartyRecord", _columns(_PARTIES))
_AssignmentRecord = _record_type("AssignmentRecord", _columns(_ASSIGNMENTS))
_PauseRecord = _record_type("PauseRecord", _columns(_PAUSES))


def _local_midnight(day: object) -> datetime:
    assert hasattr(day, "year")
    return datetime.combine(day, time(0), tzinfo=SHANGHAI)  # type: ignore[arg-type]


# The list filters as clauses over bound parameters, so that a page statement is built (and its SQLAlchemy
# cache key computed) once per shape of query rather than once per request.
_FILTERS: dict[str, Callable[[], list[ColumnElement[bool]]]] = {
    "state": lambda: [_C.state.in_(bindparam("state", expanding=True))],
    "kind": lambda: [_C.kind == bindparam("kind")],
    "mediator_id": lambda: [_C.current_mediator_id == bindparam("mediator_id")],
    "organisation_id": lambda: [_C.current_organisation_id == bindparam("organisation_id")],
    "case_number": lambda: [_C.case_number == bindparam("case_number")],
    "created_from": lambda: [_C.created_at >= bindparam("created_from")],
    "closed_from": lambda: [_C.closed_at >= bindparam("closed_from")],
    "created_to": lambda: [_C.created_at < bindparam("created_to")],
    "overdue": lambda: [_C.state.in_(CLOCK_RUNNING_STATES), _C.last_day < bindparam("today")],
    "due_today": lambda: [_C.state.in_(CLOCK_RUNNING_STATES), _C.last_day == bindparam("today")],
    "due_soon": lambda: [
        _C.state.in_(CLOCK_RUNNING_STATES),
        _C.last_day >= bindparam("today"),
        _C.last_day <= bindparam("soon"),
    ],
    "acceptance_overdue": lambda: [
        _C.state == CaseState.ASSIGNED.value,
        _C.acceptance_due < bindparam("today"),
    ],
    "cursor": lambda: [_C.id < bindparam("cursor")],
}


def _filters(env: CaseEnv, query: CaseListQuery) -> tuple[tuple[str, ...], dict[str, Any]]:
    """The names of the filters ``query`` uses (keys of ``_FILTERS``) and their parameters."""
    params: dict[str, Any] = {}
    if query.state:
        params["state"] = [s.value for s in query.state]
    if query.kind:
        params["kind"] = query.kind.value
    if query.mediator_id:
        params["mediator_id"] = query.mediator_id
    if query.organisation_id:
        params["organisation_id"] = query.organisation_id
    if query.case_number:
        params["case_number"] = query.case_number
    if query.created_from:
        params["created_from"] = _local_midnight(query.created_from)
    if query.closed_from:
        params["closed_from"] = _local_midnight(query.closed_from)
    if query.created_to:
        params["created_to"] = _local_midnight(query.created_to + timedelta(days=1))
    names = list(params)
    if query.deadline is not None:
        names.append(query.deadline)
        params["today"] = env.today()
        if query.deadline == "due_soon":
            params["soon"] = params["today"] + timedelta(days=env.warn_days)
    if query.cursor:
        names.append("cursor")
        params["cursor"] = query.cursor
    return tuple(names), params


def _conditions(actor: Principal, names: tuple[str, ...]) -> list[ColumnElement[bool]]:
    return [case_filter(actor), *(clause for name in names for clause in _FILTERS[name]())]


def case_query(actor: Principal, env: CaseEnv, query: CaseListQuery) -> Select[Case]:
    names, params = _filters(env, query)
    stmt = select(Case).where(*_conditions(actor, names)).order_by(_C.id.desc()).limit(query.limit + 1)
    return stmt.params(params)


async def list_cases(
    session: AsyncSession, actor: Principal, env: CaseEnv, query: CaseListQuery
) -> list[Case]:
    """Up to ``query.limit + 1`` cases, newest first (the extra one tells that there is a next page)."""
    return list((await session.scalars(case_query(actor, env, query))).all())


@dataclass(frozen=True, slots=True)
class CasePage:
    """Up to ``limit + 1`` case summary records, newest first, and each one's parties (by party id)."""

    cases: list[Case]
    parties: dict[str, list[Party]]


# What a party's view reads: every column but its creation time.
_PARTY_VIEW_COLUMNS = tuple(name for name in _columns(_PARTIES) if name != "created_at")
_PartyViewRecord = _record_type("PartyViewRecord", _PARTY_VIEW_COLUMNS)
_PAGES: dict[tuple[Any, ...], tuple[Select[Any], Select[Any]]] = {}
_MAX_PAGES = 1024
_PARTY_CASE_ID = _PARTY_VIEW_COLUMNS.index("case_id")


def _page_statements(actor: Principal, names: tuple[str, ...], limit: int) -> tuple[Select[Any], Select[Any]]:
    """The statements of a page for this caller's visibility, these filters and this page size (cached):
    its cases (summary columns), and the parties of those cases. Two statements rather than one join, so
    that each case's columns are read and converted once rather than once per party."""
    key = (actor.kind, actor.court_id, actor.organisation_ids, actor.mediator_id, names, limit)
    statements = _PAGES.get(key)
    if statements is None:
        conditions = _conditions(actor, names)
        cases = select(*(_C[name] for name in SUMMARY_COLUMNS)).where(*conditions)
        cases = cases.order_by(_C.id.desc()).limit(limit + 1)
        page = select(_C.id).where(*conditions).order_by(_C.id.desc()).limit(limit + 1).subquery("page")
        parties = (
            select(*(_PARTIES.c[name] for name in _PARTY_VIEW_COLUMNS))
            .select_from(_PARTIES.join(page, _PARTIES.c.case_id == page.c.id))
            .order_by(_PARTIES.c.id)
        )
        if len(_PAGES) >= _MAX_PAGES:
            _PAGES.clear()
        statements = _PAGES[key] = (cases, parties)
    return statements


async def case_page(rows: Rows, actor: Principal, env: CaseEnv, query: CaseListQuery) -> CasePage:
    """The cases of :func:`list_cases` (only the columns a summary reads) with their parties. The records
    read like ``Case`` and ``Party`` objects for those columns."""
    names, params = _filters(env, query)
    cases_statement, parties_statement = _page_statements(actor, names, query.limit)
    cases: list[Case] = [_SummaryRecord._make(row) for row in await rows.all(cases_statement, params)]
    parties: dict[str, list[Party]] = {case.id: [] for case in cases}
    if cases:
        for row in await rows.all(parties_statement, params):
            of_case = parties.get(row[_PARTY_CASE_ID])
            if of_case is not None:  # PostgreSQL reads committed per statement: a case newer than the page
                of_case.append(_PartyViewRecord._make(row))
    return CasePage(cases, parties)


@dataclass(frozen=True, slots=True)
class CaseDetail:
    """One case's record with its parties (by id), current assignment and pauses (by start)."""

    case: Case
    parties: list[Party]
    assignment: Assignment | None
    pauses: list[CasePause]


_DETAIL = (
    select(*_CASES.c, *_ASSIGNMENTS.c, *_PARTIES.c)
    .select_from(
        _CASES.outerjoin(_ASSIGNMENTS, _ASSIGNMENTS.c.id == _C.current_assignment_id).outerjoin(
            _PARTIES, _PARTIES.c.case_id == _C.id
        )
    )
    .where(_C.id == bindparam("case_id"))
    .order_by(_PARTIES.c.id)
    .set_label_style(LABEL_STYLE_TABLENAME_PLUS_COL)
)
_PAUSES_OF = (
    select(*_PAUSES.c).where(_PAUSES.c.case_id == bindparam("case_id")).order_by(_PAUSES.c.started_at)
)
_CASE_WIDTH = len(_CASES.c)
_PARTY_AT = _CASE_WIDTH + len(_ASSIGNMENTS.c)


async def case_detail(rows: Rows, case_id: str, case: Case | None = None) -> CaseDetail | None:
    """The case (None if there is none), its parties and current assignment in one statement, and its pauses
    in a second one only when its mediation period has started (before that there are none to count).

    With ``case`` (an ORM object the caller changed and flushed), that object stands for the case itself.
    """
    if not is_id(case_id, "cas"):  # not even shaped like one: nothing to look up (PostgreSQL refuses NUL)
        return None
    found = [tuple(row) for row in await rows.all(_DETAIL, {"case_id": case_id})]
    if not found:
        return None
    first = found[0]
    if case is None:
        case = cast(Case, _CaseRecord._make(first[:_CASE_WIDTH]))
    assignment = (
        cast(Assignment, _AssignmentRecord._make(first[_CASE_WIDTH:_PARTY_AT]))
        if first[_CASE_WIDTH] is not None
        else None
    )
    parties = [cast(Party, _PartyRecord._make(r[_PARTY_AT:])) for r in found if r[_PARTY_AT] is not None]
    pauses: list[CasePause] = []
    if case.accepted_at is not None:
        pause_rows = await rows.all(_PAUSES_OF, {"case_id": case_id})
        pauses = [cast(CasePause, _PauseRecord._make(tuple(row))) for row in pause_rows]
    return CaseDetail(case, parties, assignment, pauses)


def party_records(rows: Sequence[dict[str, Any]]) -> list[Party]:
    """Party rows just inserted (dicts of every column), as records ordered like a read (by id)."""
    return [cast(Party, _PartyRecord(**row)) for row in sorted(rows, key=lambda r: str(r["id"]))]
