"""The roster API: unions keep organisations and mediators and submit them to courts; courts decide."""

from __future__ import annotations

from typing import Any

from tests import apihelp
from tests.apihelp import Actors, new_case, snapshot
from tests.factories import resident_id

actors = apihelp.actors


async def _submit(actors: Actors, who: str, **body: Any) -> dict[str, Any]:
    entry: dict[str, Any] = await actors.key(who).post("/roster-entries", 201, json=body)
    return entry


async def _decide(
    actors: Actors, who: str, entry: dict[str, Any], status: int = 200, code: str | None = None, **body: Any
) -> Any:
    return await actors.key(who).post(f"/roster-entries/{entry['id']}/decision", status, json=body, code=code)


async def test_union_submits_and_the_court_confirms(actors: Actors) -> None:
    court_b = actors.world.courts["b"]
    m1 = actors.mediator_id("m1")
    case = await new_case(actors, "court_b")
    await actors.court_b.post(
        f"/cases/{case['id']}/assignment", 409, json={"mediator_id": m1}, code="mediator_not_on_roster"
    )

    entry = await _submit(actors, "union1", court_id=court_b, mediator_id=m1)
    assert entry["status"] == "submitted"
    assert entry["organisation_id"] == actors.world.orgs["o1"]
    assert entry["mediator_id"] == m1
    assert entry["labor_roster"] is True
    assert entry["version"] == 1
    error = (
        await actors.union1.post(
            "/roster-entries",
            409,
            json={"court_id": court_b, "mediator_id": m1},
            code="duplicate_roster_entry",
        )
    )["error"]
    assert error["entry_id"] == entry["id"]

    listed = await actors.court_b.get("/roster-entries", params={"status": "submitted"})
    mine = next(e for e in listed["items"] if e["id"] == entry["id"])
    assert mine["mediator_name"] == "王调解"
    assert mine["organisation_name"] == "解放区劳动争议调解委员会"
    assert mine["court_name"] == "焦作市山阳区人民法院"

    await _decide(actors, "union1", entry, 403, action="confirm")
    confirmed = await _decide(actors, "court_b", entry, action="confirm", version=1)
    assert confirmed["status"] == "confirmed"
    assert confirmed["decided_at"] is not None
    assert confirmed["version"] == 2
    await _decide(actors, "court_b", entry, 409, action="confirm", code="illegal_transition")

    assigned = await actors.court_b.post(f"/cases/{case['id']}/assignment", json={"mediator_id": m1})
    assert assigned["state"] == "assigned"
    # The court now sees the mediator, with the ID number masked.
    seen = await actors.court_b.get(f"/mediators/{m1}")
    assert seen["name"] == "王调解"


async def test_reject_needs_a_reason_and_the_union_resubmits(actors: Actors) -> None:
    entry = await _submit(
        actors, "union1", court_id=actors.world.courts["b"], mediator_id=actors.mediator_id("m1")
    )
    before = await snapshot(actors.services)
    error = (await _decide(actors, "court_b", entry, 422, action="reject", code="reason_required"))["error"]
    assert error["field"] == "reason"
    await _decide(actors, "court_b", entry, 422, action="reject", reason="   ")
    await _decide(actors, "court_b", entry, 422, action="approve", reason="x")
    assert await snapshot(actors.services) == before

    rejected = await _decide(actors, "court_b", entry, action="reject", reason="执业年限不足")
    assert (rejected["status"], rejected["reason"]) == ("rejected", "执业年限不足")
    await _decide(actors, "court_b", entry, 403, action="resubmit")
    await _decide(actors, "union2", entry, 404, action="resubmit")
    resubmitted = await _decide(actors, "union1", entry, action="resubmit")
    assert resubmitted["status"] == "submitted"
    confirmed = await _decide(actors, "court_b", entry, action="confirm")
    assert confirmed["status"] == "confirmed"
    events = [e for e in (await actors.court_b.get("/roster-entries"))["items"] if e["id"] == entry["id"]]
    assert events[0]["version"] == confirmed["version"]


async def test_suspend_reinstate_and_remove(actors: Actors) -> None:
    entry = {"id": actors.world.roster["m1@a"]}
    m1 = actors.mediator_id("m1")
    await _decide(actors, "court_a", entry, 422, action="suspend", code="reason_required")
    suspended = await _decide(actors, "court_a", entry, action="suspend", reason="投诉调查中")
    assert suspended["status"] == "suspended"
    case = await new_case(actors)
    await actors.court_a.post(
        f"/cases/{case['id']}/assignment", 409, json={"mediator_id": m1}, code="mediator_not_on_roster"
    )
    reinstated = await _decide(actors, "court_a", entry, action="reinstate")
    assert reinstated["status"] == "confirmed"
    await actors.court_a.post(f"/cases/{case['id']}/assignment", json={"mediator_id": m1})

    await _decide(actors, "court_a", entry, 422, action="remove", code="reason_required")
    removed = await _decide(actors, "court_a", entry, action="remove", reason="不再担任调解员")
    assert removed["status"] == "removed"
    other = await new_case(actors)
    await actors.court_a.post(
        f"/cases/{other['id']}/assignment", 409, json={"mediator_id": m1}, code="mediator_not_on_roster"
    )
    await _decide(actors, "court_a", entry, 409, action="reinstate", code="illegal_transition")
    resubmitted = await _decide(actors, "union1", entry, action="resubmit")
    assert resubmitted["status"] == "submitted"


async def test_a_stale_version_is_refused(actors: Actors) -> None:
    entry = await _submit(
        actors, "union1", court_id=actors.world.courts["b"], mediator_id=actors.mediator_id("m1")
    )
    await _decide(actors, "court_b", entry, action="reject", reason="材料不全", version=1)
    await _decide(actors, "union1", entry, action="resubmit", version=2)
    error = (await _decide(actors, "court_b", entry, 409, action="confirm", version=2, code="stale_version"))[
        "error"
    ]
    assert error["current_version"] == 3
    confirmed = await _decide(actors, "court_b", entry, action="confirm", version=3)
    assert confirmed["version"] == 4
    await _decide(actors, "court_b", entry, 422, action="confirm", version=0)


async def test_courts_and_unions_see_only_their_own_entries(actors: Actors) -> None:
    world = actors.world
    entries_a = {e["id"] for e in (await actors.court_a.get("/roster-entries"))["items"]}
    entries_b = {e["id"] for e in (await actors.court_b.get("/roster-entries"))["items"]}
    assert entries_a == {world.roster["m1@a"], world.roster["m2@a"]}
    assert entries_b == {world.roster["m3@b"], world.roster["m2@b"]}
    await _decide(actors, "court_b", {"id": world.roster["m1@a"]}, 404, action="suspend", reason="x")
    filtered = await actors.court_b.get("/roster-entries", params={"court_id": world.courts["a"]})
    assert filtered["items"] == []

    union1 = {e["id"] for e in (await actors.union1.get("/roster-entries"))["items"]}
    union2 = {e["id"] for e in (await actors.union2.get("/roster-entries"))["items"]}
    assert union1 == {world.roster["m1@a"], world.roster["m2@a"], world.roster["m2@b"]}
    assert union2 == {world.roster["m3@b"]}
    mediator1 = await actors.user("mediator1")
    assert {e["id"] for e in (await mediator1.get("/roster-entries"))["items"]} == {world.roster["m1@a"]}

    pending = await actors.union1.get("/roster-entries", params={"status": "submitted"})
    assert [e["id"] for e in pending["items"]] == [world.roster["m2@b"]]
    first = await actors.union1.get("/roster-entries", params={"limit": "2"})
    second = await actors.union1.get("/roster-entries", params={"limit": "2", "cursor": first["next_cursor"]})
    assert len(first["items"]) == 2
    assert len(second["items"]) == 1
    assert second["next_cursor"] is None
    assert {e["id"] for e in first["items"] + second["items"]} == union1


async def test_organisation_entries(actors: Actors) -> None:
    o1 = actors.world.orgs["o1"]
    entry = await _submit(
        actors, "union1", court_id=actors.world.courts["b"], organisation_id=o1, labor_roster=False
    )
    assert entry["mediator_id"] is None
    assert entry["labor_roster"] is False
    await actors.union1.post(
        "/roster-entries", 409, json={"court_id": actors.world.courts["b"], "organisation_id": o1}
    )
    await actors.union2.post(
        "/roster-entries", 404, json={"court_id": actors.world.courts["b"], "organisation_id": o1}
    )
    await actors.union1.post("/roster-entries", 404, json={"court_id": actors.world.courts["b"]})
    await actors.union1.post(
        "/roster-entries", 404, json={"court_id": "crt_00000000000000000000000000", "organisation_id": o1}
    )
    await actors.court_a.post(
        "/roster-entries", 403, json={"court_id": actors.world.courts["b"], "organisation_id": o1}
    )
    only = await actors.court_b.get("/roster-entries", params={"mediators_only": "true"})
    assert entry["id"] not in {e["id"] for e in only["items"]}
    orgs = {o["id"] for o in await actors.court_b.get("/organisations")}
    assert o1 in orgs
    assert actors.world.orgs["u1"] not in orgs


async def test_submission_is_idempotent(actors: Actors) -> None:
    body = {"court_id": actors.world.courts["b"], "mediator_id": actors.mediator_id("m1")}
    headers = {"Idempotency-Key": "roster-1"}
    first = await actors.union1.call("POST", "/roster-entries", json=body, headers=headers)
    again = await actors.union1.call("POST", "/roster-entries", json=body, headers=headers)
    assert (first.status, again.status) == (201, 201)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.body == first.body


async def test_organisations_and_mediators_of_a_union(actors: Actors) -> None:
    u1 = actors.world.orgs["u1"]
    org = await actors.union1.post(
        "/organisations",
        201,
        json={"name": "马村区劳动争议调解室", "contact_name": "刘主任", "contact_phone": "0391-3456789"},
    )
    assert org["parent_id"] == u1
    assert org["kind"] == "mediation_org"
    # The new organisation is in union1's scope at once, although union1's key was used (and cached) before.
    mediator = await actors.union1.post(
        "/mediators",
        201,
        json={
            "organisation_id": org["id"],
            "name": "陈调解",
            "gender": "female",
            "phone": "13611112222",
            "id_type": "resident_id",
            "id_number": resident_id(),
            "specialties": ["工伤"],
            "case_scope": ["work_injury", "wages"],
            "fees_charged": False,
        },
    )
    assert mediator["organisation_id"] == org["id"]
    assert mediator["active"] is True
    ids = {o["id"] for o in await actors.union1.get("/organisations")}
    assert {u1, actors.world.orgs["o1"], org["id"]} <= ids
    assert actors.world.orgs["u2"] not in ids
    assert (await actors.union1.get(f"/organisations/{org['id']}"))["name"] == "马村区劳动争议调解室"
    listed = await actors.union1.get("/mediators", params={"organisation_id": org["id"]})
    assert [m["id"] for m in listed["items"]] == [mediator["id"]]
    # The organisation's own key sees only its subtree.
    await actors.org1.get(f"/organisations/{org['id']}", 404)
    await actors.org1.get(f"/mediators/{mediator['id']}", 404)

    # Only unions add organisations and mediators, each under itself.
    await actors.court_a.post("/organisations", 403, json={"name": "法院调解室"})
    await actors.union2.post("/organisations", 404, json={"name": "越权", "parent_id": u1})
    await actors.union2.post("/mediators", 404, json={"organisation_id": org["id"], "name": "越权"})
    await actors.court_a.post("/mediators", 403, json={"name": "越权"})
    mediator1 = await actors.user("mediator1")
    await mediator1.post("/organisations", 403, json={"name": "调解员自建"})


async def test_update_a_mediator_profile(actors: Actors) -> None:
    m1 = actors.mediator_id("m1")
    updated = await actors.union1.patch(
        f"/mediators/{m1}", json={"title": "工会法律顾问", "specialties": ["欠薪"], "fees_charged": True}
    )
    assert updated["title"] == "工会法律顾问"
    assert updated["specialties"] == ["欠薪"]
    assert updated["fees_charged"] is True
    assert updated["phone"] == "13700000000"
    await actors.union1.patch(f"/mediators/{m1}", 422, json={"phone": "12"})
    await actors.union1.patch(f"/mediators/{m1}", 422, json={"name": "改名"})
    await actors.union2.patch(f"/mediators/{m1}", 404, json={"title": "越权"})
    await actors.court_a.patch(f"/mediators/{m1}", 403, json={"title": "越权"})
    mediator1 = await actors.user("mediator1")
    await mediator1.patch(f"/mediators/{m1}", 403, json={"title": "自己改"})
    assert (await actors.court_a.get(f"/mediators/{m1}"))["title"] == "工会法律顾问"
    inactive = await actors.union1.patch(f"/mediators/{m1}", json={"active": False})
    assert inactive["active"] is False
    case = await new_case(actors)
    await actors.court_a.post(f"/cases/{case['id']}/assignment", 404, json={"mediator_id": m1})


async def test_who_sees_which_mediators(actors: Actors) -> None:
    m = actors.world.mediators
    assert {x["id"] for x in (await actors.union1.get("/mediators"))["items"]} == {m["m1"], m["m2"]}
    assert {x["id"] for x in (await actors.union2.get("/mediators"))["items"]} == {m["m3"]}
    assert {x["id"] for x in (await actors.court_a.get("/mediators"))["items"]} == {m["m1"], m["m2"]}
    assert {x["id"] for x in (await actors.court_b.get("/mediators"))["items"]} == {m["m2"], m["m3"]}
    mediator1 = await actors.user("mediator1")
    assert {x["id"] for x in (await mediator1.get("/mediators"))["items"]} == {m["m1"]}
    await mediator1.get(f"/mediators/{m['m2']}", 404)
    await actors.union2.get(f"/mediators/{m['m1']}", 404)
    await actors.court_b.get(f"/mediators/{m['m1']}", 404)
    page = await actors.union1.get("/mediators", params={"limit": "1"})
    assert len(page["items"]) == 1
    assert page["next_cursor"] == page["items"][0]["id"]
    rest = await actors.union1.get("/mediators", params={"limit": "1", "cursor": page["next_cursor"]})
    assert len(rest["items"]) == 1
    assert rest["next_cursor"] is None
    courts = await actors.union2.get("/courts")
    assert {c["id"] for c in courts} == set(actors.world.courts.values())
