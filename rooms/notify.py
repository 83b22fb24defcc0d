"""Sending join links to people: a notifier interface, a development log and an SMS-gateway adapter."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Protocol

import aiohttp

from tiaojie.errors import TiaojieError
from tiaojie.masking import mask_phone

__all__ = ["AfterCommit", "HttpGatewayNotifier", "LogNotifier", "Message", "Notifier", "NotifyFailed"]

log = logging.getLogger(__name__)


class NotifyFailed(TiaojieError):
    code = "notify_failed"


@dataclass(frozen=True, slots=True)
class Message:
    phone: str
    text: str
    purpose: str  # join_link, one_time_code, ...
    recipient: str | None = None
    """Whom it is for in our records (a session participant's id), for the delivery record; not sent."""


class Notifier(Protocol):
    async def send(self, message: Message) -> None: ...


class LogNotifier:
    """Development: writes the message to the log (the phone number masked) and keeps the last ones."""

    def __init__(self, keep: int = 100) -> None:
        self.sent: list[Message] = []
        self._keep = keep

    async def send(self, message: Message) -> None:
        log.info("notify %s (%s): %s", mask_phone(message.phone), message.purpose, message.text)
        self.sent = [*self.sent[-(self._keep - 1) :], message]


class AfterCommit:
    """A notifier that keeps what it is given and sends it with :meth:`deliver`, called once the unit of work
    that decided to send it has committed: a slow SMS gateway then holds no transaction (nor SQLite's write
    lock). A message the gateway refuses raises NotifyFailed from :meth:`deliver`."""

    def __init__(self, notifier: Notifier) -> None:
        self.notifier = notifier
        self.pending: list[Message] = []

    async def send(self, message: Message) -> None:
        self.pending.append(message)

    async def deliver(self) -> None:
        pending, self.pending = self.pending, []
        for message in pending:
            await self.notifier.send(message)

    async def deliver_each(self) -> list[tuple[Message, NotifyFailed | None]]:
        """Send every kept message at the same time, each on its own: one the gateway refuses (or a gateway
        that does not answer within its timeout) does not hold up or stop the others. Returns each message
        with its failure, None for one the gateway accepted."""
        pending, self.pending = self.pending, []

        async def one(message: Message) -> tuple[Message, NotifyFailed | None]:
            try:
                await self.notifier.send(message)
            except NotifyFailed as failure:
                log.warning("%s to %s not delivered: %s", message.purpose, mask_phone(message.phone), failure)
                return message, failure
            return message, None

        return list(await asyncio.gather(*(one(message) for message in pending)))


class HttpGatewayNotifier:
    """Production: POSTs ``{"phone", "text", "purpose"}`` as JSON to the court's or union's SMS gateway,
    with a bearer token; any non-2xx answer or network failure raises NotifyFailed."""

    def __init__(self, url: str, token: str | None, *, timeout: float = 10.0) -> None:
        self.url = url
        self.token = token
        self.timeout = aiohttp.ClientTimeout(total=timeout)

    async def send(self, message: Message) -> None:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        body = {"phone": message.phone, "text": message.text, "purpose": message.purpose}
        try:
            async with (
                aiohttp.ClientSession(timeout=self.timeout) as client,
                client.post(self.url, json=body, headers=headers) as response,
            ):
                if response.status >= 300:
                    raise NotifyFailed(
                        f"the SMS gateway answered {response.status}", gateway_status=response.status
                    )
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise NotifyFailed(f"the SMS gateway could not be reached: {exc.__class__.__name__}") from None
