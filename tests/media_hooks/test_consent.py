"""keep_consent: ICE consent checks the RFC 7675 way between real aiortc peers on loopback.

The timings are shortened for the tests (checks every 0.3 s, consent for 1.5 s, STUN's first retransmission
after 0.1 s instead of 0.5 s); the rules are the same as in production.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import aioice.ice
import pytest
from aiortc import RTCPeerConnection

from media.aiortc_hooks import keep_consent
from tests.media_hooks.peers import MovingPicture, connected, delay_stun, negotiate, shorten_consent

PeerFactory = Callable[[], RTCPeerConnection]


@pytest.fixture(autouse=True)
def _quick(monkeypatch: pytest.MonkeyPatch) -> None:
    shorten_consent(monkeypatch)


def _ice(peer: RTCPeerConnection) -> aioice.ice.Connection:
    connection: aioice.ice.Connection = peer.getTransceivers()[0].receiver.transport.transport._connection
    return connection


async def _pair(new_peer: PeerFactory, *, ours: bool) -> tuple[RTCPeerConnection, RTCPeerConnection]:
    checker, answerer = new_peer(), new_peer()
    if ours:
        keep_consent(checker)
    checker.addTransceiver(MovingPicture(), "sendonly")
    answerer.addTransceiver("video", "recvonly")
    await negotiate(checker, answerer)
    await connected(checker)
    await connected(answerer)
    return checker, answerer


@pytest.mark.timeout(30)
async def test_checks_are_replaced_before_the_pair_is_nominated(new_peer: PeerFactory) -> None:
    checker, answerer = await _pair(new_peer, ours=True)
    assert "query_consent" in vars(_ice(checker))
    assert "query_consent" not in vars(_ice(answerer))
    task = _ice(checker)._query_consent_task
    assert task is not None
    assert not task.done()


async def _ice_leaves_completed(peer: RTCPeerConnection, seconds: float) -> bool:
    """Whether the peer's ICE state leaves ``completed`` within ``seconds``."""
    left = asyncio.Event()

    def check() -> None:
        if peer.iceConnectionState != "completed":
            left.set()

    peer.on("iceconnectionstatechange", check)
    check()
    try:
        await asyncio.wait_for(left.wait(), seconds)
    except TimeoutError:
        return False
    finally:
        peer.remove_listener("iceconnectionstatechange", check)
    return True


@pytest.mark.timeout(30)
@pytest.mark.parametrize("ours", [True, False], ids=["keep_consent", "aioice"])
async def test_late_answers_keep_the_call_under_keep_consent_only(new_peer: PeerFactory, ours: bool) -> None:
    """Answers 0.4 s late (four times the first retransmission timeout): aioice, which waits for one
    answer only that long, hangs up after six checks; keep_consent waits up to 1.5 s and keeps the call."""
    checker, answerer = await _pair(new_peer, ours=ours)
    delay_stun(answerer, 0.4)
    # Six aioice checks take at most 2.2 s; our consent would expire 1.5 s after the last answer.
    left = await _ice_leaves_completed(checker, 4.0)
    if ours:
        assert not left
        assert checker.connectionState == "connected"
    else:
        assert left


@pytest.mark.timeout(30)
async def test_consent_ends_when_nothing_is_answered(new_peer: PeerFactory) -> None:
    checker, answerer = await _pair(new_peer, ours=True)
    delay_stun(answerer, None)
    started = time.monotonic()
    assert await _ice_leaves_completed(checker, 15.0), "consent never expired"
    # Not before 1.5 s without an answer and three failed checks (each fails after 1.5 s of retransmissions).
    assert time.monotonic() - started >= 1.5
    assert checker.iceConnectionState in ("failed", "closed")
    assert checker.connectionState in ("failed", "closed")  # what the room engine reports as failed
