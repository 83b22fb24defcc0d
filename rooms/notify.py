"""Sending join links to people: a notifier interface, a development log and an SMS-gateway adapter."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Protocol

import aiohttp

from tiaojie.errors import TiaojieError
from tiaojie.masking import mask_phone

__all__ = [
    "AfterCommit",
    "HttpGatewayNotifier",
    "LogNotifier",
    "Message",
    "Notifier",
    "NotifyFailed",
    "Outcomes",
]

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
    link_version: int | None = None
    """Which version of the recipient's link it carries (their token version), for the delivery record."""


Outcomes = list[tuple[Message, NotifyFailed | None]]
"""Messages as sent, each with its failure (None: the gateway accepted it)."""


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
    """A notifier that keeps what it is given and sends it with :meth:`deliver_each` (or :meth:`deliver`),
    called once the unit of work that decided to send it has committed: a slow SMS gateway then holds no
    transaction (nor SQLite's write lock), and one that refuses undoes nothing."""

    #: Messages sent at the same time at most (a session may invite some 60 people; gateways rate-limit).
    CONCURRENCY = 4

    def __init__(self, notifier: Notifier) -> None:
        self.notifier = notifier
        self.pending: list[Message] = []

    async def send(self, message: Message) -> None:
        self.pending.append(message)

    async def deliver(self) -> None:
        """:meth:`deliver_each`, then raise the first failure (for a caller that answers with it)."""
        for _, failure in await self.deliver_each():
            if failure is not None:
                raise failure

    async def deliver_each(self) -> Outcomes:
        """Send every kept message, a few at a time, each on its own: one the gateway refuses (or a gateway
        that does not answer within its timeout, or a notifier that fails in any other way) does not stop
        the others. Returns each message with its failure, None for one the gateway accepted."""
        pending, self.pending = self.pending, []
        gate = asyncio.Semaphore(self.CONCURRENCY)

        async def one(message: Message) -> tuple[Message, NotifyFailed | None]:
            try:
                async with gate:
                    await self.notifier.send(message)
            except NotifyFailed as failure:
                log.warning("%s to %s not delivered: %s", message.purpose, mask_phone(message.phone), failure)
                return message, failure
            except Exception as error:  # a notifier's own bug must not turn a stored change into an error
                log.exception("%s to %s not delivered", message.purpose, mask_phone(message.phone))
                return message, NotifyFailed(f"the notifier failed: {error.__class__.__name__}")
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
