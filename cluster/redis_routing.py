"""Room → node routing in Redis, shared by every node of a deployment.

Keys (all under one prefix): ``room:<id>`` holds the owning node's id with a lease (TTL); ``node:<id>``
holds a node's URL and load as JSON with the same TTL. A node's heartbeat renews its record and the leases
of its active rooms. When a node stops (crash, network), its record lapses: its rooms can be taken over at
once by whoever next claims them, and their leases lapse by themselves soon after.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Collection
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from cluster.routing import Node, NodeLoad, RoutingUnavailable

__all__ = ["RedisRouter"]

# Take over a room from a node that is gone: only if it still names that node.
_TAKE_OVER = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
    return 1
end
return 0
"""
# Release a room only if this node owns it.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('DEL', KEYS[1])
end
return 0
"""
# Renew this node's leases of the given rooms (taking back any that lapsed meanwhile); 1 per room still ours.
_RENEW = """
local kept = {}
for i, key in ipairs(KEYS) do
    local owner = redis.call('GET', key)
    if owner == ARGV[1] or not owner then
        redis.call('SET', key, ARGV[1], 'PX', ARGV[2])
        kept[i] = 1
    else
        kept[i] = 0
    end
end
return kept
"""
_ATTEMPTS = 5


class RedisRouter:
    """A :class:`cluster.routing.RoomRouter` in Redis (a client made with ``decode_responses=True``)."""

    def __init__(
        self,
        redis: Redis,
        node: Node,
        *,
        prefix: str = "tiaojie:",
        lease_seconds: float = 15.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.redis = redis
        self._node = node
        self.prefix = prefix
        self.lease_ms = max(1, int(lease_seconds * 1000))
        self.clock = clock
        self._claimed: dict[str, float] = {}  # room -> when this node claimed it (clock seconds)
        self._take_over = redis.register_script(_TAKE_OVER)
        self._release = redis.register_script(_RELEASE)
        self._renew = redis.register_script(_RENEW)

    @property
    def node(self) -> Node:
        return self._node

    def _room_key(self, room: str) -> str:
        return f"{self.prefix}room:{room}"

    def _node_key(self, node_id: str) -> str:
        return f"{self.prefix}node:{node_id}"

    async def _live_node(self, node_id: str | bytes) -> Node | None:
        node_id = node_id.decode() if isinstance(node_id, bytes) else node_id
        if node_id == self._node.id:
            return self._node
        raw = await self.redis.get(self._node_key(node_id))
        if raw is None:
            return None
        record: dict[str, Any] = json.loads(raw)
        return Node(node_id, record.get("url"))

    async def claim(self, room: str) -> Node:
        key = self._room_key(room)
        me = self._node.id
        try:
            for _ in range(_ATTEMPTS):
                if await self.redis.set(key, me, nx=True, px=self.lease_ms):
                    self._claimed[room] = self.clock()
                    return self._node
                owner_id = await self.redis.get(key)
                if owner_id is None:
                    continue  # lapsed just now: try again
                if owner_id == me:
                    self._claimed.setdefault(room, self.clock())
                    return self._node
                owner = await self._live_node(owner_id)
                if owner is not None:
                    return owner
                if await self._take_over(keys=[key], args=[owner_id, me, self.lease_ms]):
                    self._claimed[room] = self.clock()
                    return self._node
        except RedisError as exc:
            raise RoutingUnavailable(f"the routing table is unreachable: {exc}") from exc
        raise RoutingUnavailable("the room's owner keeps changing; try again")

    async def lookup(self, room: str) -> Node | None:
        try:
            owner_id = await self.redis.get(self._room_key(room))
            return await self._live_node(owner_id) if owner_id is not None else None
        except RedisError as exc:
            raise RoutingUnavailable(f"the routing table is unreachable: {exc}") from exc

    async def release(self, room: str) -> None:
        self._claimed.pop(room, None)
        try:
            await self._release(keys=[self._room_key(room)], args=[self._node.id])
        except RedisError as exc:
            raise RoutingUnavailable(f"the routing table is unreachable: {exc}") from exc

    async def heartbeat(self, active: Collection[str], load: NodeLoad) -> None:
        now = self.clock()
        lease = self.lease_ms / 1000
        record = json.dumps({"url": self._node.url, "rooms": load.rooms, "connections": load.connections})
        for room in active:
            self._claimed.setdefault(room, now)
        keep = [r for r, since in self._claimed.items() if r in active or now - since < lease]
        drop = [r for r in self._claimed if r not in set(keep)]
        try:
            await self.redis.set(self._node_key(self._node.id), record, px=self.lease_ms)
            if keep:
                kept = await self._renew(
                    keys=[self._room_key(r) for r in keep], args=[self._node.id, self.lease_ms]
                )
                for room, ours in zip(keep, kept, strict=True):
                    if not ours:
                        self._claimed.pop(room, None)  # another node has it now
            for room in drop:
                await self.release(room)
        except RedisError as exc:
            raise RoutingUnavailable(f"the routing table is unreachable: {exc}") from exc

    async def close(self) -> None:
        for room in list(self._claimed):
            await self.release(room)
        await self.redis.delete(self._node_key(self._node.id))
