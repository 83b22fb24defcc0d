"""Real aiortc peers on loopback for the hook tests: a synthetic camera, offer/answer, a tiny forwarder.

The forwarder here is a test double, not the product's: it rewrites SSRC, payload type, sequence number and
mid for one viewer and keeps a history to answer NACKs with RTX; that is just enough to prove that the doors
in ``media.aiortc_hooks`` let encoded RTP through without decoding.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from fractions import Fraction
from typing import Any, Generic, TypeVar

import aioice.ice
import aioice.stun
import pytest
from aiortc import AudioStreamTrack, MediaStreamTrack, RTCPeerConnection, RTCRtpReceiver, VideoStreamTrack
from aiortc.rtp import RtpPacket
from av import VideoFrame

from media import aiortc_hooks
from media.aiortc_hooks import RawRtpSender, RtpCallback, RtpTap, TappedPacket, attach_rtp_tap

__all__ = [
    "TIMEOUT",
    "FirstValue",
    "MovingPicture",
    "PublisherLeg",
    "TestForwarder",
    "ViewerLeg",
    "candidate_addresses",
    "connected",
    "delay_stun",
    "is_vp8_keyframe_start",
    "negotiate",
    "sdp_ssrcs",
    "shorten_consent",
    "within",
]

#: Upper bound for any single wait in these tests (seconds); the tests also carry pytest timeouts.
TIMEOUT = 10.0

T = TypeVar("T")


async def within(awaitable: Awaitable[T], seconds: float = TIMEOUT) -> T:
    """Await with a time limit, so a broken hook fails the test instead of hanging it."""
    return await asyncio.wait_for(awaitable, seconds)


class FirstValue(Generic[T]):
    """Call it with values (e.g. as an event handler); :meth:`wait` returns the first one."""

    def __init__(self) -> None:
        self._future: asyncio.Future[T] = asyncio.get_running_loop().create_future()

    def __call__(self, value: T) -> None:
        if not self._future.done():
            self._future.set_result(value)

    def done(self) -> bool:
        return self._future.done()

    def value(self) -> T:
        return self._future.result()

    async def wait(self, seconds: float = TIMEOUT) -> T:
        return await within(asyncio.shield(self._future), seconds)


class MovingPicture(VideoStreamTrack):
    """A synthetic camera: 320x240 at 30 fps with a moving bar, so the encoder makes real delta frames."""

    async def recv(self) -> VideoFrame:
        pts, time_base = await self.next_timestamp()
        frame = VideoFrame(width=320, height=240, format="yuv420p")
        position = (pts // 3000 * 8) % 320
        luma = bytearray(320 * 240)
        for row in range(0, 240 * 320, 320):
            luma[row + position : row + min(position + 16, 320)] = b"\xff" * min(16, 320 - position)
        frame.planes[0].update(bytes(luma))
        frame.planes[1].update(bytes([128]) * frame.planes[1].buffer_size)
        frame.planes[2].update(bytes([128]) * frame.planes[2].buffer_size)
        frame.pts = pts
        frame.time_base = Fraction(time_base.numerator, time_base.denominator)
        return frame


async def negotiate(offerer: RTCPeerConnection, answerer: RTCPeerConnection) -> None:
    """In-process offer/answer (aiortc gathers all candidates before each description is set)."""
    await offerer.setLocalDescription(await offerer.createOffer())
    await answerer.setRemoteDescription(offerer.localDescription)
    await answerer.setLocalDescription(await answerer.createAnswer())
    await offerer.setRemoteDescription(answerer.localDescription)


async def connected(peer: RTCPeerConnection) -> None:
    """Wait until the peer connection is connected (ICE and DTLS)."""
    done = asyncio.Event()

    def check() -> None:
        if peer.connectionState == "connected":
            done.set()

    peer.on("connectionstatechange", check)
    check()
    try:
        await within(done.wait())
    finally:
        peer.remove_listener("connectionstatechange", check)


def delay_stun(peer: RTCPeerConnection, delay: float | None) -> None:
    """From now on ``peer`` reads STUN ``delay`` seconds late (so its answers to consent checks come late), or
    never (``None``); DTLS and SRTP pass at once."""
    loop = asyncio.get_running_loop()
    connection = peer.getTransceivers()[0].receiver.transport.transport._connection
    for protocol in connection._protocols:
        original = protocol.datagram_received

        def datagram_received(
            data: bytes, addr: tuple[Any, ...], original: Callable[..., None] = original
        ) -> None:
            if data[0] >= 4:  # not STUN (RFC 7983)
                original(data, addr)
            elif delay is not None:
                loop.call_later(delay, original, data, addr)

        protocol.datagram_received = datagram_received  # type: ignore[method-assign,assignment]


def shorten_consent(monkeypatch: pytest.MonkeyPatch) -> None:
    """ICE consent timings for tests: checks every 0.3 s (ours and aioice's), consent for 1.5 s, and STUN's
    first retransmission after 0.1 s (a retransmitted check is answered within 1.5 s or fails)."""
    monkeypatch.setattr(aiortc_hooks, "CONSENT_INTERVAL", 0.3)
    monkeypatch.setattr(aiortc_hooks, "CONSENT_EXPIRY", 1.5)
    monkeypatch.setattr(aioice.ice, "CONSENT_INTERVAL", 0.3)
    monkeypatch.setattr(aioice.stun, "RETRY_RTO", 0.1)


def candidate_addresses(sdp: str) -> set[str]:
    """The addresses of all candidates in an SDP."""
    return {m.group(1) for m in re.finditer(r"^a=candidate:\S+ \d+ \S+ \d+ (\S+) \d+ typ", sdp, re.M)}


def sdp_ssrcs(sdp: str) -> list[int]:
    """SSRCs announced with ``a=ssrc`` lines, in order, without repeats."""
    return list(dict.fromkeys(int(m.group(1)) for m in re.finditer(r"^a=ssrc:(\d+) ", sdp, re.M)))


def is_vp8_keyframe_start(payload: bytes) -> bool:
    """True for the first RTP packet of a VP8 keyframe (RFC 7741 payload descriptor + payload header)."""
    if not payload:
        return False
    first = payload[0]
    start_of_partition, partition = first & 0x10, first & 0x0F
    pos = 1
    if first & 0x80:  # X: extended control bits
        extended = payload[1]
        pos = 2
        if extended & 0x80:  # I: picture id, 7 or 15 bits
            pos += 2 if payload[pos] & 0x80 else 1
        if extended & 0x40:  # L: TL0PICIDX
            pos += 1
        if extended & 0x30:  # T or K: TID/KEYIDX
            pos += 1
    return bool(start_of_partition) and partition == 0 and len(payload) > pos and payload[pos] & 0x01 == 0


class TestForwarder:
    """Forwards tapped packets to one viewer through a :class:`RawRtpSender` (stands in for the forwarder)."""

    __test__ = False  # not a pytest test class

    def __init__(self, out: RawRtpSender, *, start_at_keyframe: bool = False) -> None:
        self.out = out
        self.forwarded = 0
        self.keyframes_seen = 0
        self.first_timestamp: int | None = None
        self.history: dict[int, RtpPacket] = {}
        self.drop_indexes: set[int] = set()
        self.dropped: list[RtpPacket] = []
        self.retransmitted: list[int] = []
        self.forwarding = asyncio.Event()
        self._start_at_keyframe = start_at_keyframe
        self._sequence = 20_000
        self._rtx_sequence = 5_000

    async def on_rtp(self, packet: TappedPacket, datagram: bytes, arrival_time_ms: int) -> None:
        keyframe = is_vp8_keyframe_start(packet.payload)
        self.keyframes_seen += keyframe
        negotiated = self.out.negotiated
        if negotiated is None or (self._start_at_keyframe and self.first_timestamp is None and not keyframe):
            return
        if self.first_timestamp is None:
            self.first_timestamp = packet.timestamp
            self.forwarding.set()
        out = RtpPacket(
            payload_type=negotiated.codecs[0].payloadType or 0,
            marker=packet.marker,
            sequence_number=self._sequence,
            timestamp=packet.timestamp,
            ssrc=self.out.ssrc,
            payload=packet.payload,
        )
        out.extensions.mid = negotiated.mid
        out.extensions.abs_send_time = packet.extensions.abs_send_time
        out.extensions.audio_level = packet.extensions.audio_level
        self._sequence = (self._sequence + 1) & 0xFFFF
        self.history[out.sequence_number] = out
        index, self.forwarded = self.forwarded, self.forwarded + 1
        if index in self.drop_indexes:
            self.dropped.append(out)
            return
        await self.out.send(self.out.serialize(out))

    async def retransmit(self, sequence_number: int) -> None:
        """Answer a NACK: resend the packet as RTX (RFC 4588) on the negotiated RTX SSRC and payload type."""
        negotiated = self.out.negotiated
        original = self.history.get(sequence_number)
        if negotiated is None or negotiated.rtx_ssrc is None or original is None:
            return
        rtx = RtpPacket(
            payload_type=negotiated.rtx_payload_types[original.payload_type],
            marker=original.marker,
            sequence_number=self._rtx_sequence,
            timestamp=original.timestamp,
            ssrc=negotiated.rtx_ssrc,
            payload=original.sequence_number.to_bytes(2, "big") + original.payload,
        )
        rtx.extensions.mid = negotiated.mid
        self._rtx_sequence = (self._rtx_sequence + 1) & 0xFFFF
        self.retransmitted.append(sequence_number)
        await self.out.send(self.out.serialize(rtx))


PeerFactory = Callable[[], RTCPeerConnection]


class PublisherLeg:
    """A publisher peer sending :class:`MovingPicture` (or silence) to a server peer with an RTP tap."""

    def __init__(
        self, new_peer: PeerFactory, on_rtp: RtpCallback, *, kind: str = "video", aiortc_remb: bool = True
    ) -> None:
        self.publisher = new_peer()
        track = MovingPicture() if kind == "video" else AudioStreamTrack()
        self.sender = self.publisher.addTransceiver(track, direction="sendonly").sender
        self.server = new_peer()
        self._tapped = FirstValue[tuple[RtpTap, MediaStreamTrack]]()

        @self.server.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            receiver = next(t.receiver for t in self.server.getTransceivers() if t.receiver.track is track)
            self._tapped((attach_rtp_tap(receiver, on_rtp, aiortc_remb=aiortc_remb), track))

    async def connect(self) -> None:
        await negotiate(self.publisher, self.server)
        self.tap, self.server_track = await self._tapped.wait()
        await within(self.tap.started())
        await connected(self.publisher)

    @property
    def receiver(self) -> RTCRtpReceiver:
        return self.tap.receiver


class ViewerLeg:
    """A server peer with a :class:`RawRtpSender` (silent track) and a plain aiortc viewer that decodes."""

    def __init__(self, new_peer: PeerFactory, *, kind: str = "video", auto_report_clock: bool = True) -> None:
        self.server = new_peer()
        self.raw = RawRtpSender(
            self.server.addTransceiver(kind, direction="sendonly").sender, auto_report_clock=auto_report_clock
        )
        self.viewer = new_peer()
        self._track = FirstValue[MediaStreamTrack]()
        self.viewer.on("track", self._track)

    async def connect(self) -> None:
        await negotiate(self.server, self.viewer)
        self.track = await self._track.wait()
        await within(self.raw.started())
        await connected(self.viewer)

    @property
    def receiver(self) -> RTCRtpReceiver:
        return self.viewer.getTransceivers()[0].receiver
