"""Scaling out: which node owns which room, handing connections to that node, and worker processes.

One room lives on one node (a worker process). Any node takes a join; when the room lives elsewhere the
connection is forwarded there (:mod:`cluster.handover`). Who owns a room is the :class:`RoomRouter`'s
answer (:mod:`cluster.routing`), with an implementation for each deployment:

- one process (the embedded default): :class:`cluster.routing.MemoryRouter`, every room is local;
- worker processes on one machine, no Redis: :class:`cluster.hashing.HashRouter`;
- several machines (or workers) sharing Redis: :class:`cluster.redis_store.RedisRouter`.

Jobs that must run once across nodes take a :class:`cluster.jobs.JobLease`. :mod:`cluster.supervisor` runs
the worker processes that share one listening socket; :mod:`cluster.worker` is one of them.
"""
