"""Lean read units on a SQLite file, run in the event-loop thread (:class:`LoopReader`).

Through aiosqlite each statement costs about a quarter of a millisecond of CPU before SQLite does any work
(round trips to aiosqlite's thread, each a queue hand-over, a wake-up of the loop and the GIL changing
hands), several times what SQLite itself spends on the API's hot reads. Here they run in the loop's own
thread instead, on read-only connections of their own:

- opened with ``mode=ro`` and ``PRAGMA query_only``: nothing here can write;
- each unit is one deferred transaction (``BEGIN`` … ``ROLLBACK``): its statements see one snapshot, the
  last commit of any connection or process when it first reads (WAL), and never block a writer;
- a statement may use ``budget`` seconds of the loop thread's CPU at most (SQLite's progress handler
  interrupts it; CPU time, so that the loop being preempted on a busy machine does not count), and never
  waits for a lock there (``busy_timeout=0``). An interrupted or busy statement runs again on the
  same connection, in the same transaction, in a worker thread; a statement that has to move a few times in
  a row then goes to the thread at once for a while. So a query that turns out long or unbounded costs the
  loop at most a few ``budget``s a minute;
- plain selects run on the driver directly (:mod:`store.prepared`), anything else through SQLAlchemy;
- every unit starts by asking its connection's ``PRAGMA data_version``, which changes when any other
  connection or process has committed since that connection last asked. :attr:`LoopReader.epoch` goes up
  whenever one of them has: a result read under one epoch is still what the database holds as long as the
  epoch has not moved (what :mod:`web.read_cache` relies on). A connection seen for the first time moves it
  too, since nothing is known of what it missed.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from urllib.parse import quote

from sqlalchemy import create_engine
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.pool import NullPool
from sqlalchemy.sql.base import Executable

from store.prepared import PreparedSelects
from store.rows import Params, Records

__all__ = ["LOOP_BUDGET", "LoopReader", "LoopRows"]

LOOP_BUDGET = 0.002  # CPU seconds a statement may use in the event-loop thread before it moves to a thread
SLOW_AFTER = 3  # a statement that had to move this many times within SLOW_FOR seconds …
SLOW_FOR = 60.0  # … goes straight to a thread for SLOW_FOR seconds
# SQLite virtual-machine steps between two calls of the progress handler (counted across statements): a case
# of the API takes about 1,000, a page about 3,000, so the hot reads rarely call it (a look at the thread's
# CPU clock is a system call, 1–2 µs); a long statement is looked at every 0.2–0.5 ms of SQLite's work.
_CHECK_EVERY = 10_000
_THREAD_BUSY_TIMEOUT_MS = 10_000  # a thread may wait for SQLite's locks like the writers do
_SEEN = "tiaojie_data_version"  # key in a connection's ``info``: the data_version it last reported


class _Watch:
    """The progress handler of every loop connection. While a statement runs in the loop thread (armed), it
    notes that thread's CPU time when SQLite first calls it, and interrupts the statement once ``budget``
    more has been used: SQLite's own work and the rows' conversion, not SQLAlchemy compiling the statement
    beforehand. There is one such statement at a time, as the loop runs one thing; a statement in a worker
    thread runs without the handler."""

    __slots__ = ("budget", "deadline")

    def __init__(self, budget: float) -> None:
        self.budget = budget
        self.deadline: float | None = _DISARMED

    def arm(self) -> None:
        self.deadline = None

    def disarm(self) -> None:
        self.deadline = _DISARMED

    def __call__(self) -> int:
        deadline = self.deadline
        if deadline is None:
            self.deadline = time.thread_time() + self.budget
            return 0
        return 1 if time.thread_time() > deadline else 0


_DISARMED = float("inf")


class LoopReader:
    """Read-only connections to one SQLite file, used from the event-loop thread. A few stay open between
    units (``keep``); more are opened when units overlap, which happens only while a statement waits for a
    thread. They are handed out here rather than by SQLAlchemy's pool: its checkout and reset cost more
    than the read."""

    def __init__(self, path: str, *, budget: float = LOOP_BUDGET, keep: int = 4) -> None:
        self.path = path
        self.keep = keep
        self._idle: list[Connection] = []
        self.moved = 0  # statements that had to move to a thread (for tests and profiles)
        self.epoch = 0  # moves on whenever a connection reports a commit it had not seen (module docstring)
        self._watch = _Watch(budget)
        self._slow: dict[Executable, float] = {}  # statement → until when it goes straight to a thread
        self._overruns: dict[Executable, tuple[int, float]] = {}  # statement → moves, since when
        self.engine = create_engine("sqlite+pysqlite://", creator=self._connect, poolclass=NullPool)
        self._prepared = PreparedSelects(self.engine.dialect)

    def _connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(
            f"file:{quote(self.path)}?mode=ro", uri=True, check_same_thread=False, isolation_level=None
        )
        connection.execute("PRAGMA query_only=ON")
        connection.execute("PRAGMA busy_timeout=0")
        connection.set_progress_handler(self._watch, _CHECK_EVERY)
        return connection

    @contextmanager
    def unit(self) -> Iterator[LoopRows]:
        """One read transaction: BEGIN (deferred: the first read takes the snapshot), ROLLBACK at the end."""
        connection = self._idle.pop() if self._idle else self.engine.connect()
        raw = connection.connection.dbapi_connection
        assert isinstance(raw, sqlite3.Connection)
        epoch = self._observe(connection, raw)
        raw.execute("BEGIN")
        try:
            yield LoopRows(self, connection, epoch)
        finally:
            self._release(connection, raw)

    def _observe(self, connection: Connection, raw: sqlite3.Connection) -> int:
        """The epoch, moved on first if this connection reports a commit it had not seen. Asked outside a
        transaction, before the unit's snapshot: a commit in between makes the unit read newer data than
        its epoch says, and the next unit's question moves the epoch on, so nothing stale is kept."""
        (version,) = raw.execute("PRAGMA data_version").fetchone()
        info = connection.info
        if info.get(_SEEN) != version:
            info[_SEEN] = version
            self.epoch += 1
        return self.epoch

    def _release(self, connection: Connection, raw: sqlite3.Connection) -> None:
        if connection.invalidated:
            connection.close()
            return
        try:
            connection.rollback()  # SQLAlchemy's side of the transaction, if a statement went through it
            if raw.in_transaction:  # prepared selects only, or no statement
                raw.rollback()
        except Exception:
            connection.close()  # not reused: whatever went wrong stays with it
            raise
        if len(self._idle) < self.keep:
            self._idle.append(connection)
        else:
            connection.close()

    @property
    def idle(self) -> int:
        """Connections open and waiting for the next unit."""
        return len(self._idle)

    @property
    def budget(self) -> float:
        return self._watch.budget

    @budget.setter
    def budget(self, seconds: float) -> None:
        self._watch.budget = seconds

    def is_slow(self, statement: Executable) -> bool:
        until = self._slow.get(statement)
        if until is None:
            return False
        if until < time.monotonic():
            del self._slow[statement]
            return False
        return True

    def note_moved(self, statement: Executable) -> None:
        """One more move of this statement; the SLOW_AFTER-th within SLOW_FOR seconds marks it slow (one
        alone may be a hiccup: the loop's thread spent its time elsewhere, e.g. collecting garbage)."""
        self.moved += 1
        now = time.monotonic()
        count, since = self._overruns.get(statement, (0, now))
        if now - since > SLOW_FOR:
            count, since = 0, now
        count += 1
        if count < SLOW_AFTER:
            if len(self._overruns) >= 256:
                self._overruns.clear()
            self._overruns[statement] = (count, since)
            return
        self._overruns.pop(statement, None)
        if len(self._slow) >= 256:
            self._slow.clear()
        self._slow[statement] = now + SLOW_FOR

    def fetch(self, connection: Connection, statement: Executable, params: Params) -> Records:
        """Every row: a prepared select on the driver's connection, anything else through SQLAlchemy."""
        prepared = self._prepared.get(statement)
        if prepared is None:
            return connection.execute(statement, params).all()
        raw = connection.connection.dbapi_connection
        assert isinstance(raw, sqlite3.Connection)
        try:
            return prepared.run(raw, params)
        except sqlite3.Error as exc:  # as SQLAlchemy raises it
            raise DBAPIError.instance(prepared.sql, params, exc, sqlite3.Error) from exc

    def run_here(self, connection: Connection, statement: Executable, params: Params) -> Records:
        """In the calling (loop) thread, interrupted past the budget."""
        self._watch.arm()
        try:
            return self.fetch(connection, statement, params)
        finally:
            self._watch.disarm()

    def off_loop(self, raw: sqlite3.Connection, work: Callable[[], Records]) -> Records:
        """In a worker thread: no budget, and waiting for locks allowed."""
        raw.set_progress_handler(None, 0)
        raw.execute(f"PRAGMA busy_timeout={_THREAD_BUSY_TIMEOUT_MS}")
        try:
            return work()
        finally:
            raw.execute("PRAGMA busy_timeout=0")
            raw.set_progress_handler(self._watch, _CHECK_EVERY)

    def dispose(self) -> None:
        while self._idle:
            self._idle.pop().close()
        self.engine.dispose()


def _moves(exc: OperationalError) -> bool:
    """Whether a statement failed only because it ran too long or met a lock: it may run again in a thread."""
    code = getattr(exc.orig, "sqlite_errorcode", None)
    return code in (sqlite3.SQLITE_INTERRUPT, sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


class LoopRows:
    """:class:`Rows` of a :class:`LoopReader`: statements run in the loop thread, long ones in a thread."""

    __slots__ = ("_connection", "_reader", "epoch")

    def __init__(self, reader: LoopReader, connection: Connection, epoch: int) -> None:
        self._reader = reader
        self._connection = connection
        self.epoch: int | None = epoch  # LoopReader.epoch when the unit began

    async def all(self, statement: Executable, params: Params = None) -> Records:
        reader = self._reader
        if not reader.is_slow(statement):
            try:
                return reader.run_here(self._connection, statement, params)
            except OperationalError as exc:
                if not _moves(exc):
                    raise
                reader.note_moved(statement)
        return await self._in_thread(lambda: reader.fetch(self._connection, statement, params))

    async def _in_thread(self, work: Callable[[], Records]) -> Records:
        raw = self._connection.connection.dbapi_connection
        assert isinstance(raw, sqlite3.Connection)
        future = asyncio.get_running_loop().run_in_executor(None, self._reader.off_loop, raw, work)
        try:
            return await asyncio.shield(future)
        except asyncio.CancelledError:
            # The connection goes back to the pool when the unit ends: stop the statement and wait for the
            # thread to let go of it first.
            raw.interrupt()
            await asyncio.wait([future])
            if not future.cancelled():
                future.exception()  # interrupted: nobody wants it any more
            raise
