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

    async def hold(self, job: str, seconds: float) -> bool:
        """Like :meth:`acquire`, and also True (the lease renewed for ``seconds`` from now) when this node
        holds it already: for a job that runs continuously on one node until that node goes away."""
        ...


class DesignatedJobs:
    """This node runs every job, or none: the supervisor designates one worker."""

    def __init__(self, designated: bool) -> None:
        self.designated = designated

    async def acquire(self, job: str, seconds: float) -> bool:
        return self.designated

    async def hold(self, job: str, seconds: float) -> bool:
        return self.designated


class MemoryJobLease:
    """Leases in memory, shared by the nodes given the same ``table``; the twin of :class:`RedisJobLease`."""

    def __init__(
        self,
        node_id: str,
        table: dict[str, tuple[str, float]] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.node_id = node_id
        self.table = table if table is not None else {}  # job → (holder, until)
        self.clock = clock

    async def acquire(self, job: str, seconds: float) -> bool:
        return self._take(job, seconds, renew=False)

    async def hold(self, job: str, seconds: float) -> bool:
        return self._take(job, seconds, renew=True)

    def _take(self, job: str, seconds: float, *, renew: bool) -> bool:
        now = self.clock()
        holder, until = self.table.get(job, ("", 0.0))
        if until > now and not (renew and holder == self.node_id):
            return False
        self.table[job] = (self.node_id, now + seconds)
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

    async def hold(self, job: str, seconds: float) -> bool:
        try:
            taken = await self.redis.eval(
                _HOLD, 1, f"{self.prefix}job:{job}", self.node_id, max(1, int(seconds * 1000))
            )
        except RedisError:
            return False
        return bool(taken)


# KEYS[1] the job's key, ARGV[1] this node, ARGV[2] milliseconds: renew if ours, else take if free.
_HOLD = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
    return 1
end
return 0
"""
