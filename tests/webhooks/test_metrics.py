"""The webhook figures of ``/metrics``: the backlog and its age from the outbox, attempts by outcome from the
delivery worker, against a real receiver on loopback."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from tests.apihelp import Actors, assigned_case
from tests.test_metrics import TOKEN, scrape, value
from tests.webhooks.conftest import TIMEOUT, drain, pending, register
from tests.webhooks.receiver import Answer, Receiver
from tiaojie.clock import FrozenClock
from tiaojie.settings import Settings
from web.metrics_endpoint import METRICS_SOURCES
from web.services import Services
from webhooks.addresses import parse_networks
from webhooks.sender import Sender
from webhooks.worker import DeliveryWorker


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"metrics_token": TOKEN})


async def test_backlog_age_and_attempts_move(
    client: TestClient[Any, Any],
    app: web.Application,
    actors: Actors,
    services: Services,
    clock: FrozenClock,
    receiver: Receiver,
) -> None:
    samples = await scrape(client)
    assert value(samples, "tiaojie_webhook_deliveries", status="pending") == 0
    assert value(samples, "tiaojie_webhook_oldest_pending_age_seconds") == 0
    await register(actors, receiver)
    await assigned_case(actors)
    clock.advance(timedelta(minutes=5))
    samples = await scrape(client)
    waiting = await pending(services)
    assert waiting >= 1
    assert value(samples, "tiaojie_webhook_deliveries", status="pending") == waiting
    assert value(samples, "tiaojie_webhook_oldest_pending_age_seconds") == pytest.approx(300, abs=1)
    assert value(samples, "tiaojie_webhook_endpoints", status="active") == 1

    outcomes = app[METRICS_SOURCES].webhook_outcomes  # what the app's own worker counts into
    receiver.script.extend([Answer(503)])
    async with Sender(parse_networks(["127.0.0.0/8"]), timeout=TIMEOUT) as sender:
        worker = DeliveryWorker(
            services.db,
            clock,
            sender,
            services.secret_box,
            rand=lambda: 0.5,
            claim_seconds=TIMEOUT + 3,
            outcomes=outcomes,
        )
        first = await worker.run_once()
        samples = await scrape(client)
        assert value(samples, "tiaojie_webhook_attempts_total", outcome="retry") == 1
        assert value(samples, "tiaojie_webhook_attempts_total", outcome="delivered") == first - 1
        await drain(worker, services, clock)
    samples = await scrape(client)
    assert value(samples, "tiaojie_webhook_deliveries", status="pending") == 0
    assert value(samples, "tiaojie_webhook_oldest_pending_age_seconds") == 0
    assert value(samples, "tiaojie_webhook_attempts_total", outcome="delivered") == waiting
    assert value(samples, "tiaojie_webhook_attempts_total", outcome="failed") == 0
