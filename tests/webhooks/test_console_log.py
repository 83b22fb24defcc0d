"""The court's delivery log in the console, and redelivery from it."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from tests.apihelp import Actors, assigned_case
from tests.test_console import csrf_of, login, logout_locally
from tests.webhooks.conftest import register
from tests.webhooks.receiver import Answer, Receiver
from tiaojie.clock import FrozenClock
from web.services import Services
from webhooks.worker import DeliveryWorker


async def test_the_court_sees_each_attempt_and_can_send_again(
    actors: Actors,
    client: TestClient[Any, Any],
    services: Services,
    clock: FrozenClock,
    receiver: Receiver,
    worker: DeliveryWorker,
) -> None:
    endpoint = await register(actors, receiver, description="立案系统")
    receiver.script.append(Answer(500))
    case = await assigned_case(actors)
    assert await worker.run_once() == 1

    await login(client, "clerk_a")
    page = await client.get("/console/webhooks")
    assert page.status == 200
    html = await page.text()
    assert receiver.url in html
    assert "立案系统" in html
    assert "case.assigned" in html
    assert "HTTP 500" in html
    assert f"/console/cases/{case['id']}" in html
    path = f"/webhooks/endpoints/{endpoint['id']}/deliveries"
    (delivery,) = (await actors.court_a.get(path))["items"]
    assert delivery["next_attempt_at"] > "2026-03-02T01:00:00Z"  # waiting for its retry

    form = f"/console/webhooks/{endpoint['id']}/deliveries/{delivery['id']}/redeliver"
    refused = await client.post(form, data={"csrf_token": "wrong"}, allow_redirects=False)
    assert refused.status == 403
    sent = await client.post(form, data={"csrf_token": csrf_of(html)}, allow_redirects=False)
    assert sent.status in (302, 303)
    assert sent.headers["Location"].startswith("/console/webhooks?done=redeliver")
    (again,) = (await actors.court_a.get(path))["items"]
    assert (again["status"], again["attempts"], again["next_attempt_at"]) == (
        "pending",
        0,
        "2026-03-02T01:00:00Z",
    )
    assert await worker.run_once() == 1
    assert [r.answered for r in receiver.received] == [500, 204]

    logout_locally(client)
    await login(client, "mediator1")
    assert (await client.get("/console/webhooks")).status == 403
