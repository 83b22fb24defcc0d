"""The media benchmarks' participants: pre-encoded VP8 and Opus senders, and receivers that count without
decoding, so that the load generator itself stays cheap.

- :func:`pre_encoded_video` / :func:`pre_encoded_audio` encode a few seconds once; :class:`LoopCamera` and
  :class:`LoopMicrophone` replay them as ``av.Packet`` (aiortc only packetizes those, it never encodes),
  paced like a camera (30 fps) and a microphone (20 ms frames). The camera restarts at its keyframe on a PLI,
  so a viewer that joins late gets one exactly as from a browser.
- :class:`Participant` has a publish connection (it offers camera and microphone) and a subscribe
  connection (it answers the server's offers). Everything that arrives on the subscribe connection is
  diverted before aiortc parses it (:func:`media.aiortc_hooks.divert_rtp`) and counted from the RTP
  header by :class:`StreamCount`: packets, and video frames that arrived whole (every sequence number from
  the previous frame's marker packet to this one's). The viewer sends no NACK, PLI or receiver report:
  what is lost stays lost and is counted.
- How offers and answers travel is the :class:`Signaling` protocol's business: the room protocol over
  socket.io for the real server (:mod:`bench.media_rooms`), a pipe for the baseline relay
  (:mod:`bench.media_relay`).
"""

from __future__ import annotations

import asyncio
import math
import os
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Protocol

import av
from aiortc import MediaStreamTrack, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError
from aiortc.rtp import RTCP_PSFB_PLI, AnyRtcpPacket, RtcpPsfbPacket

from media.aiortc_hooks import (
    TappedPacket,
    attach_rtp_tap,
    divert_rtp,
    keep_consent,
    observe_rtcp,
    rtc_configuration,
)

__all__ = [
    "AUDIO_CLOCK",
    "FPS",
    "HEIGHT",
    "VIDEO_CLOCK",
    "VP8_REALTIME",
    "WIDTH",
    "CountingViewer",
    "LoopCamera",
    "LoopMicrophone",
    "Participant",
    "ReceivedTotals",
    "Signaling",
    "StreamCount",
    "pre_encoded_audio",
    "pre_encoded_video",
]

WIDTH, HEIGHT, FPS = 640, 480, 30
VIDEO_CLOCK = 90_000
AUDIO_CLOCK = 48_000
AUDIO_FRAME = 960  # 20 ms at 48 kHz

VP8_REALTIME = {
    "deadline": "realtime",
    "cpu-used": "8",
    "lag-in-frames": "0",
    "auto-alt-ref": "0",
    "kf-max-dist": "1000000",  # keyframes only first and when asked, as a browser
    "drop-threshold": "0",
}
"""libvpx options of a browser-like real-time encoder (PyAV ``CodecContext.options``)."""

_SECTION = re.compile(r"^m=(audio|video) \d+ \S+ (.*)$")
_MID = re.compile(r"^a=mid:(\S+)")
_SSRC = re.compile(r"^a=ssrc:(\d+) ")


def pre_encoded_video(frames: int = 150) -> list[bytes]:
    """``frames`` VP8 640×480 frames (keyframe first) of a moving picture with a noisy band: ≈800 kbit/s."""
    encoder = av.CodecContext.create("libvpx", "w")
    encoder.width, encoder.height, encoder.pix_fmt = WIDTH, HEIGHT, "yuv420p"
    encoder.time_base, encoder.framerate = Fraction(1, VIDEO_CLOCK), Fraction(FPS, 1)
    encoder.thread_count, encoder.bit_rate, encoder.gop_size = 1, 800_000, 1_000_000
    encoder.options = dict(VP8_REALTIME)
    gradient = bytes((x + y) & 0xFF for y in range(HEIGHT) for x in range(2 * WIDTH))
    noisy_rows = 24
    encoded: list[bytes] = []
    for index in range(frames):
        frame = av.VideoFrame(WIDTH, HEIGHT, "yuv420p")
        shift = (index * 4) % WIDTH
        luma = bytearray(gradient[shift : shift + WIDTH * HEIGHT])
        luma[: noisy_rows * WIDTH] = os.urandom(noisy_rows * WIDTH)
        frame.planes[0].update(bytes(luma))
        frame.planes[1].update(bytes([128]) * frame.planes[1].buffer_size)
        frame.planes[2].update(bytes([128]) * frame.planes[2].buffer_size)
        frame.pts, frame.time_base = index * VIDEO_CLOCK // FPS, Fraction(1, VIDEO_CLOCK)
        encoded += [bytes(packet) for packet in encoder.encode(frame)]
    return encoded


def pre_encoded_audio(seconds: float = 2.0) -> list[bytes]:
    """Opus frames of 20 ms (48 kHz stereo, ≈32 kbit/s) of a 440 Hz tone: what a talking microphone sends."""
    encoder = av.CodecContext.create("libopus", "w")
    encoder.sample_rate, encoder.layout, encoder.format = AUDIO_CLOCK, "stereo", "s16"
    encoder.bit_rate = 32_000
    encoder.time_base = Fraction(1, AUDIO_CLOCK)
    encoded: list[bytes] = []
    frames = int(seconds * AUDIO_CLOCK / AUDIO_FRAME)
    for index in range(frames):
        frame = av.AudioFrame(format="s16", layout="stereo", samples=AUDIO_FRAME)
        start = index * AUDIO_FRAME
        samples = b"".join(
            int(8000 * math.sin(2 * math.pi * 440 * (start + i) / AUDIO_CLOCK)).to_bytes(
                2, "little", signed=True
            )
            * 2
            for i in range(AUDIO_FRAME)
        )
        frame.planes[0].update(samples)
        frame.sample_rate, frame.pts, frame.time_base = AUDIO_CLOCK, start, Fraction(1, AUDIO_CLOCK)
        encoded += [bytes(packet) for packet in encoder.encode(frame)]
    return encoded


class _Loop(MediaStreamTrack):
    """Replays pre-encoded frames as ``av.Packet`` at a fixed pace (aiortc packetizes them, never encodes)."""

    def __init__(self, frames: list[bytes], clock: int, step: int) -> None:
        super().__init__()
        self.frames = frames
        self.sent = 0
        """Frames handed to the sender so far."""
        self._clock, self._step = clock, step
        self._time_base = Fraction(1, clock)
        self._position = 0
        self._start: float | None = None

    async def recv(self) -> av.Packet[Any]:
        if self.readyState != "live":
            raise MediaStreamError
        if self._start is None:
            self._start = time.monotonic()
        delay = self._start + self.sent * self._step / self._clock - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)  # pacing like a device, not waiting for readiness
        packet = av.Packet(self.frames[self._position])
        packet.pts, packet.time_base = self.sent * self._step, self._time_base
        self._position = (self._position + 1) % len(self.frames)
        self.sent += 1
        return packet


class LoopCamera(_Loop):
    """Pre-encoded VP8 at 30 fps; a PLI restarts the loop at its keyframe (like a browser, which makes
    keyframes only when asked)."""

    kind = "video"

    def __init__(self, frames: list[bytes]) -> None:
        super().__init__(frames, VIDEO_CLOCK, VIDEO_CLOCK // FPS)
        self.plis = 0

    def watch(self, packet: AnyRtcpPacket) -> None:
        """Give it to ``observe_rtcp`` on the camera's sender."""
        if isinstance(packet, RtcpPsfbPacket) and packet.fmt == RTCP_PSFB_PLI:
            self.plis += 1
            self._position = 0


class LoopMicrophone(_Loop):
    """Pre-encoded Opus, one 20 ms frame at a time."""

    kind = "audio"

    def __init__(self, frames: list[bytes]) -> None:
        super().__init__(frames, AUDIO_CLOCK, AUDIO_FRAME)


class CountingViewer:
    """A receiving peer connection for the fan-out benchmarks: counts the RTP packets of every track it
    gets (through an RTP tap, never decoded), in all and of video."""

    def __init__(self) -> None:
        self.pc = RTCPeerConnection(rtc_configuration())
        self.packets = 0
        self.video_packets = 0

        @self.pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            receiver = next(t.receiver for t in self.pc.getTransceivers() if t.receiver.track is track)
            attach_rtp_tap(receiver, self._count_video if track.kind == "video" else self._count)

    def _count(self, packet: TappedPacket, datagram: bytes, arrival_time_ms: int) -> None:
        self.packets += 1

    def _count_video(self, packet: TappedPacket, datagram: bytes, arrival_time_ms: int) -> None:
        self.packets += 1
        self.video_packets += 1


class StreamCount:
    """One received RTP stream (an SSRC), counted from the header alone.

    A video frame counts as *whole* when its marker packet arrives and every sequence number since the
    previous marker packet (for the first frame: since the stream's first packet) arrived too; otherwise
    it is *broken*. ``first_whole`` is when the first whole frame completed (monotonic seconds).
    """

    __slots__ = ("_first_seq", "_last_marker", "_since", "broken", "first_whole", "packets", "video", "whole")

    def __init__(self, video: bool) -> None:
        self.video = video
        self.packets = 0
        self.whole = 0
        self.broken = 0
        self.first_whole: float | None = None
        self._first_seq: int | None = None
        self._last_marker: int | None = None
        self._since = 0

    def add(self, data: bytes, now: float) -> None:
        self.packets += 1
        if not self.video:
            return
        seq = (data[2] << 8) | data[3]
        if self._first_seq is None:
            self._first_seq = (seq - 1) & 0xFFFF
        self._since += 1
        if data[1] & 0x80:
            previous = self._last_marker if self._last_marker is not None else self._first_seq
            if self._since == (seq - previous) & 0xFFFF:
                self.whole += 1
                if self.first_whole is None:
                    self.first_whole = now
            else:
                self.broken += 1
            self._last_marker = seq
            self._since = 0


@dataclass
class ReceivedTotals:
    """What a set of participants received so far (cumulative)."""

    packets: int = 0
    video_packets: int = 0
    whole_frames: int = 0
    broken_frames: int = 0

    def __sub__(self, other: ReceivedTotals) -> ReceivedTotals:
        return ReceivedTotals(
            self.packets - other.packets,
            self.video_packets - other.video_packets,
            self.whole_frames - other.whole_frames,
            self.broken_frames - other.broken_frames,
        )


class Signaling(Protocol):
    """How a participant's offers and answers reach the server under test."""

    async def publish(self, sdp: str, sources: dict[str, str]) -> str:
        """Send the publish connection's offer; returns the server's answer."""
        ...

    async def subscribe_answer(self, sdp: str) -> None:
        """Answer the server's latest subscribe offer."""
        ...


OfferHandler = Callable[[str, dict[str, Any]], Awaitable[None]]


class Participant:
    """One person in a benchmark room: publishes a looping camera and microphone, counts what it receives.

    ``joined_at`` is set by whoever starts its join (monotonic seconds); :meth:`first_frame_from` tells
    when the first whole video frame of a publisher arrived.
    """

    def __init__(self, name: str, video: list[bytes], audio: list[bytes]) -> None:
        self.name = name
        self.id: str | None = None
        """The server's participant id (known after joining)."""
        self.camera = LoopCamera(video)
        self.microphone = LoopMicrophone(audio)
        self.publish_pc = RTCPeerConnection(rtc_configuration())
        self.subscribe_pc = RTCPeerConnection(rtc_configuration())
        for pc in (self.publish_pc, self.subscribe_pc):
            keep_consent(pc)  # as a browser does: a slow server is not hung up on after half a second
        self.signaling: Signaling | None = None
        self.joined_at = 0.0
        self.streams: dict[bytes, StreamCount] = {}
        """By SSRC (4 bytes, as in the header)."""
        self.publishers: dict[bytes, str] = {}
        """SSRC → publisher id, from the offers' m-sections and ``tracks``."""
        self._video_types: set[int] = set()
        self._diverted = False
        self._lock = asyncio.Lock()
        self._closing = False
        self.failures: list[str] = []
        """Connections that failed or closed before :meth:`close` (reported with the results)."""
        for label, pc in (("publish", self.publish_pc), ("subscribe", self.subscribe_pc)):
            pc.on("connectionstatechange", self._watch(label, pc))

    def _watch(self, label: str, pc: RTCPeerConnection) -> Callable[[], None]:
        def changed() -> None:
            if not self._closing and pc.connectionState in ("failed", "closed"):
                self.failures.append(f"{self.name}: {label} connection {pc.connectionState}")

        return changed

    async def publish(self) -> None:
        """Offer camera and microphone on the publish connection."""
        assert self.signaling is not None
        video = self.publish_pc.addTransceiver(self.camera, "sendonly")
        observe_rtcp(video.sender, self.camera.watch)
        audio = self.publish_pc.addTransceiver(self.microphone, "sendonly")
        await self.publish_pc.setLocalDescription(await self.publish_pc.createOffer())
        sources = {str(video.mid): "camera", str(audio.mid): "audio"}
        answer = await self.signaling.publish(self.publish_pc.localDescription.sdp, sources)
        await self.publish_pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))

    async def on_subscribe_offer(self, sdp: str, tracks: dict[str, Any]) -> None:
        """Apply a subscribe offer (``tracks``: mid → {publisher_id, …}) and answer it."""
        assert self.signaling is not None
        async with self._lock:
            self._learn(sdp, tracks)
            await self.subscribe_pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
            if not self._diverted:
                transport = self.subscribe_pc.getTransceivers()[0].receiver.transport
                divert_rtp(transport, self._count)
                self._diverted = True
            await self.subscribe_pc.setLocalDescription(await self.subscribe_pc.createAnswer())
            await self.signaling.subscribe_answer(self.subscribe_pc.localDescription.sdp)

    def _learn(self, sdp: str, tracks: dict[str, Any]) -> None:
        kind = mid = ""
        for line in sdp.splitlines():
            if section := _SECTION.match(line):
                kind, mid = section.group(1), ""
                if kind == "video":
                    self._video_types.update(int(pt) for pt in section.group(2).split())
            elif found := _MID.match(line):
                mid = found.group(1)
            elif (ssrc := _SSRC.match(line)) and mid in tracks:
                key = int(ssrc.group(1)).to_bytes(4, "big")
                self.publishers.setdefault(key, str(tracks[mid].get("publisher_id", "")))

    def _count(self, data: bytes, arrival_time_ms: int) -> None:
        ssrc = data[8:12]
        stream = self.streams.get(ssrc)
        if stream is None:
            stream = self.streams[ssrc] = StreamCount((data[1] & 0x7F) in self._video_types)
        stream.add(data, time.monotonic())

    def first_frame_from(self, publisher_id: str) -> float | None:
        """When the first whole video frame of this publisher arrived (monotonic), if one has."""
        times = [
            stream.first_whole
            for ssrc, stream in self.streams.items()
            if stream.video and stream.first_whole is not None and self.publishers.get(ssrc) == publisher_id
        ]
        return min(times) if times else None

    def received(self) -> ReceivedTotals:
        totals = ReceivedTotals()
        for stream in self.streams.values():
            totals.packets += stream.packets
            if stream.video:
                totals.video_packets += stream.packets
                totals.whole_frames += stream.whole
                totals.broken_frames += stream.broken
        return totals

    async def close(self) -> None:
        self._closing = True
        self.camera.stop()
        self.microphone.stop()
        await self.publish_pc.close()
        await self.subscribe_pc.close()
