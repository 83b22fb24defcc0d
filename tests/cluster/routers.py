"""Pairs of routers that share one routing table, for each implementation: what the tests of the router
contract and of the hand-over run against."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from redis.asyncio import Redis

from cluster.hashing import HashRouter
from cluster.jobs import JobLease, MemoryJobLease, RedisJobLease
from cluster.redis_routing import RedisRouter
from cluster.routing import MemoryRouter, MemoryTable, Node, NodeLoad, RoomRouter

__all__ = ["FakeClock", "Pair", "router_pair"]

LEASE = 15.0
_NO_LOAD = NodeLoad()


@dataclass
class FakeClock:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Pair:
    kind: str
    a: RoomRouter
    b: RoomRouter
    clock: FakeClock
    jobs: tuple[JobLease, JobLease]
    redis: Redis | None = None
    prefix: str = ""
    extra: list[RoomRouter] = field(default_factory=list)

    async def third(self, node: Node) -> RoomRouter:
        """One more node on the same table (hash routing has a fixed set of nodes: none)."""
        if isinstance(self.a, MemoryRouter):
            return MemoryRouter(node, self.a.table)
        if isinstance(self.a, RedisRouter):
            router = RedisRouter(
                self.a.redis, node, prefix=self.prefix, lease_seconds=LEASE, clock=self.clock
            )
            await router.heartbeat((), _NO_LOAD)
            return router
        raise AssertionError(f"{self.kind} has a fixed set of nodes")

    async def lapse(self, router: RoomRouter) -> None:
        """Make ``router``'s node look dead to the others, as when it stops heartbeating for a lease."""
        if self.kind == "memory":
            self.clock.now += LEASE + 1
            for other in (self.a, self.b):
                if other is not router:
                    await other.heartbeat((), _NO_LOAD)
        elif self.kind == "redis":
            assert self.redis is not None
            await self.redis.delete(f"{self.prefix}node:{router.node.id}")
        else:
            raise AssertionError(f"{self.kind} has no leases")


@asynccontextmanager
async def router_pair(
    kind: str, *, redis_url: str = "", prefix: str = "", urls: tuple[str, str] = ("unix:/a", "unix:/b")
) -> AsyncIterator[Pair]:
    """Two routers (nodes ``a`` and ``b``) sharing one table of the ``kind`` given."""
    clock = FakeClock()
    node_a, node_b = Node("node-a", urls[0]), Node("node-b", urls[1])
    if kind == "memory":
        table = MemoryTable(lease_seconds=LEASE, clock=clock)
        leases: dict[str, tuple[str, float]] = {}
        yield Pair(
            kind,
            MemoryRouter(node_a, table),
            MemoryRouter(node_b, table),
            clock,
            (MemoryJobLease(node_a.id, leases, clock), MemoryJobLease(node_b.id, leases, clock)),
        )
    elif kind == "hash":
        nodes = [node_a, node_b]
        yield Pair(kind, HashRouter(node_a, nodes), HashRouter(node_b, nodes), clock, (_no_jobs, _no_jobs))
    elif kind == "redis":
        redis = Redis.from_url(redis_url, decode_responses=True)
        a = RedisRouter(redis, node_a, prefix=prefix, lease_seconds=LEASE, clock=clock)
        b = RedisRouter(redis, node_b, prefix=prefix, lease_seconds=LEASE, clock=clock)
        try:
            await a.heartbeat((), _NO_LOAD)
            await b.heartbeat((), _NO_LOAD)
            yield Pair(
                kind,
                a,
                b,
                clock,
                (
                    RedisJobLease(redis, node_a.id, prefix=prefix),
                    RedisJobLease(redis, node_b.id, prefix=prefix),
                ),
                redis,
                prefix,
            )
        finally:
            await redis.aclose()
    else:
        raise AssertionError(kind)


class _NoJobs:
    async def acquire(self, job: str, seconds: float) -> bool:
        raise AssertionError("hash routing has no job leases")

    async def hold(self, job: str, seconds: float) -> bool:
        raise AssertionError("hash routing has no job leases")


_no_jobs = _NoJobs()
