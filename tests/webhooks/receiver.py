"""A court system's webhook receiver on loopback, for the tests: verifies every delivery with the
``standardwebhooks`` library and answers as scripted (a status, a Retry-After, or no answer at all)."""

from __future__ import annotations

import asyncio
import json
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

__all__ = ["Answer", "Hang", "Received", "Receiver"]


@dataclass(frozen=True, slots=True)
class Answer:
    status: int = 204
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


@dataclass(frozen=True, slots=True)
class Hang:
    """Never answer (until the receiver stops): the sender's timeout must end the attempt."""


@dataclass(frozen=True, slots=True)
class Received:
    msg_id: str
    headers: dict[str, str]
    body: bytes
    verified_by: tuple[int, ...]  # indexes of the receiver's secrets that verified the delivery
    answered: int | None  # the status answered, None when the receiver hung

    @property
    def payload(self) -> dict[str, Any]:
        document: dict[str, Any] = json.loads(self.body)
        return document


class Receiver:
    def __init__(self, secrets: list[str] | None = None) -> None:
        self.secrets: list[str] = list(secrets or [])
        self.script: deque[Answer | Hang] = deque()
        self.received: list[Received] = []
        self.arrived = asyncio.Event()
        self._release = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    async def start(self) -> Receiver:
        app = web.Application()
        app.router.add_post("/hooks", self._handle)
        self._runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        server = site._server
        assert isinstance(server, asyncio.base_events.Server)
        self.port = server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        """Go down (connections refused) until :meth:`start` again, on the same port."""
        self._release.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self._release = asyncio.Event()

    def verify(self, body: bytes, headers: dict[str, str]) -> tuple[int, ...]:
        ok = []
        for index, secret in enumerate(self.secrets):
            try:
                Webhook(secret).verify(body, headers)
            except WebhookVerificationError:
                continue
            ok.append(index)
        return tuple(ok)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        headers = {k.lower(): v for k, v in request.headers.items()}
        verified = self.verify(body, headers)
        step = self.script.popleft() if self.script else Answer()
        answered = None if isinstance(step, Hang) or not verified else step.status
        self.received.append(Received(headers.get("webhook-id", ""), headers, body, verified, answered))
        self.arrived.set()
        if not verified:
            return web.Response(status=400, text="bad signature")
        if isinstance(step, Hang):
            await self._release.wait()
            return web.Response(status=204)
        return web.Response(status=step.status, headers=step.headers, body=step.body or None)

    # --- what arrived -------------------------------------------------------------------------------

    def delivered(self) -> list[Received]:
        """Deliveries this receiver accepted (2xx), in arrival order."""
        return [r for r in self.received if r.answered is not None and 200 <= r.answered < 300]

    def unique(self) -> list[Received]:
        """Accepted deliveries after deduplication by webhook-id (the first of each)."""
        seen: set[str] = set()
        out = []
        for r in self.delivered():
            if r.msg_id not in seen:
                seen.add(r.msg_id)
                out.append(r)
        return out
