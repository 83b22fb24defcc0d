"""Prepared selects (store.prepared) read exactly what SQLAlchemy reads: the same rows, values and types,
for the statements the API reads with, on real cases; statements SQLAlchemy must expand are left to it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Connection

from accounts.principal import AuthMethod, Principal, PrincipalKind
from accounts.service import _CHILDREN, _KEY
from cases.deadlines import SHANGHAI
from cases.queries import _DETAIL, _PAUSES_OF, _filters, _page_statements
from cases.schemas import CaseListQuery
from cases.tables import Case
from store.database import Database
from store.prepared import PreparedSelects
from tests import apihelp
from tests.apihelp import Actors, accepted_case, assigned_case, mediating_case, new_case
from web.services import Services

actors = apihelp.actors
pytestmark = pytest.mark.parametrize("backend", ["sqlite"])  # prepared selects are for SQLite


@pytest.fixture
def connection(db: Database) -> Iterator[Connection]:
    assert db.loop_reader is not None
    with db.loop_reader.engine.connect() as conn:
        yield conn


def _same(prepared: PreparedSelects, conn: Connection, statement: Any, params: dict[str, Any]) -> int:
    """Runs the statement both ways; returns the number of rows (they must be equal, value and type)."""
    ready = prepared.get(statement)
    assert ready is not None, statement
    raw = conn.connection.dbapi_connection
    ours = list(ready.run(raw, params))  # type: ignore[arg-type]
    theirs = [tuple(row) for row in conn.execute(statement, params)]
    assert ours == theirs
    assert [[type(v) for v in row] for row in ours] == [[type(v) for v in row] for row in theirs]
    for row in ours:  # instants come back aware, as UTCDateTime makes them
        assert all(v.tzinfo is not None for v in row if isinstance(v, datetime))
    return len(ours)


async def test_prepared_selects_read_what_sqlalchemy_reads(
    actors: Actors, services: Services, connection: Connection
) -> None:
    plain = await new_case(actors)
    accepted = await accepted_case(actors)
    suspended = await mediating_case(actors)
    mediator = await actors.user("mediator1")
    await mediator.post(
        f"/cases/{suspended['id']}/suspend", json={"kind": "appraisal", "reason": "伤残等级鉴定"}
    )
    prepared = PreparedSelects(connection.dialect)
    for case in (plain, accepted, suspended):
        assert _same(prepared, connection, _DETAIL, {"case_id": case["id"]}) == 3
    assert _same(prepared, connection, _PAUSES_OF, {"case_id": suspended["id"]}) == 1
    assert _same(prepared, connection, _KEY, {"key_id": "key_none"}) == 0

    court = Principal(
        kind=PrincipalKind.COURT,
        id="key_x",
        label="court a",
        auth_method=AuthMethod.API_KEY,
        court_id=actors.world.courts["a"],
    )
    today = services.clock.now().date()
    for filters in (
        {},
        {"cursor": suspended["id"]},
        {"created_from": today, "created_to": today},  # instants bound (UTCDateTime)
        {"deadline": "acceptance_overdue"},  # a day bound
        {"kind": "delegated", "limit": 2},
    ):
        query = CaseListQuery.model_validate(filters)
        names, params = _filters(services.cases, query)
        cases, parties = _page_statements(court, names, query.limit)
        found = _same(prepared, connection, cases, params)
        _same(prepared, connection, parties, params)
        expected = 0 if filters.get("deadline") else 3 if not filters.get("cursor") else 2
        assert found == min(expected, query.limit + 1), filters
    actors.clock.advance(timedelta(hours=17))  # 02:00 the next day in Shanghai, still the day before in UTC
    late = await new_case(actors)
    query = CaseListQuery.model_validate({"created_from": actors.clock.now().astimezone(SHANGHAI).date()})
    names, params = _filters(services.cases, query)
    cases, parties = _page_statements(court, names, query.limit)
    assert _same(prepared, connection, cases, params) == 1  # only if the bound instant is stored as UTC
    assert connection.execute(cases, params).one()[0] == late["id"]

    await assigned_case(actors)
    actors.clock.advance(timedelta(days=10))  # its answer is overdue now: found through a bound day
    query = CaseListQuery.model_validate({"deadline": "acceptance_overdue"})
    names, params = _filters(services.cases, query)
    assert isinstance(params["today"], date)
    cases, parties = _page_statements(court, names, query.limit)
    assert _same(prepared, connection, cases, params) == 1
    assert _same(prepared, connection, parties, params) == 3


def test_statements_sqlalchemy_expands_are_left_to_it(connection: Connection) -> None:
    prepared = PreparedSelects(connection.dialect)
    assert prepared.get(_CHILDREN) is None  # IN with a list parameter
    assert prepared.get(select(Case.id).where(Case.state.in_(["created", "assigned"]))) is None
    assert prepared.get(select(Case.id).where(Case.id == "cas_x")) is not None
