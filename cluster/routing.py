"""Room → node routing: the :class:`RoomRouter` interface and its in-memory twin.

A router answers, for a room (a mediation session id), which node owns it, and claims it for the asking node
when no live node does. The owner renews its claims with :meth:`RoomRouter.heartbeat`; claims of a node that
stopped heartbeating lapse, and its rooms can be claimed again.

:class:`MemoryRouter` keeps the table in memory: alone it is the single-process default (every room is
local), and several routers sharing one :class:`MemoryTable` behave like nodes sharing Redis (tests).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Protocol

from tiaojie.errors import TiaojieError

__all__ = ["MemoryRouter", "MemoryTable", "Node", "NodeLoad", "RoomRouter", "RoutingUnavailable"]


class RoutingUnavailable(TiaojieError):
    """The routing table cannot be reached or keeps changing under us (503 at the edge)."""

    code = "routing_unavailable"


@dataclass(frozen=True, slots=True)
class Node:
    """A node: ``url`` is where other nodes reach its internal listener (``http://host:port`` or
    ``unix:/path``); ``None`` for a node nothing is handed to (one process)."""

    id: str
    url: str | None = None


@dataclass(frozen=True, slots=True)
class NodeLoad:
    rooms: int = 0
    connections: int = 0


class RoomRouter(Protocol):
    """Who owns which room. Every method may be called concurrently from any task."""

    @property
    def node(self) -> Node:
        """This node."""
        ...

    async def claim(self, room: str) -> Node:
        """The node that owns ``room``: its live owner, or this node when there was none."""
        ...

    async def lookup(self, room: str) -> Node | None:
        """The live owner of ``room``, if any; claims nothing."""
        ...

    async def release(self, room: str) -> None:
        """Give ``room`` up if this node owns it (another node's claim is left alone)."""
        ...

    async def heartbeat(self, active: Collection[str], load: NodeLoad) -> None:
        """Record this node as alive with its load, renew its claims of the ``active`` rooms, and release its
        claims of rooms that are not active and were claimed longer than a lease ago."""
        ...

    async def close(self) -> None:
        """Leave: release every claim of this node."""
        ...


@dataclass(slots=True)
class _Lease:
    owner: str
    expires: float


@dataclass(slots=True)
class MemoryTable:
    """The routing table that in-memory routers share; leases expire on ``clock`` (seconds)."""

    lease_seconds: float = 15.0
    clock: Callable[[], float] = time.monotonic
    rooms: dict[str, _Lease] = field(default_factory=dict)
    nodes: dict[str, tuple[Node, NodeLoad, float]] = field(default_factory=dict)

    def live_node(self, node_id: str) -> Node | None:
        entry = self.nodes.get(node_id)
        if entry is None or entry[2] <= self.clock():
            return None
        return entry[0]

    def owner(self, room: str) -> str | None:
        lease = self.rooms.get(room)
        if lease is None or lease.expires <= self.clock():
            return None
        return lease.owner


class MemoryRouter:
    """A :class:`RoomRouter` on a :class:`MemoryTable`; alone, the single-process router."""

    def __init__(self, node: Node, table: MemoryTable | None = None) -> None:
        self._node = node
        self.table = table if table is not None else MemoryTable()
        self._claimed: dict[str, float] = {}  # room -> when this node claimed it
        self._beat()

    @property
    def node(self) -> Node:
        return self._node

    def _beat(self, load: NodeLoad | None = None) -> None:
        now = self.table.clock()
        self.table.nodes[self._node.id] = (self._node, load or NodeLoad(), now + self.table.lease_seconds)

    def _alive(self, node_id: str) -> Node | None:
        if node_id == self._node.id:
            return self._node
        return self.table.live_node(node_id)

    async def claim(self, room: str) -> Node:
        owner_id = self.table.owner(room)
        owner = self._alive(owner_id) if owner_id is not None else None
        if owner is not None:
            if owner.id == self._node.id:
                self._claimed.setdefault(room, self.table.clock())
            return owner
        now = self.table.clock()
        self.table.rooms[room] = _Lease(self._node.id, now + self.table.lease_seconds)
        self._claimed[room] = now
        return self._node

    async def lookup(self, room: str) -> Node | None:
        owner_id = self.table.owner(room)
        return self._alive(owner_id) if owner_id is not None else None

    async def release(self, room: str) -> None:
        self._claimed.pop(room, None)
        lease = self.table.rooms.get(room)
        if lease is not None and lease.owner == self._node.id:
            del self.table.rooms[room]

    async def heartbeat(self, active: Collection[str], load: NodeLoad) -> None:
        self._beat(load)
        now = self.table.clock()
        for room, since in list(self._claimed.items()):
            lease = self.table.rooms.get(room)
            if lease is None or lease.owner != self._node.id or lease.expires <= now:
                if room in active and self.table.owner(room) is None:
                    self.table.rooms[room] = _Lease(self._node.id, now + self.table.lease_seconds)
                    continue
                self._claimed.pop(room, None)  # lost to another node
                continue
            if room in active or now - since < self.table.lease_seconds:
                lease.expires = now + self.table.lease_seconds
            else:
                await self.release(room)

    async def close(self) -> None:
        for room in list(self._claimed):
            await self.release(room)
        self.table.nodes.pop(self._node.id, None)
