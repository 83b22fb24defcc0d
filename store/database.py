"""The engine, the session factory and the lean read units, tuned for SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from store.loop_reads import LoopReader
from store.rows import AsyncRows, Rows

__all__ = ["Database"]


_READ_ONLY = "tiaojie_read_only"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # SQLAlchemy, not the driver, starts transactions (see _sqlite_begin).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    """Writing transactions take SQLite's write lock when they begin (IMMEDIATE), so that writers in other
    processes wait for it (busy_timeout) instead of failing with SQLITE_BUSY when a transaction that has read
    tries to start writing. Read-only units of work begin deferred and never block writers (WAL)."""
    read_only = conn.get_execution_options().get(_READ_ONLY, False)
    conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


class Database:
    """Owns one async engine (and on a SQLite file a loop reader) and hands out units of work: sessions
    (:meth:`session`, :meth:`read`) and lean read units (:meth:`rows`)."""

    def __init__(self, url: str, *, echo: bool = False, pool_size: int = 10) -> None:
        parsed = make_url(url)
        self.url = url
        self.dialect = parsed.get_backend_name()
        kwargs: dict[str, Any] = {"echo": echo}
        self.loop_reader: LoopReader | None = None
        if self.dialect == "sqlite":
            database = parsed.database
            if database and database != ":memory:" and not parsed.query.get("mode"):
                Path(database).parent.mkdir(parents=True, exist_ok=True)
                self.loop_reader = LoopReader(str(Path(database).resolve()))
        else:
            kwargs.update(pool_size=pool_size, max_overflow=pool_size * 2, pool_pre_ping=True)
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        if self.dialect == "sqlite":
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
            event.listen(self.engine.sync_engine, "begin", _sqlite_begin)
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)
        read_engine = self.engine.execution_options(**{_READ_ONLY: True})
        self._readers = async_sessionmaker(read_engine)
        self._rows_engine = read_engine
        self._rows_reconnect = False
        if self.dialect == "postgresql" and parsed.get_driver_name() == "asyncpg":
            # Lean read units on PostgreSQL: connections of their own that the server makes read-only, every
            # statement in autocommit (no BEGIN and ROLLBACK round trips; READ COMMITTED gives each statement
            # its own snapshot anyway), and no ping before each use: a statement that finds its connection
            # dead runs again on a new one. A fixed pool: a burst of reads waits for a connection rather than
            # opening and closing more (each costs a TLS attempt), and a worker holds at most pool_size more.
            self._rows_engine = create_async_engine(
                url,
                echo=echo,
                pool_size=pool_size,
                max_overflow=0,
                isolation_level="AUTOCOMMIT",
                connect_args={"server_settings": {"default_transaction_read_only": "on"}},
            )
            self._rows_reconnect = True
        elif self.dialect == "postgresql":
            self._rows_engine = read_engine.execution_options(postgresql_readonly=True)
        # SQLite allows one writer at a time, and a deferred transaction that read before another one wrote
        # cannot upgrade to a writer (SQLITE_BUSY, no waiting). In one process, taking this lock before every
        # writing transaction serialises writers cleanly while readers go on in parallel (WAL); across
        # processes (several workers) BEGIN IMMEDIATE and busy_timeout make writers queue on SQLite's lock.
        self._write_lock: asyncio.Lock | None = asyncio.Lock() if self.dialect == "sqlite" else None

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A writing unit of work: committed when the block ends, rolled back on an exception."""
        if self._write_lock is None:
            async with self.sessionmaker() as session, session.begin():
                yield session
            return
        async with self._write_lock, self.sessionmaker() as session, session.begin():
            yield session

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A read-only unit of work (never takes the SQLite writer lock); rolled back at the end."""
        async with self._readers() as session:
            yield session  # closing the session rolls its transaction back

    @asynccontextmanager
    async def rows(self) -> AsyncIterator[Rows]:
        """A short read-only unit of Core statements (see :mod:`store.rows`): on a SQLite file it runs in the
        event-loop thread on read-only connections, elsewhere on a connection of the async engine. For
        bounded, indexed reads; anything that needs the ORM or may read a lot uses :meth:`read`."""
        if self.loop_reader is not None:
            with self.loop_reader.unit() as unit:
                yield unit
            return
        async with self._rows_engine.connect() as connection:
            yield AsyncRows(connection, reconnect=self._rows_reconnect)

    async def dispose(self) -> None:
        if self.loop_reader is not None:
            self.loop_reader.dispose()
        if self._rows_engine.sync_engine is not self.engine.sync_engine:
            await self._rows_engine.dispose()
        await self.engine.dispose()
