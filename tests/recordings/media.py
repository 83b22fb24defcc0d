"""Real encoded media for the recording tests: aiortc's encoders, packetised as a browser would send it."""

from __future__ import annotations

import fractions
import random
from dataclasses import dataclass

import av
from aiortc.codecs.opus import OpusEncoder
from aiortc.codecs.vpx import Vp8Encoder
from aiortc.rtp import RtpPacket

from media.rtp import RtpHeader

__all__ = ["EncodedVideo", "LiveCamera", "decode_all", "opus_packets", "vp8_stream"]

VIDEO_RATE = 90_000
FPS = 30


@dataclass
class EncodedVideo:
    """RTP packets of a VP8 stream, and per frame: its RTP timestamp, keyframe flag and packet range."""

    packets: list[RtpHeader]
    frames: list[tuple[int, bool, range]]


def vp8_stream(
    count: int,
    *,
    keyframes: set[int] | None = None,
    first_seq: int = 1000,
    first_ts: int = 5000,
    size: tuple[int, int] = (320, 240),
) -> EncodedVideo:
    """``count`` frames at 30 fps of a moving noisy picture; keyframes where asked (always the first)."""
    rng = random.Random(count)
    encoder = Vp8Encoder()
    width, height = size
    packets: list[RtpHeader] = []
    frames: list[tuple[int, bool, range]] = []
    seq = first_seq
    wanted = {0} | (keyframes or set())
    for index in range(count):
        frame = av.VideoFrame(width=width, height=height, format="yuv420p")
        for plane in frame.planes:
            plane.update(rng.randbytes(plane.buffer_size))
        frame.pts = index * (VIDEO_RATE // FPS)
        frame.time_base = fractions.Fraction(1, VIDEO_RATE)
        payloads, _ = encoder.encode(frame, force_keyframe=index in wanted)
        timestamp = (first_ts + index * (VIDEO_RATE // FPS)) & 0xFFFFFFFF
        start = len(packets)
        for position, payload in enumerate(payloads):
            packet = RtpPacket(
                payload_type=96,
                marker=position == len(payloads) - 1,
                sequence_number=seq & 0xFFFF,
                timestamp=timestamp,
                ssrc=0x5EC0DE,
                payload=payload,
            )
            packets.append(RtpHeader(packet.serialize()))
            seq += 1
        frames.append((timestamp, index in wanted, range(start, len(packets))))
    return EncodedVideo(packets, frames)


class LiveCamera:
    """A browser-like VP8 sender: one frame at a time, a keyframe only first and when asked for one."""

    def __init__(self, *, size: tuple[int, int] = (320, 240), first_seq: int = 40_000) -> None:
        self.encoder = Vp8Encoder()
        self.size = size
        self.seq = first_seq
        self.index = 0
        self.rng = random.Random(size[0])
        self.keyframes: list[int] = []

    def next_frame(self, *, keyframe: bool = False) -> list[RtpHeader]:
        width, height = self.size
        frame = av.VideoFrame(width=width, height=height, format="yuv420p")
        for plane in frame.planes:
            plane.update(self.rng.randbytes(plane.buffer_size))
        frame.pts = self.index * (VIDEO_RATE // FPS)
        frame.time_base = fractions.Fraction(1, VIDEO_RATE)
        forced = keyframe or self.index == 0
        if forced:
            self.keyframes.append(self.index)
        payloads, timestamp = self.encoder.encode(frame, force_keyframe=forced)
        self.index += 1
        packets = []
        for position, payload in enumerate(payloads):
            packet = RtpPacket(
                payload_type=96,
                marker=position == len(payloads) - 1,
                sequence_number=self.seq & 0xFFFF,
                timestamp=timestamp,
                ssrc=0xCA3E7A,
                payload=payload,
            )
            packets.append(RtpHeader(packet.serialize()))
            self.seq += 1
        return packets


def opus_packets(count: int, *, first_seq: int = 7, first_ts: int = 0) -> list[RtpHeader]:
    """``count`` 20 ms Opus packets of a quiet tone."""
    encoder = OpusEncoder()
    packets: list[RtpHeader] = []
    for index in range(count):
        frame = av.AudioFrame(format="s16", layout="stereo", samples=960)
        frame.sample_rate = 48_000
        frame.pts = index * 960
        frame.time_base = fractions.Fraction(1, 48_000)
        samples = bytes((index * 7 + i) % 256 if i % 2 else 0 for i in range(frame.planes[0].buffer_size))
        frame.planes[0].update(samples)
        [payload], _ = encoder.encode(frame)
        packet = RtpPacket(
            payload_type=111,
            sequence_number=(first_seq + index) & 0xFFFF,
            timestamp=(first_ts + index * 960) & 0xFFFFFFFF,
            ssrc=0xA0D10,
            payload=payload,
        )
        packets.append(RtpHeader(packet.serialize()))
    return packets


def decode_all(path: str) -> tuple[int, float, tuple[int, int] | None]:
    """Decode every frame of a one-track file: (frames, duration in seconds by the last frame's end, size)."""
    with av.open(path) as container:
        stream = container.streams[0]
        frames = 0
        last_end = 0.0
        size = None
        for frame in container.decode(stream):
            assert isinstance(frame, av.VideoFrame | av.AudioFrame)
            frames += 1
            assert frame.time is not None
            duration = float(frame.duration * frame.time_base) if frame.duration and frame.time_base else 0.0
            last_end = max(last_end, frame.time + duration)
            if isinstance(frame, av.VideoFrame):
                size = (frame.width, frame.height)
        return frames, last_end, size
