"""The case API's fast views against its response models.

The read and create paths build their JSON directly (cases.views ``*_json``, encoded by tiaojie.jsonvalue)
instead of validating through the pydantic models that the OpenAPI document is generated from. Here real
responses of every shape (masked and not, with and without assignment, deadline, pauses, offline agreement,
a next page) must round-trip through their response model byte for byte: same fields in the same order,
same values, same formatting. And the list query (one Core statement, cached per shape) must find the same
cases as the ORM query the console uses, for every filter.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from pydantic import TypeAdapter

from cases.queries import case_page, list_cases
from cases.schemas import CaseListQuery, CaseOut, CaseSummaryOut, Page
from tests import apihelp
from tests.apihelp import Actors, Caller, accepted_case, assigned_case, mediating_case, new_case
from tests.factories import case_payload
from web.services import Services

actors = apihelp.actors

_CASE = TypeAdapter(CaseOut)
_PAGE = TypeAdapter(Page[CaseSummaryOut])


async def _raw(caller: Caller, method: str, path: str, status: int = 200, **kwargs: Any) -> bytes:
    reply = await caller.call(method, path, **kwargs)
    assert reply.status == status, reply.text[:2000]
    assert reply.headers["Content-Type"].startswith("application/json")
    return reply.text.encode()


def _round_trips(adapter: TypeAdapter[Any], raw: bytes) -> Any:
    parsed = adapter.validate_json(raw)
    assert adapter.dump_json(parsed, by_alias=True) == raw
    return parsed


async def test_created_case_is_its_response_model(actors: Actors) -> None:
    raw = await _raw(actors.court_a, "POST", "/cases", 201, json=case_payload())
    case = _round_trips(_CASE, raw)
    assert [p.masked for p in case.parties] == [False, False, False]
    assert case.assignment is None


async def test_created_offline_agreement_keeps_the_given_offsets(actors: Actors) -> None:
    payload = case_payload(
        offline_agreement=True,
        agreement_effective_at="2026-03-01T15:30:00.250000+08:00",
        applied_at="2026-02-20T09:00:00+08:00",
        amount="4E+4",
    )
    raw = await _raw(actors.court_a, "POST", "/cases", 201, json=payload)
    case = _round_trips(_CASE, raw)
    assert case.deadline.jc_last_day is not None
    again = _round_trips(_CASE, await _raw(actors.court_a, "GET", f"/cases/{case.id}"))
    assert again.agreement_effective_at == case.agreement_effective_at
    assert b'"applied_at":"2026-02-20T01:00:00Z"' in _CASE.dump_json(again)


async def test_case_in_every_stage_is_its_response_model(actors: Actors) -> None:
    mediator = await actors.user("mediator1")
    created = await new_case(actors)
    assigned = await assigned_case(actors)
    accepted = await accepted_case(actors)
    mediating = await mediating_case(actors)
    suspended = await mediating_case(actors)
    await mediator.post(
        f"/cases/{suspended['id']}/suspend", json={"kind": "appraisal", "reason": "工伤等级鉴定"}
    )
    for case in (created, assigned, accepted, mediating, suspended):
        for caller in (actors.court_a, mediator, actors.union1):
            reply = await caller.call("GET", f"/cases/{case['id']}")
            if reply.status == 404:  # not assigned to this caller
                continue
            parsed = _round_trips(_CASE, reply.text.encode())
            masked = caller.label == "union1"
            assert all(p.masked is masked for p in parsed.parties), (caller, case["state"])
    paused = _CASE.validate_json(await _raw(mediator, "GET", f"/cases/{suspended['id']}"))
    assert paused.deadline.paused
    assert paused.assignment is not None


async def test_write_paths_answer_with_the_response_model(actors: Actors) -> None:
    case = await assigned_case(actors)
    mediator = await actors.user("mediator1")
    raw = await _raw(mediator, "POST", f"/cases/{case['id']}/accept", json={})
    accepted = _round_trips(_CASE, raw)
    assert accepted.state == "accepted"
    assert accepted.deadline.last_day is not None


async def test_case_pages_are_their_response_model(actors: Actors) -> None:
    for _ in range(3):
        await assigned_case(actors)
    first = _round_trips(_PAGE, await _raw(actors.court_a, "GET", "/cases?limit=2"))
    assert len(first.items) == 2
    assert first.next_cursor == first.items[-1].id
    rest = _round_trips(
        _PAGE, await _raw(actors.court_a, "GET", f"/cases?limit=2&cursor={first.next_cursor}")
    )
    assert rest.items
    assert rest.items[0].id < first.items[-1].id
    union = _round_trips(_PAGE, await _raw(actors.union1, "GET", "/cases?state=assigned"))
    assert union.items
    assert all(p.masked for item in union.items for p in item.parties)
    empty = _round_trips(_PAGE, await _raw(actors.court_b, "GET", "/cases"))
    assert empty.items == []
    assert empty.next_cursor is None


@pytest.mark.parametrize(
    "filters",
    [
        {},
        {"limit": 1},
        {"state": ["assigned", "accepted"]},
        {"kind": "delegated"},
        {"deadline": "due_soon"},
        {"deadline": "overdue"},
        {"deadline": "due_today"},
        {"deadline": "acceptance_overdue"},
        {"created_from": date(2026, 3, 2), "created_to": date(2026, 3, 2)},
        {"created_to": date(2026, 3, 1)},
        {"closed_from": date(2026, 1, 1)},
        {"case_number": "none such"},
    ],
)
async def test_list_query_finds_what_the_orm_query_finds(
    actors: Actors, services: Services, filters: dict[str, Any]
) -> None:
    await new_case(actors)
    await assigned_case(actors)
    await accepted_case(actors)
    actors.clock.advance(timedelta(days=40))  # the accepted case's period runs out
    mediator = await actors.user("mediator1")
    callers = [actors.key("court_a"), actors.union1, mediator, actors.key("court_b")]
    seen = 0
    async with services.db.read() as session, services.db.rows() as rows:
        for caller in callers:
            principal = await _principal(caller, services)
            for extra in ({}, {"mediator_id": actors.mediator_id("m1")}):
                query = CaseListQuery.model_validate({**filters, **extra})
                orm = [c.id for c in await list_cases(session, principal, services.cases, query)]
                page = await case_page(rows, principal, services.cases, query)
                assert [c.id for c in page.cases] == orm, (caller, filters, extra)
                assert all(len(page.parties[c.id]) == 3 for c in page.cases)
                seen += len(orm)
    if not filters.get("case_number") and "closed_from" not in filters and "created_to" not in filters:
        assert seen > 0 or "deadline" in filters


async def _principal(caller: Caller, services: Services) -> Any:
    """The principal behind a caller, as the API authenticates it."""
    from aiohttp.test_utils import make_mocked_request

    from web.auth import KEY_CACHE, KeyCache, authenticate

    app = caller.client.app
    assert app is not None
    request = make_mocked_request("GET", "/api/v1/cases", headers=caller.headers, app=app)
    assert isinstance(app[KEY_CACHE], KeyCache)
    return await authenticate(request, services)
