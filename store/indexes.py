"""Creating and dropping a set of plain indexes on one table, for migrations."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from alembic import op

__all__ = ["create_indexes", "drop_indexes"]


def create_indexes(table: str, indexes: Mapping[str, Sequence[str]]) -> None:
    """Index name → its columns."""
    for name, columns in indexes.items():
        op.create_index(name, table, list(columns), unique=False)


def drop_indexes(table: str, indexes: Mapping[str, Sequence[str]]) -> None:
    for name in indexes:
        op.drop_index(name, table_name=table)
