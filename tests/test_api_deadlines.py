"""Time limits through the API: 3 working days to accept, the 30/15/7-day mediation period from acceptance
(CPL 85 counting over the 2026 holiday calendar), lapses found by the sweeper, pauses and extensions, and
the deadline filters of the case list.

The clock starts on Monday 2 March 2026, 09:00 Shanghai; Qingming 2026 is Sat 4 – Mon 6 April.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from tests import apihelp
from tests.apihelp import (
    Actors,
    accepted_case,
    assigned_case,
    at_local,
    mediating_case,
    new_case,
    principal_consents,
)
from web.app import sweep_once

actors = apihelp.actors


async def _assign(actors: Actors, case: dict[str, Any], mediator: str = "m1", court: str = "court_a") -> Any:
    return await actors.key(court).post(
        f"/cases/{case['id']}/assignment", json={"mediator_id": actors.mediator_id(mediator)}
    )


@pytest.mark.parametrize(
    ("assigned_on", "due"),
    [
        (date(2026, 3, 2), "2026-03-05"),  # Monday → Thursday
        (date(2026, 3, 6), "2026-03-11"),  # Friday: the weekend does not count
        (date(2026, 4, 2), "2026-04-08"),  # Thursday before Qingming: Fri 3, Tue 7, Wed 8
    ],
)
async def test_acceptance_due_is_three_working_days(actors: Actors, assigned_on: date, due: str) -> None:
    actors.clock.set(at_local(assigned_on))
    case = await _assign(actors, await new_case(actors))
    assert case["assignment"]["accept_due"] == due
    assert case["acceptance_due"] == due
    assert case["deadline"]["acceptance_due"] == due


@pytest.mark.parametrize(
    ("kind", "procedure", "base_days", "last_day"),
    [
        ("delegated", "ordinary", 30, "2026-04-01"),
        ("entrusted", "ordinary", 15, "2026-03-17"),
        ("entrusted", "simple", 7, "2026-03-09"),
    ],
)
async def test_mediation_period_runs_from_acceptance(
    actors: Actors, kind: str, procedure: str, base_days: int, last_day: str
) -> None:
    case = await accepted_case(actors, kind=kind, procedure=procedure)
    assert case["deadline"]["base_days"] == base_days
    assert case["deadline"]["last_day"] == last_day
    assert case["last_day"] == last_day
    assert case["deadline"]["paused"] is False
    assert case["deadline"]["extension_days"] == 0


async def test_last_day_on_a_holiday_moves_to_the_next_working_day(actors: Actors) -> None:
    case = await assigned_case(actors)
    actors.clock.set(at_local(date(2026, 3, 5), 16))  # accepted on the last day allowed
    mediator = await actors.user("mediator1")
    accepted = await mediator.post(f"/cases/{case['id']}/accept", json={})
    # 5 March + 30 days = Sat 4 April, in the Qingming holiday (4–6 April): Tuesday 7 April.
    assert accepted["deadline"]["last_day"] == "2026-04-07"

    entrusted = await assigned_case(actors, kind="entrusted", procedure="simple")
    actors.clock.set(at_local(date(2026, 3, 7)))  # a Saturday; accepting on a rest day is allowed
    mediator = await actors.user("mediator1")
    accepted = await mediator.post(f"/cases/{entrusted['id']}/accept", json={})
    # 7 March + 7 days = Sat 14 March: Monday 16 March.
    assert accepted["deadline"]["last_day"] == "2026-03-16"


async def test_unanswered_assignment_lapses_after_three_working_days(actors: Actors) -> None:
    case = await assigned_case(actors)  # due Thursday 5 March
    answered = await assigned_case(actors)
    mediator = await actors.user("mediator1")
    await mediator.post(f"/cases/{answered['id']}/accept", json={})

    actors.clock.set(at_local(date(2026, 3, 5), 23))
    assert await sweep_once(actors.services) == []
    assert (await actors.court_a.get("/cases?deadline=acceptance_overdue"))["items"] == []
    due_today = await actors.court_a.get(f"/cases/{case['id']}")
    assert due_today["deadline_status"] == "due_today"

    actors.clock.set(at_local(date(2026, 3, 6), 0))
    overdue = await actors.court_a.get("/cases?deadline=acceptance_overdue")
    assert [c["id"] for c in overdue["items"]] == [case["id"]]
    assert overdue["items"][0]["deadline_status"] == "overdue"
    assert await sweep_once(actors.services) == [case["id"]]
    assert await sweep_once(actors.services) == []

    lapsed = await actors.court_a.get(f"/cases/{case['id']}")
    assert lapsed["state"] == "awaiting_reassignment"
    assert lapsed["current_mediator_id"] is None
    assert lapsed["acceptance_due"] is None
    event = (await actors.court_a.get(f"/cases/{case['id']}/events"))[-1]
    assert event["action"] == "acceptance_timeout"
    assert event["actor_kind"] == "system"
    assert (event["from_state"], event["to_state"]) == ("assigned", "awaiting_reassignment")
    assert "2026-03-05" in event["reason"]
    mediator = await actors.user("mediator1")
    await mediator.get(f"/cases/{case['id']}", 404)
    await mediator.post(f"/cases/{case['id']}/accept", 404, json={})
    assert (await actors.court_a.get(f"/cases/{answered['id']}"))["state"] == "accepted"
    assert (await actors.court_a.get("/cases?deadline=acceptance_overdue"))["items"] == []

    again = await _assign(actors, lapsed, "m2")
    assert again["state"] == "assigned"
    assert again["acceptance_due"] == "2026-03-11"


async def test_an_answer_after_the_last_day_is_refused_before_the_sweeper_runs(actors: Actors) -> None:
    case = await assigned_case(actors)  # due Thursday 5 March
    other = await assigned_case(actors)
    actors.clock.set(at_local(date(2026, 3, 6), 8))  # the sweeper has not run yet
    mediator = await actors.user("mediator1")
    late = await mediator.post(f"/cases/{case['id']}/accept", 409, json={})
    assert late["error"]["code"] == "acceptance_lapsed"
    assert "2026-03-05" in late["error"]["message"]
    refused = await mediator.post(f"/cases/{other['id']}/decline", 409, json={"reason": "太忙"})
    assert refused["error"]["code"] == "acceptance_lapsed"
    unchanged = await actors.court_a.get(f"/cases/{case['id']}")
    assert unchanged["state"] == "assigned"
    assert [e["action"] for e in await actors.court_a.get(f"/cases/{case['id']}/events")][-1] == "assign"
    assert sorted(await sweep_once(actors.services)) == sorted([case["id"], other["id"]])


async def test_suspension_is_excluded_from_the_period(actors: Actors) -> None:
    case = await mediating_case(actors)  # accepted Mon 2 March: last day Wed 1 April
    path = f"/cases/{case['id']}"
    actors.clock.set(at_local(date(2026, 3, 10)))
    mediator = await actors.user("mediator1")
    suspended = await mediator.post(f"{path}/suspend", json={"kind": "appraisal", "reason": "伤残等级鉴定"})
    assert suspended["state"] == "suspended"
    assert suspended["last_day"] is None
    assert suspended["deadline"]["last_day"] is None
    assert suspended["deadline"]["paused"] is True
    assert suspended["deadline_status"] == "paused"
    actors.clock.set(at_local(date(2026, 3, 13)))
    still = await actors.court_a.get(path)
    assert still["deadline"]["paused_days"] == 3
    assert still["deadline"]["last_day"] is None

    actors.clock.set(at_local(date(2026, 3, 17)))  # seven days after the suspension began
    resumed = await actors.court_a.post(f"{path}/resume", json={})
    assert resumed["state"] == "in_mediation"
    assert resumed["deadline"]["paused"] is False
    assert resumed["deadline"]["paused_days"] == 7
    assert resumed["deadline"]["last_day"] == "2026-04-08"  # 1 April + 7
    assert resumed["last_day"] == "2026-04-08"

    # A second suspension, for suspected false mediation, adds to the first.
    actors.clock.set(at_local(date(2026, 3, 20)))
    mediator = await actors.user("mediator1")
    await mediator.post(f"{path}/suspend", json={"kind": "suspected_false_mediation", "reason": "疑似串通"})
    actors.clock.set(at_local(date(2026, 3, 22)))
    mediator = await actors.user("mediator1")
    resumed = await mediator.post(f"{path}/resume", json={})
    assert resumed["deadline"]["paused_days"] == 9
    assert resumed["deadline"]["last_day"] == "2026-04-10"
    kinds = [p["kind"] for p in await actors.court_a.get(f"{path}/pauses")]
    assert kinds == ["appraisal", "suspected_false_mediation"]


async def test_extension_moves_the_last_day(actors: Actors) -> None:
    case = await mediating_case(actors, kind="entrusted", procedure="ordinary")  # last day Tue 17 March
    mediator = await actors.user("mediator1")
    consents = principal_consents(case, at_local(date(2026, 3, 2), 9))
    await mediator.post(
        f"/cases/{case['id']}/extensions", 201, json={"days": 4, "reason": "双方同意", "consents": consents}
    )
    extended = await mediator.get(f"/cases/{case['id']}")
    assert extended["state"] == "extended"
    assert extended["deadline"]["extension_days"] == 4
    assert extended["deadline"]["last_day"] == "2026-03-23"  # 17 + 4 = Sat 21 March → Monday 23 March


async def test_deadline_filters_of_the_case_list(actors: Actors) -> None:
    simple = await mediating_case(actors, kind="entrusted", procedure="simple")  # last day Mon 9 March
    long = await accepted_case(actors)  # last day Wed 1 April
    waiting = await assigned_case(actors)  # acceptance due Thu 5 March
    suspended = await mediating_case(actors, kind="entrusted", procedure="simple")
    mediator = await actors.user("mediator1")
    await mediator.post(f"/cases/{suspended['id']}/suspend", json={"kind": "appraisal", "reason": "鉴定"})
    terminated = await mediating_case(actors, kind="entrusted", procedure="simple")
    await mediator.post(f"/cases/{terminated['id']}/terminate", json={"reason": "party_refuses"})
    court = actors.court_a

    async def listed(deadline: str) -> set[str]:
        page = await court.get("/cases", params={"deadline": deadline})
        return {c["id"] for c in page["items"]}

    assert await listed("overdue") == set()
    assert await listed("due_soon") == set()

    actors.clock.set(at_local(date(2026, 3, 6)))  # Friday: 3 days to Monday 9 March
    assert await listed("due_soon") == {simple["id"]}
    assert await listed("acceptance_overdue") == {waiting["id"]}
    assert await listed("overdue") == set()
    statuses = {c["id"]: c["deadline_status"] for c in (await court.get("/cases"))["items"]}
    assert statuses[simple["id"]] == "due_soon"
    assert statuses[long["id"]] == "on_track"
    assert statuses[waiting["id"]] == "overdue"
    assert statuses[suspended["id"]] == "paused"
    assert statuses[terminated["id"]] is None

    actors.clock.set(at_local(date(2026, 3, 9)))
    assert await listed("due_today") == {simple["id"]}
    assert simple["id"] in await listed("due_soon")

    actors.clock.set(at_local(date(2026, 3, 10)))
    assert await listed("overdue") == {simple["id"]}
    assert await listed("due_today") == set()
    mediator = await actors.user("mediator1")
    mine = await mediator.get("/cases", params={"deadline": "overdue"})
    assert [c["id"] for c in mine["items"]] == [simple["id"]]
    assert (await actors.union2.get("/cases", params={"deadline": "overdue"}))["items"] == []
    assert [c["id"] for c in (await actors.union1.get("/cases?deadline=overdue"))["items"]] == [simple["id"]]
    await court.get("/cases?deadline=tomorrow", 422)
