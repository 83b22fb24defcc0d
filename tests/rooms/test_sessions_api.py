"""Scheduling sessions and join links through the API."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from rooms import sessions as sessions_module
from rooms.notify import LogNotifier, Message, NotifyFailed
from rooms.sessions import resolve_join
from rooms.tables import MediationSession, SessionRecord
from tests.conftest import START, Api
from tests.factories import PASSWORD, World, case_payload
from tiaojie.clock import FrozenClock
from tiaojie.errors import TiaojieError
from web.services import Services

Client = TestClient[Any, Any]


async def mediator_headers(client: Client, username: str = "mediator1") -> dict[str, str]:
    response = await client.post("/api/v1/session", json={"username": username, "password": PASSWORD})
    assert response.status == 200, await response.text()
    return {"X-CSRF-Token": (await response.json())["csrf_token"]}


async def accepted_case(api: Api, world: World) -> str:
    case = await api.as_("court_a").post("/cases", json=case_payload(), expect=201)
    await api.as_("court_a").post(
        f"/cases/{case['id']}/assignment", json={"mediator_id": world.mediators["m1"]}, expect=200
    )
    await api.as_("org1").post(f"/cases/{case['id']}/accept", json={}, expect=200)
    return str(case["id"])


async def refusal(services: Services, token: str) -> str:
    """The code with which the join token is refused."""
    async with services.db.read() as session:
        with pytest.raises(TiaojieError) as error:
            await resolve_join(session, token, secret=services.links.secret, now=services.clock.now())
    return error.value.code


async def opens(services: Services, token: str) -> str:
    async with services.db.read() as session:
        joined = await resolve_join(session, token, secret=services.links.secret, now=services.clock.now())
    return joined.participant.id


def plan(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "第一次调解",
        "scheduled_start": (START + timedelta(days=1)).isoformat(),
        "scheduled_end": (START + timedelta(days=1, hours=2)).isoformat(),
    }
    body.update(overrides)
    return body


async def test_mediator_schedules_and_every_link_opens_its_seat(
    client: Client, api: Api, world: World, services: Services
) -> None:
    case_id = await accepted_case(api, world)
    headers = await mediator_headers(client)
    response = await client.post(
        f"/api/v1/cases/{case_id}/sessions",
        json=plan(notify=True, observers=[{"role": "judge", "name": "陈法官"}]),
        headers=headers,
    )
    assert response.status == 201, await response.text()
    created = await response.json()
    roles = sorted(p["role"] for p in created["participants"])
    assert roles == ["applicant", "judge", "mediator", "respondent", "respondent"]
    assert len(created["links"]) == 5
    for link in created["links"]:
        assert "/j#v1." in link["url"]
        token = link["url"].split("#", 1)[1]
        assert await opens(services, token) == link["participant_id"]
    notifier = services.notifier
    assert isinstance(notifier, LogNotifier)
    assert len(notifier.sent) == 3  # the three people with phones, not the mediator
    assert all("/j#v1." in m.text for m in notifier.sent)
    # Sent once the session was stored, before the answer: the answer says what became of each.
    invited = {p["id"] for p in created["participants"] if p["invitation"] == "sent"}
    assert invited == {m.recipient for m in notifier.sent}
    listed = await api.as_("court_a").get(f"/cases/{case_id}/sessions", expect=200)
    assert listed[0]["links"] == []
    assert {p["id"]: p["invitation"] for p in listed[0]["participants"]} == {
        p["id"]: "sent" if p["id"] in invited else None for p in created["participants"]
    }


async def test_invitations_go_out_after_the_session_is_stored_and_a_refused_one_is_noted(
    client: Client, api: Api, world: World, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A slow or refusing SMS gateway neither holds the transaction nor undoes the scheduling: the links are
    in the answer, and each participant's invitation says whether it arrived."""
    case_id = await accepted_case(api, world)
    headers = await mediator_headers(client)
    gateway = services.notifier
    stored_when_sent: list[bool] = []
    refused_phone: list[str] = []

    async def flaky_send(message: Message) -> None:
        async with services.db.read() as session:  # the session is committed before any SMS goes out
            stored = await session.scalar(select(func.count()).select_from(MediationSession))
        stored_when_sent.append(bool(stored))
        if not refused_phone:
            refused_phone.append(message.phone)
            raise NotifyFailed("the SMS gateway answered 503", gateway_status=503)

    monkeypatch.setattr(gateway, "send", flaky_send)
    keyed = {**headers, "Idempotency-Key": "schedule-1"}
    response = await client.post(f"/api/v1/cases/{case_id}/sessions", json=plan(notify=True), headers=keyed)
    assert response.status == 201, await response.text()
    created = await response.json()
    assert stored_when_sent == [True, True, True]
    answered = {p["id"]: p["invitation"] for p in created["participants"]}
    assert sorted(o for o in answered.values() if o) == ["not_delivered", "sent", "sent"]

    # The same request again (a retry with its key): the stored answer, no second round of messages.
    again = await client.post(f"/api/v1/cases/{case_id}/sessions", json=plan(notify=True), headers=keyed)
    assert again.status == 201
    assert (await again.json())["id"] == created["id"]
    assert len(stored_when_sent) == 3

    listed = await api.as_("court_a").get(f"/cases/{case_id}/sessions", expect=200)
    outcome = {p["id"]: p["invitation"] for p in listed[0]["participants"]}
    assert outcome == answered
    async with services.db.read() as session:
        records = (
            await session.scalars(
                select(SessionRecord).where(SessionRecord.kind == "invitation_not_delivered")
            )
        ).all()
    [refused] = records
    assert outcome[refused.participant_id or ""] == "not_delivered"
    assert refused.data == {
        "purpose": "join_link",
        "link_version": 1,
        "error": {"code": "notify_failed", "message": "the SMS gateway answered 503", "gateway_status": 503},
    }

    # A new link for that person, sent again: `sending` in the answer, `sent` once the gateway takes it.
    monkeypatch.setattr(gateway, "send", LogNotifier().send)
    response = await client.post(
        f"/api/v1/cases/{case_id}/sessions/{created['id']}/participants/{refused.participant_id}/link",
        headers=headers,
    )
    assert response.status == 200, await response.text()
    reissued = await response.json()
    assert {p["id"]: p["invitation"] for p in reissued["participants"]}[refused.participant_id] == "sent"
    listed = await api.as_("court_a").get(f"/cases/{case_id}/sessions", expect=200)
    assert {p["id"]: p["invitation"] for p in listed[0]["participants"]} == {
        **answered,
        refused.participant_id: "sent",
    }

    # Revoking a link: the answer shows everyone's invitations; a link never sent by SMS shows none.
    other = next(pid for pid, o in answered.items() if o == "sent")
    response = await client.post(
        f"/api/v1/cases/{case_id}/sessions/{created['id']}/participants/{other}/revoke", headers=headers
    )
    revoked = {p["id"]: p["invitation"] for p in (await response.json())["participants"]}
    assert revoked[refused.participant_id] == "sent"
    response = await client.post(f"/api/v1/cases/{case_id}/sessions/{created['id']}/cancel", headers=headers)
    assert {p["id"]: p["invitation"] for p in (await response.json())["participants"]} == revoked


async def test_a_failure_to_record_the_outcome_does_not_fail_a_stored_session(
    client: Client, api: Api, world: World, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    case_id = await accepted_case(api, world)
    headers = await mediator_headers(client)

    async def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(sessions_module, "record_invitations", broken)
    response = await client.post(f"/api/v1/cases/{case_id}/sessions", json=plan(notify=True), headers=headers)
    assert response.status == 201, await response.text()
    listed = await api.as_("court_a").get(f"/cases/{case_id}/sessions", expect=200)
    assert [s["id"] for s in listed] == [(await response.json())["id"]]


async def test_revoked_and_replaced_links_stop_working(
    client: Client, api: Api, world: World, services: Services
) -> None:
    case_id = await accepted_case(api, world)
    headers = await mediator_headers(client)
    created = await (
        await client.post(f"/api/v1/cases/{case_id}/sessions", json=plan(), headers=headers)
    ).json()
    session_id = created["id"]
    link = next(
        link for link in created["links"] if link["participant_id"] != created["participants"][0]["id"]
    )
    pid = link["participant_id"]
    old = link["url"].split("#", 1)[1]
    response = await client.post(
        f"/api/v1/cases/{case_id}/sessions/{session_id}/participants/{pid}/link", headers=headers
    )
    assert response.status == 200
    new = (await response.json())["links"][0]["url"].split("#", 1)[1]
    assert await refusal(services, old) == "token_revoked"
    assert await opens(services, new) == pid
    response = await client.post(
        f"/api/v1/cases/{case_id}/sessions/{session_id}/participants/{pid}/revoke", headers=headers
    )
    assert response.status == 200
    assert await refusal(services, new) == "token_revoked"


async def test_links_expire_and_cancelled_sessions_close(
    client: Client, api: Api, world: World, services: Services, clock: FrozenClock
) -> None:
    case_id = await accepted_case(api, world)
    headers = await mediator_headers(client)
    created = await (
        await client.post(f"/api/v1/cases/{case_id}/sessions", json=plan(), headers=headers)
    ).json()
    token = created["links"][1]["url"].split("#", 1)[1]
    clock.advance(timedelta(days=1, hours=2 + services.settings.join_link_hours))
    assert await refusal(services, token) == "token_expired"
    clock.set(START)
    response = await client.post(f"/api/v1/cases/{case_id}/sessions/{created['id']}/cancel", headers=headers)
    assert response.status == 200
    assert await refusal(services, token) == "session_over"


async def test_separate_mode_slots(
    client: Client, api: Api, world: World, services: Services, clock: FrozenClock
) -> None:
    case_id = await accepted_case(api, world)
    case = await api.as_("court_a").get(f"/cases/{case_id}")
    worker = next(p["id"] for p in case["parties"] if p["party_type"] == "worker")
    start = START + timedelta(days=1)
    body = plan(
        mode="separate",
        party_ids=[worker],
        slots=[
            {
                "party_id": worker,
                "start": (start + timedelta(hours=1)).isoformat(),
                "end": (start + timedelta(hours=2)).isoformat(),
            }
        ],
    )
    headers = await mediator_headers(client)
    created = await (
        await client.post(f"/api/v1/cases/{case_id}/sessions", json=body, headers=headers)
    ).json()
    token = next(
        link["url"] for link in created["links"] if link["participant_id"] != created["participants"][0]["id"]
    ).split("#")[1]
    clock.set(start)
    assert await refusal(services, token) == "outside_slot"
    clock.set(start + timedelta(minutes=50))
    assert await opens(services, token)


async def test_who_may_schedule_and_bad_plans(client: Client, api: Api, world: World) -> None:
    case_id = await accepted_case(api, world)
    body = await api.as_("court_a").post(f"/cases/{case_id}/sessions", json=plan(), expect=403)
    assert body["error"]["code"] == "not_case_mediator"
    await api.as_("court_b").post(f"/cases/{case_id}/sessions", json=plan(), expect=404)
    headers = await mediator_headers(client)
    for bad, field in (
        (plan(scheduled_end=START.isoformat()), "scheduled_end"),
        (plan(party_ids=["pty_nothing"]), "party_ids.0"),
        (plan(slots=[{"party_id": "x", "start": START.isoformat(), "end": START.isoformat()}]), "slots.0"),
        (plan(scheduled_start="tomorrow"), "scheduled_start"),
    ):
        response = await client.post(f"/api/v1/cases/{case_id}/sessions", json=bad, headers=headers)
        assert response.status == 422, await response.text()
        assert (await response.json())["error"]["field"] == field
    fresh = await api.as_("court_a").post("/cases", json=case_payload(), expect=201)
    await api.as_("court_a").post(
        f"/cases/{fresh['id']}/assignment", json={"mediator_id": world.mediators["m1"]}
    )
    response = await client.post(f"/api/v1/cases/{fresh['id']}/sessions", json=plan(), headers=headers)
    assert response.status == 409
    assert (await response.json())["error"]["current_state"] == "assigned"
