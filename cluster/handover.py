"""Handing a socket.io connection to the node that owns its room: an aiohttp middleware and a forwarder.

The party page adds ``session=<session id>`` to the socket.io URL, so the room is known when the HTTP request
or websocket upgrade arrives. A request for a room owned here goes on to socket.io; one for a room owned
elsewhere is forwarded to the owner's internal listener: websocket messages are relayed unchanged in both
directions, long-polling requests are passed through. The owner sees a hop header (derived from the shared
secret) and serves the request itself, whatever its own routing table says meanwhile: a connection is
forwarded at most once. Requests without ``session`` are served where they land (the room namespace refuses
a join whose room lives elsewhere, code ``wrong_node``).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Awaitable, Callable

import aiohttp
from aiohttp import web

from cluster.routing import Node, RoomRouter, RoutingUnavailable
from cluster.tasks import first_of
from tiaojie.ids import is_id
from web.errors import error_response

__all__ = ["HOP_HEADER", "NODE_HEADER", "ROOM_NODE_HEADER", "SOCKETIO_PATH", "HandOver", "hop_token"]

log = logging.getLogger(__name__)

HOP_HEADER = "X-Tiaojie-Hop"
NODE_HEADER = "X-Tiaojie-Node"  # on every response: the node that answered
ROOM_NODE_HEADER = "X-Tiaojie-Room-Node"  # on a forwarded response: the node that owns the room
SOCKETIO_PATH = "/socket.io/"
MAX_MESSAGE_BYTES = 4 * 1024 * 1024

# Headers that belong to one connection, not to the request passed on.
_HOP_BY_HOP = frozenset(
    h.lower()
    for h in (
        "Connection",
        "Keep-Alive",
        "Proxy-Authenticate",
        "Proxy-Authorization",
        "TE",
        "Trailer",
        "Transfer-Encoding",
        "Upgrade",
        "Content-Length",
        "Sec-WebSocket-Key",
        "Sec-WebSocket-Version",
        "Sec-WebSocket-Extensions",
        "Sec-WebSocket-Accept",
        HOP_HEADER,
    )
)

_NOT_PASSED_BACK = _HOP_BY_HOP | {NODE_HEADER.lower(), ROOM_NODE_HEADER.lower()}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def hop_token(secret: str) -> str:
    """The hop header's value: proves a request was forwarded by a node of this deployment."""
    return hmac.new(secret.encode(), b"tiaojie node hop v1", hashlib.sha256).hexdigest()


class HandOver:
    """The middleware (:meth:`middleware`) and the forwarder, with one HTTP client per target node."""

    def __init__(self, router: RoomRouter, secret: str) -> None:
        self.router = router
        self._hop = hop_token(secret)
        self._clients: dict[str, aiohttp.ClientSession] = {}

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        room = request.query.get("session", "") if request.path.startswith(SOCKETIO_PATH) else ""
        if not room or hmac.compare_digest(request.headers.get(HOP_HEADER, ""), self._hop):
            return await handler(request)
        if not is_id(room, "ses"):
            return error_response(400, "malformed_session", "session must be a session id")
        try:
            owner = await self.router.claim(room)
        except RoutingUnavailable as exc:
            return error_response(503, exc.code, exc.message)
        if owner.id == self.router.node.id:
            return await handler(request)
        if owner.url is None:
            return error_response(503, "room_node_unavailable", "the room's node cannot be reached")
        return await self.forward(request, owner)

    def _client(self, node: Node) -> tuple[aiohttp.ClientSession, str]:
        assert node.url is not None
        unix = node.url.startswith("unix:")
        base = "http://tiaojie-node" if unix else node.url.rstrip("/")
        client = self._clients.get(node.url)
        if client is None or client.closed:
            connector: aiohttp.BaseConnector = (
                aiohttp.UnixConnector(path=node.url.removeprefix("unix:")) if unix else aiohttp.TCPConnector()
            )
            client = aiohttp.ClientSession(
                connector=connector,
                auto_decompress=False,
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=5, sock_read=90),
            )
            self._clients[node.url] = client
        return client, base

    def _headers(self, request: web.Request) -> dict[str, str]:
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
        headers[HOP_HEADER] = self._hop
        headers["Host"] = request.host
        headers.setdefault("X-Forwarded-Proto", request.scheme)
        forwarded = request.headers.get("X-Forwarded-For")
        remote = request.remote or ""
        headers["X-Forwarded-For"] = f"{forwarded}, {remote}" if forwarded else remote
        return headers

    async def forward(self, request: web.Request, node: Node) -> web.StreamResponse:
        """Serve ``request`` by the owner ``node``: a websocket relayed message by message, or an HTTP
        request passed through. 503 ``room_node_unavailable`` when the node cannot be reached."""
        client, base = self._client(node)
        url = base + request.path_qs
        is_websocket = request.headers.get("Upgrade", "").lower() == "websocket"
        try:
            if is_websocket:
                upstream = await client.ws_connect(
                    url, headers=self._headers(request), max_msg_size=MAX_MESSAGE_BYTES
                )
                return await self._relay(request, upstream, node)
            async with client.request(
                request.method,
                url,
                headers=self._headers(request),
                data=await request.read() if request.body_exists else None,
                allow_redirects=False,
            ) as reply:
                body = await reply.read()
                headers = {k: v for k, v in reply.headers.items() if k.lower() not in _NOT_PASSED_BACK}
                response = web.Response(status=reply.status, body=body, headers=headers)
                response.headers[ROOM_NODE_HEADER] = node.id
                return response
        except aiohttp.WSServerHandshakeError as exc:
            return error_response(exc.status if exc.status >= 400 else 502, "handover_refused", exc.message)
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            log.warning("cannot hand %s over to node %s: %s", request.path, node.id, exc)
            return error_response(503, "room_node_unavailable", "the room's node cannot be reached")

    async def _relay(
        self, request: web.Request, upstream: aiohttp.ClientWebSocketResponse, node: Node
    ) -> web.StreamResponse:
        downstream = web.WebSocketResponse(max_msg_size=MAX_MESSAGE_BYTES)
        downstream.headers[ROOM_NODE_HEADER] = node.id
        downstream.headers[NODE_HEADER] = self.router.node.id
        try:
            await downstream.prepare(request)
        except BaseException:
            await upstream.close()
            raise
        try:
            await first_of(_pump(upstream, downstream), _pump(downstream, upstream))
        finally:
            await upstream.close(code=downstream.close_code or aiohttp.WSCloseCode.OK)
            await downstream.close(code=upstream.close_code or aiohttp.WSCloseCode.OK)
        return downstream

    async def close(self) -> None:
        for client in self._clients.values():
            await client.close()
        self._clients.clear()


async def _pump(
    source: web.WebSocketResponse | aiohttp.ClientWebSocketResponse,
    target: web.WebSocketResponse | aiohttp.ClientWebSocketResponse,
) -> None:
    async for message in source:
        if message.type is aiohttp.WSMsgType.TEXT:
            await target.send_str(message.data)
        elif message.type is aiohttp.WSMsgType.BINARY:
            await target.send_bytes(message.data)
        else:
            return
