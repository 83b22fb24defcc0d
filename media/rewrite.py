"""Per-subscriber stream rewriting: the publisher's sequence numbers and timestamps → the subscriber's.

A subscriber's sender (one per forwarded track) owns an outgoing SSRC and sequence space. Its
:class:`StreamRewriter` decides, packet by packet, whether to forward and with which sequence number and
timestamp, so the subscriber sees one continuous stream although forwarding

- starts mid-stream (join), and for video only at a keyframe;
- stops and resumes (:meth:`StreamRewriter.pause` / :meth:`StreamRewriter.resume`, e.g. a mute or a
  caucus), again at a keyframe for video;
- switches to another publisher stream (a new SSRC, e.g. the publisher reconnected).

How: forwarding runs in *segments*. Within a segment the mapping is a fixed offset (sequence numbers on
unwrapped 16-bit numbers, timestamps modulo 2^32), so reordered packets keep their place. A segment starts
at the packet after the last one sent (sequence numbers continue without a gap) and its first timestamp is
the last one sent plus the wall-clock time since (``now``, in seconds, from the caller), at least
``min_timestamp_step``: the subscriber's jitter buffer sees a pause as a pause, and timestamps never go
backwards. Packets from before the current segment (late arrivals of the previous one, a replaced SSRC) are
dropped: their numbers already belong to other packets. A packet that starts a segment is the first one
the subscriber needs; one that arrived before it and belongs to the same keyframe (rare reordering) is lost
and will be NACKed and answered by a PLI fallback.

The rewriter also remembers, for the last 512 outgoing sequence numbers, which publisher packet (SSRC,
sequence number) each one was: duplicates are dropped, and a subscriber's NACK can be translated upstream.

:class:`Vp8PictureIdRewriter` keeps VP8 picture ids and TL0PICIDX continuous in the same way. It matters
only when a subscriber's stream switches to another publisher stream: the new encoder's picture ids are
unrelated to the old ones, and a receiver that sees a picture id go backwards may drop the new keyframe as
"already decoded" (libwebrtc accepts it only under its legacy frame-id-jump rule, when the timestamp moved
forward). Until the first switch it passes ids through unchanged (the payload is not copied), so all it
costs is reading the descriptor's first bytes.
"""

from __future__ import annotations

import enum
import logging
from typing import Final, NamedTuple

from media.codecs import Vp8Descriptor, vp8_picture_ids

__all__ = [
    "Drop",
    "Forward",
    "RewriterState",
    "StreamRewriter",
    "Vp8PictureIdRewriter",
]

logger = logging.getLogger(__name__)

_WINDOW = 512
_MASK = _WINDOW - 1
_RETIRED_SOURCES = 4


class RewriterState(enum.Enum):
    """Where a :class:`StreamRewriter` is."""

    WAITING = "waiting"
    """Not forwarding; the next suitable packet (video: the first packet of a keyframe) starts a segment."""
    FORWARDING = "forwarding"
    """Forwarding the current source's packets with the current segment's offsets."""
    PAUSED = "paused"
    """Dropping everything until :meth:`StreamRewriter.resume`."""


class Drop(enum.Enum):
    """Why a packet was not forwarded."""

    NEED_KEYFRAME = "need-keyframe"
    """Video waits for a keyframe: the caller should ask the publisher for one (rate-limited)."""
    PAUSED = "paused"
    """Forwarding is paused."""
    DUPLICATE = "duplicate"
    """This packet was already forwarded."""
    TOO_OLD = "too-old"
    """The packet is from before the current segment, or 512 or more packets behind the newest."""
    STALE_SOURCE = "stale-source"
    """The packet is from an SSRC the rewriter has switched away from."""


class Forward(NamedTuple):
    """Forward the packet with this sequence number and timestamp."""

    seq: int
    timestamp: int
    segment_start: bool
    """True for the first packet of a segment (after a start, resume or source switch)."""


_FORWARDING: Final = RewriterState.FORWARDING
#: ``Forward(...)`` without the Python frame of a named tuple's ``__new__`` (this runs for every copy).
_new_tuple: Final = tuple.__new__


class StreamRewriter:
    """Maps one publisher stream (or its successors) into one subscriber's outgoing sequence space.

    ``initial_seq`` and ``initial_timestamp`` are the first outgoing values (a sender picks them at
    random); ``clock_rate`` converts the wall-clock length of a pause into timestamp ticks;
    ``min_timestamp_step`` (default 20 ms) is the least a timestamp advances across a segment start.
    ``video`` streams start segments only at a keyframe; audio starts at any packet. Packets from the last
    four SSRCs switched away from are dropped (``Drop.STALE_SOURCE``), so that late packets of an old
    stream cannot switch the subscriber back.
    """

    __slots__ = (
        "_clock_rate",
        "_fwd_ext",
        "_last_out_seq",
        "_last_out_ts",
        "_last_time",
        "_min_step",
        "_retired",
        "_ring_in_seq",
        "_ring_out_seq",
        "_ring_ssrc",
        "_seen_ext",
        "_sent_any",
        "_seq_offset",
        "_ssrc",
        "_start_ext",
        "_state",
        "_ts_offset",
        "video",
    )

    def __init__(
        self,
        *,
        video: bool,
        clock_rate: int,
        initial_seq: int,
        initial_timestamp: int,
        min_timestamp_step: int | None = None,
    ) -> None:
        self.video = video
        self._clock_rate = clock_rate
        self._min_step = clock_rate // 50 if min_timestamp_step is None else min_timestamp_step
        self._state = RewriterState.WAITING
        self._ssrc: int | None = None
        self._retired: list[int] = []
        self._seen_ext = 0
        self._start_ext = 0
        self._fwd_ext = 0
        self._seq_offset = 0
        self._ts_offset = 0
        self._sent_any = False
        self._last_out_seq = (initial_seq - 1) & 0xFFFF
        self._last_out_ts = initial_timestamp & 0xFFFFFFFF
        self._last_time = 0.0
        self._ring_out_seq = [-1] * _WINDOW
        self._ring_in_seq = [0] * _WINDOW
        self._ring_ssrc = [0] * _WINDOW

    @property
    def state(self) -> RewriterState:
        """Where the rewriter is."""
        return self._state

    @property
    def ssrc(self) -> int | None:
        """The publisher SSRC currently (or last) forwarded."""
        return self._ssrc

    @property
    def last_seq(self) -> int | None:
        """The newest outgoing sequence number sent, or None before the first packet."""
        return self._last_out_seq if self._sent_any else None

    def awaiting_keyframe(self, ssrc: int) -> bool:
        """Whether a keyframe from ``ssrc`` would start a segment now.

        :meth:`forward` reads its ``keyframe`` argument only in that case, so a caller can skip the payload
        inspection otherwise.
        """
        if not self.video or self._state is RewriterState.PAUSED:
            return False
        if ssrc == self._ssrc:
            return self._state is RewriterState.WAITING
        return ssrc not in self._retired

    def pause(self) -> None:
        """Stop forwarding (mute, caucus) until :meth:`resume`."""
        self._set_state(RewriterState.PAUSED)

    def resume(self) -> None:
        """Forward again from the next suitable packet (video: a keyframe; ask the publisher for one)."""
        if self._state is RewriterState.PAUSED:
            self._set_state(RewriterState.WAITING)

    def forward(
        self, ssrc: int, seq: int, timestamp: int, now: float, keyframe: bool = False
    ) -> Forward | Drop:
        """Decide about one publisher packet; ``keyframe`` says whether it starts a keyframe (video only)."""
        if ssrc == self._ssrc:
            previous = self._seen_ext
            ext = previous + (((seq - previous + 0x8000) & 0xFFFF) - 0x8000)
            if ext > previous:
                self._seen_ext = ext
            state = self._state
            if state is _FORWARDING:
                # Within the segment (nearly every packet), inline: a fixed offset on unwrapped numbers.
                out_seq = (ext + self._seq_offset) & 0xFFFF
                slot = out_seq & _MASK
                out_ts = (timestamp + self._ts_offset) & 0xFFFFFFFF
                if ext > self._fwd_ext:
                    self._fwd_ext = ext
                    self._last_out_seq = out_seq
                    self._last_out_ts = out_ts
                    self._last_time = now
                else:
                    if ext < self._start_ext or ext <= self._fwd_ext - _WINDOW:
                        return Drop.TOO_OLD
                    if self._ring_out_seq[slot] == out_seq:
                        return Drop.DUPLICATE
                self._ring_out_seq[slot] = out_seq
                self._ring_in_seq[slot] = ext & 0xFFFF
                self._ring_ssrc[slot] = ssrc
                return _new_tuple(Forward, (out_seq, out_ts, False))
            if state is RewriterState.PAUSED:
                return Drop.PAUSED
            if self.video and not keyframe:
                return Drop.NEED_KEYFRAME
            return self._start_segment(ssrc, ext, timestamp, now)
        if ssrc in self._retired:
            return Drop.STALE_SOURCE
        if self._state is RewriterState.PAUSED:
            return Drop.PAUSED
        if self.video and not keyframe:
            return Drop.NEED_KEYFRAME
        if self._ssrc is not None:
            self._retired.append(self._ssrc)
            del self._retired[:-_RETIRED_SOURCES]
            logger.debug("source %d -> %d", self._ssrc, ssrc)
        self._ssrc = ssrc
        self._seen_ext = seq
        return self._start_segment(ssrc, seq, timestamp, now)

    def _start_segment(self, ssrc: int, ext: int, timestamp: int, now: float) -> Forward:
        out_seq = (self._last_out_seq + 1) & 0xFFFF
        if self._sent_any:
            step = max(self._min_step, round((now - self._last_time) * self._clock_rate))
            out_ts = (self._last_out_ts + step) & 0xFFFFFFFF
        else:
            out_ts = self._last_out_ts
            self._sent_any = True
        self._seq_offset = out_seq - ext
        self._ts_offset = out_ts - timestamp
        self._start_ext = self._fwd_ext = ext
        self._last_out_seq = out_seq
        self._last_out_ts = out_ts
        self._last_time = now
        slot = out_seq & _MASK
        self._ring_out_seq[slot] = out_seq
        self._ring_in_seq[slot] = ext & 0xFFFF
        self._ring_ssrc[slot] = ssrc
        self._set_state(RewriterState.FORWARDING)
        return _new_tuple(Forward, (out_seq, out_ts, True))

    def original(self, out_seq: int) -> tuple[int, int] | None:
        """The publisher (SSRC, sequence number) that outgoing ``out_seq`` carried, if still remembered."""
        slot = out_seq & _MASK
        if self._ring_out_seq[slot] != out_seq:
            return None
        return self._ring_ssrc[slot], self._ring_in_seq[slot]

    def outgoing_timestamp(self, ssrc: int, timestamp: int) -> int | None:
        """A publisher timestamp in the subscriber's timeline (current segment), e.g. to translate the
        RTP half of a sender report; None if ``ssrc`` is not the stream being forwarded."""
        if ssrc != self._ssrc or self._state is not RewriterState.FORWARDING:
            return None
        return (timestamp + self._ts_offset) & 0xFFFFFFFF

    def _set_state(self, state: RewriterState) -> None:
        if state is not self._state:
            logger.debug("rewriter %s -> %s", self._state.value, state.value)
            self._state = state


class _CounterMap:
    """Unwraps a counter of ``in_bits`` and maps it into ``out_bits`` with an offset chosen per segment.

    At a segment start the offset is kept if it carries the new value a little ahead of the highest value
    sent (less than a quarter of the space: a pause of the same stream), so ids keep passing through
    unchanged; otherwise (another stream, or a jump backwards) the new segment continues at highest + 1.
    """

    __slots__ = ("_highest_in", "_highest_out", "_in_bits", "_offset", "_out_bits", "_started")

    def __init__(self, in_bits: int, out_bits: int) -> None:
        self._in_bits = in_bits
        self._out_bits = out_bits
        self._highest_in = 0
        self._highest_out = 0
        self._offset = 0
        self._started = False

    def map(self, value: int, in_bits: int, segment_start: bool) -> int:
        out_mask = (1 << self._out_bits) - 1
        if not self._started:
            self._started = True
            self._in_bits = in_bits
            self._highest_in = self._highest_out = value
            return value & out_mask
        if segment_start or in_bits != self._in_bits:
            ahead = (value + self._offset - self._highest_out) & out_mask
            if not 0 < ahead <= out_mask >> 2:
                ahead = 1
            self._offset = self._highest_out + ahead - value
            self._in_bits = in_bits
            self._highest_in = ext = value
        else:
            half = 1 << (in_bits - 1)
            previous = self._highest_in
            ext = previous + (((value - previous + half) & ((1 << in_bits) - 1)) - half)
            if ext > previous:
                self._highest_in = ext
        out = ext + self._offset
        if out > self._highest_out:
            self._highest_out = out
        return out & out_mask


class Vp8PictureIdRewriter:
    """Keeps one subscriber's VP8 picture ids (15 bits) and TL0PICIDX continuous across segments.

    Call :meth:`rewrite` for every forwarded VP8 packet, with the :class:`Forward` verdict's
    ``segment_start``. It returns a new payload when the descriptor must change (pass it to
    :func:`media.rtp.rewrite` as ``payload``), or None when the original bytes can go out unchanged —
    always the case before the first source switch, when ids pass through. A 7-bit picture id is widened
    to 15 bits once rewriting is needed. At a segment start, ids that moved a little forward (a resumed
    stream) keep passing through; ids that went backwards or jumped far (typically another stream) continue
    at the last id sent + 1.
    """

    __slots__ = ("_picture_ids", "_tl0")

    def __init__(self) -> None:
        self._picture_ids = _CounterMap(15, 15)
        self._tl0 = _CounterMap(8, 8)

    def rewrite(self, data: bytes, start: int, end: int, *, segment_start: bool) -> bytes | None:
        """The payload ``data[start:end]`` with rewritten ids, or None if it needs no change."""
        picture_id, bits, tl0 = vp8_picture_ids(data, start, end)
        new_picture_id = new_tl0 = None
        changed = False
        if bits:
            new_picture_id = self._picture_ids.map(picture_id, bits, segment_start)
            changed = new_picture_id != picture_id
        if tl0 >= 0:
            new_tl0 = self._tl0.map(tl0, 8, segment_start)
            changed = changed or new_tl0 != tl0
        if not changed:
            return None
        descriptor = Vp8Descriptor.parse(data, start, end)
        replaced = descriptor._replace(picture_id=new_picture_id, picture_id_bits=15, tl0picidx=new_tl0)
        return bytes(replaced) + data[start + descriptor.size : end]
