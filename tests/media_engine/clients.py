"""Test participants for the media engine: real aiortc peers on loopback, publishing and subscribing.

A :class:`Client` is what a browser tab would be: a publish connection (it offers its tracks to the engine)
and a subscribe connection (it answers the engine's offers), and it decodes every frame it receives. The
:class:`Harness` plays the signaling layer: it relays offers and answers and the engine's renegotiation
requests, and :meth:`Harness.until` waits (with a timeout, never a fixed sleep) for a condition that
frames or engine counters make true.

:class:`PliCamera` is a *browser-like* camera: it sends pre-encoded VP8 (``av.Packet``, so aiortc only
packetizes) and makes a keyframe only at its start and when a PLI asks for one. aiortc's own encoder also
makes one whenever its bitrate changes, which would hide a keyframe-relay bug.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from fractions import Fraction
from typing import Any, cast

import av
from aiortc import (
    AudioStreamTrack,
    MediaStreamTrack,
    RTCPeerConnection,
    RTCRtpTransceiver,
    RTCSessionDescription,
    VideoStreamTrack,
)
from aiortc.mediastreams import MediaStreamError
from aiortc.rtp import RTCP_PSFB_PLI, AnyRtcpPacket, RtcpPsfbPacket
from av.video.codeccontext import VideoCodecContext
from av.video.frame import PictureType

from bench.media_clients import VP8_REALTIME
from media.aiortc_hooks import TappedPacket, attach_rtp_tap, observe_rtcp, rtc_configuration
from media.engine import RoomMedia, TrackInfo

__all__ = ["TIMEOUT", "VIDEO_CLOCK", "Client", "Harness", "PliCamera", "TapClient"]

#: Upper bound for any single wait (seconds); every test also has a pytest timeout.
TIMEOUT = 10.0
VIDEO_CLOCK = 90_000


class PliCamera(MediaStreamTrack):
    """Browser-like camera: 160×120 at 30 fps, VP8 (or H.264), keyframes only first and on request (PLI)."""

    kind = "video"

    def __init__(self, fps: int = 30, codec: str = "libvpx") -> None:
        super().__init__()
        self.fps = fps
        self.width, self.height = 160, 120
        self.keyframes = 0
        """Keyframes encoded so far."""
        self.plis = 0
        """PLIs received from the server."""
        self.pli_times: list[float] = []
        """When each PLI arrived (monotonic seconds)."""
        self.sent = 0
        """Frames handed to the sender."""
        self.on_frame: Callable[[], None] = lambda: None
        self.damage_keyframes = 0
        """How many of the next keyframes to send without their start code (as a broken encoder might)."""
        self._wanted = True
        self._index = 0
        self._start: float | None = None
        self._encoder = cast(VideoCodecContext, av.CodecContext.create(codec, "w"))
        self._encoder.width = self.width
        self._encoder.height = self.height
        self._encoder.pix_fmt = "yuv420p"
        self._encoder.thread_count = 1  # "auto" threads spin: 25x the CPU on this small picture
        self._encoder.time_base = Fraction(1, VIDEO_CLOCK)
        self._encoder.framerate = Fraction(fps, 1)
        self._encoder.bit_rate = 500_000
        self._encoder.gop_size = 1_000_000
        if codec == "libx264":  # constrained baseline, an IDR with SPS/PPS only when asked
            self._encoder.options = {
                "preset": "ultrafast",
                "tune": "zerolatency",
                "profile": "baseline",
                "forced-idr": "1",
                "x264-params": "keyint=1000000:min-keyint=1000000:scenecut=0:bframes=0",
            }
        else:
            self._encoder.options = dict(VP8_REALTIME)
        size = self.width * self.height
        # A smooth diagonal gradient that moves sideways: cheap to encode, never two frames alike.
        self._pattern = bytes((i % self.width + i // self.width) & 0xFF for i in range(2 * size))

    def make_keyframe(self) -> None:
        """Make the next frame a keyframe, as if its own encoder decided to (no PLI)."""
        self._wanted = True

    def watch(self, packet: AnyRtcpPacket) -> None:
        """Give it to ``observe_rtcp`` on its sender: a PLI asks for the next frame to be a keyframe."""
        if isinstance(packet, RtcpPsfbPacket) and packet.fmt == RTCP_PSFB_PLI:
            self.plis += 1
            self.pli_times.append(time.monotonic())
            self._wanted = True

    async def recv(self) -> av.Packet[Any]:
        while True:
            if self.readyState != "live":
                raise MediaStreamError
            if self._start is None:
                self._start = time.monotonic()
            else:
                delay = self._start + self._index / self.fps - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)  # pacing like a camera, not waiting for readiness
            frame = av.VideoFrame(self.width, self.height, "yuv420p")
            luma = frame.planes[0]
            shift = (self._index * 2) % self.width
            luma.update(self._pattern[shift : shift + luma.buffer_size])
            frame.planes[1].update(bytes([100]) * frame.planes[1].buffer_size)
            frame.planes[2].update(bytes([150]) * frame.planes[2].buffer_size)
            frame.pts = self._index * VIDEO_CLOCK // self.fps
            frame.time_base = Fraction(1, VIDEO_CLOCK)
            if self._wanted:
                frame.pict_type = PictureType.I
            self._index += 1
            packets = self._encoder.encode(frame)
            if packets:  # the encoder never drops frames (drop-threshold 0), but be safe
                packet = packets[0]
                if packet.is_keyframe:
                    self._wanted = False
                    self.keyframes += 1
                    if self.damage_keyframes:
                        self.damage_keyframes -= 1
                        data = bytearray(bytes(packet))
                        data[3:6] = b"\x00\x00\x00"  # the start code 9d 01 2a
                        packet = av.Packet(bytes(data))
                packet.pts = frame.pts
                packet.time_base = Fraction(1, VIDEO_CLOCK)
                self.sent += 1
                self.on_frame()
                return packet


class Client:
    """One participant's two peer connections to the engine, counting what it decodes.

    ``received[(publisher_id, source)]`` counts decoded frames, attributed through the engine's mid map
    that came with the latest offer; ``frames[mid]`` counts per m-section, ``pts[mid]`` keeps the decoded
    video frames' timestamps.
    """

    def __init__(self, harness: Harness, pid: str) -> None:
        self.harness = harness
        self.pid = pid
        self.publish_pc = RTCPeerConnection(rtc_configuration())
        self.subscribe_pc = RTCPeerConnection(rtc_configuration())
        self.subscribe_pc.on("track", self._on_track)
        for pc in (self.publish_pc, self.subscribe_pc):
            pc.on("connectionstatechange", harness.changed)
        self.camera: PliCamera | VideoStreamTrack | None = None
        self.screen: PliCamera | None = None
        self.transceivers: dict[str, RTCRtpTransceiver] = {}
        self.mapping: dict[str, TrackInfo] = {}
        self.received: Counter[tuple[str | None, str | None]] = Counter()
        self.frames: Counter[str] = Counter()
        self.pts: dict[str, list[int]] = {}
        self.sizes: set[tuple[int, int]] = set()
        self.offers = 0
        self._lock = asyncio.Lock()
        self._tasks: list[asyncio.Task[None]] = []

    # --- publishing ---------------------------------------------------------------------------------------

    def add_camera(self, *, browser_like: bool = True, codec: str = "libvpx") -> None:
        if browser_like:
            camera = PliCamera(codec=codec)
            camera.on_frame = self.harness.changed
            sender = self.publish_pc.addTransceiver(camera, "sendonly").sender
            observe_rtcp(sender, camera.watch)
            self.camera = camera
        else:
            self.camera = VideoStreamTrack()
            self.publish_pc.addTransceiver(self.camera, "sendonly")

    def add_microphone(self) -> None:
        self.publish_pc.addTransceiver(AudioStreamTrack(), "sendonly")

    def add_screen(self) -> RTCRtpTransceiver:
        self.screen = PliCamera(fps=15)
        self.screen.on_frame = self.harness.changed
        transceiver = self.publish_pc.addTransceiver(self.screen, "sendonly")
        observe_rtcp(transceiver.sender, self.screen.watch)
        return transceiver

    async def publish(self) -> None:
        """Offer the publish connection's tracks to the engine (first time or renegotiation)."""
        await self.publish_pc.setLocalDescription(await self.publish_pc.createOffer())
        answer = await self.harness.engine.publish_offer(self.pid, self.publish_pc.localDescription.sdp)
        await self.publish_pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))

    # --- subscribing --------------------------------------------------------------------------------------

    async def renegotiate(self) -> bool:
        """Take the engine's next subscribe offer, if any, and answer it."""
        async with self._lock:
            engine = self.harness.engine
            offer = await engine.subscribe_offer(self.pid)
            if offer is None:
                return False
            self.offers += 1
            mapping = engine.subscriptions(self.pid)  # the signaling layer sends it with the offer
            await self.subscribe_pc.setRemoteDescription(RTCSessionDescription(sdp=offer, type="offer"))
            await self.subscribe_pc.setLocalDescription(await self.subscribe_pc.createAnswer())
            self.mapping = mapping
            await engine.subscribe_answer(self.pid, self.subscribe_pc.localDescription.sdp)
            return True

    def _on_track(self, track: MediaStreamTrack) -> None:
        transceiver = next(t for t in self.subscribe_pc.getTransceivers() if t.receiver.track is track)
        assert transceiver.mid is not None
        self.transceivers[transceiver.mid] = transceiver
        self._tasks.append(asyncio.ensure_future(self._consume(transceiver.mid, track)))

    async def _consume(self, mid: str, track: MediaStreamTrack) -> None:
        try:
            while True:
                frame = await track.recv()
                info = self.mapping.get(mid)
                self.received[(info.publisher_id, info.source) if info else (None, None)] += 1
                self.frames[mid] += 1
                if isinstance(frame, av.VideoFrame):
                    self.sizes.add((frame.width, frame.height))
                    self.pts.setdefault(mid, []).append(frame.pts or 0)
                self.harness.changed()
        except MediaStreamError:
            pass

    def mid_of(self, publisher_id: str, source: str) -> str:
        return next(
            mid
            for mid, info in self.mapping.items()
            if (info.publisher_id, info.source) == (publisher_id, source)
        )

    def seen(self, publisher_id: str, source: str = "camera") -> int:
        return self.received[(publisher_id, source)]

    async def close(self) -> None:
        await self.publish_pc.close()
        await self.subscribe_pc.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


class TapClient(Client):
    """A participant whose subscribe connection decodes nothing: it taps the RTP it receives and keeps it
    (``packets[mid]``: aiortc's parse with the negotiated ids, and the datagram), and aiortc's own REMB
    estimator is off, so the only REMBs it sends are the ones a test sends with ``send_remb``."""

    def __init__(self, harness: Harness, pid: str) -> None:
        super().__init__(harness, pid)
        self.packets: dict[str, list[tuple[TappedPacket, bytes]]] = {}

    def _on_track(self, track: MediaStreamTrack) -> None:
        transceiver = next(t for t in self.subscribe_pc.getTransceivers() if t.receiver.track is track)
        mid = transceiver.mid
        assert mid is not None
        self.transceivers[mid] = transceiver
        received = self.packets.setdefault(mid, [])

        def on_rtp(packet: TappedPacket, datagram: bytes, arrival_time_ms: int) -> None:
            received.append((packet, datagram))
            info = self.mapping.get(mid)
            self.received[(info.publisher_id, info.source) if info else (None, None)] += 1
            self.harness.changed()

        attach_rtp_tap(transceiver.receiver, on_rtp, aiortc_remb=False)


class Harness:
    """The engine plus test clients, wired as the signaling layer would wire them."""

    def __init__(self, engine_factory: Callable[[Harness], RoomMedia]) -> None:
        self.clients: dict[str, Client] = {}
        self.errors: list[BaseException] = []
        self.renegotiations: Counter[str] = Counter()
        self._changed = asyncio.Event()
        self.engine = engine_factory(self)

    async def on_renegotiate(self, pid: str) -> None:
        self.renegotiations[pid] += 1
        client = self.clients.get(pid)
        if client is None:
            return
        try:
            await client.renegotiate()
        except Exception as exc:  # surfaced by the fixture; the engine would only log it
            self.errors.append(exc)
            self.changed()
            raise

    def changed(self) -> None:
        self._changed.set()

    async def join(
        self,
        pid: str,
        *,
        camera: bool = True,
        browser_like: bool = True,
        microphone: bool = True,
        codec: str = "libvpx",
        tap: bool = False,
    ) -> Client:
        """Add the participant to the engine, publish its tracks and take its first subscribe offer.

        ``tap``: a :class:`TapClient`, which counts RTP packets instead of decoding frames."""
        await self.engine.add_participant(pid)
        client = TapClient(self, pid) if tap else Client(self, pid)
        self.clients[pid] = client
        if camera:
            client.add_camera(browser_like=browser_like, codec=codec)
        if microphone:
            client.add_microphone()
        if camera or microphone:
            await client.publish()
        await client.renegotiate()
        return client

    async def until(self, predicate: Callable[[], bool], seconds: float = TIMEOUT) -> float:
        """Wait until ``predicate()`` holds (checked whenever a frame arrives); returns the seconds waited."""
        start = time.monotonic()
        try:
            async with asyncio.timeout(seconds):
                while not predicate():
                    if self.errors:
                        raise AssertionError(f"renegotiation failed: {self.errors!r}")
                    self._changed.clear()
                    await self._changed.wait()
        except TimeoutError:
            raise AssertionError(f"condition not met within {seconds} s:\n{self.describe()}") from None
        return time.monotonic() - start

    def describe(self) -> str:
        """What every client has decoded, and the engine's counters (for failure messages)."""
        lines = [f"engine: {self.engine.stats}"]
        for pid, client in self.clients.items():
            lines.append(
                f"{pid}: offers={client.offers} renegotiations={self.renegotiations[pid]} "
                f"received={dict(client.received)} frames={dict(client.frames)} mapping={client.mapping}"
            )
        return "\n".join(lines)

    async def close(self) -> None:
        for client in self.clients.values():
            await client.close()
        await self.engine.close()
