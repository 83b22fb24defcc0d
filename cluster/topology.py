"""This node's place in the deployment, built from the settings: its router, its job lease, and the listener
other nodes hand connections to.

- one process, no Redis: every room is local (:class:`MemoryRouter`), this process runs the jobs;
- ``count`` worker processes, no Redis: rooms spread over the workers by hash (:class:`HashRouter`), each
  worker listening on a unix socket in ``run_dir``; worker 0 runs the jobs;
- Redis (``TIAOJIE_REDIS_URL``): every process is a node of its own in the shared routing table, listening on
  ``node_host`` (a free port) for connections handed over; jobs take a lease in Redis.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
from dataclasses import dataclass, field
from pathlib import Path

from redis.asyncio import Redis

from cluster.hashing import HashRouter
from cluster.jobs import DesignatedJobs, JobLease, RedisJobLease
from cluster.redis_routing import RedisRouter
from cluster.routing import MemoryRouter, Node, RoomRouter
from tiaojie.settings import Settings

__all__ = ["Topology", "build_topology", "single", "tcp_listener", "worker_socket_path"]


@dataclass
class Topology:
    router: RoomRouter
    jobs: JobLease
    internal: socket.socket | None = None  # where other nodes hand connections over; None: nobody does
    redis: Redis | None = field(default=None, repr=False)

    @property
    def node(self) -> Node:
        return self.router.node

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.router.close()
        if self.redis is not None:
            await self.redis.aclose()
        if self.internal is not None:
            if self.internal.family == socket.AF_UNIX:
                with contextlib.suppress(OSError):
                    os.unlink(self.internal.getsockname())
            self.internal.close()


def single() -> Topology:
    """One process and no Redis: every room is here."""
    return Topology(MemoryRouter(Node("main")), DesignatedJobs(True))


def worker_socket_path(run_dir: Path, index: int) -> Path:
    return run_dir / f"worker-{index}.sock"


def build_topology(
    settings: Settings, *, index: int = 0, count: int = 1, run_dir: Path | None = None
) -> Topology:
    """The topology of worker ``index`` of ``count`` (``run_dir``: the supervisor's directory of sockets)."""
    if settings.redis_url:
        internal = tcp_listener(settings.node_host)
        host, port = internal.getsockname()[:2]
        shown = f"[{host}]" if ":" in host else host
        node = Node(f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(2)}", f"http://{shown}:{port}")
        redis = Redis.from_url(settings.redis_url, decode_responses=True)
        router = RedisRouter(
            redis, node, prefix=settings.redis_prefix, lease_seconds=settings.room_lease_seconds
        )
        return Topology(router, RedisJobLease(redis, node.id, prefix=settings.redis_prefix), internal, redis)
    if count <= 1:
        return single()
    if run_dir is None:
        raise ValueError("worker processes need the supervisor's run directory")
    nodes = [Node(f"worker-{i}", f"unix:{worker_socket_path(run_dir, i)}") for i in range(count)]
    return Topology(
        HashRouter(nodes[index], nodes),
        DesignatedJobs(index == 0),
        _unix_listener(worker_socket_path(run_dir, index)),
    )


def tcp_listener(host: str) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    sock.listen(128)
    sock.setblocking(False)
    return sock


def _unix_listener(path: Path) -> socket.socket:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()  # left by a worker that died
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(str(path))
    os.chmod(path, 0o600)
    sock.listen(128)
    sock.setblocking(False)
    return sock
