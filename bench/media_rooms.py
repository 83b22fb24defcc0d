"""Benchmark rooms on the real server: sessions made through the API, people joining with their own links over
the room protocol (socket.io, namespace ``/room``) as the party page does (``docs/protocol.md``).

:func:`create_sessions` turns ``tiaojie demo --json``'s court key and mediator login into N accepted cases,
each with a video session scheduled now: the mediator's, the worker's and the employer's join tokens
(the employer's agent is not invited). :class:`RoomConnection` is one person's socket.io connection and
the :class:`~bench.media_clients.Signaling` of their :class:`~bench.media_clients.Participant`: it
connects with the token, syncs, acknowledges consent and warning (parties), and, for the mediator,
checks the identity of and admits whoever is waiting — at once, so that admission costs no human time.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from typing import Any

import aiohttp
import socketio

from bench.api import CaseFactory
from bench.media_clients import Participant

__all__ = ["NAMESPACE", "RoomConnection", "create_sessions"]

NAMESPACE = "/room"
API = "/api/v1"
ROLES = ("mediator", "worker", "employer")


async def _json(response: aiohttp.ClientResponse, expect: int) -> Any:
    body = await response.text()
    if response.status != expect:
        raise RuntimeError(f"{response.method} {response.url.path}: {response.status} {body[:500]}")
    return json.loads(body)


async def create_sessions(base_url: str, demo: dict[str, Any], count: int) -> list[dict[str, str]]:
    """``count`` sessions, each as {role: join token} for the mediator, the worker and the employer."""
    factory = CaseFactory()
    court = {"Authorization": f"Bearer {demo['api_keys']['court']}"}
    login = demo["logins"]["mediator"]
    # unsafe: keep the login cookie of a server addressed by IP (127.0.0.1)
    async with aiohttp.ClientSession(base_url=base_url, cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        async with http.post(
            f"{API}/session", json={"username": login["username"], "password": login["password"]}
        ) as response:
            csrf = {"X-CSRF-Token": (await _json(response, 200))["csrf_token"]}
        rooms: list[dict[str, str]] = []
        for _ in range(count):
            headers = {**court, "Content-Type": "application/json"}
            async with http.post(f"{API}/cases", data=factory.body(), headers=headers) as response:
                case = await _json(response, 201)
            path = f"{API}/cases/{case['id']}"
            body = {"mediator_id": demo["mediator"]["id"]}
            async with http.post(f"{path}/assignment", json=body, headers=court) as response:
                await _json(response, 200)
            async with http.post(f"{path}/accept", json={}, headers=csrf) as response:
                await _json(response, 200)
            parties = [p["id"] for p in case["parties"] if p["role"] != "agent"]
            now = dt.datetime.now(dt.UTC)
            body = {
                "scheduled_start": now.isoformat(),
                "scheduled_end": (now + dt.timedelta(hours=4)).isoformat(),
                "party_ids": parties,
            }
            async with http.post(f"{path}/sessions", json=body, headers=csrf) as response:
                session = await _json(response, 201)
            roles = {p["id"]: p for p in session["participants"]}
            tokens: dict[str, str] = {}
            for link in session["links"]:
                seat = roles[link["participant_id"]]
                role = seat["role"]
                name = "mediator" if role == "mediator" else "worker" if role == "applicant" else "employer"
                tokens[name] = link["url"].split("#", 1)[1]
            if set(tokens) != set(ROLES):
                raise RuntimeError(f"unexpected seats in the session: {sorted(tokens)}")
            rooms.append(tokens)
    return rooms


class RoomConnection:
    """One person's connection to the room: joins with a token and carries their media negotiation."""

    def __init__(self, base_url: str, participant: Participant, *, host: bool) -> None:
        self.base_url = base_url
        self.participant = participant
        self.host = host
        self.sio = socketio.AsyncClient(reconnection=False)
        self.present = asyncio.Event()
        self.errors: list[str] = []
        self._admitting: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self.sio.on("room", self._on_room, namespace=NAMESPACE)
        self.sio.on("subscribe_offer", self._on_offer, namespace=NAMESPACE)
        self.sio.on("closed", self._on_closed, namespace=NAMESPACE)
        self.sio.on("disconnect", self._on_disconnect, namespace=NAMESPACE)
        participant.signaling = self
        self._leaving = False

    async def join(self, token: str) -> None:
        """Connect, sync, acknowledge (parties) and wait until admitted (the host admits at once)."""
        await self.sio.connect(
            self.base_url,
            namespaces=[NAMESPACE],
            auth={"token": token, "protocol": 1},
            transports=["websocket"],
            wait_timeout=10,
        )
        reply = await self._call("sync")
        self.participant.id = reply["room"]["you"]
        self._on_room(reply["room"])
        if not self.host:
            await self._call("acknowledge", {"consent": True, "warning": True})
        await asyncio.wait_for(self.present.wait(), 30)

    async def publish(self, sdp: str, sources: dict[str, str]) -> str:
        reply = await self._call("publish", {"sdp": sdp, "sources": sources})
        return str(reply["sdp"])

    async def subscribe_answer(self, sdp: str) -> None:
        await self._call("subscribe_answer", {"sdp": sdp})

    async def _call(self, event: str, data: Any = None) -> dict[str, Any]:
        reply: dict[str, Any] = await self.sio.call(event, data, namespace=NAMESPACE, timeout=20)
        if not reply.get("ok"):
            raise RuntimeError(f"{event} refused: {reply.get('error')}")
        return reply

    def _on_room(self, room: dict[str, Any]) -> None:
        for person in room.get("participants", []):
            if person["id"] == room.get("you") and person["state"] == "present":
                self.present.set()
            elif (
                self.host
                and person["state"] == "lobby"
                and person.get("consented")
                and person.get("warned")
                and person["id"] not in self._admitting
            ):
                self._admitting.add(person["id"])
                self._spawn(self._admit(person["id"]))

    async def _admit(self, participant_id: str) -> None:
        check = {"participant_id": participant_id, "method": "id_card", "result": "verified"}
        await self._call("check_identity", check)
        await self._call("admit", {"participant_id": participant_id})

    def _on_closed(self, data: dict[str, Any]) -> None:
        self.errors.append(f"{self.participant.name}: closed by the server: {data}")

    def _on_disconnect(self, *_reason: object) -> None:
        if not self._leaving:
            self.errors.append(f"{self.participant.name}: socket.io connection lost")

    async def _on_offer(self, data: dict[str, Any]) -> None:
        self._spawn(self.participant.on_subscribe_offer(data["sdp"], data.get("tracks", {})))

    def _spawn(self, work: Any) -> None:
        async def guarded() -> None:
            try:
                await work
            except Exception as exc:  # reported with the results; the room goes on
                self.errors.append(f"{self.participant.name}: {exc!r}")

        task = asyncio.ensure_future(guarded())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        self._leaving = True
        if self.sio.connected:
            await self.sio.disconnect()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
