"""The outbox: events are written with the change or not at all, and numbered per court without gaps."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from accounts.principal import Principal
from cases import progress
from cases.tables import Case
from tests.apihelp import Actors, accepted_case, assigned_case
from tests.webhooks.conftest import register
from tests.webhooks.receiver import Receiver
from web.services import Services
from webhooks.tables import WebhookDelivery, WebhookEvent


async def _count(services: Services, table: type[WebhookEvent] | type[WebhookDelivery]) -> int:
    async with services.db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(table)) or 0)


async def test_a_change_that_rolls_back_leaves_no_event(
    actors: Actors, services: Services, receiver: Receiver
) -> None:
    await register(actors, receiver)
    case = await accepted_case(actors)
    events, deliveries = await _count(services, WebhookEvent), await _count(services, WebhookDelivery)
    assert (events, deliveries) == (2, 2)

    async def change_then_fail() -> None:
        async with services.db.session() as session:
            stored = await session.get(Case, case["id"])
            assert stored is not None
            await progress.begin_mediation(session, services.cases, Principal.system("test"), stored)
            await session.flush()
            raise RuntimeError("failed after the change")

    with pytest.raises(RuntimeError, match="after the change"):
        await change_then_fail()
    assert (await _count(services, WebhookEvent), await _count(services, WebhookDelivery)) == (2, 2)
    async with services.db.read() as session:
        stored = await session.get(Case, case["id"])
        assert stored is not None
        assert stored.state == "accepted"
    # The next change of the court takes the next number: the rolled-back one left no gap.
    await (await actors.user("mediator1")).post(f"/cases/{case['id']}/begin")
    page = await actors.court_a.get("/webhooks/events")
    assert [e["seq"] for e in page["items"]] == [1, 2, 3]


async def test_concurrent_changes_are_numbered_without_gaps_or_repeats(
    actors: Actors, services: Services
) -> None:
    cases = [await assigned_case(actors) for _ in range(8)]
    mediator = await actors.user("mediator1")
    await asyncio.gather(*(mediator.post(f"/cases/{c['id']}/accept", json={}) for c in cases))
    page = await actors.court_a.get("/webhooks/events?limit=100")
    seqs = [e["seq"] for e in page["items"]]
    assert seqs == list(range(1, 17))
    accepted = [e["data"]["case_id"] for e in page["items"] if e["type"] == "case.accepted"]
    assert sorted(accepted) == sorted(c["id"] for c in cases)
    async with services.db.read() as session:
        assert await session.scalar(select(func.count()).where(WebhookEvent.seq.is_(None))) == 0
