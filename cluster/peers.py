"""The other nodes of this deployment that can be asked for their state (the metrics of each worker).

- worker processes on one machine (:class:`HashRouter`): every other worker, on its unix socket;
- Redis (:class:`RedisRouter`): every node whose record is live in the routing table;
- in memory (:class:`MemoryRouter`: one process, or nodes of a test sharing a table): the live nodes of the
  table that can be reached.
"""

from __future__ import annotations

import json

from redis.exceptions import RedisError

from cluster.hashing import HashRouter
from cluster.redis_routing import RedisRouter
from cluster.routing import MemoryRouter, Node, RoomRouter, RoutingUnavailable

__all__ = ["other_nodes"]


async def other_nodes(router: RoomRouter) -> list[Node]:
    """The reachable nodes other than this one, by id; RoutingUnavailable when Redis cannot be read."""
    me = router.node.id
    found: list[Node] = []
    if isinstance(router, HashRouter):
        found = list(router.nodes)
    elif isinstance(router, MemoryRouter):
        table = router.table
        found = [node for node_id in table.nodes if (node := table.live_node(node_id)) is not None]
    elif isinstance(router, RedisRouter):
        found = await _redis_nodes(router)
    return sorted((n for n in found if n.id != me and n.url is not None), key=lambda n: n.id)


async def _redis_nodes(router: RedisRouter) -> list[Node]:
    prefix = f"{router.prefix}node:"
    pattern = "".join(f"\\{c}" if c in "*?[]\\" else c for c in prefix) + "*"
    nodes = []
    try:
        async for key in router.redis.scan_iter(match=pattern, count=100):
            raw = await router.redis.get(key)
            if raw is None:
                continue  # lapsed meanwhile
            try:
                url = json.loads(raw).get("url")
            except (ValueError, AttributeError):
                continue
            name = key.decode() if isinstance(key, bytes) else str(key)
            nodes.append(Node(name.removeprefix(prefix), url if isinstance(url, str) else None))
    except RedisError as exc:
        raise RoutingUnavailable(f"the routing table is unreachable: {exc}") from exc
    return nodes
