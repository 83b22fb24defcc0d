"""The room protocol end to end: real socket.io clients against the in-process server."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
import socketio
from aiohttp.test_utils import TestClient

from tests.conftest import START, Api
from tests.factories import PASSWORD, World, case_payload
from web.services import Services

Client = TestClient[Any, Any]
NS = "/room"


class Peer:
    """One participant's socket.io connection, with what it received."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.sio = socketio.AsyncClient(reconnection=False)
        self.rooms: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.chats: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.closed: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.sio.on("room", self.rooms.put_nowait, namespace=NS)
        self.sio.on("chat", self.chats.put_nowait, namespace=NS)

        def closed(data: dict[str, Any]) -> None:
            if not self.closed.done():
                self.closed.set_result(data)

        self.sio.on("closed", closed, namespace=NS)

    async def connect(self, token: str) -> dict[str, Any]:
        await self.sio.connect(
            self.base,
            namespaces=[NS],
            auth={"token": token, "protocol": 1},
            transports=["websocket"],
            wait_timeout=5,
        )
        reply = await self.call("sync")
        assert reply["ok"], reply
        return dict(reply["room"])

    async def call(self, event: str, data: Any = None) -> dict[str, Any]:
        result: dict[str, Any] = await self.sio.call(event, data, namespace=NS, timeout=5)
        return result

    async def latest_room(self, predicate: Any = None) -> dict[str, Any]:
        while True:
            room = await asyncio.wait_for(self.rooms.get(), 5)
            if predicate is None or predicate(room):
                return room

    async def close(self) -> None:
        if self.sio.connected:
            await self.sio.disconnect()


async def refused(base: str, token: str | None) -> str:
    """The error code with which the server refuses to connect this token."""
    sio = socketio.AsyncClient(reconnection=False)
    reasons: list[Any] = []
    sio.on("connect_error", reasons.append, namespace=NS)
    auth: dict[str, Any] = {"protocol": 1} if token is None else {"token": token, "protocol": 1}
    with pytest.raises(socketio.exceptions.ConnectionError):
        await sio.connect(base, namespaces=[NS], auth=auth, transports=["websocket"], wait_timeout=5)
    await sio.disconnect()
    assert reasons, "no connect_error received"
    return str(reasons[0]["data"]["code"])


@pytest.fixture
async def scene(client: Client, api: Api, world: World) -> dict[str, Any]:
    """An accepted case with a scheduled session; the links of the mediator, the worker and the employer."""
    return await new_scene(client, api, world)


async def new_scene(client: Client, api: Api, world: World) -> dict[str, Any]:
    """What :func:`scene` makes, for a test that needs another case of its own."""
    case = await api.as_("court_a").post("/cases", json=case_payload(), expect=201)
    await api.as_("court_a").post(
        f"/cases/{case['id']}/assignment", json={"mediator_id": world.mediators["m1"]}, expect=200
    )
    await api.as_("org1").post(f"/cases/{case['id']}/accept", json={}, expect=200)
    login = await client.post("/api/v1/session", json={"username": "mediator1", "password": PASSWORD})
    csrf = (await login.json())["csrf_token"]
    body = {"scheduled_start": START.isoformat(), "scheduled_end": (START + timedelta(hours=2)).isoformat()}
    response = await client.post(
        f"/api/v1/cases/{case['id']}/sessions", json=body, headers={"X-CSRF-Token": csrf}
    )
    created = await response.json()
    assert response.status == 201, created
    roles = {p["id"]: p for p in created["participants"]}
    tokens: dict[str, str] = {}
    ids: dict[str, str] = {}
    for link in created["links"]:
        seat = roles[link["participant_id"]]
        name = {"mediator": "mediator", "applicant": "worker"}.get(seat["role"], seat["display_name"])
        if seat["role"] == "respondent":
            name = "employer" if "公司" in seat["display_name"] else "agent"
        tokens[name] = link["url"].split("#", 1)[1]
        ids[name] = link["participant_id"]
    return {
        "case_id": case["id"],
        "session_id": created["id"],
        "tokens": tokens,
        "ids": ids,
        "base": str(client.make_url("/")).rstrip("/"),
        "csrf": csrf,
    }


async def admitted(scene: dict[str, Any], *names: str) -> dict[str, Peer]:
    peers = {"mediator": Peer(scene["base"])}
    await peers["mediator"].connect(scene["tokens"]["mediator"])
    for name in names:
        peer = Peer(scene["base"])
        await peer.connect(scene["tokens"][name])
        assert (await peer.call("acknowledge", {"consent": True, "warning": True}))["ok"]
        pid = scene["ids"][name]
        reply = await peers["mediator"].call(
            "check_identity", {"participant_id": pid, "method": "id_card", "result": "verified"}
        )
        assert reply["ok"], reply
        assert (await peers["mediator"].call("admit", {"participant_id": pid}))["ok"]
        peers[name] = peer
    return peers


async def close_all(peers: dict[str, Peer]) -> None:
    for peer in peers.values():
        await peer.close()


async def test_lobby_admission_and_chat(scene: dict[str, Any], api: Api) -> None:
    mediator = Peer(scene["base"])
    first = await mediator.connect(scene["tokens"]["mediator"])
    assert first["participants"][0]["state"] == "present"
    case = await api.as_("court_a").get(f"/cases/{scene['case_id']}")
    assert case["state"] == "in_mediation"  # the mediator opening the first session begins the mediation

    worker = Peer(scene["base"])
    waiting = await worker.connect(scene["tokens"]["worker"])
    assert [p["state"] for p in waiting["participants"]] == ["lobby"]
    seen = await mediator.latest_room(lambda r: any(p["state"] == "lobby" for p in r["participants"]))
    assert any(p["id"] == scene["ids"]["worker"] for p in seen["participants"])

    refusal = await mediator.call("admit", {"participant_id": scene["ids"]["worker"]})
    assert refusal["error"]["code"] == "consent_missing"
    assert (await worker.call("chat", {"text": "hello"}))["error"]["code"] == "chat_not_allowed"
    await worker.call("acknowledge", {"consent": True, "warning": True})
    await mediator.call(
        "check_identity",
        {"participant_id": scene["ids"]["worker"], "method": "id_card", "result": "verified"},
    )
    assert (await mediator.call("admit", {"participant_id": scene["ids"]["worker"]}))["ok"]
    inside = await worker.latest_room(
        lambda r: r["participants"][0]["state"] == "present" and len(r["participants"]) == 2
    )
    assert {p["role"] for p in inside["participants"]} == {"mediator", "applicant"}

    assert (await worker.call("chat", {"text": "我同意调解"}))["ok"]
    for peer in (worker, mediator):
        message = await asyncio.wait_for(peer.chats.get(), 5)
        assert message["text"] == "我同意调解"
    await close_all({"m": mediator, "w": worker})


async def test_bad_tokens_are_refused(scene: dict[str, Any], client: Client) -> None:
    base = scene["base"]
    token = scene["tokens"]["worker"]
    assert await refused(base, token[:-4] + "AAAA") == "token_invalid"
    assert await refused(base, "garbage") == "token_malformed"
    assert await refused(base, None) == "malformed_hello"
    pid = scene["ids"]["worker"]
    response = await client.post(
        f"/api/v1/cases/{scene['case_id']}/sessions/{scene['session_id']}/participants/{pid}/revoke",
        headers={"X-CSRF-Token": scene["csrf"]},
    )
    assert response.status == 200
    assert await refused(base, token) == "token_revoked"


async def test_caucus_keeps_chat_inside_the_subroom(scene: dict[str, Any]) -> None:
    peers = await admitted(scene, "worker", "employer")
    mediator = peers["mediator"]
    assert (await mediator.call("open_subroom", {"subroom": "c1", "label": "与申请人背对背"}))["ok"]
    for pid in (scene["ids"]["worker"], scene["ids"]["mediator"]):
        assert (await mediator.call("move", {"participant_id": pid, "subroom": "c1"}))["ok"]
    view = await peers["employer"].latest_room(
        lambda r: [p["state"] for p in r["participants"]] == ["present"]
    )
    assert view["location"] == "main"
    assert list(view["subrooms"]) == ["main"]
    assert view["caucus"] is True  # the respondent's page shows "the mediator is in a private session"
    worker_view = await peers["worker"].latest_room(
        lambda r: r["location"] == "c1" and len(r["participants"]) == 2
    )
    assert worker_view["subrooms"] == {"c1": "与申请人背对背"}

    assert (await peers["worker"].call("chat", {"text": "只对调解员说"}))["ok"]
    assert (await asyncio.wait_for(mediator.chats.get(), 5))["text"] == "只对调解员说"
    assert (await asyncio.wait_for(peers["worker"].chats.get(), 5))["subroom"] == "c1"
    assert (await peers["employer"].call("chat", {"text": "我在主会场"}))["ok"]
    assert (await asyncio.wait_for(peers["employer"].chats.get(), 5))["text"] == "我在主会场"
    await asyncio.sleep(0)
    assert peers["employer"].chats.empty()
    assert mediator.chats.empty()
    assert peers["worker"].chats.empty()
    assert (await mediator.call("close_subrooms"))["ok"]
    back = await peers["employer"].latest_room(lambda r: len(r["participants"]) == 3)
    assert back["caucus"] is False
    await close_all(peers)


async def test_host_controls_remove_lock_end(scene: dict[str, Any], services: Services) -> None:
    peers = await admitted(scene, "worker", "employer")
    mediator = peers["mediator"]
    assert (await peers["worker"].call("lock", {"locked": True}))["error"]["code"] == "not_host"
    assert (await mediator.call("lock", {"locked": True}))["ok"]
    assert await refused(scene["base"], scene["tokens"]["agent"]) == "room_locked"
    reply = await mediator.call("remove", {"participant_id": scene["ids"]["employer"], "reason": "扰乱秩序"})
    assert reply["ok"]
    closed = await asyncio.wait_for(peers["employer"].closed, 5)
    assert closed["reason"] == "removed"
    assert (await mediator.call("mute", {"participant_id": scene["ids"]["worker"], "muted": True}))["ok"]
    assert (await mediator.call("end"))["ok"]
    assert (await asyncio.wait_for(peers["worker"].closed, 5))["reason"] == "room_ended"
    assert await refused(scene["base"], scene["tokens"]["worker"]) == "session_over"
    await close_all(peers)


async def test_reconnect_within_grace_keeps_the_seat(scene: dict[str, Any]) -> None:
    peers = await admitted(scene, "worker")
    await peers["worker"].sio.disconnect()
    view = await peers["mediator"].latest_room(
        lambda r: any(p["state"] == "reconnecting" for p in r["participants"])
    )
    assert len(view["participants"]) == 2
    again = Peer(scene["base"])
    room = await again.connect(scene["tokens"]["worker"])
    assert {p["state"] for p in room["participants"]} == {"present"}  # no new admission needed
    await close_all({**peers, "again": again})


async def test_same_link_on_a_second_device_replaces_the_first(scene: dict[str, Any]) -> None:
    peers = await admitted(scene, "worker")
    second = Peer(scene["base"])
    await second.connect(scene["tokens"]["worker"])
    assert (await asyncio.wait_for(peers["worker"].closed, 5))["reason"] == "replaced"
    await close_all({**peers, "second": second})


async def test_bad_and_out_of_order_messages_get_errors(scene: dict[str, Any]) -> None:
    peers = await admitted(scene, "worker")
    worker = peers["worker"]
    assert (await worker.call("teleport", {}))["error"]["code"] == "unknown_event"
    assert (await worker.call("admit", ["x"]))["error"]["code"] == "malformed_message"
    assert (await worker.call("admit", {"participant_id": "par_x"}))["error"]["code"] == "not_host"
    assert (await peers["mediator"].call("admit", {"participant_id": "par_nobody"}))["error"][
        "code"
    ] == "not_in_room"
    assert (
        await peers["mediator"].call("move", {"participant_id": scene["ids"]["worker"], "subroom": "nope"})
    )["error"]["code"] == "unknown_subroom"
    codes = [(await worker.call("chat", {"text": f"{i}"})).get("error", {}).get("code") for i in range(40)]
    assert "rate_limited" in codes
    # The room is unaffected: the mediator still sees the worker present.
    assert (await peers["mediator"].call("sync"))["ok"]
    await close_all(peers)
