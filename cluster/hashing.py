"""Routing among the worker processes of one machine, without Redis: the owner of a room is a fixed function
of the room id and the configured workers (rendezvous hashing), so every worker computes the same owner
without asking anyone. A worker that dies is restarted under the same name by the supervisor and takes its
rooms back (their live state was lost with the process either way); nothing needs leasing."""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Sequence

from cluster.routing import Node, NodeLoad

__all__ = ["HashRouter", "owner_of"]


def owner_of(room: str, nodes: Sequence[Node]) -> Node:
    """The node with the highest hash of (node id, room): stable, spread evenly, and when a node is added or
    removed only its own share of rooms moves."""
    if not nodes:
        raise ValueError("no nodes")
    return max(nodes, key=lambda n: hashlib.sha256(f"{n.id}\0{room}".encode()).digest())


class HashRouter:
    """A :class:`cluster.routing.RoomRouter` over a fixed list of nodes, this one among them."""

    def __init__(self, node: Node, nodes: Sequence[Node]) -> None:
        if node.id not in {n.id for n in nodes}:
            raise ValueError(f"{node.id} is not one of the nodes")
        self._node = node
        self.nodes = tuple(nodes)
        self.load = NodeLoad()

    @property
    def node(self) -> Node:
        return self._node

    async def claim(self, room: str) -> Node:
        return owner_of(room, self.nodes)

    async def lookup(self, room: str) -> Node | None:
        return owner_of(room, self.nodes)

    async def release(self, room: str) -> None:
        return None

    async def heartbeat(self, active: Collection[str], load: NodeLoad) -> None:
        self.load = load

    async def close(self) -> None:
        return None
