"""RTCP (RFC 3550, 4585, 5104, draft-alvestrand-rmcat-remb): parse compound packets, build the ones we send.

:func:`parse_rtcp` turns one compound datagram into immutable packet objects; ``bytes(packet)`` serialises
any of them again, so ``parse_rtcp(b"".join(map(bytes, packets))) == packets``. Parsed: sender and
receiver reports with their report blocks, SDES, BYE, generic NACK, PLI, FIR and REMB. Anything else
(transport-cc feedback, APP, XR, other feedback formats) is recognised by its header and kept as an opaque
:class:`UnknownRtcp`. Reduced-size RTCP (RFC 5506: a lone feedback packet) is accepted.

Malformed input raises :class:`media.rtp.MalformedPacket` and rejects the whole datagram.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

from media.rtp import MalformedPacket, seq_diff

__all__ = [
    "BYE",
    "PSFB",
    "PSFB_APP",
    "PSFB_FIR",
    "PSFB_PLI",
    "RR",
    "RTPFB",
    "RTPFB_NACK",
    "RTPFB_TRANSPORT_CC",
    "SDES",
    "SDES_CNAME",
    "SR",
    "Bye",
    "Fir",
    "FirEntry",
    "Nack",
    "Pli",
    "ReceiverReport",
    "Remb",
    "ReportBlock",
    "RtcpPacket",
    "SdesChunk",
    "SenderReport",
    "SourceDescription",
    "UnknownRtcp",
    "is_rtcp",
    "nack_pairs",
    "ntp_from_unix",
    "ntp_middle",
    "ntp_to_unix",
    "parse_rtcp",
    "round_trip_time",
]

SR = 200
RR = 201
SDES = 202
BYE = 203
RTPFB = 205
PSFB = 206
RTPFB_NACK = 1
RTPFB_TRANSPORT_CC = 15
PSFB_PLI = 1
PSFB_FIR = 4
PSFB_APP = 15
SDES_CNAME = 1

_HEADER = struct.Struct("!BBH")
_WORD = struct.Struct("!I")
_TWO_WORDS = struct.Struct("!II")
_SENDER_INFO = struct.Struct("!IQIII")
_BLOCK = struct.Struct("!IIIIII")
_PAIR = struct.Struct("!HH")
_FIR_ENTRY = struct.Struct("!IB3x")
_REMB = struct.Struct("!4sBBH")

_NTP_EPOCH_OFFSET = 2_208_988_800
"""Seconds from 1900-01-01 (NTP era 0) to 1970-01-01 (Unix epoch)."""


def _header(packet_type: int, count: int, body_size: int) -> bytes:
    return _HEADER.pack(0x80 | count, packet_type, body_size >> 2)


@dataclass(frozen=True, slots=True)
class ReportBlock:
    """A reception report about one source (RFC 3550 §6.4.1); ``packets_lost`` is signed (24 bits)."""

    ssrc: int
    fraction_lost: int = 0
    packets_lost: int = 0
    highest_sequence: int = 0
    jitter: int = 0
    lsr: int = 0
    dlsr: int = 0

    def __bytes__(self) -> bytes:
        lost = max(-(1 << 23), min(self.packets_lost, (1 << 23) - 1)) & 0xFFFFFF
        return _BLOCK.pack(
            self.ssrc,
            (self.fraction_lost << 24) | lost,
            self.highest_sequence,
            self.jitter,
            self.lsr,
            self.dlsr,
        )

    @classmethod
    def parse(cls, data: bytes, pos: int) -> ReportBlock:
        """The report block at ``data[pos:pos + 24]`` (the caller checks the length)."""
        ssrc, word, highest, jitter, lsr, dlsr = _BLOCK.unpack_from(data, pos)
        lost = word & 0xFFFFFF
        if lost & 0x800000:
            lost -= 1 << 24
        return cls(ssrc, word >> 24, lost, highest, jitter, lsr, dlsr)


def _parse_blocks(data: bytes, pos: int, count: int) -> tuple[ReportBlock, ...]:
    return tuple(ReportBlock.parse(data, pos + 24 * i) for i in range(count))


@dataclass(frozen=True, slots=True)
class SenderReport:
    """SR (RFC 3550 §6.4.1): what a sender sent, and the NTP ↔ RTP timestamp pair used for lip-sync."""

    ssrc: int
    ntp_timestamp: int
    rtp_timestamp: int
    packet_count: int
    octet_count: int
    reports: tuple[ReportBlock, ...] = ()

    def __bytes__(self) -> bytes:
        body = _SENDER_INFO.pack(
            self.ssrc,
            self.ntp_timestamp,
            self.rtp_timestamp,
            self.packet_count & 0xFFFFFFFF,
            self.octet_count & 0xFFFFFFFF,
        ) + b"".join(map(bytes, self.reports))
        return _header(SR, len(self.reports), len(body)) + body


@dataclass(frozen=True, slots=True)
class ReceiverReport:
    """RR (RFC 3550 §6.4.2): reception reports from a participant that does not send."""

    ssrc: int
    reports: tuple[ReportBlock, ...] = ()

    def __bytes__(self) -> bytes:
        body = _WORD.pack(self.ssrc) + b"".join(map(bytes, self.reports))
        return _header(RR, len(self.reports), len(body)) + body


@dataclass(frozen=True, slots=True)
class SdesChunk:
    """The SDES items (type, value) of one source."""

    ssrc: int
    items: tuple[tuple[int, bytes], ...] = ()

    @property
    def cname(self) -> bytes | None:
        """The CNAME item's value, if present."""
        for item_type, value in self.items:
            if item_type == SDES_CNAME:
                return value
        return None


@dataclass(frozen=True, slots=True)
class SourceDescription:
    """SDES (RFC 3550 §6.5): one chunk per source; each chunk ends with a null item and 32-bit alignment."""

    chunks: tuple[SdesChunk, ...] = ()

    @classmethod
    def cname(cls, ssrc: int, cname: bytes) -> SourceDescription:
        """An SDES with a single CNAME item."""
        return cls((SdesChunk(ssrc, ((SDES_CNAME, cname),)),))

    def __bytes__(self) -> bytes:
        body = bytearray()
        for chunk in self.chunks:
            body += _WORD.pack(chunk.ssrc)
            for item_type, value in chunk.items:
                body.append(item_type)
                body.append(len(value))
                body += value
            body += bytes(4 - len(body) % 4)  # the null item, then up to 3 more bytes of alignment
        return _header(SDES, len(self.chunks), len(body)) + body


@dataclass(frozen=True, slots=True)
class Bye:
    """BYE (RFC 3550 §6.6): these sources leave, optionally with a reason."""

    sources: tuple[int, ...] = ()
    reason: bytes | None = None

    def __bytes__(self) -> bytes:
        body = bytearray(b"".join(_WORD.pack(ssrc) for ssrc in self.sources))
        if self.reason is not None:
            body.append(len(self.reason))
            body += self.reason
            body += bytes(-len(body) % 4)
        return _header(BYE, len(self.sources), len(body)) + body


@dataclass(frozen=True, slots=True)
class Nack:
    """Generic NACK (RFC 4585 §6.2.1): the media sender should resend these sequence numbers."""

    sender_ssrc: int
    media_ssrc: int
    lost: tuple[int, ...] = ()

    def __bytes__(self) -> bytes:
        body = _TWO_WORDS.pack(self.sender_ssrc, self.media_ssrc) + b"".join(
            _PAIR.pack(pid, blp) for pid, blp in nack_pairs(self.lost)
        )
        return _header(RTPFB, RTPFB_NACK, len(body)) + body


@dataclass(frozen=True, slots=True)
class Pli:
    """Picture Loss Indication (RFC 4585 §6.3.1): the receiver wants a keyframe."""

    sender_ssrc: int
    media_ssrc: int

    def __bytes__(self) -> bytes:
        return _header(PSFB, PSFB_PLI, 8) + _TWO_WORDS.pack(self.sender_ssrc, self.media_ssrc)


class FirEntry(NamedTuple):
    """One FIR request: the source that should send a keyframe and the request's sequence number."""

    ssrc: int
    seq_nr: int


@dataclass(frozen=True, slots=True)
class Fir:
    """Full Intra Request (RFC 5104 §4.3.1); the media source SSRC of the common header is 0."""

    sender_ssrc: int
    entries: tuple[FirEntry, ...] = ()
    media_ssrc: int = 0

    def __bytes__(self) -> bytes:
        body = _TWO_WORDS.pack(self.sender_ssrc, self.media_ssrc) + b"".join(
            _FIR_ENTRY.pack(ssrc, seq_nr & 0xFF) for ssrc, seq_nr in self.entries
        )
        return _header(PSFB, PSFB_FIR, len(body)) + body


@dataclass(frozen=True, slots=True)
class Remb:
    """Receiver Estimated Maximum Bitrate (application-layer PSFB): cap the sender at ``bitrate`` bit/s.

    The bitrate travels as an 18-bit mantissa and a 6-bit exponent, so large values lose their low bits:
    :meth:`__bytes__` rounds down, and ``parse(bytes(remb)).bitrate <= remb.bitrate``.
    """

    sender_ssrc: int
    bitrate: int
    ssrcs: tuple[int, ...] = ()
    media_ssrc: int = 0

    def __bytes__(self) -> bytes:
        mantissa = self.bitrate
        exponent = 0
        while mantissa >= 1 << 18:
            mantissa >>= 1
            exponent += 1
        if exponent > 63:
            raise ValueError(f"REMB bitrate {self.bitrate} does not fit")
        body = (
            _TWO_WORDS.pack(self.sender_ssrc, self.media_ssrc)
            + _REMB.pack(b"REMB", len(self.ssrcs), (exponent << 2) | (mantissa >> 16), mantissa & 0xFFFF)
            + b"".join(_WORD.pack(ssrc) for ssrc in self.ssrcs)
        )
        return _header(PSFB, PSFB_APP, len(body)) + body


@dataclass(frozen=True, slots=True)
class UnknownRtcp:
    """An RTCP packet this module does not decode (transport-cc, APP, XR, other feedback): header and body."""

    packet_type: int
    count: int
    body: bytes = field(default=b"")

    def __bytes__(self) -> bytes:
        body = self.body + bytes(-len(self.body) % 4)
        return _header(self.packet_type, self.count, len(body)) + body


RtcpPacket = SenderReport | ReceiverReport | SourceDescription | Bye | Nack | Pli | Fir | Remb | UnknownRtcp
"""Any packet :func:`parse_rtcp` returns."""


def nack_pairs(seqs: Iterable[int]) -> list[tuple[int, int]]:
    """Compress sequence numbers into NACK (PID, BLP) pairs: PID and a bitmask of the 16 that follow it.

    Duplicates are dropped and the numbers are ordered across wrap-around (relative to the first one), so
    ``[65534, 65535, 0, 3]`` becomes one pair ``(65534, 0b10011)``.
    """
    values = [seq & 0xFFFF for seq in seqs]
    if not values:
        return []
    first = values[0]
    ordered = sorted(set(values), key=lambda seq: seq_diff(seq, first))
    pairs: list[tuple[int, int]] = []
    pid = ordered[0]
    blp = 0
    for seq in ordered[1:]:
        bit = ((seq - pid) & 0xFFFF) - 1
        if bit < 16:
            blp |= 1 << bit
        else:
            pairs.append((pid, blp))
            pid = seq
            blp = 0
    pairs.append((pid, blp))
    return pairs


def _parse_sdes(body: bytes, count: int) -> SourceDescription:
    chunks = []
    pos = 0
    end = len(body)
    for _ in range(count):
        if pos + 4 > end:
            raise MalformedPacket("RTCP SDES chunk is truncated")
        ssrc = _WORD.unpack_from(body, pos)[0]
        pos += 4
        items = []
        while True:
            if pos >= end:
                raise MalformedPacket("RTCP SDES chunk has no terminating null item")
            item_type = body[pos]
            if item_type == 0:
                pos = (pos + 4) & ~3  # the null item and the alignment after it
                break
            if pos + 2 > end:
                raise MalformedPacket("RTCP SDES item is truncated")
            stop = pos + 2 + body[pos + 1]
            if stop > end:
                raise MalformedPacket("RTCP SDES item overruns its packet")
            items.append((item_type, body[pos + 2 : stop]))
            pos = stop
        chunks.append(SdesChunk(ssrc, tuple(items)))
    return SourceDescription(tuple(chunks))


def _parse_bye(body: bytes, count: int) -> Bye:
    end = 4 * count
    if end > len(body):
        raise MalformedPacket("RTCP BYE is shorter than its source count")
    sources = struct.unpack_from(f"!{count}I", body)
    reason = None
    if end < len(body):
        stop = end + 1 + body[end]
        if stop > len(body):
            raise MalformedPacket("RTCP BYE reason overruns its packet")
        reason = body[end + 1 : stop]
    return Bye(sources, reason)


def _feedback(body: bytes) -> bytes:
    if len(body) < 8:
        raise MalformedPacket("RTCP feedback is shorter than its two SSRCs")
    return body


def _parse_nack(body: bytes) -> Nack:
    if (len(body) - 8) % 4:
        raise MalformedPacket("RTCP NACK FCI is not a whole number of words")
    sender_ssrc, media_ssrc = _TWO_WORDS.unpack_from(body)
    lost = []
    for pid, blp in _PAIR.iter_unpack(body[8:]):
        lost.append(pid)
        bit = 0
        while blp:
            if blp & 1:
                lost.append((pid + bit + 1) & 0xFFFF)
            blp >>= 1
            bit += 1
    return Nack(sender_ssrc, media_ssrc, tuple(lost))


def _parse_fir(body: bytes) -> Fir:
    if (len(body) - 8) % 8:
        raise MalformedPacket("RTCP FIR entries are not 8 bytes each")
    sender_ssrc, media_ssrc = _TWO_WORDS.unpack_from(body)
    entries = tuple(FirEntry(ssrc, seq_nr) for ssrc, seq_nr in _FIR_ENTRY.iter_unpack(body[8:]))
    return Fir(sender_ssrc, entries, media_ssrc)


def _parse_app_feedback(body: bytes, count: int) -> Remb | UnknownRtcp:
    if body[8:12] != b"REMB":
        return UnknownRtcp(PSFB, count, body)
    if len(body) < 16:
        raise MalformedPacket("RTCP REMB is truncated")
    sender_ssrc, media_ssrc = _TWO_WORDS.unpack_from(body)
    _, num_ssrc, high, low = _REMB.unpack_from(body, 8)
    if 16 + 4 * num_ssrc > len(body):
        raise MalformedPacket("RTCP REMB is shorter than its SSRC count")
    bitrate = (((high & 0x03) << 16) | low) << (high >> 2)
    return Remb(sender_ssrc, bitrate, struct.unpack_from(f"!{num_ssrc}I", body, 16), media_ssrc)


def parse_rtcp(data: bytes) -> list[RtcpPacket]:
    """Every packet of a compound RTCP datagram, in order.

    Checks each header (version 2, length within the datagram, padding) and each body against its count
    and type; profile-specific extensions after SR/RR report blocks are ignored.
    """
    packets: list[RtcpPacket] = []
    pos = 0
    size = len(data)
    if size == 0:
        raise MalformedPacket("RTCP datagram is empty")
    while pos < size:
        if pos + 4 > size:
            raise MalformedPacket("RTCP header is truncated")
        first, packet_type, words = _HEADER.unpack_from(data, pos)
        if first & 0xC0 != 0x80:
            raise MalformedPacket(f"RTCP version is {first >> 6}, not 2")
        start = pos + 4
        pos = start + 4 * words
        if pos > size:
            raise MalformedPacket(f"RTCP packet type {packet_type} overruns the datagram")
        end = pos
        if first & 0x20:
            padding = data[end - 1] if end > start else 0
            if padding == 0 or padding > end - start:
                raise MalformedPacket(f"RTCP padding of {padding} bytes is invalid")
            end -= padding
        body = data[start:end]
        count = first & 0x1F
        length = end - start
        if packet_type == SR:
            if length < 24 + 24 * count:
                raise MalformedPacket("RTCP SR is shorter than its report count")
            ssrc, ntp, rtp_ts, packet_count, octet_count = _SENDER_INFO.unpack_from(body)
            packets.append(
                SenderReport(ssrc, ntp, rtp_ts, packet_count, octet_count, _parse_blocks(body, 24, count))
            )
        elif packet_type == RR:
            if length < 4 + 24 * count:
                raise MalformedPacket("RTCP RR is shorter than its report count")
            packets.append(ReceiverReport(_WORD.unpack_from(body)[0], _parse_blocks(body, 4, count)))
        elif packet_type == SDES:
            packets.append(_parse_sdes(body, count))
        elif packet_type == BYE:
            packets.append(_parse_bye(body, count))
        elif packet_type == RTPFB and count == RTPFB_NACK:
            packets.append(_parse_nack(_feedback(body)))
        elif packet_type == PSFB and count == PSFB_PLI:
            packets.append(Pli(*_TWO_WORDS.unpack_from(_feedback(body))))
        elif packet_type == PSFB and count == PSFB_FIR:
            packets.append(_parse_fir(_feedback(body)))
        elif packet_type == PSFB and count == PSFB_APP:
            packets.append(_parse_app_feedback(_feedback(body), count))
        else:
            packets.append(UnknownRtcp(packet_type, count, body))
    return packets


def is_rtcp(data: bytes) -> bool:
    """Whether a datagram on an RTP/RTCP-multiplexed port is RTCP (RFC 5761 §4: second byte 192–223)."""
    return len(data) >= 2 and 192 <= data[1] <= 223


def ntp_from_unix(seconds: float) -> int:
    """The 64-bit NTP timestamp (32.32 fixed point since 1900) of a Unix time in seconds."""
    return round((seconds + _NTP_EPOCH_OFFSET) * (1 << 32)) & 0xFFFFFFFFFFFFFFFF


def ntp_to_unix(ntp: int) -> float:
    """The Unix time in seconds of a 64-bit NTP timestamp (era 0, i.e. before 2036)."""
    return ntp / (1 << 32) - _NTP_EPOCH_OFFSET


def ntp_middle(ntp: int) -> int:
    """The middle 32 bits of an NTP timestamp: the LSR a receiver echoes back (RFC 3550 §6.4.1)."""
    return (ntp >> 16) & 0xFFFFFFFF


def round_trip_time(block: ReportBlock, arrival_ntp: int) -> float | None:
    """Seconds between sending the SR that ``block`` echoes and receiving ``block`` at ``arrival_ntp``.

    RFC 3550 §6.4.1: arrival − LSR − DLSR, in units of 1/65536 s. None when the report echoes no SR yet
    (LSR is 0). Clamped at 0 (a DLSR rounded by the receiver can exceed the true delay by a tick).
    """
    if block.lsr == 0:
        return None
    ticks = (ntp_middle(arrival_ntp) - block.lsr - block.dlsr) & 0xFFFFFFFF
    if ticks >= 0x80000000:
        return 0.0
    return ticks / 65536
