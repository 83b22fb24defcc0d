"""The per-packet path: one publisher track fanned out to subscriber senders, RTP packet by RTP packet.

:class:`SourceTrack` is one track a participant publishes (its microphone, camera or screen) as the server's
tapped receiver sees it. :class:`OutSlot` is one sender on a subscriber's peer connection; while it is
*bound* to a source track it appears in that track's :attr:`SourceTrack.sinks`, and every packet the
publisher sends is offered to it. Nothing here negotiates or decides who sees whom: :mod:`media.engine`
binds and releases slots; this module only moves packets and feedback.

Per incoming packet (inline in aiortc's receive loop, synchronously: no task, no lock, no await)
:meth:`SourceTrack.on_rtp` reads what aiortc already parsed, checks for a keyframe once (video), reads the
header layout once into an :class:`Incoming`, and for each sink :meth:`OutSlot.forward` asks the slot's
:class:`~media.rewrite.StreamRewriter` for the outgoing sequence number and timestamp, joins a new fixed
header, the subscriber's prebuilt extension block (its own ``mid`` and abs-send-time / audio-level ids,
with the one value that changes per packet — nothing of the publisher's extension block survives) and the
publisher's payload bytes, remembers the result in a :class:`~media.retransmit.RetransmitCache` and hands
it to :meth:`~media.aiortc_hooks.RawRtpSender.send_now`, which encrypts and sends it at once. A slot that
has switched publisher streams (VP8 picture ids rewritten) or negotiated extension ids beyond the one-byte
form takes the general :func:`media.rtp.rewrite`. No logging and one allocation per subscriber beyond the
outgoing bytes (the header).

Feedback:

- a subscriber's PLI/FIR, a NACK the cache cannot answer, a slot becoming active, or a slot waiting for a
  keyframe (at most once per ``keyframe_retry``) → :meth:`SourceTrack.request_keyframe` → the track's
  :class:`~media.keyframes.KeyframeRelay` → a PLI to the publisher now, or exactly one merged PLI when the
  rate-limit window ends (a timer), unless a keyframe arrives first;
- a subscriber's NACK → RTX from the slot's cache (:meth:`OutSlot.on_rtcp`);
- the publisher's sender reports → each slot's report clock, translated into the slot's timeline, so the
  subscriber's SRs carry the publisher's NTP↔RTP relation (lip sync across the publisher's tracks);
  until the first SR, a slot pairs its first outgoing timestamp with the server's wall clock;
- bandwidth (video): aiortc's estimate of the publisher's uplink (its remote bitrate estimator keeps running
  behind the tap, but its REMB comes to :meth:`SourceTrack.on_uplink_estimate` instead of going out) and
  each viewer's REMB about the slot (:meth:`OutSlot.on_rtcp`, its share when it names several streams) go
  to the track's :class:`~media.bandwidth.RembRelay`; the publisher gets one REMB with the minimum, at most
  every ``remb_interval`` (decreases sooner), so a browser publisher adapts to its slowest viewer.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import struct
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, fields
from typing import Any, NamedTuple

from aiortc import RTCRtpReceiver, RTCRtpTransceiver
from aiortc.rtp import (
    RTCP_PSFB_APP,
    RTCP_PSFB_PLI,
    RTCP_RTPFB_NACK,
    AnyRtcpPacket,
    RtcpPsfbPacket,
    RtcpRtpfbPacket,
    RtcpSrPacket,
    unpack_remb_fci,
)

from media import aiortc_hooks
from media.aiortc_hooks import RawRtpSender, RtpTap, TappedPacket
from media.bandwidth import RembRelay
from media.codecs import Codec, h264_is_keyframe, vp8_is_keyframe
from media.keyframes import KeyframeRelay
from media.retransmit import RetransmitCache
from media.rewrite import Drop, Forward, RewriterState, StreamRewriter, Vp8PictureIdRewriter
from media.rtcp import ntp_from_unix
from media.rtp import (
    HEADER_SIZE,
    ONE_BYTE_PROFILE,
    MalformedPacket,
    RtpHeader,
    abs_send_time,
    encode_extensions,
    rewrite,
)

__all__ = [
    "URI_ABS_SEND_TIME",
    "URI_AUDIO_LEVEL",
    "URI_MID",
    "ForwardingContext",
    "Incoming",
    "LossHook",
    "MediaStats",
    "OutSlot",
    "RecordingSink",
    "SourceTrack",
    "TrackInfo",
]

URI_MID = "urn:ietf:params:rtp-hdrext:sdes:mid"
URI_ABS_SEND_TIME = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"
URI_AUDIO_LEVEL = "urn:ietf:params:rtp-hdrext:ssrc-audio-level"

_RTCP_PSFB_FIR = 4
_LEVEL_BYTES = tuple(bytes((value,)) for value in range(256))
_MID_BYTES_LIMIT = 16  # one-byte extension form
_FIXED = struct.Struct("!BBHII")
_EXT_BLOCK = struct.Struct("!HH")


class TrackInfo(NamedTuple):
    """What a subscriber's m-section carries: whose track, which one, and its kind."""

    publisher_id: str
    source: str
    """``audio``, ``camera`` or ``screen``."""
    kind: str
    """``audio`` or ``video``."""


RecordingSink = Callable[[int, int, int, bytes], None]
"""``sink(sequence number, RTP timestamp, marker, payload)`` for every packet of a published track that the
forwarder accepts (the room's codec; RTX unwrapped; the payload without padding, empty for a padding-only
packet): what a recording needs, handed over as aiortc already parsed it, so that nothing is parsed twice."""

LossHook = Callable[[str, TrackInfo, bytes], bool]
"""Test hook ``(subscriber_id, track, packet) -> drop?`` called for each forwarded packet before it is
sent (retransmissions excluded); True drops it as if the network had lost it (it stays in the RTX cache)."""


@dataclass(slots=True)
class MediaStats:
    """Counters of one room's forwarding, cumulative since the room started."""

    packets_received: int = 0
    """RTP packets from publishers that reached the forwarder (after aiortc's RTX unwrapping)."""
    packets_forwarded: int = 0
    """RTP packets sent to subscribers (one per subscriber per incoming packet), retransmissions excluded."""
    bytes_forwarded: int = 0
    packets_dropped: int = 0
    """Packets not forwarded to a bound subscriber: waiting for a keyframe, paused (mute), duplicate, too
    old, another codec than the room's, malformed, or lost by the test hook."""
    send_failures: int = 0
    """Packets the subscriber's transport refused (not connected yet, or closing)."""
    keyframe_requests: int = 0
    """Reasons to want a keyframe: subscribers' PLI/FIR, slots becoming active or waiting, NACK misses."""
    plis_sent: int = 0
    """PLIs sent to publishers after rate limiting and merging."""
    nacks_received: int = 0
    """NACK packets from subscribers."""
    nacked_packets: int = 0
    """Sequence numbers those NACKs asked for."""
    rtx_sent: int = 0
    """NACKed packets answered with an RTX retransmission."""
    nack_misses: int = 0
    """NACKed packets no longer in the cache (answered by a keyframe request instead)."""
    rembs_received: int = 0
    """Subscribers' REMBs about a forwarded video stream."""
    rembs_sent: int = 0
    """REMBs sent to publishers: min(their uplink estimate, their viewers' shares), rate-limited."""

    def copy(self) -> MediaStats:
        """A snapshot."""
        return MediaStats(*(getattr(self, field.name) for field in fields(self)))


class ForwardingContext:
    """What every track and slot of one room shares: the loop, the counters, the test hook, background
    tasks (PLIs)."""

    __slots__ = ("loop", "loss_hook", "stats", "tasks")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.stats = MediaStats()
        self.loss_hook: LossHook | None = None
        self.tasks: set[asyncio.Task[Any]] = set()

    def spawn(self, coroutine: Coroutine[Any, Any, Any]) -> None:
        """Run ``coroutine`` in the background, keeping a reference until it ends."""
        task = self.loop.create_task(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)


class Incoming:
    """One publisher packet, read once for all its subscribers.

    ``first`` is the first header byte to send (version, padding bit and CSRC count kept, extension bit
    cleared), ``marker`` the marker bit in place, ``csrcs`` the CSRC list and ``tail`` everything after
    the publisher's header (payload and padding), which every subscriber's copy reuses as it is.
    """

    __slots__ = (
        "csrcs",
        "data",
        "extension",
        "first",
        "keyframe",
        "marker",
        "now",
        "payload",
        "seq",
        "ssrc",
        "tail",
        "timestamp",
    )

    def __init__(
        self,
        packet: TappedPacket,
        data: bytes,
        payload: bytes,
        now: float,
        keyframe: bool,
        extension: bytes | None,
    ) -> None:
        self.data = data
        self.payload = payload
        self.ssrc = packet.ssrc
        self.seq = packet.sequence_number
        self.timestamp = packet.timestamp
        self.now = now
        self.keyframe = keyframe
        self.extension = extension
        first = data[0]
        self.first = first & 0xEF
        self.marker = data[1] & 0x80
        csrc_end = HEADER_SIZE + 4 * (first & 0x0F)
        offset = csrc_end
        if first & 0x10:
            offset += 4 + 4 * ((data[offset + 2] << 8) | data[offset + 3])
        self.csrcs = data[HEADER_SIZE:csrc_end]
        self.tail = data[offset:]


class SourceTrack:
    """One published track on the server's publish peer connection, and who currently receives it.

    ``sinks`` is replaced, never mutated, so the packet loop may iterate it while slots are bound or
    released. ``media_payload_type`` is learned from the negotiated parameters on the first packet.
    """

    __slots__ = (
        "_is_keyframe",
        "_last_wanted",
        "_remb_timer",
        "_shared",
        "_timer",
        "codec",
        "keyframes",
        "kind",
        "last_sr",
        "last_ssrc",
        "media_payload_type",
        "mid",
        "muted",
        "negotiated_active",
        "packets",
        "publisher_id",
        "receiver",
        "recorder",
        "relay",
        "remb",
        "retry",
        "sinks",
        "source",
        "source_labelled",
        "tap",
        "transceiver",
        "video",
    )

    def __init__(
        self,
        shared: ForwardingContext,
        *,
        publisher_id: str,
        transceiver: RTCRtpTransceiver,
        codec: Codec,
        keyframe_interval: float,
        keyframe_retry: float,
        remb_interval: float = 0.5,
    ) -> None:
        self._shared = shared
        self.publisher_id = publisher_id
        self.transceiver = transceiver
        self.receiver: RTCRtpReceiver = transceiver.receiver
        self.kind: str = transceiver.kind
        self.video = self.kind == "video"
        self.codec = codec if self.video else Codec.OPUS
        self._is_keyframe: Callable[[bytes], bool] = (
            h264_is_keyframe if self.codec is Codec.H264 else vp8_is_keyframe
        )
        self.source = "audio" if not self.video else "camera"
        self.source_labelled = False
        self.mid: str | None = None
        self.negotiated_active = False
        """The publisher's latest offer sends on this m-section (and we accepted it)."""
        self.muted = False
        self.sinks: tuple[OutSlot, ...] = ()
        self.recorder: RecordingSink | None = None
        """Gets every accepted packet, as parsed here (recordings: stream copy, nothing decoded)."""
        self.relay = KeyframeRelay(keyframe_interval)
        self.retry = keyframe_retry
        self.media_payload_type: int | None = None
        self.last_ssrc: int | None = None
        self.last_sr: tuple[int, int, int] | None = None
        """The publisher's latest sender report: (NTP timestamp, RTP timestamp, SSRC)."""
        self.packets = 0
        self.keyframes = 0
        self._timer: asyncio.TimerHandle | None = None
        self._last_wanted = -float("inf")
        self.remb = RembRelay(interval=remb_interval, min_gap=min(0.1, remb_interval))
        self._remb_timer: asyncio.TimerHandle | None = None
        # Video: aiortc's estimate of the publisher's uplink comes to us instead of going out; the publisher
        # hears min(uplink, viewers) from remb_changed.
        self.tap: RtpTap = aiortc_hooks.attach_rtp_tap(
            self.receiver, self.on_rtp, on_remb=self.on_uplink_estimate if self.video else None
        )
        aiortc_hooks.observe_rtcp(self.receiver, self.on_rtcp)

    @property
    def info(self) -> TrackInfo:
        return TrackInfo(self.publisher_id, self.source, self.kind)

    @property
    def key(self) -> tuple[str, str]:
        """(publisher, source): what a subscriber's m-section stands for, across publisher reconnects."""
        return self.publisher_id, self.source

    # --- the packet path ----------------------------------------------------------------------------------

    def on_rtp(self, packet: TappedPacket, data: bytes, arrival_time_ms: int) -> None:
        """One packet from the publisher: read it once, then offer it to every bound slot."""
        self.packets += 1
        stats = self._shared.stats
        stats.packets_received += 1
        sinks = self.sinks
        recorder = self.recorder
        if not sinks and recorder is None:
            return
        if packet.payload_type != self.media_payload_type and not self._accept(packet.payload_type):
            stats.packets_dropped += len(sinks)
            return
        if recorder is not None:
            recorder(packet.sequence_number, packet.timestamp, packet.marker, packet.payload)
            if not sinks:
                return
        now = self._shared.loop.time()
        payload = packet.payload
        self.last_ssrc = packet.ssrc
        if self.video:
            keyframe = False
            if payload:  # an empty payload is padding: forwarded, so that no sequence number goes missing
                try:
                    keyframe = self._is_keyframe(payload)
                except MalformedPacket:
                    # Unreadable, or a keyframe no decoder could start from. Nobody can decode on from
                    # here: every viewer waits for the next keyframe (their sequence numbers go on without
                    # a gap, so nobody waits for this packet), and the publisher is asked for one now.
                    stats.packets_dropped += len(sinks)
                    for slot in sinks:
                        slot.restart_at_keyframe()
                    self.request_keyframe()
                    return
                if keyframe:
                    self.keyframes += 1
                    self.relay.keyframe_seen(now)
            # abs-send-time from the monotonic clock itself: uvloop's loop.time() moves in whole milliseconds,
            # too coarse for the viewers' delay-based estimate (the extension resolves 3.8 µs).
            extension: bytes | None = abs_send_time(time.monotonic())
        else:
            keyframe = True
            level = packet.extensions.audio_level
            extension = None if level is None else _LEVEL_BYTES[(0x80 if level[0] else 0) | (level[1] & 0x7F)]
        incoming = Incoming(packet, data, payload, now, keyframe, extension)
        for slot in sinks:
            slot.forward(self, incoming)

    def _accept(self, payload_type: int) -> bool:
        """First packet, or another payload type: is it the room's codec as the publisher negotiated it?"""
        negotiated = self.tap.negotiated
        if negotiated is None:
            return False
        for codec in negotiated.codecs:
            if codec.mimeType.lower() == f"{self.kind}/{self.codec.value}".lower():
                self.media_payload_type = codec.payloadType
                break
        return payload_type == self.media_payload_type

    # --- feedback -----------------------------------------------------------------------------------------

    def request_keyframe(self) -> None:
        """Someone needs a keyframe of this track: PLI now, or one merged PLI when the window ends."""
        if not self.video:
            return
        self._shared.stats.keyframe_requests += 1
        loop = self._shared.loop
        if self.relay.request(loop.time()):
            self._send_pli()
        elif self._timer is None:
            deadline = self.relay.next_deadline()
            if deadline is not None:
                self._timer = loop.call_at(deadline, self._poll)

    def keyframe_wanted(self, now: float) -> None:
        """A bound slot dropped a packet waiting for a keyframe: ask again at most every ``retry`` seconds
        (the PLI sent when it was bound may have been lost, or sent before the publisher was connected)."""
        if now - self._last_wanted >= self.retry:
            self._last_wanted = now
            self.request_keyframe()

    def _poll(self) -> None:
        self._timer = None
        loop = self._shared.loop
        if self.relay.poll(loop.time()):
            self._send_pli()
        else:
            deadline = self.relay.next_deadline()
            if deadline is not None:
                self._timer = loop.call_at(deadline, self._poll)

    def _send_pli(self) -> None:
        negotiated = self.tap.negotiated
        ssrc = self.last_ssrc if self.last_ssrc is not None else negotiated.ssrc if negotiated else None
        if ssrc is None:  # nothing received and nothing announced yet: its first frame is a keyframe anyway
            return
        self._shared.stats.plis_sent += 1
        self._shared.spawn(aiortc_hooks.request_keyframe(self.receiver, ssrc))

    def on_rtcp(self, packet: AnyRtcpPacket) -> None:
        """The publisher's RTCP: a sender report re-anchors every bound slot's report clock."""
        if isinstance(packet, RtcpSrPacket):
            info = packet.sender_info
            self.last_sr = (info.ntp_timestamp, info.rtp_timestamp, packet.ssrc)
            for slot in self.sinks:
                slot.translate_report(packet.ssrc, info.ntp_timestamp, info.rtp_timestamp)

    # --- bandwidth ----------------------------------------------------------------------------------------

    def on_uplink_estimate(self, bitrate: int, ssrcs: list[int]) -> None:
        """aiortc's remote bitrate estimator has a new estimate of the publisher's uplink."""
        self._send_remb(self.remb.uplink(bitrate, self._shared.loop.time()))

    def viewer_estimate(self, slot: OutSlot, bitrate: int, streams: int) -> None:
        """A viewer's REMB about the slot carrying this track (``streams`` video streams share it)."""
        self._shared.stats.rembs_received += 1
        self._send_remb(self.remb.viewer(slot, bitrate, streams, self._shared.loop.time()))

    def forget_viewer(self, slot: OutSlot) -> None:
        self._send_remb(self.remb.forget(slot, self._shared.loop.time()))

    def _poll_remb(self) -> None:
        self._remb_timer = None
        self._send_remb(self.remb.poll(self._shared.loop.time()))

    def _send_remb(self, bitrate: int | None) -> None:
        if bitrate is not None:
            negotiated = self.tap.negotiated
            ssrc = self.last_ssrc if self.last_ssrc is not None else negotiated.ssrc if negotiated else None
            if ssrc is not None:
                self._shared.stats.rembs_sent += 1
                self._shared.spawn(aiortc_hooks.send_remb(self.receiver, bitrate, [ssrc]))
        deadline = self.remb.next_deadline()
        if deadline is not None and self._remb_timer is None:
            self._remb_timer = self._shared.loop.call_at(deadline, self._poll_remb)

    # --- binding ------------------------------------------------------------------------------------------

    def add_sink(self, slot: OutSlot) -> None:
        if slot not in self.sinks:
            self.sinks = (*self.sinks, slot)

    def remove_sink(self, slot: OutSlot) -> None:
        if slot in self.sinks:
            self.sinks = tuple(sink for sink in self.sinks if sink is not slot)

    def close(self) -> None:
        for timer in (self._timer, self._remb_timer):
            if timer is not None:
                timer.cancel()
        self._timer = self._remb_timer = None
        self.sinks = ()


class OutSlot:
    """One sender on a subscriber's peer connection (one m-section), and its outgoing stream state.

    The slot keeps one sequence space, RTX cache and VP8 picture-id map for its whole life, whichever
    publisher track it carries: rebinding to another track (a publisher reconnected) switches the
    rewriter's source at the next keyframe, and the subscriber sees one continuous stream.

    Negotiation bookkeeping (owned by :mod:`media.engine`): ``track`` is the source track the slot is
    dedicated to, ``offered_key`` / ``answered_key`` what the latest offer / the latest completed
    negotiation announced (None: inactive), ``last_key`` the last track it carried (to reuse the same
    m-section when that publisher's track comes back).
    """

    __slots__ = (
        "_ext_head",
        "_ext_id",
        "_ext_plain",
        "_ext_tail",
        "_fast",
        "_mid_id",
        "_mid_value",
        "_plain_bit",
        "_shared",
        "_totals",
        "active",
        "answered_key",
        "cache",
        "kind",
        "last_key",
        "offered_key",
        "packets",
        "payload_type",
        "raw",
        "rewriter",
        "ssrc",
        "subscriber_id",
        "track",
        "transceiver",
        "video",
        "vp8",
        "vp8_source",
    )

    def __init__(
        self,
        shared: ForwardingContext,
        *,
        subscriber_id: str,
        transceiver: RTCRtpTransceiver,
        codec: Codec,
        cache: int,
    ) -> None:
        self._shared = shared
        self.subscriber_id = subscriber_id
        self.transceiver = transceiver
        self.kind: str = transceiver.kind
        self.video = self.kind == "video"
        self.raw = RawRtpSender(transceiver.sender, auto_report_clock=False)
        self.ssrc = self.raw.ssrc
        clock_rate = 90000 if self.video else 48000
        self.rewriter = StreamRewriter(
            video=self.video,
            clock_rate=clock_rate,
            initial_seq=secrets.randbelow(0x8000),  # below 2^15, as aiortc does, to keep SRTP's ROC at 0
            initial_timestamp=secrets.randbits(32),
        )
        self.rewriter.pause()
        # VP8 picture ids pass through untouched (and unread) until the slot switches to another publisher
        # stream; from then on a Vp8PictureIdRewriter keeps them continuous.
        self.vp8: Vp8PictureIdRewriter | None = None
        self.vp8_source: int | None = None if self.video and codec is Codec.VP8 else -1
        # Audio is never NACKed (the room's Opus negotiates no nack feedback): only video is remembered.
        self.cache = RetransmitCache(size=cache if self.video else 1)
        self.payload_type = 0
        self._mid_id = 0
        self._mid_value = b""
        self._ext_id = 0
        self._fast = True
        self._ext_head = self._ext_tail = self._ext_plain = b""
        self._plain_bit = 0
        self.track: SourceTrack | None = None
        self.active = False
        self.offered_key: tuple[str, str] | None = None
        self.answered_key: tuple[str, str] | None = None
        self.last_key: tuple[str, str] | None = None
        self.packets = 0
        self._totals: dict[tuple[str, str], int] = {}
        aiortc_hooks.observe_rtcp(transceiver.sender, self.on_rtcp)

    @property
    def started(self) -> bool:
        return self.raw.negotiated is not None

    def configure(self, room_codec: Codec) -> bool:
        """Read what the subscriber negotiated (once the sender started); False if it lacks the codec."""
        negotiated = self.raw.negotiated
        if negotiated is None:
            return False
        mime = f"{self.kind}/{(room_codec if self.video else Codec.OPUS).value}".lower()
        codec = next((c for c in negotiated.codecs if c.mimeType.lower() == mime), None)
        if codec is None or codec.payloadType is None:
            return False
        self.payload_type = codec.payloadType
        extensions = negotiated.header_extensions
        self._mid_id = extensions.get(URI_MID, 0)
        self._mid_value = negotiated.mid.encode()[:_MID_BYTES_LIMIT]
        self._ext_id = extensions.get(URI_ABS_SEND_TIME if self.video else URI_AUDIO_LEVEL, 0)
        self._prepare_extension_blocks()
        rtx_payload_type = negotiated.rtx_payload_types.get(self.payload_type)
        if negotiated.rtx_ssrc is not None and rtx_payload_type is not None:
            self.cache.rtx_ssrc = negotiated.rtx_ssrc
            self.cache.rtx_payload_type = rtx_payload_type
        return True

    def _prepare_extension_blocks(self) -> None:
        """The subscriber's RFC 8285 block, built once: ``_ext_head`` + the packet's abs-send-time (video)
        or audio level (audio) + ``_ext_tail``; ``_ext_plain`` when a packet has no such value. Ids beyond
        the one-byte form (or a long mid) take the general path."""
        mid = (
            bytes(((self._mid_id << 4) | (len(self._mid_value) - 1),)) + self._mid_value
            if (self._mid_id and self._mid_value)
            else b""
        )
        self._fast = self._mid_id < 15 and self._ext_id < 15
        self._ext_plain = encode_extensions({self._mid_id: self._mid_value}) if mid else b""
        self._plain_bit = 0x10 if mid else 0
        self._ext_head = self._ext_tail = b""
        if self._ext_id:
            value_size = 3 if self.video else 1
            body = 1 + value_size + len(mid)
            padding = -body % 4
            self._ext_head = _EXT_BLOCK.pack(ONE_BYTE_PROFILE, (body + padding) >> 2) + bytes(
                ((self._ext_id << 4) | (value_size - 1),)
            )
            self._ext_tail = mid + bytes(padding)

    # --- the packet path ----------------------------------------------------------------------------------

    def forward(self, source: SourceTrack, incoming: Incoming) -> None:
        """Rewrite one publisher packet for this subscriber, remember it for retransmission and send it."""
        stats = self._shared.stats
        verdict = self.rewriter.forward(
            incoming.ssrc, incoming.seq, incoming.timestamp, incoming.now, incoming.keyframe
        )
        if verdict.__class__ is not Forward:
            stats.packets_dropped += 1
            if verdict is Drop.NEED_KEYFRAME:
                source.keyframe_wanted(incoming.now)
            return
        out_seq, out_timestamp, segment_start = verdict
        if segment_start:
            self._segment_started(source, incoming.ssrc, out_timestamp)
            if self.vp8_source != incoming.ssrc and self.vp8_source != -1:
                self._switch_vp8_source(incoming.ssrc, out_seq)
        payload_octets = len(incoming.payload)
        if self._fast and (self.vp8 is None or not payload_octets):
            # The common case: a new fixed header, this subscriber's extension block around the one value
            # that changes per packet, and the publisher's payload and padding as they came.
            extension = incoming.extension
            if extension is not None and self._ext_head:
                head, tail, first = self._ext_head, self._ext_tail, incoming.first | 0x10
            else:
                head, tail, first, extension = self._ext_plain, b"", incoming.first | self._plain_bit, b""
            fixed = _FIXED.pack(first, incoming.marker | self.payload_type, out_seq, out_timestamp, self.ssrc)
            header = b"".join((fixed, incoming.csrcs, head, extension, tail))
            out = header + incoming.tail
            if self.video:  # the caches of all subscribers share one copy of the payload
                self.cache.store(out_seq, header, incoming.tail)
        else:
            out = self._rewrite_slowly(incoming, out_seq, out_timestamp, segment_start)
            payload_octets = -1  # the payload may have changed size: let the sender count it
            if self.video:
                self.cache.store(out_seq, out)
        self.packets += 1
        hook = self._shared.loss_hook
        if hook is not None and hook(self.subscriber_id, source.info, out):
            stats.packets_dropped += 1
        elif self.raw.send_now(out, payload_octets):
            stats.packets_forwarded += 1
            stats.bytes_forwarded += len(out)
        else:
            stats.send_failures += 1

    def _rewrite_slowly(
        self, incoming: Incoming, out_seq: int, out_timestamp: int, segment_start: bool
    ) -> bytes:
        """The general rewrite: VP8 picture ids rewritten, or extension ids the one-byte form cannot carry."""
        payload = incoming.payload
        new_payload = None
        if self.vp8 is not None and payload:
            new_payload = self.vp8.rewrite(payload, 0, len(payload), segment_start=segment_start)
        extensions: dict[int, bytes] = {}
        if self._mid_id:
            extensions[self._mid_id] = self._mid_value
        if incoming.extension is not None and self._ext_id:
            extensions[self._ext_id] = incoming.extension
        return rewrite(
            incoming.data,
            ssrc=self.ssrc,
            seq=out_seq,
            timestamp=out_timestamp,
            payload_type=self.payload_type,
            extensions=extensions,
            payload=new_payload,
        )

    def _switch_vp8_source(self, ssrc: int, out_seq: int) -> None:
        """A VP8 segment starts. From the first switch to another publisher stream on, picture ids are
        rewritten, continuing from the last packet sent (still in the RTX cache)."""
        if self.vp8_source is not None and self.vp8 is None:
            self.vp8 = Vp8PictureIdRewriter()
            previous = self.cache.get((out_seq - 1) & 0xFFFF)
            with contextlib.suppress(MalformedPacket):
                header = RtpHeader(previous) if previous is not None else None
                if header is not None and header.payload_size:
                    start, end = header.payload_offset, header.payload_end
                    self.vp8.rewrite(header.data, start, end, segment_start=False)
        self.vp8_source = ssrc

    def _segment_started(self, source: SourceTrack, ssrc: int, out_timestamp: int) -> None:
        sr = source.last_sr
        if sr is not None and sr[2] == ssrc:
            self.translate_report(ssrc, sr[0], sr[1])
        else:
            self.raw.set_report_clock(ntp_from_unix(time.time()), out_timestamp)

    def translate_report(self, ssrc: int, ntp_timestamp: int, rtp_timestamp: int) -> None:
        """Anchor this slot's sender reports to the publisher's SR (NTP, RTP) in the slot's timeline."""
        translated = self.rewriter.outgoing_timestamp(ssrc, rtp_timestamp)
        if translated is not None:
            self.raw.set_report_clock(ntp_timestamp, translated)

    # --- feedback from the subscriber ---------------------------------------------------------------------

    async def on_rtcp(self, packet: AnyRtcpPacket) -> None:
        """PLI/FIR → the source's keyframe relay; NACK → RTX from the cache (keyframe request for misses)."""
        if isinstance(packet, RtcpRtpfbPacket):
            if packet.fmt != RTCP_RTPFB_NACK or packet.media_ssrc != self.ssrc:
                return
            stats = self._shared.stats
            stats.nacks_received += 1
            stats.nacked_packets += len(packet.lost)
            answer = self.cache.answer(packet.lost, self._shared.loop.time())
            for retransmission in answer.packets:
                if await self.raw.send(retransmission):
                    stats.rtx_sent += 1
            if answer.missing:
                stats.nack_misses += len(answer.missing)
                if self.track is not None and self.active:
                    self.track.request_keyframe()
        elif isinstance(packet, RtcpPsfbPacket) and packet.fmt == RTCP_PSFB_APP:
            self._on_remb(packet)
        elif (
            isinstance(packet, RtcpPsfbPacket)
            and packet.fmt in (RTCP_PSFB_PLI, _RTCP_PSFB_FIR)
            and packet.media_ssrc in (self.ssrc, 0)
            and self.track is not None
            and self.active
        ):
            self.track.request_keyframe()

    def _on_remb(self, packet: RtcpPsfbPacket) -> None:
        """The viewer's REMB (aiortc routes it to every sender it names): its share goes to the track."""
        track = self.track
        if track is None or not self.active or not track.video:
            return
        try:
            bitrate, ssrcs = unpack_remb_fci(packet.fci)
        except (ValueError, struct.error):
            return
        if self.ssrc in ssrcs:
            track.viewer_estimate(self, bitrate, len(set(ssrcs)))

    # --- binding (driven by the engine) -------------------------------------------------------------------

    def activate(self, room_codec: Codec) -> bool:
        """Start forwarding ``self.track`` (the negotiation announced it and the sender runs)."""
        track = self.track
        if track is None or self.active or not self.configure(room_codec):
            return False
        self.active = True
        self.last_key = track.key
        track.add_sink(self)
        self.sync_pause()
        track.request_keyframe()
        return True

    def restart_at_keyframe(self) -> None:
        """The publisher's stream broke (an unreadable packet): forward again from its next keyframe."""
        if self.rewriter.state is not RewriterState.PAUSED:
            self.rewriter.pause()
            self.rewriter.resume()

    def sync_pause(self) -> None:
        """Pause while inactive or muted; else forward from the next suitable packet (video: a keyframe)."""
        track = self.track
        if track is None or not self.active or track.muted:
            self.rewriter.pause()
        else:
            self.rewriter.resume()

    def release(self) -> None:
        """Stop carrying the current track at once (the m-section is renegotiated separately)."""
        track = self.track
        if track is not None:
            track.remove_sink(self)
            track.forget_viewer(self)
            if self.packets:
                self._totals[track.key] = self._totals.get(track.key, 0) + self.packets
        self.packets = 0
        self.track = None
        self.active = False
        self.rewriter.pause()

    def forwarded(self, key: tuple[str, str]) -> int:
        """Packets this slot has sent of the tracks with this key (current binding included)."""
        current = self.packets if self.track is not None and self.track.key == key else 0
        return self._totals.get(key, 0) + current
