"""The room router contract, run against every implementation: in memory, by hash over fixed workers, and
in a real Redis. Two routers share one table, as two nodes do."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from cluster.hashing import owner_of
from cluster.routing import MemoryRouter, Node, NodeLoad, RoomRouter
from tests.cluster.routers import LEASE, Pair, router_pair
from tiaojie.ids import new_id

KINDS = ["memory", "hash", pytest.param("redis", marks=pytest.mark.redis)]
LEASED = ["memory", pytest.param("redis", marks=pytest.mark.redis)]


@pytest.fixture
async def pair(request: pytest.FixtureRequest) -> AsyncIterator[Pair]:
    kind = request.param
    url, prefix = request.getfixturevalue("redis_prefix") if kind == "redis" else ("", "")
    async with router_pair(kind, redis_url=url, prefix=prefix) as made:
        yield made


def other(pair: Pair, node: Node) -> RoomRouter:
    return pair.b if node.id == pair.a.node.id else pair.a


def owner_router(pair: Pair, node: Node) -> RoomRouter:
    return pair.a if node.id == pair.a.node.id else pair.b


# --- every implementation ---------------------------------------------------------------------------------


@pytest.mark.parametrize("pair", KINDS, indirect=True)
async def test_both_nodes_agree_on_every_rooms_owner(pair: Pair) -> None:
    rooms = [new_id("ses") for _ in range(40)]
    for i, room in enumerate(rooms):
        first = pair.a if i % 2 else pair.b
        second = pair.b if i % 2 else pair.a
        owner = await first.claim(room)
        assert owner.id in {pair.a.node.id, pair.b.node.id}
        assert (await second.claim(room)).id == owner.id
        assert (await first.lookup(room)) == owner
        assert (await second.lookup(room)) == owner
        assert owner.url is not None  # the other node can reach it


@pytest.mark.parametrize("pair", KINDS, indirect=True)
async def test_only_the_owner_can_release(pair: Pair) -> None:
    room = new_id("ses")
    owner = await pair.a.claim(room)
    await other(pair, owner).release(room)
    assert (await pair.a.lookup(room)) == owner
    assert (await pair.b.claim(room)).id == owner.id


@pytest.mark.parametrize("pair", KINDS, indirect=True)
async def test_heartbeat_keeps_an_active_room_and_a_released_room_gets_a_live_owner(pair: Pair) -> None:
    room = new_id("ses")
    owner = await pair.b.claim(room)
    holder = owner_router(pair, owner)
    for _ in range(2):  # past the first lease: only the heartbeat kept it
        pair.clock.now += LEASE * 2 / 3
        await holder.heartbeat({room}, NodeLoad(rooms=1, connections=2))
        await other(pair, owner).heartbeat(set(), NodeLoad())
    assert (await other(pair, owner).claim(room)).id == owner.id
    await holder.release(room)
    again = await pair.a.claim(room)
    assert again.id in {pair.a.node.id, pair.b.node.id}
    assert (await pair.b.claim(room)).id == again.id


# --- leases (memory and Redis) ----------------------------------------------------------------------------


@pytest.mark.parametrize("pair", LEASED, indirect=True)
async def test_the_first_claim_wins(pair: Pair) -> None:
    room = new_id("ses")
    assert await pair.b.lookup(room) is None
    assert await pair.b.claim(room) == pair.b.node
    assert await pair.a.claim(room) == pair.b.node


@pytest.mark.parametrize("pair", LEASED, indirect=True)
async def test_a_dead_nodes_rooms_are_taken_over(pair: Pair) -> None:
    room = new_id("ses")
    assert await pair.a.claim(room) == pair.a.node
    await pair.lapse(pair.a)
    assert await pair.b.lookup(room) is None  # its owner is gone
    assert await pair.b.claim(room) == pair.b.node
    # The old owner comes back: its heartbeat finds the room taken and lets go of it.
    await pair.a.heartbeat({room}, NodeLoad())
    assert await pair.a.claim(room) == pair.b.node


@pytest.mark.parametrize("pair", LEASED, indirect=True)
async def test_a_claim_that_never_became_a_room_lapses(pair: Pair) -> None:
    used, unused = new_id("ses"), new_id("ses")
    await pair.a.claim(used)
    await pair.a.claim(unused)
    pair.clock.now += LEASE + 1
    await pair.a.heartbeat({used}, NodeLoad(rooms=1))
    assert await pair.b.lookup(used) == pair.a.node
    assert await pair.b.lookup(unused) is None
    assert await pair.b.claim(unused) == pair.b.node


@pytest.mark.parametrize("pair", LEASED, indirect=True)
async def test_closing_a_node_releases_its_rooms(pair: Pair) -> None:
    rooms = [new_id("ses") for _ in range(3)]
    for room in rooms:
        await pair.a.claim(room)
    await pair.a.close()
    for room in rooms:
        assert await pair.b.claim(room) == pair.b.node


@pytest.mark.parametrize("pair", LEASED, indirect=True)
async def test_a_job_runs_on_one_node_per_lease(pair: Pair) -> None:
    first, second = pair.jobs
    assert await first.acquire("deadline_sweep", 60) is True
    assert await second.acquire("deadline_sweep", 60) is False
    assert await first.acquire("deadline_sweep", 60) is False
    assert await second.acquire("another_job", 60) is True


@pytest.mark.parametrize("pair", LEASED, indirect=True)
async def test_a_held_job_stays_with_its_node_until_it_stops_renewing(pair: Pair) -> None:
    """The webhook delivery runs continuously on one node: it renews its lease before the end, and another
    node takes over only once it has not renewed for a whole lease."""
    first, second = pair.jobs
    assert await first.hold("webhook_delivery", 0.4) is True
    assert await second.hold("webhook_delivery", 0.4) is False
    assert await first.hold("webhook_delivery", 60) is True  # renewed, for longer
    assert await second.acquire("webhook_delivery", 0.4) is False
    if pair.redis is not None:
        assert 400 < await pair.redis.pttl(f"{pair.prefix}job:webhook_delivery") <= 60_000
    await _lease_ends(pair, 61)
    assert await second.hold("webhook_delivery", 0.4) is True  # the first stopped renewing
    assert await first.hold("webhook_delivery", 0.4) is False


async def _lease_ends(pair: Pair, seconds: float) -> None:
    """Let ``seconds`` pass for the leases: the memory twin's clock moves; in Redis the key is dropped, as its
    expiry (PX, checked renewed above) would drop it."""
    if pair.redis is None:
        pair.clock.now += seconds
        return
    await pair.redis.delete(f"{pair.prefix}job:webhook_delivery")


@pytest.mark.redis
async def test_redis_records_node_load(redis_prefix: tuple[str, str]) -> None:
    url, prefix = redis_prefix
    async with router_pair("redis", redis_url=url, prefix=prefix) as pair:
        await pair.a.heartbeat(set(), NodeLoad(rooms=3, connections=11))
        assert pair.redis is not None
        raw = await pair.redis.get(f"{prefix}node:{pair.a.node.id}")
        assert raw is not None
        record = json.loads(raw)
        assert record == {"url": pair.a.node.url, "rooms": 3, "connections": 11}
        ttl = await pair.redis.pttl(f"{prefix}node:{pair.a.node.id}")
        assert 0 < ttl <= LEASE * 1000


# --- the single process and the hash ----------------------------------------------------------------------


async def test_alone_every_room_is_here() -> None:
    router = MemoryRouter(Node("main"))
    for _ in range(10):
        room = new_id("ses")
        assert await router.claim(room) == router.node
        assert await router.lookup(room) == router.node


def test_hash_owners_are_spread_and_stable() -> None:
    nodes = [Node(f"worker-{i}", f"unix:/w{i}") for i in range(4)]
    rooms = [new_id("ses") for _ in range(400)]
    owners = [owner_of(r, nodes).id for r in rooms]
    counts = {n.id: owners.count(n.id) for n in nodes}
    assert min(counts.values()) > 50, counts  # about 100 each
    # Dropping a node moves only that node's rooms.
    fewer = nodes[:3]
    for room, owner in zip(rooms, owners, strict=True):
        if owner != "worker-3":
            assert owner_of(room, fewer).id == owner
