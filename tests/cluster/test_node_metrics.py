"""``/metrics`` of two in-process nodes sharing one routing table (in memory, and in a real Redis): either
node answers for both, and a room shows under the node that holds it."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from tests.cluster.peers import RoomPeer
from tests.cluster.routers import Pair
from tests.cluster.test_handover import KINDS, Nodes, app, listeners, nodes, pair  # noqa: F401 - fixtures
from tests.signaling.test_room_protocol import scene  # noqa: F401 - the fixture
from tests.test_metrics import AUTH, TOKEN, parse, value
from tiaojie.settings import Settings


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"metrics_token": TOKEN})


async def scrape(base: str) -> Any:
    async with aiohttp.ClientSession() as http, http.get(f"{base}/metrics", headers=AUTH) as response:
        assert response.status == 200, await response.text()
        return parse(await response.text())


@pytest.mark.parametrize("pair", KINDS, indirect=True)
async def test_either_node_answers_for_both(
    scene: dict[str, Any],  # noqa: F811
    nodes: Nodes,  # noqa: F811
    pair: Pair,  # noqa: F811
) -> None:
    a, b = pair.a.node.id, pair.b.node.id
    for base in (nodes.a, nodes.b):
        samples = await scrape(base)
        for node in (a, b):
            assert value(samples, "tiaojie_metrics_node_up", node=node) == 1
            assert value(samples, "tiaojie_rooms_open", node=node) == 0
    mediator = RoomPeer()
    try:
        await mediator.connect(nodes.b, scene["session_id"], scene["tokens"]["mediator"])
        assert mediator.entry == (b, b)
        samples = await scrape(nodes.a)
        assert value(samples, "tiaojie_rooms_open", node=b) == 1
        assert value(samples, "tiaojie_rooms_open", node=a) == 0
        assert value(samples, "tiaojie_participants", node=b, role="mediator", state="present") == 1
    finally:
        await mediator.close()
