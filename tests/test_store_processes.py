"""SQLite shared by several processes (worker processes): writers queue on the database lock instead of
failing with "database is locked", also when their transaction read before it wrote."""

from __future__ import annotations

import asyncio
import sys
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import text

from store.database import Database

WRITER = textwrap.dedent(
    """
    import asyncio, sys
    from sqlalchemy import text
    from store.database import Database

    async def main(url, name, rounds):
        db = Database(url)
        try:
            for i in range(rounds):
                async with db.session() as s:
                    # read first, then write: a deferred transaction could not upgrade to a writer
                    n = (await s.execute(text("SELECT count(*) FROM counter"))).scalar_one()
                    await asyncio.sleep(0.002)  # some work between the read and the write
                    insert = text("INSERT INTO counter (who, seen) VALUES (:w, :n)")
                    await s.execute(insert, {"w": name, "n": n})
                async with db.read() as s:
                    await s.execute(text("SELECT max(seen) FROM counter"))
        finally:
            await db.dispose()

    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
    """
)


@pytest.mark.timeout(60)
async def test_writers_in_several_processes_all_succeed(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'shared.db'}"
    db = Database(url)
    async with db.session() as s:
        await s.execute(text("CREATE TABLE counter (id INTEGER PRIMARY KEY, who TEXT, seen INTEGER)"))
    rounds = 40
    writers = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-c", WRITER, url, f"p{i}", str(rounds), stderr=asyncio.subprocess.PIPE
        )
        for i in range(3)
    ]
    results = [await w.communicate() for w in writers]
    assert [w.returncode for w in writers] == [0, 0, 0], [err.decode()[-500:] for _, err in results]
    async with db.read() as s:
        rows = (await s.execute(text("SELECT count(*), count(DISTINCT seen) FROM counter"))).one()
    await db.dispose()
    # Every transaction saw all the earlier ones: the counts it read are all different.
    assert tuple(rows) == (3 * rounds, 3 * rounds)
