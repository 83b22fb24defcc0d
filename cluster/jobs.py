"""Jobs that must run once across all nodes (the deadline sweeper): a :class:`JobLease` says whether this node
runs a job now. One process or one machine's workers designate one node; nodes sharing Redis take a lease."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

__all__ = ["DesignatedJobs", "JobLease", "MemoryJobLease", "RedisJobLease"]


class JobLease(Protocol):
    async def acquire(self, job: str, seconds: float) -> bool:
        """True when this node should run ``job`` now; then no other node gets True for ``job`` for
        ``seconds``."""
        ...


class DesignatedJobs:
    """This node runs every job, or none: the supervisor designates one worker."""

    def __init__(self, designated: bool) -> None:
        self.designated = designated

    async def acquire(self, job: str, seconds: float) -> bool:
        return self.designated


class MemoryJobLease:
    """Leases in memory, shared by the nodes given the same ``table``; the twin of :class:`RedisJobLease`."""

    def __init__(
        self, node_id: str, table: dict[str, float] | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.node_id = node_id
        self.table = table if table is not None else {}
        self.clock = clock

    async def acquire(self, job: str, seconds: float) -> bool:
        now = self.clock()
        if self.table.get(job, 0.0) > now:
            return False
        self.table[job] = now + seconds
        return True


class RedisJobLease:
    def __init__(self, redis: Redis, node_id: str, *, prefix: str = "tiaojie:") -> None:
        self.redis = redis
        self.node_id = node_id
        self.prefix = prefix

    async def acquire(self, job: str, seconds: float) -> bool:
        try:
            taken = await self.redis.set(
                f"{self.prefix}job:{job}", self.node_id, nx=True, px=max(1, int(seconds * 1000))
            )
        except RedisError:
            return False  # nobody can be sure to hold it: skip this round
        return bool(taken)
