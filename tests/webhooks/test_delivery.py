"""Delivery end to end: case changes through the API → outbox → worker → a real receiver on loopback that
verifies every delivery with the standardwebhooks library."""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

import pytest

from cluster.jobs import DesignatedJobs
from tests.apihelp import Actors, accepted_case, assigned_case, mediating_case
from tests.factories import case_payload
from tests.webhooks.conftest import drain, pending, register
from tests.webhooks.receiver import Answer, Hang, Receiver
from tiaojie.at_rest import PREFIX, SecretBox, SecretUnreadable
from tiaojie.clock import FrozenClock
from web.services import Services
from webhooks.addresses import parse_networks
from webhooks.schedule import MAX_ATTEMPTS, AttemptResult
from webhooks.sender import Sender
from webhooks.tables import WebhookEndpoint
from webhooks.worker import DeliveryWorker, Job, _disable, seal_stored_secrets, valid_secrets


async def _events(actors: Actors, after: int = 0) -> list[dict[str, Any]]:
    page = await actors.court_a.get(f"/webhooks/events?after={after}&limit=500")
    items: list[dict[str, Any]] = page["items"]
    return items


def _in_order_per_case(receiver: Receiver, events: list[dict[str, Any]]) -> None:
    """Per case, the deliveries first accepted in the order of the events' seq."""
    seq = {e["id"]: e["seq"] for e in events}
    by_case: dict[str, list[int]] = defaultdict(list)
    for r in receiver.unique():
        by_case[r.payload["data"]["case_id"]].append(seq[r.msg_id])
    for case_id, numbers in by_case.items():
        assert numbers == sorted(numbers), (case_id, numbers)


async def test_every_change_arrives_signed_in_order(
    actors: Actors, services: Services, clock: FrozenClock, receiver: Receiver, worker: DeliveryWorker
) -> None:
    await register(actors, receiver)
    case = await mediating_case(actors)
    mediator = await actors.user("mediator1")
    await mediator.post(
        f"/cases/{case['id']}/terminate", json={"reason": "positions_too_far", "note": "差距大"}
    )
    assert await drain(worker, services, clock) == 4
    assert all(r.verified_by == (0,) for r in receiver.received)
    got = [(r.payload["type"], r.payload["data"]["state"]) for r in receiver.unique()]
    assert got == [
        ("case.assigned", "assigned"),
        ("case.accepted", "accepted"),
        ("case.mediation_started", "in_mediation"),
        ("case.closed", "terminated"),
    ]
    closed = receiver.unique()[-1].payload
    assert closed["id"] == receiver.unique()[-1].msg_id
    assert closed["data"]["reason"] == "positions_too_far"
    assert closed["data"]["outcome"] == "failed"
    assert closed["data"]["case_number"] == case["case_number"]
    assert closed["data"]["mediator_id"] == actors.world.mediators["m1"]
    assigned = receiver.unique()[0].payload["data"]
    assert assigned["mediator_id"] == actors.world.mediators["m1"]
    assert assigned["organisation_id"] == actors.world.orgs["o1"]
    assert assigned["acceptance_due"] == "2026-03-05"
    assert len(receiver.received) == 4  # nothing sent twice when every answer was a 2xx


async def test_events_only_for_the_court_and_the_types_subscribed(
    actors: Actors, services: Services, clock: FrozenClock, receiver: Receiver, worker: DeliveryWorker
) -> None:
    await register(actors, receiver, event_types=["case.accepted"])
    await accepted_case(actors)
    court_b_case = await actors.court_b.post("/cases", 201, json=case_payload())
    assert court_b_case["court_id"] == actors.world.courts["b"]
    await drain(worker, services, clock)
    assert [r.payload["type"] for r in receiver.unique()] == ["case.accepted"]


async def test_a_receiver_down_failing_slow_and_throttling_still_gets_everything_once(
    actors: Actors, services: Services, clock: FrozenClock, receiver: Receiver, worker: DeliveryWorker
) -> None:
    await register(actors, receiver)
    cases = [await assigned_case(actors) for _ in range(3)]
    mediator = await actors.user("mediator1")
    for case in cases:
        await mediator.post(f"/cases/{case['id']}/accept", json={})
    await receiver.stop()  # down: connections refused
    attempts = await worker.run_once()
    assert attempts == 3  # the head of each case; the later events of a case wait behind it
    await receiver.start()
    receiver.script.extend(
        [
            Answer(500, body=b"\x00\xff oops \xe4\xb8"),  # a NUL and broken UTF-8 in the logged excerpt
            Hang(),
            Answer(503, {"Retry-After": "600"}),
            Answer(429, {"Retry-After": "5"}),
            Answer(302, {"Location": receiver.url}),  # not followed
        ]
    )
    await drain(worker, services, clock)
    events = await _events(actors)
    assert len(events) == 6
    assert sorted(r.msg_id for r in receiver.unique()) == sorted(e["id"] for e in events)
    assert len(receiver.delivered()) == 6
    assert all(r.verified_by == (0,) for r in receiver.received)
    _in_order_per_case(receiver, events)

    endpoint_id = (await actors.court_a.get("/webhooks/endpoints"))[0]["id"]
    log = (await actors.court_a.get(f"/webhooks/endpoints/{endpoint_id}/deliveries?limit=200"))["items"]
    assert {d["status"] for d in log} == {"delivered"}
    attempts_seen = [a for d in log for a in d["log"]]
    errors = {a["error"] for a in attempts_seen if a["status"] is None}
    statuses = {a["status"] for a in attempts_seen if a["status"] is not None}
    assert "timeout" in errors
    assert any(e and "Connect" in e for e in errors), errors
    assert {500, 503, 429, 302} <= statuses
    throttled = next(a for a in attempts_seen if a["status"] == 503)
    assert throttled["next_attempt_at"] is not None
    wait = datetime.fromisoformat(throttled["next_attempt_at"]) - datetime.fromisoformat(throttled["at"])
    assert wait >= timedelta(seconds=600)  # Retry-After honoured beyond the 5 s backoff


async def test_410_disables_the_endpoint_until_the_court_enables_it(
    actors: Actors, services: Services, clock: FrozenClock, receiver: Receiver, worker: DeliveryWorker
) -> None:
    endpoint = await register(actors, receiver)
    receiver.script.append(Answer(410))
    case = await accepted_case(actors)
    assert await worker.run_once() == 1
    shown = await actors.court_a.get(f"/webhooks/endpoints/{endpoint['id']}")
    assert shown["status"] == "disabled"
    assert "410" in shown["disabled_reason"]
    clock.advance(timedelta(days=1))
    assert await worker.run_once() == 0  # nothing goes to a disabled endpoint
    assert await pending(services) == 2
    await actors.court_a.patch(f"/webhooks/endpoints/{endpoint['id']}", json={"enabled": True})
    await drain(worker, services, clock)
    assert [r.payload["type"] for r in receiver.unique()] == ["case.assigned", "case.accepted"]
    assert all(r.payload["data"]["case_id"] == case["id"] for r in receiver.unique())


async def test_a_410_does_not_disable_an_endpoint_the_court_moved_meanwhile(
    actors: Actors, services: Services, clock: FrozenClock, receiver: Receiver, worker: DeliveryWorker
) -> None:
    """The attempt is in flight when the court points the endpoint elsewhere: the old URL's 410 must not
    disable the new one (the endpoint row is not locked during the attempt)."""
    endpoint = await register(actors, receiver)
    moved_to = receiver.url + "/v2"
    send = worker.sender.send

    async def send_while_the_court_moves_it(url: str, headers: dict[str, str], body: bytes) -> AttemptResult:
        await actors.court_a.patch(f"/webhooks/endpoints/{endpoint['id']}", json={"url": moved_to})
        return AttemptResult(status=410, latency_ms=1)

    worker.sender.send = send_while_the_court_moves_it  # type: ignore[method-assign]
    await assigned_case(actors)
    assert await worker.run_once() == 1
    shown = await actors.court_a.get(f"/webhooks/endpoints/{endpoint['id']}")
    assert (shown["status"], shown["url"]) == ("active", moved_to)
    worker.sender.send = send  # type: ignore[method-assign]


async def test_disabling_is_conditional_on_what_the_worker_saw(
    services: Services, actors: Actors, receiver: Receiver
) -> None:
    endpoint = await register(actors, receiver)
    async with services.db.read() as session:
        row = await session.get(WebhookEndpoint, endpoint["id"])
        assert row is not None
        seen_version, seen_url = row.updated_at, row.url
    now = seen_version + timedelta(minutes=1)
    async with services.db.session() as session:
        # Changed by the court since (another version, another URL): left alone.
        assert not await _disable(
            session, endpoint["id"], "x", now, version=seen_version - timedelta(seconds=1)
        )
        assert not await _disable(session, endpoint["id"], "x", now, url=seen_url + "/old")
        assert await _disable(session, endpoint["id"], "gone", now, version=seen_version, url=seen_url)
        assert not await _disable(session, endpoint["id"], "again", now)  # already disabled
    shown = await actors.court_a.get(f"/webhooks/endpoints/{endpoint['id']}")
    assert (shown["status"], shown["disabled_reason"]) == ("disabled", "gone")


async def test_a_delivery_is_given_up_after_the_last_retry_and_can_be_redelivered(
    actors: Actors, services: Services, clock: FrozenClock, receiver: Receiver, worker: DeliveryWorker
) -> None:
    endpoint = await register(actors, receiver)
    receiver.script.extend([Answer(500)] * MAX_ATTEMPTS)
    start = clock.now()
    await assigned_case(actors)
    await drain(worker, services, clock)
    assert 2.5 <= (clock.now() - start) / timedelta(days=1) <= 3.7
    path = f"/webhooks/endpoints/{endpoint['id']}/deliveries"
    (delivery,) = (await actors.court_a.get(path))["items"]
    assert delivery["status"] == "failed"
    assert delivery["attempts"] == MAX_ATTEMPTS
    assert [a["status"] for a in delivery["log"]] == [500] * MAX_ATTEMPTS
    assert delivery["log"][-1]["next_attempt_at"] is None
    assert (await actors.court_a.get(f"{path}?status=failed"))["items"][0]["id"] == delivery["id"]
    assert (await actors.court_a.get(f"{path}?status=delivered"))["items"] == []

    await actors.court_a.post(f"{path}/{delivery['id']}/redeliver", 204)
    await drain(worker, services, clock)
    (again,) = (await actors.court_a.get(path))["items"]
    assert again["status"] == "delivered"
    assert len(again["log"]) == MAX_ATTEMPTS + 1
    assert [r.msg_id for r in receiver.delivered()] == [delivery["event_id"]]

    # A delivered one can be sent again too, with the same webhook-id.
    await actors.court_a.post(f"{path}/{delivery['id']}/redeliver", 204)
    await drain(worker, services, clock)
    assert [r.msg_id for r in receiver.delivered()] == [delivery["event_id"]] * 2
    assert len(receiver.unique()) == 1


async def test_secret_rotation_overlaps_then_only_the_new_secret_signs(
    actors: Actors, services: Services, clock: FrozenClock, receiver: Receiver, worker: DeliveryWorker
) -> None:
    endpoint = await register(actors, receiver)
    case = await assigned_case(actors)
    await drain(worker, services, clock)
    rotated = await actors.court_a.post(
        f"/webhooks/endpoints/{endpoint['id']}/rotate-secret", json={"overlap_hours": 2}
    )
    assert rotated["secret"].startswith("whsec_")
    assert rotated["secret"] != endpoint["secret"]
    receiver.secrets.insert(0, rotated["secret"])  # [new, old]
    mediator = await actors.user("mediator1")
    await mediator.post(f"/cases/{case['id']}/accept", json={})
    await drain(worker, services, clock)
    during = receiver.received[-1]
    assert during.verified_by == (0, 1)
    assert len(during.headers["webhook-signature"].split(" ")) == 2

    clock.advance(timedelta(hours=3))
    await mediator.post(f"/cases/{case['id']}/begin")
    await drain(worker, services, clock)
    after = receiver.received[-1]
    assert after.verified_by == (0,)
    assert len(after.headers["webhook-signature"].split(" ")) == 1
    shown = await actors.court_a.get(f"/webhooks/endpoints/{endpoint['id']}")
    assert "secret" not in shown


async def test_catch_up_by_cursor(actors: Actors) -> None:
    for _ in range(3):
        await accepted_case(actors)
    await actors.court_b.post("/cases", 201, json=case_payload())
    everything = await _events(actors)
    assert [e["seq"] for e in everything] == [1, 2, 3, 4, 5, 6]
    assert [e["type"] for e in everything[:2]] == ["case.assigned", "case.accepted"]
    first = await actors.court_a.get("/webhooks/events?limit=4")
    assert first["more"] is True
    assert first["cursor"] == 4
    rest = await actors.court_a.get(f"/webhooks/events?after={first['cursor']}&limit=4")
    assert rest["more"] is False
    assert [e["seq"] for e in rest["items"]] == [5, 6]
    end = await actors.court_a.get(f"/webhooks/events?after={rest['cursor']}")
    assert end == {"items": [], "cursor": 6, "more": False}
    accepted = await actors.court_a.get("/webhooks/events?type=case.accepted")
    assert [e["seq"] for e in accepted["items"]] == [2, 4, 6]
    assert (await actors.court_b.get("/webhooks/events"))["items"] == []


class _Observed(DeliveryWorker):
    """The real worker, telling the test when it recorded attempts."""

    recorded: asyncio.Event

    async def _record(self, outcomes: list[tuple[Job, AttemptResult]]) -> None:
        await super()._record(outcomes)
        self.recorded.set()


async def test_a_hanging_endpoint_holds_up_no_other(
    actors: Actors, services: Services, clock: FrozenClock, receiver: Receiver
) -> None:
    slow = await Receiver().start()
    try:
        await register(actors, slow)
        await register(actors, receiver)
        slow.script.extend([Hang()] * 20)
        async with Sender(parse_networks(["127.0.0.0/8"]), timeout=30) as sender:
            worker = _Observed(
                services.db, clock, sender, services.secret_box, rand=lambda: 0.5, concurrency=8
            )
            worker.recorded = asyncio.Event()
            running = asyncio.create_task(worker.run(DesignatedJobs(True), poll=30))
            try:
                first = await assigned_case(actors)
                while len(receiver.delivered()) < 1 or not worker.recorded.is_set():
                    await asyncio.wait_for(asyncio.shield(_either(receiver.arrived, worker.recorded)), 10)
                    receiver.arrived.clear()
                # Ten more cases: the hanging endpoint has a head for each, yet it holds at most half of the
                # eight attempts in flight, and the healthy one gets every event, woken by the commits (the
                # poll is 30 s).
                later = [await assigned_case(actors) for _ in range(10)]
                while len(receiver.delivered()) < 11:
                    await asyncio.wait_for(receiver.arrived.wait(), 10)
                    receiver.arrived.clear()
                got = {r.payload["data"]["case_id"] for r in receiver.delivered()}
                assert got == {c["id"] for c in [first, *later]}
                assert 1 <= len(slow.received) <= 4  # still hanging, and no more than half the slots
                assert slow.delivered() == []
            finally:
                running.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await running
    finally:
        await slow.stop()
    endpoints = await actors.court_a.get("/webhooks/endpoints")
    fast = next(e for e in endpoints if e["url"] == receiver.url)
    log = (await actors.court_a.get(f"/webhooks/endpoints/{fast['id']}/deliveries"))["items"]
    assert "delivered" in {d["status"] for d in log}


async def _either(*events: asyncio.Event) -> None:
    waiters = [asyncio.ensure_future(e.wait()) for e in events]
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()


async def test_secrets_are_stored_sealed_and_old_clear_ones_are_sealed_at_start(
    actors: Actors, services: Services, clock: FrozenClock, receiver: Receiver, worker: DeliveryWorker
) -> None:
    """A copy of the database does not give the signing keys: they are stored sealed under a key derived from
    TIAOJIE_SECRET_KEY. Secrets stored in the clear by an earlier version are sealed when delivery starts,
    and deliveries are signed with the same secrets before and after."""
    endpoint = await register(actors, receiver)
    rotated = await actors.court_a.post(
        f"/webhooks/endpoints/{endpoint['id']}/rotate-secret", json={"overlap_hours": 2}
    )
    receiver.secrets.insert(0, rotated["secret"])
    async with services.db.read() as session:
        row = await session.get(WebhookEndpoint, endpoint["id"])
        assert row is not None
        stored = [row.secret, *(str(p["secret"]) for p in row.previous_secrets)]
    assert len(stored) == 2
    for value in stored:
        assert value.startswith(PREFIX)
        assert rotated["secret"] not in value
        assert endpoint["secret"] not in value
    assert valid_secrets(row, clock.now(), services.secret_box) == (rotated["secret"], endpoint["secret"])
    # Sealed for this endpoint only: moved to another row, it does not open.
    with pytest.raises(SecretUnreadable):
        services.secret_box.open(stored[0], "whe_someoneelse")
    # Under another TIAOJIE_SECRET_KEY nothing opens.
    with pytest.raises(SecretUnreadable):
        SecretBox("another secret key of at least thirty-two characters").open(stored[0], endpoint["id"])

    # An earlier version stored both in the clear.
    async with services.db.session() as session:
        row = await session.get(WebhookEndpoint, endpoint["id"])
        assert row is not None
        row.secret = rotated["secret"]
        row.previous_secrets = [{**row.previous_secrets[0], "secret": endpoint["secret"]}]
    assert await seal_stored_secrets(services.db, services.secret_box) == 1
    assert await seal_stored_secrets(services.db, services.secret_box) == 0  # nothing left in the clear
    async with services.db.read() as session:
        row = await session.get(WebhookEndpoint, endpoint["id"])
        assert row is not None
        assert row.secret.startswith(PREFIX)
        assert str(row.previous_secrets[0]["secret"]).startswith(PREFIX)
    await assigned_case(actors)
    await drain(worker, services, clock)
    assert receiver.received[-1].verified_by == (0, 1)


async def test_an_endpoint_whose_secret_does_not_open_is_disabled_and_holds_up_no_other(
    actors: Actors, services: Services, clock: FrozenClock, receiver: Receiver, worker: DeliveryWorker
) -> None:
    """A secret sealed under another TIAOJIE_SECRET_KEY (a changed key, a database restored elsewhere): that
    endpoint is disabled with the reason, the others are delivered; rotating and enabling brings it back."""
    other = await Receiver().start()
    try:
        broken = await register(actors, receiver)
        await register(actors, other)
        async with services.db.session() as session:
            row = await session.get(WebhookEndpoint, broken["id"])
            assert row is not None
            row.secret = SecretBox("some other secret key of forty characters!").seal(b"k" * 32, row.id)
        await assigned_case(actors)
        await drain(worker, services, clock)
        assert len(other.delivered()) == 1
        assert receiver.received == []
        shown = await actors.court_a.get(f"/webhooks/endpoints/{broken['id']}")
        assert shown["status"] == "disabled"
        assert "signing secret cannot be read" in shown["disabled_reason"]

        rotated = await actors.court_a.post(
            f"/webhooks/endpoints/{broken['id']}/rotate-secret", json={"overlap_hours": 2}
        )
        receiver.secrets.insert(0, rotated["secret"])
        await actors.court_a.patch(f"/webhooks/endpoints/{broken['id']}", json={"enabled": True})
        await drain(worker, services, clock)
        assert len(receiver.delivered()) == 1
        assert (
            receiver.received[-1].verified_by[0] == 0
        )  # signed with the new secret (the old one is left out)
    finally:
        await other.stop()
