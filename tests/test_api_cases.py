"""The case API end to end: intake, listing, idempotency, assignment, disclosure, change of mediator, the
course of a mediation and materials. Every request goes through HTTP (the in-process aiohttp client)."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

from aiohttp import FormData
from sqlalchemy import func, select

from cases.tables import Case
from tests import apihelp
from tests.apihelp import (
    PDF,
    Actors,
    accepted_case,
    assigned_case,
    at_local,
    mediating_case,
    new_case,
    principal_consents,
    snapshot,
    upload_form,
)
from tests.factories import case_payload, credit_code, resident_id

# --- intake -------------------------------------------------------------------------------------------

actors = apihelp.actors


async def test_create_case_shows_the_court_everything(actors: Actors) -> None:
    payload = case_payload()
    case = await actors.court_a.post("/cases", 201, json=payload)
    assert case["state"] == "created"
    assert case["court_id"] == actors.world.courts["a"]
    assert case["case_number"] == payload["case_number"]
    assert case["kind"] == "delegated"
    assert case["amount"] == "32000.00"
    assert case["assignment"] is None
    assert case["deadline"]["last_day"] is None
    assert case["version"] >= 1
    assert {"assign", "terminate"} <= set(case["allowed_actions"])
    assert len(case["parties"]) == 3
    sent = {p["name"]: p for p in payload["parties"]}
    for party in case["parties"]:
        assert party["masked"] is False
        assert party["id_number"] == sent[party["name"]]["id_number"]
        assert party["phone"] == sent[party["name"]]["phone"]
    worker = next(p for p in case["parties"] if p["party_type"] == "worker")
    assert worker["address"] == "河南省焦作市解放区民主路1号"
    assert worker["service_address"] == "zhangsan@example.cn"
    agent = next(p for p in case["parties"] if p["role"] == "agent")
    employer = next(p for p in case["parties"] if p["party_type"] == "employer")
    assert agent["represents_id"] == employer["id"]

    got = await actors.court_a.get(f"/cases/{case['id']}")
    assert got == case


async def test_case_events_record_every_change(actors: Actors) -> None:
    case = await assigned_case(actors)
    events = await actors.court_a.get(f"/cases/{case['id']}/events")
    assert [e["action"] for e in events] == ["create", "assign"]
    create, assign = events
    assert create["actor_kind"] == "court"
    assert create["actor_label"] == "api-key:court_a"
    assert create["to_state"] == "created"
    assert create["data"]["parties"] == 3
    assert (assign["from_state"], assign["to_state"]) == ("created", "assigned")
    assert assign["data"]["mediator_id"] == actors.mediator_id("m1")
    assert events[0]["id"] < events[1]["id"]
    mediator = await actors.user("mediator1")
    assert await mediator.get(f"/cases/{case['id']}/events") == events


async def test_list_filters(actors: Actors) -> None:
    delegated = [await new_case(actors) for _ in range(2)]
    entrusted = await new_case(actors, kind="entrusted")
    assigned = await assigned_case(actors)
    other_court = await new_case(actors, "court_b")

    def ids(page: dict[str, Any]) -> set[str]:
        return {c["id"] for c in page["items"]}

    court = actors.court_a
    everything = await court.get("/cases")
    assert ids(everything) == {c["id"] for c in [*delegated, entrusted, assigned]}
    assert other_court["id"] not in ids(everything)
    assert everything["next_cursor"] is None
    assert ids(await court.get("/cases?state=assigned")) == {assigned["id"]}
    assert ids(await court.get("/cases", params=[("state", "assigned"), ("state", "created")])) == ids(
        everything
    )
    assert ids(await court.get("/cases?state=terminated")) == set()
    assert ids(await court.get("/cases?kind=entrusted")) == {entrusted["id"]}
    assert ids(await court.get("/cases?kind=delegated")) == {c["id"] for c in [*delegated, assigned]}
    number = delegated[1]["case_number"]
    assert ids(await court.get("/cases", params={"case_number": number})) == {delegated[1]["id"]}
    assert ids(await court.get(f"/cases?mediator_id={actors.mediator_id('m1')}")) == {assigned["id"]}
    assert ids(await court.get(f"/cases?organisation_id={actors.world.orgs['o1']}")) == {assigned["id"]}
    assert ids(await court.get("/cases?created_from=2026-03-02&created_to=2026-03-02")) == ids(everything)
    assert ids(await court.get("/cases?created_from=2026-03-03")) == set()
    assert ids(await court.get("/cases?created_to=2026-03-01")) == set()
    assert ids(await court.get("/cases?closed_from=2026-03-01")) == set()
    await court.post(f"/cases/{entrusted['id']}/terminate", json={"reason": "party_refuses"})
    assert ids(await court.get("/cases?closed_from=2026-03-02")) == {entrusted["id"]}
    assert ids(await court.get("/cases?closed_from=2026-03-03")) == set()
    summary = next(c for c in everything["items"] if c["id"] == assigned["id"])
    assert summary["current_mediator_id"] == actors.mediator_id("m1")
    assert summary["acceptance_due"] == "2026-03-05"
    assert summary["deadline_status"] == "due_soon"  # 3 days left, warn_days 3
    assert "claims" not in summary


async def test_list_pages_with_a_cursor(actors: Actors) -> None:
    created = [(await new_case(actors))["id"] for _ in range(5)]
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        page = await actors.court_a.get("/cases", params=params)
        pages += 1
        assert len(page["items"]) <= 2
        seen += [c["id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert sorted(seen) == sorted(created)
    assert seen == sorted(seen, reverse=True)  # newest first, no duplicates
    assert (await actors.court_a.get("/cases?limit=5"))["next_cursor"] is None


async def _case_count(actors: Actors) -> int:
    async with actors.services.db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(Case)) or 0)


async def test_idempotency_key_replays_the_first_response(actors: Actors) -> None:
    payload = case_payload()
    headers = {"Idempotency-Key": "intake-2026-0001"}
    first = await actors.court_a.call("POST", "/cases", json=payload, headers=headers)
    assert first.status == 201
    assert "Idempotent-Replayed" not in first.headers
    again = await actors.court_a.call("POST", "/cases", json=payload, headers=headers)
    assert again.status == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.body == first.body
    assert await _case_count(actors) == 1
    listed = await actors.court_a.get("/cases", params={"case_number": payload["case_number"]})
    assert [c["id"] for c in listed["items"]] == [first.body["id"]]

    # The same key with another body is refused, and stores nothing.
    other = case_payload()
    await actors.court_a.post("/cases", 422, json=other, headers=headers, code="idempotency_key_reused")
    assert await _case_count(actors) == 1

    # Keys belong to their caller: another court's identical request is a request of its own.
    theirs = await actors.court_b.call("POST", "/cases", json=payload, headers=headers)
    assert theirs.status == 201
    assert "Idempotent-Replayed" not in theirs.headers
    assert theirs.body["court_id"] == actors.world.courts["b"]
    assert theirs.body["id"] != first.body["id"]
    assert await _case_count(actors) == 2


async def test_concurrent_retries_with_one_key_store_one_case(actors: Actors) -> None:
    payload = case_payload()
    headers = {"Idempotency-Key": "burst-1"}
    replies = await asyncio.gather(
        *(actors.court_a.call("POST", "/cases", json=payload, headers=headers) for _ in range(4))
    )
    assert [r.status for r in replies] == [201] * 4, [r.text for r in replies]
    assert len({r.body["id"] for r in replies}) == 1
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in replies) == 3
    assert await _case_count(actors) == 1


async def test_concurrent_creates_with_one_number_store_one_case(actors: Actors) -> None:
    payload = case_payload()
    replies = await asyncio.gather(*(actors.court_a.call("POST", "/cases", json=payload) for _ in range(4)))
    assert sorted(r.status for r in replies) == [201, 409, 409, 409], [r.text for r in replies]
    assert {r.body["error"]["code"] for r in replies if r.status == 409} == {"duplicate_case_number"}
    assert await _case_count(actors) == 1


async def test_idempotency_key_is_not_kept_for_a_failed_request(actors: Actors) -> None:
    payload = case_payload()
    await new_case(actors, number=payload["case_number"])
    headers = {"Idempotency-Key": "retry-me"}
    await actors.court_a.post("/cases", 409, json=payload, headers=headers, code="duplicate_case_number")
    fixed = {**payload, "case_number": payload["case_number"] + "-2"}
    created = await actors.court_a.post("/cases", 201, json=fixed, headers=headers)
    assert created["case_number"] == fixed["case_number"]
    await actors.court_a.post("/cases", 422, json=payload, headers={"Idempotency-Key": "bad key"})


async def test_duplicate_case_number_is_a_conflict(actors: Actors) -> None:
    payload = case_payload()
    await actors.court_a.post("/cases", 201, json=payload)
    error = (await actors.court_a.post("/cases", 409, json=payload, code="duplicate_case_number"))["error"]
    assert error["field"] == "case_number"
    assert await _case_count(actors) == 1
    # Another court may use the same number.
    await actors.court_b.post("/cases", 201, json=payload)


async def test_create_case_checks_the_parties(actors: Actors) -> None:
    court = actors.court_a
    payload = case_payload()
    no_worker = {**payload, "parties": [payload["parties"][1], payload["parties"][2]]}
    await court.post("/cases", 422, json=no_worker)
    bad_id = case_payload()
    valid = resident_id()
    bad_id["parties"][0]["id_number"] = valid[:-1] + ("0" if valid[-1] != "0" else "1")
    # A check-character error never echoes the number.
    reply = await court.call("POST", "/cases", json=bad_id)
    assert reply.status == 422
    assert reply.error["field"] == "parties.0.id_number"
    assert reply.error["code"] == "invalid_id_number"
    assert bad_id["parties"][0]["id_number"] not in reply.text
    bad_code = case_payload()
    bad_code["parties"][1]["id_number"] = credit_code()[:-1] + "I"
    reply = await court.call("POST", "/cases", json=bad_code)
    assert (reply.status, reply.error["field"], reply.error["code"]) == (
        422,
        "parties.1.id_number",
        "invalid_credit_code",
    )
    bad_phone = case_payload()
    bad_phone["parties"][0]["phone"] = "12345"
    reply = await court.call("POST", "/cases", json=bad_phone)
    assert (reply.status, reply.error["field"], reply.error["code"]) == (
        422,
        "parties.0.phone",
        "invalid_phone",
    )
    dangling = case_payload()
    dangling["parties"][2]["represents"] = "nobody"
    reply = await court.call("POST", "/cases", json=dangling)
    assert (reply.status, reply.error["field"], reply.error["code"]) == (
        422,
        "parties.2.represents",
        "unknown_party_key",
    )
    second = case_payload(kind="delegated", instance="second")
    reply = await court.call("POST", "/cases", json=second)
    assert (reply.status, reply.error["field"]) == (422, "kind")
    assert await _case_count(actors) == 0


# --- assignment ---------------------------------------------------------------------------------------


async def test_assign_a_confirmed_mediator(actors: Actors) -> None:
    case = await new_case(actors)
    assigned = await actors.court_a.post(
        f"/cases/{case['id']}/assignment", json={"mediator_id": actors.mediator_id("m1")}
    )
    assert assigned["state"] == "assigned"
    assert assigned["current_mediator_id"] == actors.mediator_id("m1")
    assert assigned["current_organisation_id"] == actors.world.orgs["o1"]
    assert assigned["assignment"]["status"] == "pending"
    assert assigned["assignment"]["method"] == "designated"
    assert assigned["assignment"]["accept_due"] == "2026-03-05"  # Mon + 3 working days
    assert assigned["deadline"]["acceptance_due"] == "2026-03-05"
    assert assigned["version"] > case["version"]
    # The same pending mediator again is refused; another confirmed one replaces the first.
    await actors.court_a.post(
        f"/cases/{case['id']}/assignment",
        409,
        json={"mediator_id": actors.mediator_id("m1")},
        code="already_assigned",
    )
    again = await actors.court_a.post(
        f"/cases/{case['id']}/assignment",
        json={"mediator_id": actors.mediator_id("m2"), "method": "joint_choice"},
    )
    assert again["current_mediator_id"] == actors.mediator_id("m2")
    assert again["assignment"]["method"] == "joint_choice"
    mediator1 = await actors.user("mediator1")
    await mediator1.get(f"/cases/{case['id']}", 404)


async def test_only_mediators_confirmed_at_the_court_can_be_assigned(actors: Actors) -> None:
    case_a = await new_case(actors)
    case_b = await new_case(actors, "court_b")
    before = await snapshot(actors.services)
    await actors.court_a.post(
        f"/cases/{case_a['id']}/assignment",
        409,
        json={"mediator_id": actors.mediator_id("m3")},
        code="mediator_not_on_roster",
    )
    # m2 is confirmed at court a but only submitted at court b.
    await actors.court_b.post(
        f"/cases/{case_b['id']}/assignment",
        409,
        json={"mediator_id": actors.mediator_id("m2")},
        code="mediator_not_on_roster",
    )
    await actors.court_a.post(
        f"/cases/{case_a['id']}/assignment",
        404,
        json={"mediator_id": "med_00000000000000000000000000"},
        code="not_found",
    )
    assert await snapshot(actors.services) == before
    await actors.court_b.post(
        f"/cases/{case_b['id']}/assignment", json={"mediator_id": actors.mediator_id("m3")}
    )


async def test_accept_by_mediator_session(actors: Actors) -> None:
    case = await assigned_case(actors)
    mediator = await actors.user("mediator1")
    seen = await mediator.get(f"/cases/{case['id']}")
    assert "accept" in seen["allowed_actions"]
    assert "decline" in seen["allowed_actions"]
    # A change through a session needs the CSRF header.
    no_csrf = {"X-CSRF-Token": ""}
    await mediator.post(f"/cases/{case['id']}/accept", 403, json={}, headers=no_csrf, code="csrf_failed")
    accepted = await mediator.post(f"/cases/{case['id']}/accept", json={"note": "可以接受"})
    assert accepted["state"] == "accepted"
    assert accepted["accepted_at"].startswith("2026-03-02T01:00:00")
    assert accepted["assignment"]["status"] == "accepted"
    assert accepted["deadline"]["acceptance_due"] is None
    assert accepted["deadline"]["base_days"] == 30
    assert accepted["deadline"]["last_day"] == "2026-04-01"
    await mediator.post(f"/cases/{case['id']}/accept", 409, json={}, code="no_pending_assignment")
    events = await actors.court_a.get(f"/cases/{case['id']}/events")
    assert events[-1]["action"] == "accept"
    assert events[-1]["actor_kind"] == "mediator"
    assert events[-1]["reason"] == "可以接受"


async def test_accept_by_union_or_organisation_key(actors: Actors) -> None:
    for who in ("union1", "org1"):
        case = await assigned_case(actors)
        accepted = await actors.key(who).post(f"/cases/{case['id']}/accept", json={})
        assert accepted["state"] == "accepted"
        assert accepted["deadline"]["last_day"] == "2026-04-01"
    # union2 does not see a case of union1's organisation.
    case = await assigned_case(actors)
    await actors.union2.post(f"/cases/{case['id']}/accept", 404, json={})
    # The court cannot accept for the mediator.
    await actors.court_a.post(f"/cases/{case['id']}/accept", 403, json={}, code="forbidden")


async def test_decline_returns_the_case_to_the_court(actors: Actors) -> None:
    case = await assigned_case(actors)
    mediator1 = await actors.user("mediator1")
    await mediator1.post(f"/cases/{case['id']}/decline", 422, json={})
    await mediator1.post(f"/cases/{case['id']}/decline", 422, json={"reason": "   "})
    declined = await mediator1.post(f"/cases/{case['id']}/decline", json={"reason": "与被申请人有业务往来"})
    assert declined["state"] == "awaiting_reassignment"
    assert declined["current_mediator_id"] is None
    await mediator1.get(f"/cases/{case['id']}", 404)
    await actors.union1.get(f"/cases/{case['id']}", 404)
    assert (await mediator1.get("/cases"))["items"] == []

    court = await actors.court_a.get(f"/cases/{case['id']}")
    assert court["state"] == "awaiting_reassignment"
    assert court["assignment"] is None
    events = await actors.court_a.get(f"/cases/{case['id']}/events")
    assert events[-1]["action"] == "decline"
    assert events[-1]["reason"] == "与被申请人有业务往来"

    reassigned = await actors.court_a.post(
        f"/cases/{case['id']}/assignment", json={"mediator_id": actors.mediator_id("m2")}
    )
    assert reassigned["state"] == "assigned"
    mediator2 = await actors.user("mediator2")
    accepted = await mediator2.post(f"/cases/{case['id']}/accept", json={})
    assert accepted["state"] == "accepted"
    await mediator1.get(f"/cases/{case['id']}", 404)


async def test_disclosures_and_party_consents(actors: Actors) -> None:
    case = await accepted_case(actors)
    mediator = await actors.user("mediator1")
    path = f"/cases/{case['id']}/disclosures"
    await mediator.post(path, 422, json={"kind": "interest"}, code="required")
    await actors.court_a.post(path, 403, json={"kind": "none"})
    disclosure = await mediator.post(
        path, 201, json={"kind": "other_relationship", "details": "曾与被申请人同事"}
    )
    assert disclosure["mediator_id"] == actors.mediator_id("m1")
    assert disclosure["consents"] == []
    worker, employer = (
        next(p for p in case["parties"] if p["party_type"] == kind) for kind in ("worker", "employer")
    )
    consent_path = f"{path}/{disclosure['id']}/consents"
    answered = await mediator.post(consent_path, json={"party_id": worker["id"], "consents": True})
    assert [(c["party_id"], c["consents"], c["method"]) for c in answered["consents"]] == [
        (worker["id"], True, "in_writing")
    ]
    await mediator.post(
        consent_path, 409, json={"party_id": worker["id"], "consents": False}, code="already_answered"
    )
    answered = await mediator.post(
        consent_path, json={"party_id": employer["id"], "consents": False, "method": "phone call"}
    )
    assert len(answered["consents"]) == 2
    other = await new_case(actors)
    await mediator.post(consent_path, 404, json={"party_id": other["parties"][0]["id"], "consents": True})
    await mediator.post(
        f"{path}/dsc_00000000000000000000000000/consents",
        404,
        json={"party_id": worker["id"], "consents": True},
    )
    listed = await actors.court_a.get(path)
    assert [d["id"] for d in listed] == [disclosure["id"]]
    assert len(listed[0]["consents"]) == 2
    actions = [e["action"] for e in await actors.court_a.get(f"/cases/{case['id']}/events")]
    assert actions[-3:] == ["disclose", "disclosure_consent", "disclosure_objection"]


async def test_change_of_mediator_pauses_the_clock(actors: Actors) -> None:
    case = await accepted_case(actors)  # accepted Mon 2 March: last day Wed 1 April
    assert case["deadline"]["last_day"] == "2026-04-01"
    worker = next(p for p in case["parties"] if p["party_type"] == "worker")
    actors.clock.set(at_local(date(2026, 3, 4)))
    path = f"/cases/{case['id']}/change-requests"
    request = await actors.court_a.post(
        path, 201, json={"party_id": worker["id"], "kind": "recusal", "reason": "调解员与用人单位有亲属关系"}
    )
    assert request["status"] == "pending"
    assert request["mediator_id"] == actors.mediator_id("m1")
    await actors.court_a.post(
        path,
        409,
        json={"party_id": worker["id"], "kind": "change", "reason": "再次"},
        code="change_request_pending",
    )
    decision = f"{path}/{request['id']}/decision"
    await actors.union1.post(decision, 422, json={"grant": False}, code="reason_required")
    await actors.union2.post(decision, 404, json={"grant": True})
    granted = await actors.union1.post(decision, json={"grant": True, "reason": "准许回避"})
    assert granted["status"] == "granted"
    assert granted["decided_by"] == "api-key:union1"
    await actors.union1.post(decision, 404, json={"grant": True})  # the case left union1's organisations
    await actors.court_a.post(decision, 409, json={"grant": True}, code="already_decided")

    paused = await actors.court_a.get(f"/cases/{case['id']}")
    assert paused["state"] == "mediator_change"
    assert paused["current_mediator_id"] is None
    assert paused["deadline"]["paused"] is True
    assert paused["deadline"]["last_day"] is None
    assert paused["last_day"] is None
    assert paused["deadline_status"] == "paused"
    mediator1 = await actors.user("mediator1")
    await mediator1.get(f"/cases/{case['id']}", 404)
    pauses = await actors.court_a.get(f"/cases/{case['id']}/pauses")
    assert [(p["kind"], p["ended_at"]) for p in pauses] == [("mediator_change", None)]

    # The recused mediator cannot come back; another one is assigned and accepts two days later.
    await actors.court_a.post(
        f"/cases/{case['id']}/assignment",
        409,
        json={"mediator_id": actors.mediator_id("m1")},
        code="mediator_recused",
    )
    await actors.court_a.post(
        f"/cases/{case['id']}/assignment", json={"mediator_id": actors.mediator_id("m2")}
    )
    actors.clock.set(at_local(date(2026, 3, 6)))
    mediator2 = await actors.user("mediator2")
    resumed = await mediator2.post(f"/cases/{case['id']}/accept", json={})
    assert resumed["state"] == "accepted"
    assert resumed["deadline"]["paused"] is False
    assert resumed["deadline"]["paused_days"] == 2
    assert resumed["deadline"]["last_day"] == "2026-04-03"  # 1 April + 2 paused days
    assert resumed["accepted_at"] == case["accepted_at"]  # the period still runs from the first acceptance
    pauses = await actors.court_a.get(f"/cases/{case['id']}/pauses")
    assert pauses[0]["ended_at"] is not None


async def test_refused_change_request_keeps_the_mediator(actors: Actors) -> None:
    case = await accepted_case(actors)
    worker = next(p for p in case["parties"] if p["party_type"] == "worker")
    mediator = await actors.user("mediator1")
    request = await mediator.post(
        f"/cases/{case['id']}/change-requests",
        201,
        json={"party_id": worker["id"], "kind": "change", "reason": "当事人申请更换"},
    )
    decision = f"/cases/{case['id']}/change-requests/{request['id']}/decision"
    await mediator.post(decision, 403, json={"grant": False, "reason": "x"})
    await actors.court_a.post(decision, 422, json={"grant": False}, code="reason_required")
    refused = await actors.court_a.post(decision, json={"grant": False, "reason": "理由不成立"})
    assert refused["status"] == "refused"
    assert refused["decision_reason"] == "理由不成立"
    after = await mediator.get(f"/cases/{case['id']}")
    assert after["state"] == "accepted"
    assert after["deadline"]["paused"] is False
    listed = await actors.court_a.get(f"/cases/{case['id']}/change-requests")
    assert [r["status"] for r in listed] == ["refused"]


# --- the course of a mediation ------------------------------------------------------------------------


async def test_begin_suspend_resume(actors: Actors) -> None:
    case = await accepted_case(actors)
    mediator = await actors.user("mediator1")
    path = f"/cases/{case['id']}"
    await actors.court_a.post(f"{path}/begin", 403)
    begun = await mediator.post(f"{path}/begin")
    assert begun["state"] == "in_mediation"
    await mediator.post(f"{path}/begin", 409, code="illegal_transition")
    await mediator.post(f"{path}/suspend", 422, json={"kind": "holiday", "reason": "x"})
    suspended = await mediator.post(f"{path}/suspend", json={"kind": "appraisal", "reason": "工伤等级鉴定"})
    assert suspended["state"] == "suspended"
    assert suspended["deadline"]["paused"] is True
    assert suspended["last_day"] is None
    resumed = await actors.court_a.post(f"{path}/resume", json={"note": "鉴定完成"})
    assert resumed["state"] == "in_mediation"
    pauses = await actors.court_a.get(f"{path}/pauses")
    assert [(p["kind"], p["reason"]) for p in pauses] == [("appraisal", "工伤等级鉴定")]
    assert pauses[0]["ended_at"] is not None
    await mediator.post(f"{path}/resume", 409, json={}, code="illegal_transition")


async def test_extension_needs_every_principal_partys_consent(actors: Actors) -> None:
    case = await mediating_case(actors)
    mediator = await actors.user("mediator1")
    path = f"/cases/{case['id']}/extensions"
    now = at_local(date(2026, 3, 2), 9)
    consents = principal_consents(case, now)
    assert len(consents) == 2
    before = await snapshot(actors.services)
    error = (
        await mediator.post(
            path,
            422,
            json={"days": 10, "reason": "双方同意延长", "consents": consents[:1]},
            code="consent_missing",
        )
    )["error"]
    assert error["field"] == "consents"
    # The agent's consent does not replace the employer's own.
    agent = next(p for p in case["parties"] if p["role"] == "agent")
    with_agent = [consents[0], {**consents[0], "party_id": agent["id"]}]
    await mediator.post(
        path, 422, json={"days": 10, "reason": "x", "consents": with_agent}, code="consent_missing"
    )
    twice = [consents[0], consents[0]]
    await mediator.post(
        path, 422, json={"days": 10, "reason": "x", "consents": twice}, code="duplicate_consent"
    )
    future = [{**c, "consented_at": "2026-03-03T09:00:00+08:00"} for c in consents]
    await mediator.post(path, 422, json={"days": 10, "reason": "x", "consents": future})
    naive = [{**c, "consented_at": "2026-03-01T09:00:00"} for c in consents]
    await mediator.post(path, 422, json={"days": 10, "reason": "x", "consents": naive}, code="naive_datetime")
    await mediator.post(path, 422, json={"days": 0, "reason": "x", "consents": consents})
    await actors.court_a.post(path, 403, json={"days": 10, "reason": "x", "consents": consents})
    assert await snapshot(actors.services) == before

    extension = await mediator.post(
        path, 201, json={"days": 10, "reason": "双方同意延长", "consents": consents}
    )
    assert extension["days"] == 10
    assert {c["party_id"] for c in extension["consents"]} == {c["party_id"] for c in consents}
    extended = await mediator.get(f"/cases/{case['id']}")
    assert extended["state"] == "extended"
    assert extended["deadline"]["extension_days"] == 10
    assert extended["deadline"]["last_day"] == "2026-04-13"  # 1 April + 10 = Sat 11 April → Mon 13 April
    assert [e["id"] for e in await actors.court_a.get(path)] == [extension["id"]]
    again = await mediator.post(path, 201, json={"days": 5, "reason": "再次延长", "consents": consents})
    assert again["days"] == 5
    assert (await mediator.get(f"/cases/{case['id']}"))["deadline"]["extension_days"] == 15


async def test_terminate_with_an_omr25_reason(actors: Actors) -> None:
    case = await mediating_case(actors)
    mediator = await actors.user("mediator1")
    path = f"/cases/{case['id']}/terminate"
    await mediator.post(path, 422, json={"reason": "agreement_reached"}, code="invalid_reason")
    await mediator.post(path, 422, json={"reason": "bored"})
    await mediator.post(path, 422, json={})
    await actors.union1.post(path, 403, json={"reason": "party_refuses"})
    done = await mediator.post(path, json={"reason": "positions_too_far", "note": "双方差距过大"})
    assert done["state"] == "terminated"
    assert done["outcome"] == "failed"
    assert done["termination_reason"] == "positions_too_far"
    assert done["termination_note"] == "双方差距过大"
    assert done["closed_at"] is not None
    assert done["deadline_status"] is None
    error = (await actors.court_a.post(path, 409, json={"reason": "other"}, code="illegal_transition"))[
        "error"
    ]
    assert error["current_state"] == "terminated"
    listed = await actors.court_a.get("/cases?state=terminated")
    assert [c["id"] for c in listed["items"]] == [case["id"]]
    # A closed case takes no more disclosures or change requests (allowed_actions does not offer them).
    assert set(done["allowed_actions"]) <= {"read_material"}
    worker = next(p for p in case["parties"] if p["party_type"] == "worker")
    error = (
        await mediator.post(
            f"/cases/{case['id']}/disclosures", 409, json={"kind": "none"}, code="illegal_transition"
        )
    )["error"]
    assert error["current_state"] == "terminated"
    await actors.court_a.post(
        f"/cases/{case['id']}/change-requests",
        409,
        code="illegal_transition",
        json={"party_id": worker["id"], "kind": "change", "reason": "x"},
    )


async def test_court_terminates_before_assignment(actors: Actors) -> None:
    case = await new_case(actors)
    path = f"/cases/{case['id']}/terminate"
    await actors.court_a.post(path, 422, json={"reason": "period_expired"}, code="invalid_reason")
    done = await actors.court_a.post(path, json={"reason": "settled_withdrawn"})
    assert (done["state"], done["outcome"]) == ("terminated", "failed")
    await actors.court_a.post(
        f"/cases/{case['id']}/assignment",
        409,
        json={"mediator_id": actors.mediator_id("m1")},
        code="illegal_transition",
    )


# --- materials ----------------------------------------------------------------------------------------


async def test_numbers_quoted_in_free_text_are_masked_for_the_union(actors: Actors) -> None:
    """The claims and summary may quote an ID or a phone number: the court and the mediator handling the case
    read them in full, the union (which sees the parties masked) reads them masked too."""
    worker_id = resident_id()
    claims = f"请求支付工资32000元（申请人身份证号{worker_id}，电话13812345678）"
    case = await assigned_case(actors, claims=claims, summary=f"联系电话：13812345678；{worker_id}")
    path = f"/cases/{case['id']}"
    court = await actors.court_a.get(path)
    assert court["claims"] == claims
    union = await actors.union1.get(path)
    assert worker_id not in union["claims"]
    assert "13812345678" not in union["claims"]
    assert "13812345678" not in union["summary"]
    assert union["claims"].startswith("请求支付工资32000元（申请人身份证号410*")  # masked, not removed
    assert "电话138****5678" in union["claims"]
    mediator = await actors.user("mediator1")
    assert (await mediator.get(path))["claims"] == claims


async def test_percent_encoded_file_names_are_stored_decoded(actors: Actors) -> None:
    """aiohttp's client (as many court systems' HTTP libraries) percent-encodes a non-ASCII file name;
    browsers encode a double quote as %22. Stored and shown decoded; what does not decode stays as sent."""
    case = await accepted_case(actors)
    path = f"/cases/{case['id']}/materials"
    for sent, stored in (
        ("裁决书 (1).pdf", "裁决书 (1).pdf"),  # quoted by FormData below: %E8%A3%81…
        ('报告"终稿".pdf', "报告_终稿_.pdf"),  # %22 decoded, then refused like any quote
        ("100%.pdf", "100%.pdf"),  # not an escape
        ("%FF%FE.pdf", "%FF%FE.pdf"),  # escapes, but not UTF-8: kept as sent
    ):
        form = FormData()  # quote_fields=True, aiohttp's default
        form.add_field("file", PDF, filename=sent, content_type="application/pdf")
        uploaded = await actors.court_a.post(path, 201, data=form)
        assert uploaded["filename"] == stored, sent


async def test_upload_list_and_download_materials(actors: Actors) -> None:
    case = await accepted_case(actors)
    path = f"/cases/{case['id']}/materials"
    uploaded = await actors.court_a.post(
        path, 201, data=upload_form("裁决书 (1).pdf", description="仲裁裁决书")
    )
    assert uploaded["filename"] == "裁决书 (1).pdf"
    assert uploaded["content_type"] == "application/pdf"
    assert uploaded["size"] == len(PDF)
    assert uploaded["description"] == "仲裁裁决书"
    mediator = await actors.user("mediator1")
    text = await mediator.post(path, 201, data=upload_form("note.txt", "笔录".encode(), "text/plain"))
    listed = await actors.union1.get(path)
    assert [m["id"] for m in listed] == sorted([uploaded["id"], text["id"]])
    for caller in (actors.court_a, mediator):
        reply = await caller.call("GET", f"{path}/{uploaded['id']}")
        assert reply.status == 200
        assert reply.body == PDF
        assert reply.headers["Content-Type"] == "application/pdf"
        assert reply.headers["X-Content-SHA256"] == uploaded["sha256"]
        assert reply.headers["Content-Disposition"].startswith("attachment;")
    await actors.court_a.get(f"{path}/mat_00000000000000000000000000", 404)
    events = await actors.court_a.get(f"/cases/{case['id']}/events")
    assert [e["action"] for e in events].count("upload_material") == 2
