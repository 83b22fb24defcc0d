"""A room participant over socket.io that also records which node took its connection (the response headers
of its HTTP requests and websocket upgrade)."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import socketio
from multidict import CIMultiDictProxy

from cluster.handover import NODE_HEADER, ROOM_NODE_HEADER

__all__ = ["NS", "RoomPeer", "refusal"]

NS = "/room"


class RoomPeer:
    def __init__(self) -> None:
        self.responses: list[CIMultiDictProxy[str]] = []
        trace = aiohttp.TraceConfig()

        async def on_end(_s: Any, _c: Any, params: aiohttp.TraceRequestEndParams) -> None:
            self.responses.append(params.response.headers)

        trace.on_request_end.append(on_end)
        self.http = aiohttp.ClientSession(trace_configs=[trace])
        self.sio = socketio.AsyncClient(reconnection=False, http_session=self.http)
        self.rooms: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.chats: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.sio.on("room", self.rooms.put_nowait, namespace=NS)
        self.sio.on("chat", self.chats.put_nowait, namespace=NS)

    async def connect(
        self, base: str, session_id: str, token: str, transports: tuple[str, ...] = ("websocket",)
    ) -> dict[str, Any]:
        await self.sio.connect(
            f"{base}/?session={session_id}",
            namespaces=[NS],
            auth={"token": token, "protocol": 1},
            transports=list(transports),
            wait_timeout=10,
        )
        reply = await self.call("sync")
        assert reply["ok"], reply
        return dict(reply["room"])

    @property
    def entry(self) -> tuple[str, str]:
        """(the node that took the connection, the node that owns the room), from the last response."""
        last = self.responses[-1]
        return last[NODE_HEADER], last[ROOM_NODE_HEADER]

    async def call(self, event: str, data: Any = None) -> dict[str, Any]:
        result: dict[str, Any] = await self.sio.call(event, data, namespace=NS, timeout=10)
        return result

    async def latest_room(self, predicate: Any) -> dict[str, Any]:
        while True:
            room = await asyncio.wait_for(self.rooms.get(), 10)
            if predicate(room):
                return room

    async def close(self) -> None:
        eio = self.sio.eio
        if self.sio.connected and eio.current_transport == "polling":
            # The client would wait for its pending long-poll (up to the ping interval) to come back: send the
            # close packet, then end that request by closing the HTTP session.
            await eio.disconnect(abort=True)
            await self.http.close()
            if eio.read_loop_task is not None:
                await asyncio.wait_for(eio.read_loop_task, 10)
        elif self.sio.connected:
            await self.sio.disconnect()
        await self.http.close()


async def refusal(url: str, token: str) -> str:
    """The code with which the server refuses this join."""
    sio = socketio.AsyncClient(reconnection=False)
    reasons: list[Any] = []
    sio.on("connect_error", reasons.append, namespace=NS)
    try:
        await sio.connect(
            url,
            namespaces=[NS],
            auth={"token": token, "protocol": 1},
            transports=["websocket"],
            wait_timeout=10,
        )
    except socketio.exceptions.ConnectionError:
        pass
    finally:
        await sio.disconnect()
    assert reasons, "the join was accepted"
    return str(reasons[0]["data"]["code"])
