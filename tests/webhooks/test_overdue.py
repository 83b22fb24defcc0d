"""``case.overdue``: an assignment not answered in time, and a mediation period that ran out (once per last
day)."""

from __future__ import annotations

from datetime import date
from typing import Any

from tests.apihelp import Actors, accepted_case, assigned_case, at_local, days, principal_consents
from tiaojie.clock import FrozenClock
from web.app import sweep_once
from web.services import Services
from webhooks.events import PERIOD_OVERDUE
from webhooks.overdue import report_overdue


async def _overdue(actors: Actors) -> list[dict[str, Any]]:
    page = await actors.court_a.get("/webhooks/events?type=case.overdue")
    items: list[dict[str, Any]] = page["items"]
    return items


async def _watch(services: Services, clock: FrozenClock) -> list[str]:
    async with services.db.session() as session:
        return await report_overdue(session, clock)


async def test_an_unanswered_assignment_is_overdue(
    actors: Actors, services: Services, clock: FrozenClock
) -> None:
    case = await assigned_case(actors)
    clock.set(at_local(date.fromisoformat(case["acceptance_due"]) + days(1)))
    assert await sweep_once(services) == [case["id"]]
    (event,) = await _overdue(actors)
    assert event["data"]["event"] == "acceptance_timeout"
    assert event["data"]["state"] == "awaiting_reassignment"


async def test_a_mediation_period_that_ran_out_is_reported_once_per_last_day(
    actors: Actors, services: Services, clock: FrozenClock
) -> None:
    case = await accepted_case(actors)
    ended = await accepted_case(actors)
    await actors.court_a.post(f"/cases/{ended['id']}/terminate", json={"reason": "other", "note": "撤回"})
    last_day = date.fromisoformat(case["deadline"]["last_day"])
    clock.set(at_local(last_day, 20))
    assert await _watch(services, clock) == []  # the last day itself is not over
    clock.set(at_local(last_day + days(1)))
    assert await _watch(services, clock) == [case["id"]]
    assert await _watch(services, clock) == []
    (event,) = await _overdue(actors)
    data = event["data"]
    assert (data["event"], data["case_id"], data["state"]) == (PERIOD_OVERDUE, case["id"], "accepted")
    assert data["last_day"] == last_day.isoformat()
    assert data["details"] == {"deadline": "mediation_period", "days_over": 1}

    mediator = await actors.user("mediator1")
    await mediator.post(f"/cases/{case['id']}/begin")
    extended = await mediator.post(
        f"/cases/{case['id']}/extensions",
        201,
        json={"days": 5, "reason": "双方同意延长", "consents": principal_consents(case, clock.now())},
    )
    assert extended["days"] == 5
    new_last_day = date.fromisoformat(
        (await actors.court_a.get(f"/cases/{case['id']}"))["deadline"]["last_day"]
    )
    assert new_last_day > last_day
    clock.set(at_local(new_last_day + days(2)))
    assert await _watch(services, clock) == [case["id"]]
    assert [e["data"]["last_day"] for e in await _overdue(actors)] == [
        last_day.isoformat(),
        new_last_day.isoformat(),
    ]
