"""Fixtures of the webhook tests: loopback allowed, a receiver, a delivery worker driven by the test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import func, select

from tests import apihelp
from tests.apihelp import Actors
from tests.webhooks.receiver import Receiver
from tiaojie.clock import FrozenClock
from tiaojie.settings import Settings
from web.services import Services
from webhooks.addresses import parse_networks
from webhooks.sender import Sender
from webhooks.tables import WebhookDelivery
from webhooks.worker import DeliveryWorker

actors = apihelp.actors

TIMEOUT = 0.5


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The shared test settings, with loopback allowed for webhook endpoints and a short timeout."""
    return settings.model_copy(
        update={"webhook_allowed_networks": ("127.0.0.0/8",), "webhook_timeout_seconds": TIMEOUT}
    )


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    r = await Receiver().start()
    yield r
    await r.stop()


@pytest.fixture
async def worker(services: Services, clock: FrozenClock) -> AsyncIterator[DeliveryWorker]:
    async with Sender(parse_networks(["127.0.0.0/8"]), timeout=TIMEOUT) as sender:
        yield DeliveryWorker(
            services.db, clock, sender, services.secret_box, rand=lambda: 0.5, claim_seconds=TIMEOUT + 3
        )


async def register(actors: Actors, receiver: Receiver, **body: Any) -> dict[str, Any]:
    """Register ``receiver`` for court a; the receiver verifies with the secret returned."""
    endpoint: dict[str, Any] = await actors.court_a.post(
        "/webhooks/endpoints", 201, json={"url": receiver.url, **body}
    )
    receiver.secrets.insert(0, endpoint["secret"])
    return endpoint


async def pending(services: Services) -> int:
    async with services.db.read() as session:
        return int(
            await session.scalar(
                select(func.count()).select_from(WebhookDelivery).where(WebhookDelivery.status == "pending")
            )
            or 0
        )


async def drain(worker: DeliveryWorker, services: Services, clock: FrozenClock, *, rounds: int = 80) -> int:
    """Rounds of delivery, the clock moved to the next due retry whenever a round had nothing to send,
    until no delivery to an active endpoint is pending. Returns the attempts made."""
    attempts = 0
    for _ in range(rounds):
        attempts += await worker.run_once()
        due = await worker.next_due()
        if due is None:
            return attempts
        if due > clock.now():
            clock.set(due)
    raise AssertionError("deliveries still pending")
