"""The read cache of the hot case reads (web/read_cache.py): an answer is served again only while the
database has not changed, never to another caller, and ``If-None-Match`` gets 304."""

from __future__ import annotations

import asyncio
import sys
import textwrap
from datetime import timedelta

import pytest

from store.database import Database
from tests import apihelp
from tests.apihelp import Actors, assigned_case, new_case
from tiaojie.clock import FrozenClock
from tiaojie.settings import Settings
from web.read_cache import ReadCache, etag_of
from web.services import Services

actors = apihelp.actors


def test_an_answer_is_kept_under_its_epoch_only() -> None:
    cache = ReadCache(entries=10, max_bytes=1000)
    cache.put("a", 1, b"one", etag_of(b"one"))
    hit = cache.get("a", 1)
    assert hit is not None
    assert hit.body == b"one"
    assert hit.etag == etag_of(b"one")
    assert cache.get("a", 2) is None  # the database changed: everything goes
    assert len(cache) == 0
    cache.put("a", 1, b"stale", etag_of(b"stale"))  # read before the change: not kept
    assert cache.get("a", 2) is None
    assert len(cache) == 0
    cache.put("a", 2, b"two", etag_of(b"two"))
    assert cache.get("a", 1) is None  # a unit that began before the change is not served either
    hit = cache.get("a", 2)
    assert hit is not None
    assert hit.body == b"two"
    assert (cache.hits, cache.misses) == (2, 3)


def test_the_least_recently_used_answers_go_first() -> None:
    cache = ReadCache(entries=3, max_bytes=40)
    for key in "abc":
        cache.put(key, 1, key.encode() * 5, "e")
    assert cache.get("a", 1) is not None  # a is now the most recently used
    cache.put("d", 1, b"d" * 5, "e")
    assert cache.get("b", 1) is None
    assert [k for k in "acd" if cache.get(k, 1) is not None] == ["a", "c", "d"]
    cache.put("e", 1, b"e" * 10, "e")  # 5 + 5 + 5 + 10 = 25 bytes: under 40, but four entries
    assert len(cache) == 3
    assert cache.size == 20
    cache.put("f", 1, b"f" * 11, "e")  # larger than a quarter of the bytes: never kept
    assert cache.get("f", 1) is None
    cache.put("g", 1, b"g" * 10, "e")
    cache.put("h", 1, b"h" * 10, "e")
    assert cache.size <= 40
    assert len(cache) <= 3


def test_a_cache_holds_something() -> None:
    with pytest.raises(ValueError, match="at least one"):
        ReadCache(entries=0, max_bytes=10)


async def test_a_case_read_twice_is_served_from_the_cache_until_it_changes(
    actors: Actors, services: Services, backend: str
) -> None:
    case = await assigned_case(actors)
    path = f"/cases/{case['id']}"
    first = await actors.court_a.call("GET", path)
    second = await actors.court_a.call("GET", path)
    assert first.status == second.status == 200
    assert first.body == second.body
    cache = services.read_cache
    assert cache is not None
    if backend == "postgres":  # the database cannot tell whether anything changed: nothing is kept
        assert "ETag" not in second.headers
        assert len(cache) == 0
    else:
        assert second.headers["ETag"] == first.headers["ETag"] == etag_of(second.text.encode())
        assert second.headers["Cache-Control"] == "private, no-cache, no-store"
        assert cache.hits >= 1
    # A write through the API changes the answer at once.
    mediator = await actors.user("mediator1")
    await mediator.post(f"/cases/{case['id']}/accept", json={})
    after = await actors.court_a.get(path)
    assert after["state"] == "accepted"
    assert after != first.body


async def test_if_none_match_gets_304_while_nothing_changed(actors: Actors, backend: str) -> None:
    case = await new_case(actors)
    if backend == "postgres":  # nothing tells whether anything changed: no ETag, and always the whole answer
        reply = await actors.court_a.call("GET", f"/cases/{case['id']}", headers={"If-None-Match": "*"})
        assert reply.status == 200
        assert "ETag" not in reply.headers
        assert reply.body["id"] == case["id"]
        return
    path = f"/cases/{case['id']}"
    etag = (await actors.court_a.call("GET", path)).headers["ETag"]
    for header in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        reply = await actors.court_a.call("GET", path, headers={"If-None-Match": header})
        assert reply.status == 304, header
        assert reply.headers["ETag"] == etag
        assert reply.text == ""
    assert (await actors.court_a.call("GET", path, headers={"If-None-Match": '"other"'})).status == 200
    listed = await actors.court_a.call("GET", "/cases?limit=5")
    again = await actors.court_a.call(
        "GET", "/cases?limit=5", headers={"If-None-Match": listed.headers["ETag"]}
    )
    assert again.status == 304
    created = await new_case(actors)
    changed = await actors.court_a.call(
        "GET", "/cases?limit=5", headers={"If-None-Match": listed.headers["ETag"]}
    )
    assert changed.status == 200
    assert changed.body["items"][0]["id"] == created["id"]


async def test_another_caller_never_gets_an_answer_made_for_someone_else(
    actors: Actors, services: Services
) -> None:
    case = await assigned_case(actors)
    path = f"/cases/{case['id']}"
    court = await actors.court_a.get(path)
    await actors.court_b.get(path, 404, code="not_found")  # another court: as if the case did not exist
    union = await actors.union1.get(path)  # the mediator's union sees it, masked
    assert union["parties"] != court["parties"]
    assert await actors.court_a.get(path) == court
    assert await actors.union1.get(path) == union
    await actors.union2.get(path, 404)
    # The same query string from two courts: two answers.
    mine = await actors.court_a.get("/cases")
    theirs = await actors.court_b.get("/cases")
    assert {c["id"] for c in mine["items"]} & {c["id"] for c in theirs["items"]} == set()


async def test_bad_requests_are_never_kept(actors: Actors, services: Services) -> None:
    for _ in range(2):
        await actors.court_a.get("/cases?limit=0", 422)
        await actors.court_a.get("/cases?nonsense=1", 422)
        await actors.court_a.get("/cases/not-an-id", 404)
    cache = services.read_cache
    assert cache is not None
    assert len(cache) == 0


async def test_the_deadline_status_follows_the_day(actors: Actors, backend: str) -> None:
    """Answers are kept per day: an assignment's acceptance turns overdue at midnight without any write."""
    case = await assigned_case(actors)
    path = f"/cases/{case['id']}"
    before = await actors.court_a.get(path)
    assert before["deadline_status"] != "overdue"
    actors.clock.advance(timedelta(days=10))
    after = await actors.court_a.get(path)
    assert after["deadline_status"] == "overdue"


OTHER_PROCESS = textwrap.dedent(
    """
    import asyncio, sys
    from sqlalchemy import text
    from store.database import Database

    async def main(url, case_id):
        db = Database(url)
        try:
            async with db.session() as s:
                await s.execute(
                    text("UPDATE cases SET summary = 'changed elsewhere' WHERE id = :id"), {"id": case_id}
                )
        finally:
            await db.dispose()

    asyncio.run(main(sys.argv[1], sys.argv[2]))
    """
)


@pytest.mark.timeout(60)
async def test_a_commit_by_another_process_is_seen_at_once(
    actors: Actors, services: Services, database_url: str
) -> None:
    """Another worker (or the command line) changes a case: the next read here shows it."""
    case = await new_case(actors)
    path = f"/cases/{case['id']}"
    assert (await actors.court_a.get(path))["summary"] != "changed elsewhere"
    await actors.court_a.get(path)
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", OTHER_PROCESS, database_url, case["id"], stderr=asyncio.subprocess.PIPE
    )
    _, err = await child.communicate()
    assert child.returncode == 0, err.decode()[-500:]
    assert (await actors.court_a.get(path))["summary"] == "changed elsewhere"


async def test_the_cache_can_be_turned_off(db: Database, settings: Settings, clock: FrozenClock) -> None:
    built = Services.build(settings.model_copy(update={"read_cache_entries": 0}), clock, db)
    assert built.read_cache is None
