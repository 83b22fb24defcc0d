"""Whole encoded frames from forwarded RTP packets, for the recorder; no decoding, no I/O.

The forwarder moves packets; a file needs frames. :class:`Vp8Assembler` puts a VP8 track's packets back in
sequence order (they may arrive reordered, duplicated, or late after a retransmission), joins the packets
of one frame (S=1 with partition 0 starts it, the RTP marker ends it, all sequence numbers in between must be
there) and strips the payload descriptors, leaving the VP8 bitstream a Matroska block holds. A frame with a
hole is dropped, and so is everything after it until the next keyframe, because a decoder could not use
it: a recording plays back with a short freeze where the network lost data, never with corrupted pictures.
:class:`OpusFrames` does the same bookkeeping for Opus, where every packet is one frame.

Time: :class:`TimestampUnwrapper` extends 32-bit RTP timestamps to a monotonic count, so a session longer
than the wrap-around (13 hours at 90 kHz) keeps its timeline.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from media.codecs import Vp8Descriptor
from media.rtp import MalformedPacket, RtpHeader, seq_add, seq_diff, ts_diff

__all__ = [
    "EncodedFrame",
    "OpusFrames",
    "TimestampUnwrapper",
    "Vp8Assembler",
    "opus_head",
    "vp8_dimensions",
]

# A frame still incomplete when packets this far ahead have arrived is given up (its missing packets were
# not retransmitted in time). The same bound limits one frame's size: a 720p keyframe can take a hundred
# packets; at 1.5 Mbit/s, 512 packets are about three seconds of video (and at most ≈600 kB held).
REORDER_WINDOW = 512


@dataclass(frozen=True, slots=True)
class EncodedFrame:
    """One encoded frame: its RTP timestamp, extended to 64 bits, and whether a decoder can start here."""

    timestamp: int
    keyframe: bool
    data: bytes


class TimestampUnwrapper:
    """Extends 32-bit RTP timestamps to a monotonic 64-bit count, starting from the first one seen.

    A timestamp slightly older than the last (a reordered packet) maps just before it, not 2^32 later.
    """

    __slots__ = ("_last",)

    def __init__(self) -> None:
        self._last: int | None = None

    def __call__(self, timestamp: int) -> int:
        if self._last is None:
            self._last = timestamp
            return timestamp
        extended = self._last + ts_diff(timestamp, self._last & 0xFFFFFFFF)
        self._last = max(self._last, extended)
        return extended


def vp8_is_keyframe_data(frame: bytes) -> bool:
    """The VP8 frame tag's P bit (RFC 6386 §9.1): 0 on a keyframe."""
    return bool(frame) and frame[0] & 0x01 == 0


def vp8_dimensions(frame: bytes) -> tuple[int, int] | None:
    """Width and height from a VP8 keyframe's header, or None for an interframe or a damaged keyframe."""
    if len(frame) < 10 or not vp8_is_keyframe_data(frame) or frame[3:6] != b"\x9d\x01\x2a":
        return None
    width, height = struct.unpack_from("<HH", frame, 6)
    width &= 0x3FFF
    height &= 0x3FFF
    if not width or not height:
        return None
    return width, height


def opus_head(channels: int = 2, pre_skip: int = 312, input_rate: int = 48_000) -> bytes:
    """The OpusHead identification header (RFC 7845 §5.1), which Matroska keeps as CodecPrivate."""
    if channels not in (1, 2):
        raise ValueError("mapping family 0 carries one or two channels")
    return b"OpusHead" + struct.pack("<BBHIhB", 1, channels, pre_skip, input_rate, 0, 0)


@dataclass(slots=True)
class _Packet:
    timestamp: int
    marker: bool
    frame_start: bool
    body: bytes


@dataclass
class Vp8Assembler:
    """VP8 RTP packets in, complete frames out, in order; see the module's docstring.

    ``dropped`` counts frames given up (incomplete, or unusable until the next keyframe); ``malformed``
    counts packets whose descriptor could not be read.
    """

    window: int = REORDER_WINDOW
    dropped: int = 0
    malformed: int = 0
    _buffer: dict[int, _Packet] = field(default_factory=dict)
    _next: int | None = None  # the sequence number the next frame must start at
    _highest: int | None = None  # the newest sequence number taken
    _need_keyframe: bool = True
    _unwrap: TimestampUnwrapper = field(default_factory=TimestampUnwrapper)

    @property
    def waiting_for_keyframe(self) -> bool:
        """True until the first keyframe, and again after a loss: the recorder asks for one meanwhile."""
        return self._need_keyframe

    def require_keyframe(self) -> None:
        """Drop frames until the next keyframe (the caller could not keep a frame the next ones need)."""
        self._need_keyframe = True

    def push(self, packet: RtpHeader) -> list[EncodedFrame]:
        """Take one packet; return the frames it completed (often none, sometimes several)."""
        try:
            descriptor = Vp8Descriptor.parse(packet.data, packet.payload_offset, packet.payload_end)
        except (IndexError, MalformedPacket):
            self.malformed += 1
            return []
        seq = packet.sequence_number
        if self._next is not None and seq_diff(seq, self._next) < 0:
            return []  # already written or given up: a late duplicate or retransmission
        if seq in self._buffer:
            return []
        body = packet.data[packet.payload_offset + descriptor.size : packet.payload_end]
        if not body:
            self.malformed += 1
            return []
        self._buffer[seq] = _Packet(
            self._unwrap(packet.timestamp), packet.marker, descriptor.is_frame_start, body
        )
        if self._next is None:
            if not descriptor.is_frame_start:
                self._buffer.pop(seq)
                return []
            self._next = seq
        highest = self._highest
        appended = highest is not None and seq == seq_add(highest, 1)
        if highest is None or seq_diff(seq, highest) > 0:
            self._highest = seq
        # Only a frame's last packet, or one that fills a gap, can complete a frame; a packet in order
        # inside a frame cannot (checking anyway made a frame of n packets cost n² steps).
        if packet.marker or not appended or seq_diff(seq, self._next) > self.window:
            return self._drain()
        return []

    def _drain(self) -> list[EncodedFrame]:
        frames: list[EncodedFrame] = []
        while self._next is not None:
            taken = self._take_frame(self._next)
            if taken is None:
                if self._give_up_if_stale():
                    continue
                break
            timestamp, data = taken
            keyframe = vp8_is_keyframe_data(data)
            if self._need_keyframe and not keyframe:
                self.dropped += 1
                continue
            self._need_keyframe = False
            frames.append(EncodedFrame(timestamp, keyframe, data))
        return frames

    def _take_frame(self, start: int) -> tuple[int, bytes] | None:
        """The frame starting at ``start`` if all its packets are here (removing them), else None."""
        first = self._buffer.get(start)
        if first is None or not first.frame_start:
            return None
        parts: list[bytes] = []
        seq = start
        while True:
            packet = self._buffer.get(seq)
            if packet is None or packet.timestamp != first.timestamp:
                return None
            parts.append(packet.body)
            if packet.marker:
                break
            seq = seq_add(seq, 1)
            if seq_diff(seq, start) > self.window:
                return None
        for done in range(seq_diff(seq, start) + 1):
            del self._buffer[seq_add(start, done)]
        self._next = seq_add(seq, 1)
        return first.timestamp, b"".join(parts)

    def _give_up_if_stale(self) -> bool:
        """If packets far beyond the gap have arrived, skip to the next frame start after it."""
        assert self._next is not None
        if not self._buffer:
            return False
        newest = self._highest if self._highest is not None else self._next
        if seq_diff(newest, self._next) <= self.window:
            return False
        starts = sorted(
            (s for s, p in self._buffer.items() if p.frame_start and seq_diff(s, self._next) > 0),
            key=lambda s: seq_diff(s, self._next or 0),
        )
        gone_to = starts[0] if starts else seq_add(newest, 1)
        for seq in list(self._buffer):
            if seq_diff(seq, gone_to) < 0:
                del self._buffer[seq]
        self._next = gone_to
        self._need_keyframe = True
        self.dropped += 1
        return True


@dataclass
class OpusFrames:
    """Opus RTP packets in, frames out: one per packet, late duplicates dropped, timestamps extended."""

    _last_seq: int | None = None
    _unwrap: TimestampUnwrapper = field(default_factory=TimestampUnwrapper)
    malformed: int = 0

    def push(self, packet: RtpHeader) -> list[EncodedFrame]:
        seq = packet.sequence_number
        if self._last_seq is not None and seq_diff(seq, self._last_seq) <= 0:
            return []  # a duplicate, or too late to put in order: a gap of 20 ms is inaudible
        body = packet.data[packet.payload_offset : packet.payload_end]
        if not body:
            self.malformed += 1
            return []
        self._last_seq = seq
        return [EncodedFrame(self._unwrap(packet.timestamp), True, body)]
