"""The engine and the session factory, tuned for SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

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
    """Owns one async engine and hands out sessions (one per unit of work)."""

    def __init__(self, url: str, *, echo: bool = False, pool_size: int = 10) -> None:
        parsed = make_url(url)
        self.url = url
        self.dialect = parsed.get_backend_name()
        kwargs: dict[str, Any] = {"echo": echo}
        if self.dialect == "sqlite":
            database = parsed.database
            if database and database != ":memory:":
                Path(database).parent.mkdir(parents=True, exist_ok=True)
        else:
            kwargs.update(pool_size=pool_size, max_overflow=pool_size * 2, pool_pre_ping=True)
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        if self.dialect == "sqlite":
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
            event.listen(self.engine.sync_engine, "begin", _sqlite_begin)
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)
        self._readers = async_sessionmaker(self.engine.execution_options(**{_READ_ONLY: True}))
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

    async def dispose(self) -> None:
        await self.engine.dispose()
