"""``GET /metrics``: the Prometheus text exposition for operators, off unless configured.

Access (``TIAOJIE_METRICS_TOKEN``, ``TIAOJIE_METRICS_ALLOWED_NETWORKS``): with neither set the endpoint does
not exist (404 ``metrics_disabled``); a connection from outside the allowed networks gets 403
``metrics_forbidden``; a missing or wrong bearer token 401 ``metrics_unauthorized``. The address checked is
the direct peer's: behind a reverse proxy every request comes from the proxy, so use the token there.

Several worker processes (``tiaojie serve --workers N``) or nodes (Redis): the process that receives the
scrape asks every other node for its own figures (``GET /metrics/node`` on the node's internal listener,
with the deployment's hop header) and answers for all of them, each process's series labelled
``node="worker-0"`` …; the database figures (queues) are read once and carry no ``node`` label. A node that
does not answer within :data:`PEER_TIMEOUT` is left out and shows ``tiaojie_metrics_node_up{node} 0``.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import logging
from typing import Any

import aiohttp
import orjson
from aiohttp import web

from cluster.handover import HOP_HEADER, hop_token
from cluster.peers import other_nodes
from cluster.routing import Node, RoutingUnavailable
from cluster.topology import Topology
from tiaojie.errors import NotFound, PermissionDenied, Unauthenticated
from tiaojie.metrics import CONTENT_TYPE, Family, merge, render, with_label
from tiaojie.settings import Settings
from web.metrics_sources import LocalSources, database_families, local_families
from web.services import SERVICES

__all__ = ["METRICS_SOURCES", "PEER_TIMEOUT", "check_access", "setup_metrics"]

log = logging.getLogger(__name__)

METRICS_SOURCES = web.AppKey("metrics_sources", LocalSources)
METRICS_TOPOLOGY = web.AppKey("metrics_topology", Topology)
PEER_TIMEOUT = 3.0
NODE_PATH = "/metrics/node"


def check_access(settings: Settings, remote: str | None, authorization: str) -> None:
    """Raise unless this caller may scrape: NotFound (off), PermissionDenied (network), Unauthenticated."""
    if not settings.metrics_enabled:
        raise NotFound("metrics are not enabled on this server", code="metrics_disabled")
    if settings.metrics_allowed_networks:
        try:
            address = ipaddress.ip_address((remote or "").split("%", 1)[0])
        except ValueError:
            address = None
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        allowed = address is not None and any(
            address in ipaddress.ip_network(n, strict=False) for n in settings.metrics_allowed_networks
        )
        if not allowed:
            raise PermissionDenied("this address may not read the metrics", code="metrics_forbidden")
    if settings.metrics_token:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            token.strip().encode(), settings.metrics_token.encode()
        ):
            raise Unauthenticated(
                "send the metrics token as 'Authorization: Bearer <token>'", code="metrics_unauthorized"
            )


async def _from_node(node: Node, hop: str) -> list[Family] | None:
    """A node's own figures, or None (logged) when it does not answer properly in time."""
    assert node.url is not None
    unix = node.url.startswith("unix:")
    base = "http://tiaojie-node" if unix else node.url.rstrip("/")
    connector = aiohttp.UnixConnector(path=node.url.removeprefix("unix:")) if unix else None
    timeout = aiohttp.ClientTimeout(total=PEER_TIMEOUT)
    try:
        async with (
            aiohttp.ClientSession(connector=connector, timeout=timeout) as client,
            client.get(base + NODE_PATH, headers={HOP_HEADER: hop}) as reply,
        ):
            if reply.status != 200:
                log.warning("node %s answered %d for its metrics", node.id, reply.status)
                return None
            document: Any = orjson.loads(await reply.read())
        return [Family.from_json(item) for item in document["families"]]
    except (TimeoutError, aiohttp.ClientError, OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("no metrics from node %s: %s", node.id, exc)
        return None


async def metrics(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    settings = services.settings
    check_access(settings, request.remote, request.headers.get("Authorization", ""))
    topo = request.app[METRICS_TOPOLOGY]
    me = topo.node.id
    groups = [with_label(local_families(request.app[METRICS_SOURCES]), "node", me)]
    up = Family("tiaojie_metrics_node_up", "gauge", "Whether a node answered for its metrics in this scrape.")
    up.add(1, {"node": me})
    try:
        peers = await other_nodes(topo.router)
    except RoutingUnavailable as exc:
        log.warning("metrics: other nodes unknown: %s", exc)
        peers = []
    if peers:
        assert settings.secret_key is not None
        hop = hop_token(settings.secret_key)
        answers = await asyncio.gather(*(_from_node(node, hop) for node in peers))
        for node, families in zip(peers, answers, strict=True):
            up.add(0 if families is None else 1, {"node": node.id})
            if families is not None:
                groups.append(with_label(families, "node", node.id))
    async with services.db.read() as session:
        shared = await database_families(session, services.clock.now())
    body = render(merge(*groups, [up], shared))
    return web.Response(
        body=body.encode(), headers={"Content-Type": CONTENT_TYPE, "Cache-Control": "no-store"}
    )


async def node_metrics(request: web.Request) -> web.Response:
    """This process's own figures, for the node answering a scrape; only with the deployment's hop header."""
    services = request.app[SERVICES]
    settings = services.settings
    assert settings.secret_key is not None
    if not settings.metrics_enabled or not hmac.compare_digest(
        request.headers.get(HOP_HEADER, ""), hop_token(settings.secret_key)
    ):
        raise NotFound("not found")
    families = local_families(request.app[METRICS_SOURCES])
    return web.Response(
        body=orjson.dumps({"families": [f.to_json() for f in families]}), content_type="application/json"
    )


def setup_metrics(app: web.Application, sources: LocalSources, topo: Topology) -> None:
    app[METRICS_SOURCES] = sources
    app[METRICS_TOPOLOGY] = topo
    app.router.add_get("/metrics", metrics)
    app.router.add_get(NODE_PATH, node_metrics)
