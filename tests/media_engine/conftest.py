"""Fixtures for the media engine tests: loopback-only ICE, an engine with test clients, always closed."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

from media.aiortc_hooks import announce_addresses
from media.engine import MediaConfig, RoomMedia
from tests.media_engine.clients import Harness


class Groups:
    """A stand-in for ``Room.audience``: participants in the same group see each other."""

    def __init__(self, **groups: str) -> None:
        self.groups = dict(groups)

    def __call__(self, publisher_id: str) -> frozenset[str]:
        group = self.groups.get(publisher_id)
        if group is None:
            return frozenset()
        return frozenset(pid for pid, other in self.groups.items() if other == group and pid != publisher_id)


@pytest.fixture(autouse=True)
def loopback_only() -> Iterator[None]:
    """Every peer (the engine's and the clients') binds and announces 127.0.0.1 only, with no STUN."""
    previous = announce_addresses(["127.0.0.1"])
    yield
    announce_addresses(previous)


HarnessFactory = Callable[..., Harness]


@pytest.fixture
async def make_harness() -> AsyncIterator[HarnessFactory]:
    """``make_harness(audience, **MediaConfig fields)``: an engine and its clients, closed at the end."""
    harnesses: list[Harness] = []

    def make(audience: Callable[[str], frozenset[str]], **config: Any) -> Harness:
        settings = MediaConfig(announced_addresses=("127.0.0.1",), **config)

        def engine(harness: Harness) -> RoomMedia:
            return RoomMedia("session-1", audience, settings, on_renegotiate=harness.on_renegotiate)

        harness = Harness(engine)
        harnesses.append(harness)
        return harness

    yield make
    for harness in harnesses:
        await harness.close()
    for harness in harnesses:
        assert not harness.errors, harness.errors
