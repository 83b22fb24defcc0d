"""RTP packets (RFC 3550) with RFC 8285 header extensions: header view, header rewriter, sequence arithmetic.

The forwarder never rebuilds a packet object. It reads the fixed header once (:meth:`RtpHeader.parse`, one
``struct`` call plus a few offset checks), decides, and sends a new 12-byte header plus the untouched tail of
the original datagram (:func:`rewrite`). Everything else — CSRC list, header extension elements, the payload
bytes — is decoded only when asked for.

Errors::

    ValueError
     └── MalformedPacket     bytes that break the RTP/RTCP/payload format (truncated, bad version, bad
                             lengths, extension overrun, bad padding); never IndexError or struct.error

Arguments that the caller gets wrong (an extension id of 0, a 300-byte extension value) raise plain
``ValueError``: they are bugs, not hostile input.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping

__all__ = [
    "HEADER_SIZE",
    "ONE_BYTE_PROFILE",
    "TWO_BYTE_PROFILE",
    "MalformedPacket",
    "RtpHeader",
    "abs_send_time",
    "encode_extensions",
    "rewrite",
    "seq_add",
    "seq_diff",
    "seq_gt",
    "seq_unwrap",
    "ts_add",
    "ts_diff",
    "ts_gt",
]

HEADER_SIZE = 12
"""Size of the fixed RTP header."""
ONE_BYTE_PROFILE = 0xBEDE
"""Extension block profile of the RFC 8285 one-byte form (ids 1–14, values of 1–16 bytes)."""
TWO_BYTE_PROFILE = 0x1000
"""Extension block profile of the RFC 8285 two-byte form (ids 1–255, values of 0–255 bytes); the low 4 bits
are "appbits" and are ignored when parsing."""

_FIXED = struct.Struct("!BBHII")
_EXT_HEADER = struct.Struct("!HH")
_CSRC_CACHE: dict[int, struct.Struct] = {n: struct.Struct(f"!{n}I") for n in range(16)}
_ONE_BYTE_HEADERS = [bytes((byte,)) for byte in range(256)]
_ZEROS = [bytes(n) for n in range(4)]


class MalformedPacket(ValueError):
    """The bytes do not follow the RTP, RTCP or payload format they claim to be in."""


class RtpHeader:
    """What the forwarder needs from one RTP packet, read once; CSRCs and extensions are decoded on demand.

    Offsets index into :attr:`data`: the extension elements lie in ``data[extension_start:extension_end]``
    (empty when there is no extension block), the payload in ``data[payload_offset:payload_end]`` and the
    padding, if any, after ``payload_end``. ``RtpHeader(data)`` is :meth:`parse` without one call, for the
    per-packet path.
    """

    __slots__ = (
        "csrc_count",
        "data",
        "extension_end",
        "extension_profile",
        "extension_start",
        "marker",
        "payload_end",
        "payload_offset",
        "payload_type",
        "sequence_number",
        "ssrc",
        "timestamp",
    )

    data: bytes
    marker: bool
    payload_type: int
    sequence_number: int
    timestamp: int
    ssrc: int
    csrc_count: int
    extension_profile: int | None
    extension_start: int
    extension_end: int
    payload_offset: int
    payload_end: int

    def __init__(self, data: bytes) -> None:
        """Parse ``data``; see :meth:`parse`."""
        size = len(data)
        if size < HEADER_SIZE:
            raise MalformedPacket(f"RTP packet of {size} bytes is shorter than the 12-byte header")
        first, second, self.sequence_number, self.timestamp, self.ssrc = _FIXED.unpack_from(data)
        if first & 0xC0 != 0x80:
            raise MalformedPacket(f"RTP version is {first >> 6}, not 2")
        self.data = data
        self.marker = second > 0x7F
        self.payload_type = second & 0x7F
        self.csrc_count = count = first & 0x0F
        offset = HEADER_SIZE + 4 * count
        if first & 0x10:
            if size < offset + 4:
                raise MalformedPacket("RTP extension header is truncated")
            profile, words = _EXT_HEADER.unpack_from(data, offset)
            self.extension_profile = profile
            self.extension_start = offset = offset + 4
            offset += 4 * words
            self.extension_end = offset
        else:
            self.extension_profile = None
            self.extension_start = self.extension_end = offset
        if offset > size:
            raise MalformedPacket(f"RTP header of {offset} bytes overruns the {size}-byte packet")
        self.payload_offset = offset
        if first & 0x20:
            padding = data[-1]
            if padding == 0 or padding > size - offset:
                raise MalformedPacket(f"RTP padding of {padding} bytes is invalid")
            self.payload_end = size - padding
        else:
            self.payload_end = size

    @classmethod
    def parse(cls, data: bytes) -> RtpHeader:
        """Read the header of one RTP packet; raise :class:`MalformedPacket` if it is not one.

        Checks the version, the CSRC list, the extension block and the padding against the packet's length.
        The extension elements are checked when :meth:`extensions` reads them.
        """
        return cls(data)

    @property
    def padding(self) -> bool:
        """Whether the packet ends with padding (the P bit)."""
        return self.payload_end != len(self.data)

    @property
    def padding_size(self) -> int:
        """Bytes of padding after the payload, including the count byte; 0 without padding."""
        return len(self.data) - self.payload_end

    @property
    def payload(self) -> bytes:
        """A copy of the payload, without padding."""
        return self.data[self.payload_offset : self.payload_end]

    @property
    def payload_size(self) -> int:
        """Length of the payload, without padding (0 for a padding-only packet)."""
        return self.payload_end - self.payload_offset

    def csrcs(self) -> tuple[int, ...]:
        """The contributing sources."""
        result: tuple[int, ...] = _CSRC_CACHE[self.csrc_count].unpack_from(self.data, HEADER_SIZE)
        return result

    def extensions(self) -> dict[int, bytes]:
        """The header extension elements by id (RFC 8285); empty without a block or with an unknown profile.

        Padding bytes are skipped. In the one-byte form, id 15 ends the list (RFC 8285 §4.2), and so does id 0
        with a non-zero length, as libwebrtc does. An element that overruns the block raises
        :class:`MalformedPacket`. If an id repeats, the last element wins.
        """
        profile = self.extension_profile
        if profile is None:
            return {}
        data = self.data
        pos = self.extension_start
        end = self.extension_end
        found: dict[int, bytes] = {}
        if profile == ONE_BYTE_PROFILE:
            while pos < end:
                byte = data[pos]
                if byte == 0:
                    pos += 1
                    continue
                ext_id = byte >> 4
                if ext_id == 15 or ext_id == 0:
                    break
                pos += 1
                stop = pos + (byte & 0x0F) + 1
                if stop > end:
                    raise MalformedPacket(f"RTP one-byte extension {ext_id} overruns its block")
                found[ext_id] = data[pos:stop]
                pos = stop
        elif profile & 0xFFF0 == TWO_BYTE_PROFILE:
            while pos < end:
                ext_id = data[pos]
                if ext_id == 0:
                    pos += 1
                    continue
                if pos + 2 > end:
                    raise MalformedPacket(f"RTP two-byte extension {ext_id} has no length")
                pos += 2
                stop = pos + data[pos - 1]
                if stop > end:
                    raise MalformedPacket(f"RTP two-byte extension {ext_id} overruns its block")
                found[ext_id] = data[pos:stop]
                pos = stop
        return found

    def extension(self, ext_id: int) -> bytes | None:
        """The value of one header extension element, or None."""
        return self.extensions().get(ext_id)

    def __repr__(self) -> str:
        return (
            f"RtpHeader(ssrc={self.ssrc}, seq={self.sequence_number}, ts={self.timestamp}, "
            f"pt={self.payload_type}, marker={int(self.marker)}, payload={self.payload_size} bytes)"
        )


def _extension_parts(extensions: Mapping[int, bytes], parts: list[bytes]) -> None:
    """Append the RFC 8285 block for non-empty ``extensions`` to ``parts``: header, elements, padding."""
    at = len(parts)
    parts.append(b"")  # the block header, once the length is known
    total = 0
    for ext_id, value in extensions.items():
        size = len(value)
        if 0 < ext_id < 15 and 0 < size < 17:
            parts.append(_ONE_BYTE_HEADERS[(ext_id << 4) | (size - 1)])
            parts.append(value)
            total += 1 + size
            continue
        del parts[at:]
        _two_byte_parts(extensions, parts)
        return
    padding = -total % 4
    parts.append(_ZEROS[padding])
    parts[at] = _EXT_HEADER.pack(ONE_BYTE_PROFILE, (total + padding) >> 2)


def _two_byte_parts(extensions: Mapping[int, bytes], parts: list[bytes]) -> None:
    at = len(parts)
    parts.append(b"")
    total = 0
    for ext_id, value in extensions.items():
        size = len(value)
        if not (0 < ext_id < 256 and size < 256):
            raise ValueError(f"header extension {ext_id} of {size} bytes fits neither RFC 8285 form")
        parts.append(bytes((ext_id, size)))
        parts.append(value)
        total += 2 + size
    padding = -total % 4
    parts.append(_ZEROS[padding])
    parts[at] = _EXT_HEADER.pack(TWO_BYTE_PROFILE, (total + padding) >> 2)


def encode_extensions(extensions: Mapping[int, bytes]) -> bytes:
    """The RFC 8285 extension block for ``extensions`` (id → value): 4-byte block header, elements, padding.

    The one-byte form is used when every id is 1–14 and every value 1–16 bytes, the two-byte form otherwise.
    Elements keep the mapping's order. An empty mapping gives ``b""`` (no block). A value that neither form
    can carry (id outside 1–255, value over 255 bytes) raises ``ValueError``.
    """
    if not extensions:
        return b""
    parts: list[bytes] = []
    _extension_parts(extensions, parts)
    return b"".join(parts)


def rewrite(
    packet: bytes,
    *,
    ssrc: int,
    seq: int,
    timestamp: int,
    payload_type: int | None = None,
    extensions: Mapping[int, bytes] | None = None,
    payload: bytes | None = None,
) -> bytes:
    """A copy of ``packet`` with a new SSRC, sequence number, timestamp and extension block.

    The marker bit, the CSRC list and the padding are kept; ``seq`` and ``timestamp`` are taken modulo
    2^16 and 2^32. ``extensions`` (id → value, in the *receiving* leg's negotiated ids) replaces the
    original block; None or an empty mapping sends no block. ``payload_type`` replaces the payload type if
    given. ``payload`` replaces the payload (the padding that followed it is kept), for example a VP8
    payload whose picture id was rewritten; otherwise the original bytes are copied once, untouched.
    """
    size = len(packet)
    if size < HEADER_SIZE:
        raise MalformedPacket(f"RTP packet of {size} bytes is shorter than the 12-byte header")
    first = packet[0]
    if first & 0xC0 != 0x80:
        raise MalformedPacket(f"RTP version is {first >> 6}, not 2")
    csrc_end = HEADER_SIZE + 4 * (first & 0x0F)
    offset = csrc_end
    if first & 0x10:
        if size < offset + 4:
            raise MalformedPacket("RTP extension header is truncated")
        offset += 4 + 4 * ((packet[offset + 2] << 8) | packet[offset + 3])
    if offset > size:
        raise MalformedPacket(f"RTP header of {offset} bytes overruns the {size}-byte packet")
    second = packet[1] if payload_type is None else (packet[1] & 0x80) | (payload_type & 0x7F)
    if payload is None and not extensions and csrc_end == HEADER_SIZE:
        return _FIXED.pack(first & 0xEF, second, seq & 0xFFFF, timestamp & 0xFFFFFFFF, ssrc) + packet[offset:]
    parts = [b"", packet[HEADER_SIZE:csrc_end]]
    if extensions:
        first |= 0x10
        _extension_parts(extensions, parts)
    else:
        first &= 0xEF
    parts[0] = _FIXED.pack(first, second, seq & 0xFFFF, timestamp & 0xFFFFFFFF, ssrc)
    if payload is None:
        parts.append(packet[offset:])
    else:
        end = size
        if first & 0x20:
            padding = packet[-1]
            if padding == 0 or padding > size - offset:
                raise MalformedPacket(f"RTP padding of {padding} bytes is invalid")
            end = size - padding
        parts.append(payload)
        parts.append(packet[end:])
    return b"".join(parts)


def abs_send_time(seconds: float) -> bytes:
    """The 3-byte abs-send-time extension value (6.18 fixed-point seconds, wrapping every 64 s) of a clock
    reading; receivers use only its differences, so any monotonic clock in seconds serves."""
    return (int(seconds * (1 << 18)) & 0xFFFFFF).to_bytes(3, "big")


def seq_diff(a: int, b: int) -> int:
    """``a - b`` for 16-bit sequence numbers across wrap-around, in [-32768, 32767]."""
    return ((a - b + 0x8000) & 0xFFFF) - 0x8000


def seq_gt(a: int, b: int) -> bool:
    """Whether sequence number ``a`` is newer than ``b`` (RFC 1982 serial arithmetic on 16 bits).

    Exactly half the space apart is ambiguous: neither is newer.
    """
    return 0 < ((a - b) & 0xFFFF) < 0x8000


def seq_add(a: int, n: int) -> int:
    """``a + n`` on 16 bits (``n`` may be negative)."""
    return (a + n) & 0xFFFF


def seq_unwrap(reference: int, seq: int) -> int:
    """The extended (unwrapped) sequence number of ``seq`` nearest to the extended ``reference``."""
    return reference + (((seq - reference + 0x8000) & 0xFFFF) - 0x8000)


def ts_diff(a: int, b: int) -> int:
    """``a - b`` for 32-bit RTP timestamps across wrap-around, in [-2^31, 2^31 - 1]."""
    return ((a - b + 0x80000000) & 0xFFFFFFFF) - 0x80000000


def ts_gt(a: int, b: int) -> bool:
    """Whether RTP timestamp ``a`` is later than ``b`` (serial arithmetic on 32 bits)."""
    return 0 < ((a - b) & 0xFFFFFFFF) < 0x80000000


def ts_add(a: int, n: int) -> int:
    """``a + n`` on 32 bits (``n`` may be negative)."""
    return (a + n) & 0xFFFFFFFF
