from __future__ import annotations

import asyncio

import pytest

from accounts.principal import AuthMethod, Principal, PrincipalKind
from web.auth import KeyCache

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
