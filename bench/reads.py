"""Read-unit benchmark: what one read of the case API costs on SQLite, through aiosqlite's thread (an ORM
session, as before) and in the event-loop thread (``Database.rows``), and how long such a read holds the
loop.

The database is made the way the API benchmark makes it (``tiaojie demo``, then cases created through the
real server, which is then stopped); the reads then run in this process, one after another, so that the
figures are the read alone: no HTTP, no other work in the process.

    python -m bench.reads [--cases 300] [--repeat 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import text

from accounts.principal import Principal
from accounts.service import verify_api_key
from bench.api import CaseFactory, Requests, run_load
from bench.client import ConnectionPool
from bench.common import Server, format_table, machine_info, percentile, run_demo
from cases.context import CaseEnv
from cases.queries import case_detail, case_page
from cases.schemas import CaseListQuery
from store.database import Database
from store.rows import AsyncRows, Rows
from tiaojie.clock import SystemClock
from tiaojie.settings import load_settings
from web.services import Services

__all__ = ["main"]

_SELECT_ONE = text("SELECT 1")


async def seed(work: Path, cases: int) -> tuple[dict[str, str], str, list[str]]:
    """A data directory with ``cases`` cases made through the real server; its environment, the court's API
    key and the cases' ids."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIAOJIE_")}
    env["TIAOJIE_DATA_DIR"] = str(work)
    token = run_demo(env)["api_keys"]["court"]
    server = Server(env, work / "server.log")
    ids: list[str] = []
    try:
        host, _, port = server.start().removeprefix("http://").partition(":")
        pool = ConnectionPool(host, int(port))
        build, factory = Requests(f"{host}:{port}", token), CaseFactory()
        try:
            result = await run_load(
                pool,
                "seed",
                lambda _i: build("POST", "/cases", factory.body()),
                requests=cases,
                seconds=120,
                concurrency=20,
                on_success=lambda body: ids.append(body.split(b'"id":"', 1)[1].split(b'"', 1)[0].decode()),
            )
        finally:
            pool.close()
        if result.errors:
            raise RuntimeError("seeding failed: " + "; ".join(result.error_samples))
    finally:
        server.stop()
    return env, token, ids


Unit = Callable[[], AbstractAsyncContextManager[Rows]]


def _session_unit(db: Database) -> Unit:
    """The path the API took before: a read-only ORM session through aiosqlite's thread."""

    @asynccontextmanager
    async def unit() -> AsyncIterator[Rows]:
        async with db.read() as session:
            yield AsyncRows(session)

    return unit


def _connection_unit(db: Database) -> Unit:
    """A Core connection through aiosqlite's thread: the hand-over alone, without the ORM session."""

    @asynccontextmanager
    async def unit() -> AsyncIterator[Rows]:
        async with db.engine.connect() as connection:
            yield AsyncRows(connection)

    return unit


async def measure(
    repeat: int, unit: Unit, read: Callable[[Rows, int], Awaitable[Any]]
) -> tuple[float, float, list[float]]:
    """CPU of the whole process and wall time per unit (µs), and the CPU time of this (the loop's) thread in
    each unit (µs): what a unit running in the loop holds it for, leaving out other processes' turns."""
    for i in range(min(200, repeat)):  # warm: compiled statements, connections
        async with unit() as rows:
            await read(rows, i)
    held: list[float] = []
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for i in range(repeat):
        start = time.thread_time()
        async with unit() as rows:
            await read(rows, i)
        held.append((time.thread_time() - start) * 1e6)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    return cpu / repeat * 1e6, wall / repeat * 1e6, sorted(held)


async def run(args: argparse.Namespace) -> None:
    info = machine_info()
    print(f"read units on SQLite — {info['date']}, {info['cpu']}, {info['cores']} cores, load {info['load']}")
    with tempfile.TemporaryDirectory(prefix="tiaojie-reads-") as tmp:
        env, token, ids = await seed(Path(tmp), args.cases)
        settings = load_settings(env).with_secret()
        db = Database(settings.effective_database_url)
        try:
            env_cases: CaseEnv = Services.build(settings, SystemClock(), db).cases
            async with db.rows() as rows:
                court: Principal = (await verify_api_key(rows, token)).principal
            page_query = CaseListQuery.model_validate({"limit": 20})

            async def one(rows: Rows, _i: int) -> None:
                await rows.all(_SELECT_ONE)

            async def get(rows: Rows, i: int) -> None:
                assert await case_detail(rows, ids[i % len(ids)]) is not None

            async def page(rows: Rows, _i: int) -> None:
                assert len((await case_page(rows, court, env_cases, page_query)).cases) == 21

            paths: list[tuple[str, Unit]] = [
                ("aiosqlite session", _session_unit(db)),
                ("aiosqlite connection", _connection_unit(db)),
                ("event loop", db.rows),
            ]
            table = []
            for label, read in (("SELECT 1", one), ("get: one case", get), ("list: a page of 20", page)):
                for path, unit in paths:
                    cpu, wall, held = await measure(args.repeat, unit, read)
                    blocks = path.startswith("event loop")
                    table.append(
                        [
                            label,
                            path,
                            f"{cpu:.0f}",
                            f"{wall:.0f}",
                            f"{percentile(held, 50):.0f} / {percentile(held, 99):.0f}" if blocks else "—",
                        ]
                    )
            print(f"{len(ids)} cases; {args.repeat} units each, one after another\n")
            print(
                format_table(
                    ["read", "path", "CPU µs/unit", "wall µs/unit", "loop held (CPU) µs p50 / p99"],
                    table,
                )
            )
            print(
                "\n(CPU: the whole process, aiosqlite's thread included. A unit in the event loop holds the"
                " loop for all of its work, one through aiosqlite only for its hand-overs.)"
            )
        finally:
            await db.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.reads", description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=300, help="cases created first (default 300)")
    parser.add_argument("--repeat", type=int, default=2000, help="units per measurement (default 2000)")
    asyncio.run(run(parser.parse_args(argv)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
