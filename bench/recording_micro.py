"""Micro-benchmark of the recorder alone: server CPU per recorded stream, in-process, faster than real time.

The recording benchmark (``bench/recording.py``) measures the real server, whose figures move by ±20 % with
the machine's load (more than the whole recorder costs); this one times only the recorder's own work, so that
two versions of it can be compared on a busy machine. It records ``--streams`` cameras (the recording
benchmark's pre-encoded VP8 640×480 at 30 fps, ≈800 kbit/s, packetised like aiortc) and as many microphones
(20 ms Opus, ≈32 kbit/s) for ``--seconds`` of media into a temporary directory, the way the server does: every
packet goes to the recorder as :meth:`media.forwarder.SourceTrack.on_rtp` hands it over (aiortc has already
parsed it, as in the server), on an event loop whose clock is simulated (the writer's hand-overs and anchoring
follow the media's time, not the wall clock; the writer thread is given time to catch up every second of
media), with the real writer thread and real WebM files; the recording is closed at the end and its frames
checked.

Figures: process CPU (all threads: the loop and the writer thread) and the loop thread's alone, as
milliseconds per second of one recorded stream (the recording benchmark's unit: a camera and a microphone
are two streams) and as microseconds per packet: the best of ``--repeat`` runs, less the best of as many
runs of the harness alone (the same packets to a sink that drops them; the two kinds alternate).
What it cannot show is the cost of waking the writer thread in real time (a few times a second, see
:mod:`recordings.writer`), since it runs faster than real time.

    python -m bench.recording_micro [--seconds 60] [--streams 3] [--repeat 3] [--profile FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import heapq
import struct
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
from aiortc.codecs.vpx import Vp8Encoder
from aiortc.rtcrtpparameters import RTCRtpHeaderExtensionParameters, RTCRtpParameters
from aiortc.rtp import HeaderExtensionsMap, RtpPacket

from bench.media_clients import (
    AUDIO_CLOCK,
    AUDIO_FRAME,
    FPS,
    VIDEO_CLOCK,
    pre_encoded_audio,
    pre_encoded_video,
)
from media.rtp import abs_send_time, encode_extensions
from recordings.segments import TrackKind
from recordings.writer import PacketSink, RecordingWriter

__all__ = ["main"]

MID_ID, ABS_SEND_TIME_ID, AUDIO_LEVEL_ID = 4, 2, 1
EXTENSIONS = [
    RTCRtpHeaderExtensionParameters(id=MID_ID, uri="urn:ietf:params:rtp-hdrext:sdes:mid"),
    RTCRtpHeaderExtensionParameters(
        id=ABS_SEND_TIME_ID, uri="http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"
    ),
    RTCRtpHeaderExtensionParameters(id=AUDIO_LEVEL_ID, uri="urn:ietf:params:rtp-hdrext:ssrc-audio-level"),
]


@dataclass(frozen=True, slots=True)
class Arrival:
    """One packet as the forwarder gets it: aiortc's parse and the decrypted datagram."""

    at: float  # seconds of media
    track: str
    packet: RtpPacket
    data: bytes


def datagram(
    payload_type: int, marker: bool, seq: int, timestamp: int, ssrc: int, extensions: dict[int, bytes]
) -> bytes:
    """An RTP packet with the header extensions a browser sends (one-byte form), without the payload."""
    block = encode_extensions(extensions)
    return struct.pack("!BBHII", 0x90, (0x80 if marker else 0) | payload_type, seq, timestamp, ssrc) + block


def camera(name: str, seconds: float, frames: list[bytes], ssrc: int) -> Iterator[tuple[float, bytes]]:
    """The camera's datagrams, with their times: the frames looped at 30 fps, packetised like aiortc."""
    packetiser = Vp8Encoder()
    seq = ssrc & 0x7FFF
    for index in range(round(seconds * FPS)):
        at = index / FPS
        frame = av.Packet(frames[index % len(frames)])
        frame.pts, frame.time_base = index * VIDEO_CLOCK // FPS, Fraction(1, VIDEO_CLOCK)
        payloads, _ = packetiser.pack(frame)
        timestamp = (ssrc + index * VIDEO_CLOCK // FPS) & 0xFFFFFFFF
        for position, payload in enumerate(payloads):
            ext = {MID_ID: name.encode(), ABS_SEND_TIME_ID: abs_send_time(at)}
            marker = position == len(payloads) - 1
            yield at, datagram(96, marker, seq & 0xFFFF, timestamp, ssrc, ext) + payload
            seq += 1


def microphone(name: str, seconds: float, frames: list[bytes], ssrc: int) -> Iterator[tuple[float, bytes]]:
    for index in range(round(seconds * AUDIO_CLOCK / AUDIO_FRAME)):
        at = index * AUDIO_FRAME / AUDIO_CLOCK
        timestamp = (ssrc + index * AUDIO_FRAME) & 0xFFFFFFFF
        ext = {MID_ID: name.encode(), AUDIO_LEVEL_ID: b"\x1f"}
        yield (
            at,
            datagram(111, False, (ssrc + index) & 0xFFFF, timestamp, ssrc, ext) + frames[index % len(frames)],
        )


def labelled(name: str, packets: Iterator[tuple[float, bytes]]) -> Iterator[tuple[float, str, bytes]]:
    for at, data in packets:
        yield at, name, data


def arrivals(seconds: float, streams: int) -> tuple[list[Arrival], dict[str, TrackKind]]:
    """Every packet of ``streams`` cameras and microphones in arrival order, parsed by aiortc."""
    video, audio = pre_encoded_video(), pre_encoded_audio()
    extensions = HeaderExtensionsMap()
    extensions.configure(RTCRtpParameters(headerExtensions=EXTENSIONS))
    sources: list[Iterator[tuple[float, str, bytes]]] = []
    tracks: dict[str, TrackKind] = {}
    for person in range(streams):
        for kind, make in ((TrackKind.VIDEO, camera), (TrackKind.AUDIO, microphone)):
            name = f"{kind}-{person}"
            tracks[name] = kind
            media = video if kind is TrackKind.VIDEO else audio
            ssrc = 0x1000_0000 * (person + 1) + (kind is TrackKind.AUDIO)
            sources.append(labelled(name, make(name, seconds, media, ssrc)))
    merged = heapq.merge(*sources, key=lambda item: item[0])
    return [Arrival(at, name, RtpPacket.parse(data, extensions), data) for at, name, data in merged], tracks


class SimulatedLoop(asyncio.SelectorEventLoop):
    """An event loop whose clock is the media's: timers fire when the fed media reaches them."""

    def __init__(self) -> None:
        super().__init__()
        self.now = 0.0

    def time(self) -> float:
        return self.now


Sink = Callable[[RtpPacket, bytes], None]


def deliver(sink: PacketSink) -> Sink:
    """How :meth:`media.forwarder.SourceTrack.on_rtp` hands a packet to a recording sink."""

    def on_rtp(packet: RtpPacket, data: bytes) -> None:
        sink(packet.sequence_number, packet.timestamp, packet.marker, packet.payload)

    return on_rtp


@dataclass
class Result:
    process_s: float
    loop_s: float
    frames: int
    segments: int
    dropped: int


def discard(seq: int, timestamp: int, marker: int, payload: bytes) -> None:
    """A sink that records nothing: what the harness costs by itself."""


async def record(
    packets: list[Arrival], tracks: dict[str, TrackKind], directory: Path, *, harness_only: bool = False
) -> Result:
    loop = asyncio.get_running_loop()
    assert isinstance(loop, SimulatedLoop)
    writer = RecordingWriter(directory, segment_ms=60_000, now=loop.time, request_keyframe=lambda _: None)
    sinks: dict[str, Sink] = {}
    for name, kind in tracks.items():
        writer.add_track(name, kind)
        sinks[name] = deliver(discard if harness_only else writer.sink(name))
    process, thread = time.process_time(), time.thread_time()
    tick = second = 0.0
    for arrival in packets:
        if arrival.at >= tick:  # let the loop run its timers (the writer's batches) every 10 ms of media
            loop.now = arrival.at
            tick = arrival.at + 0.01
            await asyncio.sleep(0)
            if arrival.at >= second:  # and let the writer thread catch up, as it has the time to in real time
                second = arrival.at + 1
                await writer.flush()
        sinks[arrival.track](arrival.packet, arrival.data)
    loop.now = packets[-1].at + 0.2
    await asyncio.sleep(0)
    segments = await writer.close()
    process, thread = time.process_time() - process, time.thread_time() - thread
    frames = sum(writer.stats(name).frames for name in tracks)
    dropped = sum(writer.stats(name).dropped_backlog for name in tracks)
    return Result(process, thread, frames, sum(len(s) for s in segments.values()), dropped)


def run_once(packets: list[Arrival], tracks: dict[str, TrackKind], *, harness_only: bool = False) -> Result:
    loop = SimulatedLoop()
    try:
        with tempfile.TemporaryDirectory(prefix="tiaojie-rec-micro-") as tmp:
            return loop.run_until_complete(record(packets, tracks, Path(tmp), harness_only=harness_only))
    finally:
        loop.close()


def main(argv: list[str] | None = None, out: Callable[[str], None] = print) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=60.0, help="seconds of media per stream (60)")
    parser.add_argument("--streams", type=int, default=3, help="cameras, and as many microphones (3)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each kind; the fastest counts (3)")
    parser.add_argument("--profile", type=Path, help="cProfile one more run into this file")
    args = parser.parse_args(argv)
    packets, tracks = arrivals(args.seconds, args.streams)
    stream_seconds = len(tracks) * args.seconds
    expected = args.streams * args.seconds * (FPS + AUDIO_CLOCK / AUDIO_FRAME)
    out(f"{len(packets)} packets, {len(tracks)} streams × {args.seconds:g} s of media")
    runs: dict[bool, list[Result]] = {True: [], False: []}
    for index in range(args.repeat):  # alternating, so that both see the same machine
        for harness_only in (True, False):
            result = run_once(packets, tracks, harness_only=harness_only)
            runs[harness_only].append(result)
            if harness_only:
                continue
            if result.frames < 0.99 * expected or result.dropped or result.segments < len(tracks):
                raise SystemExit(f"the recording is incomplete: {result}, expected {expected:.0f} frames")
            out(
                f"run {index + 1}: process {result.process_s * 1000 / stream_seconds:6.3f} ms/s per stream "
                f"(loop thread {result.loop_s * 1000 / stream_seconds:6.3f}); "
                f"harness alone {runs[True][-1].process_s * 1000 / stream_seconds:6.3f}"
            )
    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        run_once(packets, tracks)
        profiler.disable()
        profiler.dump_stats(args.profile)
    best = min(runs[False], key=lambda r: r.process_s)
    harness = min(runs[True], key=lambda r: r.process_s)
    figures = {
        "process_ms_per_stream_s": (best.process_s - harness.process_s) * 1000 / stream_seconds,
        "loop_ms_per_stream_s": (best.loop_s - harness.loop_s) * 1000 / stream_seconds,
        "process_us_per_packet": (best.process_s - harness.process_s) * 1e6 / len(packets),
        "harness_ms_per_stream_s": harness.process_s * 1000 / stream_seconds,
    }
    out(
        f"recorder (best run less the best harness-only run): "
        f"{figures['process_ms_per_stream_s']:.3f} ms/s per recorded stream, of which the loop thread "
        f"{figures['loop_ms_per_stream_s']:.3f} and the writer thread the rest; "
        f"{figures['process_us_per_packet']:.2f} µs per packet"
    )
    return figures


if __name__ == "__main__":
    main()
