"""Giving the heap's free pages back (tiaojie/memory.py)."""

from __future__ import annotations

import asyncio
import os
import platform
from typing import Any

import pytest

from store.database import Database
from tiaojie import memory
from tiaojie.clock import FrozenClock
from tiaojie.settings import Settings, load_settings
from web.app import create_app

glibc = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="malloc_trim is glibc's")


def _resident_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@glibc
def test_free_pages_in_the_middle_of_the_heap_go_back() -> None:
    # Packet-sized objects from glibc's heap, every tenth kept alive between the freed ones (like RTX
    # caches between transient copies): the freed pages stay resident until trimmed.
    blocks = [bytes(2048) for _ in range(50_000)]
    kept = blocks[::10]
    del blocks
    before = _resident_bytes()
    memory.trim()
    after = _resident_bytes()
    assert before - after > 40_000_000
    assert len(kept) == 5_000


@glibc
async def test_the_task_trims_on_its_interval_until_cancelled(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[bool] = []
    trimmed = asyncio.Event()

    def counting() -> bool:
        calls.append(True)
        if len(calls) >= 2:
            trimmed.set()
        return True

    monkeypatch.setattr(memory, "_TRIM", counting)
    task = asyncio.create_task(memory.trim_forever(0.01))
    await asyncio.wait_for(trimmed.wait(), 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert len(calls) >= 2


async def test_zero_turns_it_off() -> None:
    await asyncio.wait_for(memory.trim_forever(0), 1)  # returns at once
    assert load_settings({}).malloc_trim_seconds == 60
    assert load_settings({"TIAOJIE_MALLOC_TRIM_SECONDS": "0"}).malloc_trim_seconds == 0


async def test_every_server_process_trims_on_its_interval(
    aiohttp_client: Any, settings: Settings, clock: FrozenClock, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The application's lifecycle starts the trimming task, with the configured interval."""
    trimmed = asyncio.Event()

    def trim_now() -> bool:
        trimmed.set()
        return True

    monkeypatch.setattr(memory, "_TRIM", trim_now)
    app = create_app(
        settings.model_copy(update={"malloc_trim_seconds": 0.01}),
        clock=clock,
        db=db,
        migrate=False,
        background=False,
    )
    client = await aiohttp_client(app)
    try:
        await asyncio.wait_for(trimmed.wait(), 5)
    finally:
        await client.close()
