"""Lean read units (``Database.rows``): what they see, that they never block writers, that they cannot
write, and on SQLite that a statement runs in the event-loop thread unless it runs long."""

from __future__ import annotations

import asyncio
import sys
import textwrap
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import bindparam, event, func, literal, select, table, text
from sqlalchemy.exc import DBAPIError

from store.database import Database
from store.loop_reads import LoopReader

_COUNT = text("SELECT count(*) FROM counter")
# About 300,000 steps of SQLite's virtual machine: tens of milliseconds, far past a 1 ms budget.
_LONG = text(
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :upto) SELECT count(*) FROM n"
)


@pytest.fixture
async def shared(database_url: str, db: Database) -> Database:
    async with db.session() as s:
        await s.execute(text("DROP TABLE IF EXISTS counter"))
        await s.execute(text("CREATE TABLE counter (who TEXT)"))
    return db


async def _count(db: Database) -> int:
    async with db.rows() as rows:
        return int((await rows.all(_COUNT))[0][0])


async def test_rows_see_what_another_connection_committed(shared: Database, database_url: str) -> None:
    other = Database(database_url)  # its own engine and pool: another connection, as another worker has
    try:
        assert await _count(shared) == 0
        async with other.session() as s:
            await s.execute(text("INSERT INTO counter (who) VALUES ('other')"))
        assert await _count(shared) == 1
        async with shared.rows() as rows:
            found = await rows.all(text("SELECT who FROM counter WHERE who = :who"), {"who": "other"})
        assert [tuple(r) for r in found] == [("other",)]
    finally:
        await other.dispose()


async def test_a_read_unit_never_blocks_a_writer(shared: Database, database_url: str) -> None:
    other = Database(database_url)
    try:
        async with shared.rows() as rows:
            assert int((await rows.all(_COUNT))[0][0]) == 0  # the unit holds its read transaction open
            async with asyncio.timeout(5):  # a writer waiting for the reader would wait its busy_timeout
                async with other.session() as s:
                    await s.execute(text("INSERT INTO counter (who) VALUES ('writer')"))
                async with shared.session() as s:
                    await s.execute(text("INSERT INTO counter (who) VALUES ('same process')"))
        assert await _count(shared) == 2
    finally:
        await other.dispose()


async def test_rows_cannot_write(shared: Database) -> None:
    with pytest.raises(DBAPIError):
        async with shared.rows() as rows:
            await rows.all(text("INSERT INTO counter (who) VALUES ('reader') RETURNING who"))
    assert await _count(shared) == 0


WRITER = textwrap.dedent(
    """
    import asyncio, sys
    from sqlalchemy import text
    from store.database import Database

    async def main(url, rounds):
        db = Database(url)
        try:
            for i in range(rounds):
                async with db.session() as s:
                    await s.execute(text("INSERT INTO counter (who) VALUES ('child')"))
                print(i + 1, flush=True)  # committed
        finally:
            await db.dispose()

    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
    """
)


@pytest.mark.timeout(60)
async def test_rows_follow_a_writer_in_another_process(shared: Database, database_url: str) -> None:
    """Every commit the other process reported is seen by the next read unit here, and the writer is not
    held up by read units that stay open in this process."""
    rounds = 30
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        WRITER,
        database_url,
        str(rounds),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert child.stdout is not None
    async with shared.rows() as held:  # open, with a snapshot taken, for the whole run
        assert int((await held.all(_COUNT))[0][0]) == 0
        while line := await child.stdout.readline():
            committed = int(line)
            assert await _count(shared) >= committed
        _, err = await child.communicate()
        assert child.returncode == 0, err.decode()[-500:]
        if shared.dialect == "sqlite":  # one snapshot per unit (PostgreSQL reads committed per statement)
            assert int((await held.all(_COUNT))[0][0]) == 0
    assert await _count(shared) == rounds


def _threads_of(reader: LoopReader) -> list[int]:
    """The threads the reader's connections run SELECTs in, in order (SQLite's own trace of statements, so
    prepared selects and those run through SQLAlchemy alike)."""
    seen: list[int] = []

    def traced(sql: str) -> None:
        if sql.lstrip().upper().startswith(("SELECT", "WITH")):
            seen.append(threading.get_ident())

    def connected(connection: Any, _record: Any) -> None:
        connection.set_trace_callback(traced)

    event.listen(reader.engine, "connect", connected)
    return seen


# The same reads as SQLAlchemy selects (prepared: run on the driver directly).
_COUNT_SELECT = select(func.count()).select_from(table("counter"))
_N = select(literal(1).label("i")).cte("n", recursive=True)
_N = _N.union_all(select(_N.c.i + 1).where(_N.c.i < bindparam("upto")))
_LONG_SELECT = select(func.count()).select_from(_N)


async def _ticking(ticks: list[int], stop: asyncio.Event) -> None:
    while not stop.is_set():
        ticks[0] += 1
        await asyncio.sleep(0)


@pytest.fixture
async def loop_db(tmp_path: Path) -> AsyncIterator[Database]:
    """A SQLite file database whose loop reader allows a statement 1 ms in the loop."""
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'loop.db'}")
    async with db.session() as s:
        await s.execute(text("CREATE TABLE counter (id INTEGER PRIMARY KEY, who TEXT)"))
    assert db.loop_reader is not None
    db.loop_reader.budget = 0.001
    yield db
    await db.dispose()


@pytest.mark.parametrize(
    ("count", "long"), [(_COUNT, _LONG), (_COUNT_SELECT, _LONG_SELECT)], ids=["text", "prepared-select"]
)
async def test_sqlite_reads_run_in_the_loop_thread_and_long_ones_in_a_thread(
    loop_db: Database, count: Any, long: Any
) -> None:
    db, reader = loop_db, loop_db.loop_reader
    assert reader is not None
    threads = _threads_of(reader)
    loop_thread = threading.get_ident()
    ticks, stop = [0], asyncio.Event()
    ticker = asyncio.create_task(_ticking(ticks, stop))
    await asyncio.sleep(0)
    async with db.rows() as rows:
        start = ticks[0]
        assert int((await rows.all(count))[0][0]) == 0
        assert ticks[0] == start  # ran to the end without yielding
        assert threads == [loop_thread]
        for moves in (1, 2, 3):
            before = ticks[0]
            assert int((await rows.all(long, {"upto": 300_000}))[0][0]) == 300_000
            assert ticks[0] > before  # the loop ran meanwhile
            assert threads[-2:-1] == [loop_thread]  # tried in the loop first
            assert threads[-1] != loop_thread  # then again, in a worker thread
            assert reader.moved == moves
            assert reader.is_slow(long) == (moves == 3)  # moved three times within a minute: slow
        runs = len(threads)
        assert int((await rows.all(long, {"upto": 1000}))[0][0]) == 1000
        assert len(threads) == runs + 1  # straight to a thread: not tried in the loop again
        assert threads[-1] != loop_thread
        assert int((await rows.all(count))[0][0]) == 0  # short ones stay in the loop
        assert threads[-1] == loop_thread
    stop.set()
    await ticker


async def test_a_cancelled_long_read_lets_go_of_its_connection(loop_db: Database) -> None:
    db, reader = loop_db, loop_db.loop_reader
    assert reader is not None
    started = asyncio.Event()

    async def long_read() -> None:
        async with db.rows() as rows:
            started.set()
            await rows.all(_LONG, {"upto": 1_000_000_000})  # minutes, unless interrupted

    task = asyncio.create_task(long_read())
    await started.wait()
    await asyncio.sleep(0.05)
    task.cancel()
    async with asyncio.timeout(5):
        with pytest.raises(asyncio.CancelledError):
            await task
    assert reader.moved == 1  # it was running in a thread when cancelled
    for _ in range(3):  # the pool's connections all work (none is still busy in a thread)
        assert await _count(db) == 0
    assert reader.idle == 1  # the connection went back, and no unit kept another one


@pytest.mark.postgres
async def test_a_postgres_read_finds_its_connection_dead_and_reads_on_a_new_one(postgres_url: str) -> None:
    """Lean reads on PostgreSQL do not ping before each use: a connection the server dropped (a restart, a
    failover, an administrator) costs one retry, not an error."""
    db = Database(postgres_url)
    try:
        async with db.rows() as rows:
            (pid,) = (await rows.all(text("SELECT pg_backend_pid()")))[0]
        async with db.engine.connect() as admin:
            await admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        async with db.rows() as rows:  # the pool hands out the same, now dead, connection
            (again,) = (await rows.all(text("SELECT pg_backend_pid()")))[0]
        assert again != pid
    finally:
        await db.dispose()
