"""Bandwidth feedback with real aiortc peers: a viewer's REMB reaches the publisher, combined with the others.

The viewer is a :class:`~tests.media_engine.clients.TapClient`: aiortc's own estimator is off on its side,
so the only REMBs it sends are the ones the test sends with :func:`~media.aiortc_hooks.send_remb` over its
real SRTCP connection — standing in for a browser whose downlink is narrow. The publisher is a plain aiortc
peer with a browser-like camera; what it hears is observed on its video sender, where aiortc routes REMBs.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator, Callable

import pytest
from aiortc import RTCRtpSender
from aiortc.rtp import RTCP_PSFB_APP, AnyRtcpPacket, RtcpPsfbPacket, unpack_remb_fci

from media.aiortc_hooks import observe_rtcp, send_remb
from tests.media_engine.clients import Client, Harness, TapClient
from tests.media_engine.conftest import Groups, HarnessFactory

# Far below what the publisher's camera sends, so that they, not the uplink estimate, are the minimum.
NARROW = 20_000
NARROWER = 12_000


def video_sender(client: Client) -> RTCRtpSender:
    return next(t.sender for t in client.publish_pc.getTransceivers() if t.kind == "video")


class RembLog:
    """Every REMB the publisher's video sender receives, in order."""

    def __init__(self, sender: RTCRtpSender) -> None:
        self.bitrates: list[int] = []
        self.changed = asyncio.Event()
        observe_rtcp(sender, self._seen)

    def _seen(self, packet: AnyRtcpPacket) -> None:
        if isinstance(packet, RtcpPsfbPacket) and packet.fmt == RTCP_PSFB_APP:
            self.bitrates.append(unpack_remb_fci(packet.fci)[0])
            self.changed.set()


@contextlib.asynccontextmanager
async def reporting(viewer: TapClient, mid: str, bitrate: list[int]) -> AsyncIterator[None]:
    """The viewer sends REMB ``bitrate[0]`` about the stream on ``mid`` every 200 ms, like a browser."""
    receiver = viewer.transceivers[mid].receiver
    ssrc = viewer.packets[mid][0][0].ssrc  # the server's SSRC for this subscriber

    async def loop() -> None:
        while True:
            await send_remb(receiver, bitrate[0], [ssrc])
            await asyncio.sleep(0.2)  # a reporting period, not a wait for readiness

    task = asyncio.ensure_future(loop())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def until_heard(harness: Harness, log: RembLog, condition: str, test: Callable[[int], bool]) -> None:
    start = len(log.bitrates)

    async def wait() -> None:
        while not any(test(value) for value in log.bitrates[start:]):
            log.changed.clear()
            await log.changed.wait()

    try:
        await asyncio.wait_for(wait(), 10)
    except TimeoutError:
        raise AssertionError(
            f"publisher never heard a REMB {condition}; heard {log.bitrates}\n{harness.describe()}"
        ) from None


@pytest.mark.timeout(60)
async def test_the_publisher_hears_its_slowest_viewers_estimate(make_harness: HarnessFactory) -> None:
    harness = make_harness(Groups(alice="main", viewer="main", other="main"))
    alice = await harness.join("alice")
    log = RembLog(video_sender(alice))
    viewer = await harness.join("viewer", camera=False, microphone=False, tap=True)
    assert isinstance(viewer, TapClient)
    await harness.until(lambda: viewer.seen("alice") >= 30)
    mid = viewer.mid_of("alice", "camera")

    estimate = [NARROW]
    async with reporting(viewer, mid, estimate):
        await until_heard(harness, log, f"of {NARROW}", lambda b: b == NARROW)
        estimate[0] = NARROWER  # the viewer's downlink narrows further: the publisher follows down
        await until_heard(harness, log, f"of {NARROWER}", lambda b: b == NARROWER)
        # Another viewer with a wide downlink changes nothing: the minimum still rules.
        other = await harness.join("other", camera=False, microphone=False, tap=True)
        assert isinstance(other, TapClient)
        await harness.until(lambda: other.seen("alice") >= 10)
        wide = [5_000_000]
        async with reporting(other, other.mid_of("alice", "camera"), wide):
            heard = len(log.bitrates)
            await until_heard(harness, log, "after the wide viewer joined", lambda b: True)
            await asyncio.sleep(1.0)  # a few more reporting periods of both viewers
            assert set(log.bitrates[heard:]) == {NARROWER}, log.bitrates[heard:]

    # The slow viewer leaves: the publisher is no longer held to its estimate (the uplink estimate, or the
    # other viewer's, is what remains).
    await harness.engine.remove_participant("viewer")
    await until_heard(harness, log, f"above {NARROWER} after the slow viewer left", lambda b: b > NARROWER)
    stats = harness.engine.stats
    assert stats.rembs_received > 0
    assert stats.rembs_sent >= 3


@pytest.mark.timeout(60)
async def test_forwarded_packets_carry_the_subscribers_own_extension_ids(
    make_harness: HarnessFactory,
) -> None:
    harness = make_harness(Groups(alice="main", viewer="main"))
    await harness.join("alice")
    viewer = await harness.join("viewer", camera=False, microphone=False, tap=True)
    assert isinstance(viewer, TapClient)
    await harness.until(lambda: viewer.seen("alice", "camera") >= 30 and viewer.seen("alice", "audio") >= 20)

    video = viewer.packets[viewer.mid_of("alice", "camera")]
    audio = viewer.packets[viewer.mid_of("alice", "audio")]
    # aiortc parsed them with the ids the viewer negotiated: every packet names its own m-section, video
    # is stamped with abs-send-time at the server and audio keeps the publisher's audio level.
    assert {packet.extensions.mid for packet, _ in video} == {viewer.mid_of("alice", "camera")}
    assert {packet.extensions.mid for packet, _ in audio} == {viewer.mid_of("alice", "audio")}
    assert all(packet.extensions.abs_send_time is not None for packet, _ in video)
    assert all(packet.extensions.audio_level is not None for packet, _ in audio)
    # One SSRC per stream, sequence numbers without gaps or repeats, and datagrams that are exactly
    # header + payload (no stray padding or leftover publisher extension block).
    for packets in (video, audio):
        assert len({packet.ssrc for packet, _ in packets}) == 1
        seqs = [packet.sequence_number for packet, _ in packets]
        assert all((b - a) & 0xFFFF == 1 for a, b in itertools.pairwise(seqs))
        for packet, datagram in packets:
            assert datagram.endswith(packet.payload)
            assert not datagram[0] & 0x20
