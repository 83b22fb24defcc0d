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
from typing import NamedTuple

from media.codecs import vp8_descriptor_size
from media.rtp import MalformedPacket, RtpHeader, seq_add, seq_diff, ts_diff

__all__ = [
    "NO_FRAMES",
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


class EncodedFrame(NamedTuple):
    """One encoded frame: its RTP timestamp, extended to 64 bits, and whether a decoder can start here."""

    timestamp: int
    keyframe: bool
    data: bytes


NO_FRAMES: tuple[EncodedFrame, ...] = ()
"""What a packet that completes no frame gives (shared: no allocation per packet)."""


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


# A packet waiting out of order: (RTP timestamp, marker, starts a frame, VP8 data without the descriptor).
# Empty data is a padding packet: it takes a sequence number and carries nothing.
_Waiting = tuple[int, int, bool, bytes]


class Vp8Assembler:
    """VP8 RTP packets in, complete frames out, in order; see the module's docstring.

    :meth:`take` gets what the forwarder already parsed (sequence number, timestamp, marker, payload).
    Packets in order — nearly all of them — take a short path: the frame's data is gathered in a list and
    joined when its marker packet comes, with no object per packet. The first packet out of order moves the
    partial frame into a buffer keyed by sequence number, where reordering, duplicates and losses are sorted
    out; once that buffer has drained, the short path resumes.

    ``dropped`` counts frames given up (incomplete, or unusable until the next keyframe); ``malformed``
    counts packets whose descriptor could not be read or that carried a descriptor and no data.
    """

    __slots__ = (
        "_buffer",
        "_expect",
        "_highest",
        "_need_keyframe",
        "_next",
        "_run",
        "_run_ts",
        "_unwrap",
        "dropped",
        "malformed",
        "window",
    )

    def __init__(self, window: int = REORDER_WINDOW) -> None:
        self.window = window
        self.dropped = 0
        self.malformed = 0
        self._buffer: dict[int, _Waiting] = {}
        self._next: int | None = None  # the sequence number the next frame must start at
        self._highest: int | None = None  # the newest sequence number taken (off the short path)
        self._need_keyframe = True
        self._unwrap = TimestampUnwrapper()
        # The short path: the data of the frame arriving in order (it started at _next), its timestamp, and
        # the sequence number that continues it; -1 while packets wait in the buffer.
        self._run: list[bytes] = []
        self._run_ts = 0
        self._expect = -1

    @property
    def waiting_for_keyframe(self) -> bool:
        """True until the first keyframe, and again after a loss: the recorder asks for one meanwhile."""
        return self._need_keyframe

    def require_keyframe(self) -> None:
        """Drop frames until the next keyframe (the caller could not keep a frame the next ones need)."""
        self._need_keyframe = True

    @property
    def waiting(self) -> int:
        """Packets held because they came out of order (0 while packets arrive in order)."""
        return len(self._buffer)

    def push(self, packet: RtpHeader) -> tuple[EncodedFrame, ...]:
        """:meth:`take` for a parsed packet."""
        return self.take(packet.sequence_number, packet.timestamp, packet.marker, packet.payload)

    def take(self, seq: int, timestamp: int, marker: int, payload: bytes) -> tuple[EncodedFrame, ...]:
        """Take one packet (its payload without padding); return the frames it completed (often none)."""
        if seq == self._expect and payload:
            run = self._run
            first = payload[0]
            if not run:
                if first & 0x17 != 0x10:  # not the start of a frame (S=1, PID=0) where one must start
                    return self._take_slowly(seq, timestamp, marker, payload)
                self._run_ts = timestamp
            elif timestamp != self._run_ts or len(run) >= self.window:
                return self._take_slowly(seq, timestamp, marker, payload)
            try:
                size = vp8_descriptor_size(payload, 0, len(payload)) if first & 0x80 else 1
            except MalformedPacket:
                self.malformed += 1
                return NO_FRAMES
            if len(payload) == size:
                self.malformed += 1
                return NO_FRAMES
            run.append(payload[size:])
            self._expect = (seq + 1) & 0xFFFF
            if marker:
                return self._finish_run()
            return NO_FRAMES
        if seq == self._expect and not self._run:  # padding between frames: nothing to keep
            self._next = self._expect = (seq + 1) & 0xFFFF
            return NO_FRAMES
        return self._take_slowly(seq, timestamp, marker, payload)

    def _finish_run(self) -> tuple[EncodedFrame, ...]:
        run = self._run
        data = b"".join(run)
        run.clear()
        self._next = self._expect
        timestamp = self._unwrap(self._run_ts)
        keyframe = not data[0] & 0x01  # the frame tag's P bit (RFC 6386 §9.1)
        if self._need_keyframe and not keyframe:
            self.dropped += 1
            return NO_FRAMES
        self._need_keyframe = False
        return (EncodedFrame(timestamp, keyframe, data),)

    def _leave_short_path(self) -> None:
        """Move the frame gathered in order into the buffer, which now decides."""
        expect, self._expect = self._expect, -1
        self._highest = (expect - 1) & 0xFFFF
        if self._run:
            start = self._next
            assert start is not None
            for index, data in enumerate(self._run):
                self._buffer[(start + index) & 0xFFFF] = (self._run_ts, 0, index == 0, data)
            self._run.clear()

    def _take_slowly(self, seq: int, timestamp: int, marker: int, payload: bytes) -> tuple[EncodedFrame, ...]:
        if self._expect != -1:
            self._leave_short_path()
        if self._next is not None and seq_diff(seq, self._next) < 0:
            return NO_FRAMES  # already written or given up: a late duplicate or retransmission
        if seq in self._buffer:
            return NO_FRAMES
        start = False
        data = b""
        if payload:
            try:
                size = vp8_descriptor_size(payload, 0, len(payload))
            except MalformedPacket:
                self.malformed += 1
                return NO_FRAMES
            data = payload[size:]
            if not data:
                self.malformed += 1
                return NO_FRAMES
            start = payload[0] & 0x17 == 0x10
        if self._next is None:
            if not start:
                return NO_FRAMES
            self._next = seq
        self._buffer[seq] = (timestamp, marker, start, data)
        highest = self._highest
        appended = highest is not None and seq == seq_add(highest, 1)
        if highest is None or seq_diff(seq, highest) > 0:
            self._highest = seq
        # Only a frame's last packet, or one that fills a gap, can complete a frame; a packet in order
        # inside a frame cannot (checking anyway made a frame of n packets cost n² steps).
        frames = NO_FRAMES
        if marker or not appended or seq_diff(seq, self._next) > self.window:
            frames = self._drain()
        if not self._buffer:  # everything sorted out: back to the short path
            self._expect = self._next if self._next is not None else -1
        return frames

    def _drain(self) -> tuple[EncodedFrame, ...]:
        frames: list[EncodedFrame] = []
        while self._next is not None:
            waiting = self._buffer.get(self._next)
            if waiting is not None and not waiting[3]:  # padding between frames
                del self._buffer[self._next]
                self._next = seq_add(self._next, 1)
                continue
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
            frames.append(EncodedFrame(self._unwrap(timestamp), keyframe, data))
        return tuple(frames)

    def _take_frame(self, start: int) -> tuple[int, bytes] | None:
        """The frame starting at ``start`` if all its packets are here (removing them), else None.

        Padding packets inside a frame are skipped, whatever their timestamp."""
        first = self._buffer.get(start)
        if first is None or not first[2]:
            return None
        timestamp = first[0]
        parts: list[bytes] = []
        seq = start
        while True:
            waiting = self._buffer.get(seq)
            if waiting is None:
                return None
            if waiting[3]:
                if waiting[0] != timestamp:
                    return None
                parts.append(waiting[3])
                if waiting[1]:
                    break
            seq = seq_add(seq, 1)
            if seq_diff(seq, start) > self.window:
                return None
        for done in range(seq_diff(seq, start) + 1):
            del self._buffer[seq_add(start, done)]
        self._next = seq_add(seq, 1)
        return timestamp, b"".join(parts)

    def _give_up_if_stale(self) -> bool:
        """If packets far beyond the gap have arrived, skip to the next frame start after it."""
        assert self._next is not None
        if not self._buffer:
            return False
        newest = self._highest if self._highest is not None else self._next
        if seq_diff(newest, self._next) <= self.window:
            return False
        starts = sorted(
            (s for s, waiting in self._buffer.items() if waiting[2] and seq_diff(s, self._next) > 0),
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


class OpusFrames:
    """Opus RTP packets in, frames out: one per packet, late duplicates dropped, timestamps extended."""

    __slots__ = ("_last_seq", "_unwrap", "malformed")

    def __init__(self) -> None:
        self._last_seq = -1
        self._unwrap = TimestampUnwrapper()
        self.malformed = 0

    def push(self, packet: RtpHeader) -> tuple[EncodedFrame, ...]:
        """:meth:`take` for a parsed packet, as a sequence like :meth:`Vp8Assembler.take`'s."""
        frame = self.take(packet.sequence_number, packet.timestamp, packet.payload)
        return NO_FRAMES if frame is None else (frame,)

    def take(self, seq: int, timestamp: int, payload: bytes) -> EncodedFrame | None:
        """The frame of one packet, or None for a duplicate, a packet too late to put in order (a gap of
        20 ms is inaudible) or an empty one."""
        last = self._last_seq
        if last >= 0 and (seq - last + 0x8000) & 0xFFFF <= 0x8000:  # seq_diff(seq, last) <= 0
            return None
        if not payload:
            self.malformed += 1
            return None
        self._last_seq = seq
        return EncodedFrame(self._unwrap(timestamp), True, payload)
