"""Recording consent over the room protocol, with real socket.io clients and an in-memory recorder."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from rooms.recording_sync import RecordingSync
from rooms.tables import SessionRecord
from tests.signaling.recorders import MemoryRecording
from tests.signaling.test_room_protocol import Peer, admitted, close_all, scene  # noqa: F401
from web.app import SIGNALING
from web.services import Services

Client = TestClient[Any, Any]


@pytest.fixture
def recorder(client: Client) -> MemoryRecording:
    recording = MemoryRecording()
    sync: RecordingSync = recording  # mypy checks the twin against the Protocol
    client.app[SIGNALING].recording = sync
    return recording


async def records(services: Services, session_id: str) -> list[tuple[str, str, dict[str, Any]]]:
    async with services.db.read() as session:
        rows = await session.scalars(
            select(SessionRecord)
            .where(SessionRecord.session_id == session_id, SessionRecord.kind.like("recording_%"))
            .order_by(SessionRecord.id)
        )
        return [(r.kind, r.actor, dict(r.data)) for r in rows]


async def admit_one(links: dict[str, Any], mediator: Peer, name: str) -> Peer:
    """One more participant let in by the mediator already connected (``links``: the scene)."""
    peer = Peer(links["base"])
    await peer.connect(links["tokens"][name])
    assert (await peer.call("acknowledge", {"consent": True, "warning": True}))["ok"]
    pid = links["ids"][name]
    check = {"participant_id": pid, "method": "id_card", "result": "verified"}
    assert (await mediator.call("check_identity", check))["ok"]
    assert (await mediator.call("admit", {"participant_id": pid}))["ok"]
    return peer


def part(room: dict[str, Any], name: str = "main") -> dict[str, Any]:
    """The mediator's panel entry of a part ({} when nothing was proposed there)."""
    return dict(room.get("recordings", {}).get(name, {}))


def consent(room: dict[str, Any]) -> dict[str, Any] | None:
    value = room.get("recording_consent")
    return value if isinstance(value, dict) else None


async def test_recording_starts_after_every_consent_and_a_joiner_is_asked(
    scene: dict[str, Any],  # noqa: F811
    recorder: MemoryRecording,
    services: Services,
) -> None:
    sid, ids = scene["session_id"], scene["ids"]
    peers = await admitted(scene, "worker", "employer")
    mediator = peers["mediator"]
    assert (await mediator.call("propose_recording", {"part": "main"}))["ok"]
    asked = await peers["worker"].latest_room(lambda r: (consent(r) or {}).get("answer") == "pending")
    assert asked["recording"] is False
    assert (await peers["worker"].call("answer_recording", {"consent": True}))["ok"]
    assert recorder.plan(sid) == {}
    assert (await peers["employer"].call("answer_recording", {"consent": True}))["ok"]
    everyone = frozenset({ids["mediator"], ids["worker"], ids["employer"]})
    assert recorder.plan(sid) == {"main": everyone}
    assert recorder.labels(sid) == {"main": "main"}
    view = await peers["worker"].latest_room(lambda r: r["recording"])
    assert consent(view) == {"part": "main", "state": "recording", "answer": "consented", "recorded": True}

    # An agent joining during the recording is asked and not recorded until they answer; they refuse.
    agent = await admit_one(scene, mediator, "agent")
    view = await agent.latest_room(lambda r: consent(r) is not None)
    assert view["recording"] is True  # the indicator shows ...
    assert consent(view) == {"part": "main", "state": "recording", "answer": "pending", "recorded": False}
    assert recorder.plan(sid) == {"main": everyone}  # ... but their media is not recorded
    assert (await agent.call("answer_recording", {"consent": False}))["ok"]
    panel = await mediator.latest_room(lambda r: part(r).get("answers", {}).get(ids["agent"]) == "refused")
    assert set(part(panel)["recorded"]) == everyone
    assert recorder.plan(sid) == {"main": everyone}

    assert (await mediator.call("stop_recording", {"part": "main"}))["ok"]
    assert recorder.plan(sid) == {}
    stopped = await peers["worker"].latest_room(lambda r: not r["recording"])
    assert (consent(stopped) or {})["state"] == "stopped"
    assert (await mediator.call("end"))["ok"]
    assert recorder.closed == [sid]

    stored = await records(services, sid)
    assert [(k, a) for k, a, _ in stored] == [
        ("recording_proposed", "王调解"),
        ("recording_answered", stored[1][1]),
        ("recording_answered", stored[2][1]),
        ("recording_started", "system"),
        ("recording_answered", stored[4][1]),
        ("recording_stopped", "王调解"),
    ]
    assert [d.get("answer") for _, _, d in stored if "answer" in d] == ["consented", "consented", "refused"]
    assert set(stored[3][2]["participants"]) == everyone
    assert stored[5][2]["reason"] == "stopped_by_mediator"
    await close_all({**peers, "agent": agent})


async def test_a_refusal_cancels_and_caucus_parts_are_recorded_apart(
    scene: dict[str, Any],  # noqa: F811
    recorder: MemoryRecording,
) -> None:
    sid, ids = scene["session_id"], scene["ids"]
    peers = await admitted(scene, "worker", "employer")
    mediator = peers["mediator"]
    assert (await mediator.call("propose_recording", {}))["ok"]
    assert (await peers["worker"].call("answer_recording", {"consent": True}))["ok"]
    assert (await peers["employer"].call("answer_recording", {"consent": False}))["ok"]
    panel = await mediator.latest_room(lambda r: part(r).get("state") == "refused")
    assert part(panel)["refused_by"] == [ids["employer"]]
    assert recorder.calls == []  # nothing was ever to be recorded

    assert (await mediator.call("open_subroom", {"subroom": "c1", "label": "与申请人背对背"}))["ok"]
    for pid in (ids["worker"], ids["mediator"]):
        assert (await mediator.call("move", {"participant_id": pid, "subroom": "c1"}))["ok"]
    assert (await mediator.call("propose_recording", {"part": "c1"}))["ok"]
    assert (await peers["worker"].call("answer_recording", {"consent": True}))["ok"]
    assert recorder.plan(sid) == {"c1": frozenset({ids["worker"], ids["mediator"]})}
    assert recorder.labels(sid) == {"c1": "与申请人背对背"}
    left = await peers["employer"].latest_room(lambda r: r["caucus"])
    assert left["recording"] is False  # the main room is not being recorded
    assert (await mediator.call("close_subrooms"))["ok"]
    assert recorder.plan(sid) == {}  # the sub-room's recording stopped with it
    await close_all(peers)


async def test_recording_commands_out_of_order(
    scene: dict[str, Any],  # noqa: F811
    client: Client,
) -> None:
    peers = await admitted(scene, "worker")
    mediator, worker = peers["mediator"], peers["worker"]

    async def code(peer: Peer, event: str, data: Any) -> str:
        reply = await peer.call(event, data)
        assert not reply["ok"], reply
        return str(reply["error"]["code"])

    client.app[SIGNALING].recording = None  # a server without a recorder
    assert await code(mediator, "propose_recording", {}) == "recording_unavailable"
    client.app[SIGNALING].recording = MemoryRecording()
    assert await code(worker, "propose_recording", {}) == "not_host"
    assert await code(worker, "answer_recording", {"consent": True}) == "no_recording_proposal"
    assert await code(mediator, "stop_recording", {}) == "not_recording"
    assert await code(mediator, "propose_recording", {"part": "c9"}) == "unknown_subroom"
    assert await code(mediator, "propose_recording", {"part": "主会场"}) == "malformed_message"
    assert await code(worker, "answer_recording", {"consent": "maybe"}) == "malformed_message"
    assert await code(worker, "answer_recording", {}) == "malformed_message"
    assert (await mediator.call("propose_recording", {}))["ok"]
    assert await code(mediator, "propose_recording", {}) == "recording_active"
    assert await code(mediator, "answer_recording", {"consent": True}) == "not_asked"
    assert (await worker.call("answer_recording", {"consent": True}))["ok"]
    assert await code(worker, "answer_recording", {"consent": False}) == "already_answered"
    assert await code(worker, "stop_recording", {}) == "not_host"
    await close_all(peers)
