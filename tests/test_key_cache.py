from __future__ import annotations

import asyncio

import pytest

from accounts.principal import AuthMethod, Principal, PrincipalKind
from accounts.service import revoke_api_key, touch_api_key, verify_api_key
from tests.factories import World
from tiaojie.errors import Unauthenticated
from web.auth import KeyCache
from web.services import Services

P = Principal(kind=PrincipalKind.COURT, id="key_x", label="k", auth_method=AuthMethod.API_KEY, court_id="crt")


async def test_concurrent_misses_share_one_lookup() -> None:
    cache = KeyCache()
    calls = 0
    gate = asyncio.Event()

    async def verify() -> Principal:
        nonlocal calls
        calls += 1
        await gate.wait()
        return P

    waiters = [asyncio.create_task(cache.lookup("h", verify)) for _ in range(50)]
    await asyncio.sleep(0)
    gate.set()
    assert await asyncio.gather(*waiters) == [P] * 50
    assert calls == 1
    assert await cache.lookup("h", verify) == P
    assert calls == 1


async def test_a_failed_lookup_fails_every_waiter_and_is_not_cached() -> None:
    cache = KeyCache()
    gate = asyncio.Event()

    async def refuse() -> Principal:
        await gate.wait()
        raise PermissionError("no")

    waiters = [asyncio.create_task(cache.lookup("h", refuse)) for _ in range(3)]
    await asyncio.sleep(0)
    gate.set()
    results = await asyncio.gather(*waiters, return_exceptions=True)
    assert all(isinstance(r, PermissionError) for r in results)
    assert cache.get("h") is None


async def test_entries_expire() -> None:
    cache = KeyCache(ttl=-1)
    cache.put("h", P)
    assert cache.get("h") is None
    with pytest.raises(KeyError):
        await cache.lookup("h", _missing)


async def _missing() -> Principal:
    raise KeyError("gone")


async def test_keys_are_verified_with_a_lean_read_unit(services: Services, world: World) -> None:
    """What the cache is filled with: a court key's court, a union key's whole subtree, and when each was
    last used; revoked, unknown and malformed keys refused."""
    async with services.db.rows() as rows:
        court = await verify_api_key(rows, world.tokens["court_a"])
        union = await verify_api_key(rows, world.tokens["union1"])
    assert court.principal.kind is PrincipalKind.COURT
    assert court.principal.court_id == world.courts["a"]
    assert court.last_used_at is None
    assert union.principal.kind is PrincipalKind.UNION
    assert union.principal.organisation_ids == {world.orgs["u1"], world.orgs["o1"]}
    now = services.clock.now()
    async with services.db.session() as session:
        await touch_api_key(session, court.principal.id, now=now)
        await revoke_api_key(session, union.principal.id, now=now)
    token = world.tokens["court_a"]
    async with services.db.rows() as rows:
        assert (await verify_api_key(rows, token)).last_used_at == now
        for bad in (world.tokens["union1"], token[:-1] + ("x" if token[-1] != "x" else "y"), "nonsense"):
            with pytest.raises(Unauthenticated):
                await verify_api_key(rows, bad)


def test_the_principal_carries_each_callers_address_and_agent() -> None:
    cache = KeyCache()
    cache.put("h", P)
    first = cache.for_caller("h", P, "10.0.0.1", "court system/1.0")
    assert (first.ip, first.user_agent) == ("10.0.0.1", "court system/1.0")
    assert first.court_id == P.court_id
    assert P.ip is None  # a copy: the cached principal stays as it was
    assert cache.for_caller("h", P, "10.0.0.1", "court system/1.0") is first  # the same caller again
    other = cache.for_caller("h", P, "10.0.0.2", "court system/1.0")
    assert other.ip == "10.0.0.2"
    assert cache.for_caller("h", P, "10.0.0.1", None).user_agent is None
    fresh = Principal(kind=PrincipalKind.COURT, id="key_x", label="k2", auth_method=AuthMethod.API_KEY)
    cache.put("h", fresh)  # verified again (e.g. after expiry): nothing of the old entry is reused
    assert cache.for_caller("h", fresh, "10.0.0.1", "court system/1.0").label == "k2"
