"""Short read-only units of work that run Core statements and hand back their rows (:class:`Rows`).

:meth:`store.database.Database.rows` opens one. The API's hot reads (one case, a page of cases, an API key)
are one or two bounded, indexed SELECTs; on a SQLite file they run in the event-loop thread
(:mod:`store.loop_reads`), elsewhere (PostgreSQL through asyncpg, an in-memory SQLite) on an async connection
(:class:`AsyncRows`, which also wraps a session that is already open: a writing unit reading back).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.sql.base import Executable

__all__ = ["AsyncRows", "Params", "Records", "Rows"]

Params = Mapping[str, Any] | None  # bound parameters by name
Records = Sequence[Sequence[Any]]  # rows, each its columns in the order of the select


class Rows(Protocol):
    """A read-only unit of work. ``epoch``: where the database can tell, a number that stays the same as long
    as nothing has been committed since (see :mod:`store.loop_reads`); ``None`` where it cannot."""

    @property
    def epoch(self) -> int | None: ...

    async def all(self, statement: Executable, params: Params = None) -> Records:
        """Every row of ``statement`` with these bound parameters."""
        ...


class AsyncRows:
    """:class:`Rows` over an async connection or session (asyncpg, aiosqlite). With ``reconnect`` (a
    connection in autocommit), a statement that finds the connection dead runs once more on a new one."""

    __slots__ = ("_reconnect", "_target")

    epoch = None  # an async connection cannot tell whether anything was committed since

    def __init__(self, target: AsyncConnection | AsyncSession, *, reconnect: bool = False) -> None:
        self._target = target
        self._reconnect = reconnect

    async def all(self, statement: Executable, params: Params = None) -> Records:
        values = dict(params) if params else None
        try:
            return (await self._target.execute(statement, values)).all()
        except DBAPIError as exc:
            if not (self._reconnect and exc.connection_invalidated):
                raise
        await self._target.rollback()  # lets go of the dead connection; the next statement opens a new one
        return (await self._target.execute(statement, values)).all()
