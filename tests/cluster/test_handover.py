"""Two in-process nodes sharing one routing table (in memory, and in a real Redis) and one database: a
participant who enters by the other node is handed to the room's node, over websockets and long-polling."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from cluster.jobs import DesignatedJobs
from cluster.routing import Node
from cluster.topology import Topology, tcp_listener
from store.database import Database
from tests.cluster.peers import RoomPeer, refusal
from tests.cluster.routers import Pair, router_pair
from tests.signaling.test_room_protocol import scene  # noqa: F401 - the fixture
from tiaojie.clock import FrozenClock
from tiaojie.ids import new_id
from tiaojie.settings import Settings
from web.app import create_app

KINDS = ["memory", pytest.param("redis", marks=pytest.mark.redis)]


@pytest.fixture
def listeners() -> Iterator[tuple[socket.socket, socket.socket]]:
    a, b = tcp_listener("127.0.0.1"), tcp_listener("127.0.0.1")
    yield a, b
    a.close()
    b.close()


def _url(sock: socket.socket) -> str:
    return f"http://127.0.0.1:{sock.getsockname()[1]}"


@pytest.fixture
async def pair(
    request: pytest.FixtureRequest, listeners: tuple[socket.socket, socket.socket]
) -> AsyncIterator[Pair]:
    kind = request.param
    url, prefix = request.getfixturevalue("redis_prefix") if kind == "redis" else ("", "")
    urls = (_url(listeners[0]), _url(listeners[1]))
    async with router_pair(kind, redis_url=url, prefix=prefix, urls=urls) as made:
        yield made


@pytest.fixture
def app(
    settings: Settings, clock: FrozenClock, db: Database, pair: Pair, listeners: tuple[socket.socket, ...]
) -> web.Application:
    """Node A: the app behind the ``client`` fixture (and so behind ``scene``)."""
    return create_app(
        settings,
        clock=clock,
        db=db,
        migrate=False,
        background=False,
        topo=Topology(pair.a, DesignatedJobs(True), listeners[0]),
    )


@dataclass
class Nodes:
    a: str  # public base URLs
    b: str


@pytest.fixture
async def nodes(
    client: TestClient[Any, Any],
    aiohttp_client: Any,
    settings: Settings,
    clock: FrozenClock,
    database_url: str,
    pair: Pair,
    listeners: tuple[socket.socket, socket.socket],
) -> AsyncIterator[Nodes]:
    """Node A (``client``) and node B, each also listening on its internal socket."""
    db_b = Database(database_url)
    topo_b = Topology(pair.b, DesignatedJobs(False), listeners[1])
    app_b = create_app(settings, clock=clock, db=db_b, migrate=False, background=False, topo=topo_b)
    client_b: TestClient[Any, Any] = await aiohttp_client(app_b)
    for test_client, sock in ((client, listeners[0]), (client_b, listeners[1])):
        assert test_client.server.runner is not None
        await web.SockSite(test_client.server.runner, sock).start()
    yield Nodes(str(client.make_url("")).rstrip("/"), str(client_b.make_url("")).rstrip("/"))
    await client_b.close()
    await db_b.dispose()


@pytest.mark.parametrize("pair", KINDS, indirect=True)
async def test_participants_entering_by_either_node_meet_in_one_room(
    scene: dict[str, Any],  # noqa: F811
    nodes: Nodes,
    pair: Pair,
) -> None:
    session_id, tokens, ids = scene["session_id"], scene["tokens"], scene["ids"]
    a, b = pair.a.node.id, pair.b.node.id
    mediator, worker, employer = RoomPeer(), RoomPeer(), RoomPeer()
    try:
        await mediator.connect(nodes.a, session_id, tokens["mediator"])
        assert mediator.entry == (a, a)  # the first join claims the room for the node it reached
        await worker.connect(nodes.b, session_id, tokens["worker"])
        assert worker.entry == (b, a)  # entered by B, handed to A
        await employer.connect(nodes.b, session_id, tokens["employer"], transports=("polling",))
        assert employer.entry == (b, a)

        def in_lobby(room: dict[str, Any]) -> bool:
            return {ids["worker"], ids["employer"]} <= {p["id"] for p in room["participants"]}

        await mediator.latest_room(in_lobby)
        for peer, name in ((worker, "worker"), (employer, "employer")):
            assert (await peer.call("acknowledge", {"consent": True, "warning": True}))["ok"]
            pid = ids[name]
            check = {"participant_id": pid, "method": "id_card", "result": "verified"}
            assert (await mediator.call("check_identity", check))["ok"]
            assert (await mediator.call("admit", {"participant_id": pid}))["ok"]
        await worker.latest_room(lambda r: len(r["participants"]) == 3)
        assert (await employer.call("chat", {"text": "经由另一节点"}))["ok"]
        for peer in (mediator, worker, employer):
            while (await peer.chats.get())["text"] != "经由另一节点":
                pass
    finally:
        for peer in (mediator, worker, employer):
            await peer.close()


@pytest.mark.parametrize("pair", KINDS, indirect=True)
async def test_a_join_without_the_session_parameter_on_the_wrong_node_is_refused(
    scene: dict[str, Any],  # noqa: F811
    nodes: Nodes,
    pair: Pair,
) -> None:
    assert await pair.a.claim(scene["session_id"]) == pair.a.node
    assert await refusal(nodes.b, scene["tokens"]["worker"]) == "wrong_node"


@pytest.mark.parametrize("pair", KINDS, indirect=True)
async def test_bad_session_parameters_and_unreachable_nodes_are_refused_with_a_code(
    nodes: Nodes, pair: Pair
) -> None:
    gone = tcp_listener("127.0.0.1")
    dead_url = _url(gone)
    gone.close()  # nothing listens there any more
    ghost = await pair.third(Node("node-c", dead_url))
    room = new_id("ses")
    assert await ghost.claim(room) == ghost.node
    async with aiohttp.ClientSession() as http:
        for session, status, code in (
            ("nonsense", 400, "malformed_session"),
            ("ses_" + "A" * 27, 400, "malformed_session"),
            (room, 503, "room_node_unavailable"),
        ):
            async with http.get(
                f"{nodes.b}/socket.io/", params={"EIO": "4", "transport": "polling", "session": session}
            ) as response:
                assert response.status == status
                assert (await response.json())["error"]["code"] == code
        ws_url = f"{nodes.b}/socket.io/?EIO=4&transport=websocket&session={room}"
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await http.ws_connect(ws_url)
        assert refused.value.status == 503
