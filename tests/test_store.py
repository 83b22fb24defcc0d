"""Migrations, the append-only audit trail and file storage, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from store.database import Database
from store.files import LocalFileStore
from store.metadata import metadata
from store.migrate import current_revision, downgrade, head_revision, upgrade
from tiaojie.errors import NotFound, PayloadTooLarge


async def test_database_is_at_head(db: Database) -> None:
    assert await current_revision(db) == head_revision()


async def test_migrations_go_down_and_up_again(db: Database) -> None:
    await downgrade(db, "base")
    assert await current_revision(db) is None
    await upgrade(db)
    assert await current_revision(db) == head_revision()


async def test_migrations_match_the_models(db: Database) -> None:
    def diff(connection: Connection) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))

    async with db.engine.connect() as conn:
        assert await conn.run_sync(diff) == []


async def test_audit_trail_refuses_update_and_delete(db: Database) -> None:
    async with db.session() as session:
        await session.execute(
            text(
                "INSERT INTO audit_events (at, subject_type, subject_id, actor_kind, actor_id, actor_label, "
                "action, data) VALUES (:at, 'case', 'cas_x', 'system', 'system', 'test', 'create', '{}')"
            ),
            {"at": datetime.now(UTC)},
        )
    for statement in ("UPDATE audit_events SET action = 'forged'", "DELETE FROM audit_events"):
        with pytest.raises(DBAPIError, match="append-only"):
            async with db.session() as session:
                await session.execute(text(statement))
    async with db.read() as session:
        assert (await session.execute(text("SELECT action FROM audit_events"))).scalars().all() == ["create"]


async def _chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def test_file_store_hashes_and_deduplicates(tmp_path: Path) -> None:
    store = LocalFileStore(tmp_path)
    first = await store.put(_chunks(b"hello ", b"world"), max_bytes=100)
    second = await store.put(_chunks(b"hello world"), max_bytes=100)
    assert first == second
    assert first.sha256 == "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"
    assert store.path(first.key).read_bytes() == b"hello world"


async def test_file_store_refuses_oversized_and_leaves_nothing(tmp_path: Path) -> None:
    store = LocalFileStore(tmp_path)
    with pytest.raises(PayloadTooLarge):
        await store.put(_chunks(b"x" * 60, b"y" * 60), max_bytes=100)
    assert list((tmp_path / "incoming").iterdir()) == []
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_file_store_refuses_paths_outside_its_root(tmp_path: Path) -> None:
    (tmp_path / "secret").write_text("x")
    store = LocalFileStore(tmp_path / "root")
    (tmp_path / "root").mkdir()
    with pytest.raises(NotFound):
        store.path("../secret")
    with pytest.raises(NotFound):
        store.path("ab/cd/missing")
