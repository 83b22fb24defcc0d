"""SELECTs compiled once for SQLite and run on the driver's connection directly (:class:`PreparedSelects`).

For the short reads in the event loop (:mod:`store.loop_reads`), SQLAlchemy's execution around a compiled
statement (execution context, cursor result, row objects) costs about as much again as SQLite's own work:
60–130 µs for a case or a page. A prepared select keeps what SQLAlchemy compiled — the SQL, the order of
its parameters, and each parameter's and each column's conversion for this dialect, taken from the column
types as SQLAlchemy itself takes them — and runs it with one ``execute`` and ``fetchall`` on the driver.
Rows come back as plain tuples in the order of the select's columns.

Only plain selects are prepared: a statement with parameters that SQLAlchemy renders at execution time
(``IN`` lists, literal binds) or anything but a select is left to SQLAlchemy (:meth:`PreparedSelects.get`
gives None).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Select
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.compiler import SQLCompiler

__all__ = ["PreparedSelect", "PreparedSelects"]

Convert = Callable[[Any], Any]


class PreparedSelect:
    """One select compiled for one dialect, with its parameter and column conversions."""

    __slots__ = ("_binders", "_compiled", "_converters", "_names", "sql")

    def __init__(self, compiled: SQLCompiler, statement: Select[Any], dialect: Dialect) -> None:
        self._compiled = compiled
        self.sql = compiled.string
        types = {compiled.bind_names[bind]: bind.type for bind in compiled.binds.values()}
        self._names: tuple[str, ...] = tuple(compiled.positiontup or ())
        self._binders: tuple[Convert | None, ...] = tuple(
            types[name].dialect_impl(dialect).bind_processor(dialect) for name in self._names
        )
        converters = (
            (index, column.type.dialect_impl(dialect).result_processor(dialect, None))
            for index, column in enumerate(statement.selected_columns)
        )
        self._converters: tuple[tuple[int, Convert], ...] = tuple(
            (index, convert) for index, convert in converters if convert is not None
        )

    def arguments(self, params: Mapping[str, Any] | None) -> list[Any]:
        """The positional arguments for these parameters (with the values bound in the statement itself)."""
        values = self._compiled.construct_params(dict(params) if params else None)
        return [
            value if bind is None else bind(value)
            for value, bind in zip((values[name] for name in self._names), self._binders, strict=True)
        ]

    def run(
        self, connection: sqlite3.Connection, params: Mapping[str, Any] | None
    ) -> Sequence[tuple[Any, ...]]:
        rows: list[tuple[Any, ...]] = connection.execute(self.sql, self.arguments(params)).fetchall()
        if not self._converters:
            return rows
        converted = []
        for row in rows:
            values = list(row)
            for index, convert in self._converters:
                values[index] = convert(values[index])
            converted.append(tuple(values))
        return converted


class PreparedSelects:
    """Prepared forms of the statements seen so far, by statement (they are built once and reused: the
    module-level statements of :mod:`cases.queries` and its cached page statements)."""

    def __init__(self, dialect: Dialect, *, max_entries: int = 1024) -> None:
        self.dialect = dialect
        self.max_entries = max_entries
        self._prepared: dict[Executable, PreparedSelect | None] = {}

    def get(self, statement: Executable) -> PreparedSelect | None:
        try:
            return self._prepared[statement]
        except KeyError:
            pass
        prepared = self._prepare(statement)
        if len(self._prepared) >= self.max_entries:
            self._prepared.clear()
        self._prepared[statement] = prepared
        return prepared

    def _prepare(self, statement: Executable) -> PreparedSelect | None:
        if not isinstance(statement, Select):
            return None
        compiled = statement.compile(dialect=self.dialect)
        assert isinstance(compiled, SQLCompiler)
        if compiled.literal_execute_params or compiled.post_compile_params or compiled.positiontup is None:
            return None
        return PreparedSelect(compiled, statement, self.dialect)
