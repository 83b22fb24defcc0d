"""Fixtures for the aiortc hook tests: loopback-only ICE and peer connections that are always closed."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator

import pytest
from aiortc import RTCPeerConnection

from media.aiortc_hooks import announce_addresses, rtc_configuration


@pytest.fixture(autouse=True)
def loopback_only() -> Iterator[None]:
    """Every peer in these tests (ours and aiortc's) binds and announces 127.0.0.1 only, with no STUN."""
    previous = announce_addresses(["127.0.0.1"])
    yield
    announce_addresses(previous)


@pytest.fixture
async def new_peer() -> AsyncIterator[Callable[[], RTCPeerConnection]]:
    """Make peer connections with no ICE servers; all of them are closed when the test ends."""
    peers: list[RTCPeerConnection] = []

    def make() -> RTCPeerConnection:
        peer = RTCPeerConnection(rtc_configuration())
        peers.append(peer)
        return peer

    yield make
    for peer in peers:
        await peer.close()
