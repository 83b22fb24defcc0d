"""Registering endpoints: who may, which URLs are refused, changes, deletion, rotation."""

from __future__ import annotations

import asyncio

import pytest

from tests.apihelp import Actors, new_case
from tests.webhooks.conftest import register
from tests.webhooks.receiver import Receiver
from web.api import webhooks as webhooks_api


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("not a url", "invalid_url"),
        ("ftp://127.0.0.1/hook", "invalid_url"),
        ("https://user:secret@127.0.0.1/hook", "invalid_url"),
        ("http://10.0.0.7/hook", "address_not_allowed"),
        ("http://192.168.1.20:8080/hook", "address_not_allowed"),
        ("http://169.254.169.254/latest/meta-data", "address_not_allowed"),
        ("http://[::1]:8080/hook", "address_not_allowed"),
        ("http://[fd00::1]/hook", "address_not_allowed"),
        ("http://0.0.0.0:80/hook", "address_not_allowed"),
        ("http://localhost6.invalid/hook", "unresolvable_host"),
    ],
)
async def test_bad_registrations_are_refused(actors: Actors, url: str, code: str) -> None:
    await actors.court_a.post("/webhooks/endpoints", 422, code=code, json={"url": url})
    assert await actors.court_a.get("/webhooks/endpoints") == []


async def test_loopback_is_refused_unless_the_operator_allowed_it(actors: Actors) -> None:
    # The fixture allows 127.0.0.0/8 only: a loopback name resolving there is accepted, ::1 is not.
    body = await actors.court_a.post("/webhooks/endpoints", 201, json={"url": "http://127.0.0.1:9/h"})
    assert body["status"] == "active"


async def test_only_courts_register_and_each_sees_only_its_own(actors: Actors, receiver: Receiver) -> None:
    endpoint = await register(actors, receiver, description="立案庭系统", event_types=["case.closed"])
    assert endpoint["secret"].startswith("whsec_")
    assert endpoint["event_types"] == ["case.closed"]
    path = f"/webhooks/endpoints/{endpoint['id']}"
    listed = await actors.court_a.get("/webhooks/endpoints")
    assert [e["id"] for e in listed] == [endpoint["id"]]
    assert "secret" not in listed[0]
    await actors.court_b.get(path, 404, code="not_found")
    assert await actors.court_b.get("/webhooks/endpoints") == []
    await actors.court_b.expect("DELETE", path, 404)
    for who in ("union1", "org1"):
        await actors.key(who).get("/webhooks/endpoints", 403, code="court_only")
        await actors.key(who).post("/webhooks/endpoints", 403, code="court_only", json={"url": receiver.url})
        await actors.key(who).get("/webhooks/events", 403, code="court_only")
    mediator = await actors.user("mediator1")
    await mediator.get(path, 403, code="court_only")
    await actors.nobody.get("/webhooks/endpoints", 401)


async def test_change_pause_and_delete(actors: Actors, receiver: Receiver) -> None:
    endpoint = await register(actors, receiver)
    path = f"/webhooks/endpoints/{endpoint['id']}"
    changed = await actors.court_a.patch(
        path,
        json={"event_types": ["case.closed", "case.accepted"], "description": "新系统", "enabled": False},
    )
    assert changed["event_types"] == ["case.accepted", "case.closed"]
    assert changed["status"] == "disabled"
    assert changed["disabled_reason"] == "disabled by the court"
    await actors.court_a.patch(path, 422, code="address_not_allowed", json={"url": "http://10.1.1.1/x"})
    assert (await actors.court_a.get(path))["url"] == receiver.url
    resumed = await actors.court_a.patch(path, json={"enabled": True})
    assert resumed["status"] == "active"
    assert resumed["disabled_reason"] is None
    await actors.court_a.expect("DELETE", path, 204)
    await actors.court_a.get(path, 404)
    audit_actions = await _audit_actions(actors, endpoint["id"])
    assert audit_actions == [
        "webhook_endpoint_registered",
        "webhook_endpoint_changed",
        "webhook_endpoint_changed",
        "webhook_endpoint_deleted",
    ]


async def _audit_actions(actors: Actors, endpoint_id: str) -> list[str]:
    from cases.audit import events_for

    async with actors.services.db.read() as session:
        return [
            e.action
            for e in await events_for(session, subject_type="webhook_endpoint", subject_id=endpoint_id)
        ]


async def test_rotation_keeps_the_old_secret_for_the_overlap_only(actors: Actors, receiver: Receiver) -> None:
    endpoint = await register(actors, receiver)
    path = f"/webhooks/endpoints/{endpoint['id']}/rotate-secret"
    first = await actors.court_a.post(path, json={"overlap_hours": 24})
    assert first["previous_valid_until"] == "2026-03-03T01:00:00Z"
    shown = await actors.court_a.get(f"/webhooks/endpoints/{endpoint['id']}")
    assert shown["previous_secret_expiry"] == ["2026-03-03T01:00:00Z"]
    second = await actors.court_a.post(path, json={"overlap_hours": 0})
    assert second["previous_valid_until"] is None
    assert len({endpoint["secret"], first["secret"], second["secret"]}) == 3
    await actors.court_a.post(path, 422, json={"overlap_hours": 500})
    await actors.court_b.post(path, 404, json={})


async def test_a_court_has_a_limited_number_of_endpoints(actors: Actors) -> None:
    for n in range(20):
        await actors.court_a.post("/webhooks/endpoints", 201, json={"url": f"http://127.0.0.1:9/{n}"})
    await actors.court_a.post(
        "/webhooks/endpoints", 409, code="too_many_endpoints", json={"url": "http://127.0.0.1:9/x"}
    )


async def test_resolving_the_host_holds_up_no_other_write(
    actors: Actors, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The host name is resolved before the request's transaction opens: while a slow DNS answer is awaited,
    other requests still write (on SQLite a writing transaction holds the process's write lock)."""
    asked = asyncio.Event()
    answer = asyncio.Event()

    async def slow_resolver(host: str, port: int) -> list[str]:
        asked.set()
        await answer.wait()
        return ["127.0.0.1"]

    monkeypatch.setattr(webhooks_api, "resolve_host", slow_resolver)
    registering = asyncio.create_task(
        actors.court_a.post("/webhooks/endpoints", 201, json={"url": "http://hooks.court-a.example/in"})
    )
    await asyncio.wait_for(asked.wait(), 10)
    case = await asyncio.wait_for(new_case(actors), 10)  # would wait for the registration's lock before
    assert case["state"] == "created"
    answer.set()
    endpoint = await asyncio.wait_for(registering, 10)
    assert endpoint["url"] == "http://hooks.court-a.example/in"
