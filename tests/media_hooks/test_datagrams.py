"""The byte-level helpers behind the tap's datagrams and the raw sender's report counters."""

from __future__ import annotations

import struct

from aiortc.rtp import RtpPacket

from media.aiortc_hooks import _header_length, _unwrapped_datagram


def rtp(
    *,
    payload_type: int,
    sequence_number: int,
    ssrc: int,
    payload: bytes,
    marker: int = 0,
    csrcs: tuple[int, ...] = (),
    extension: bytes = b"",
    padding: int = 0,
) -> bytes:
    first = 0x80 | (0x20 if padding else 0) | (0x10 if extension else 0) | len(csrcs)
    header = struct.pack("!BBHLL", first, (marker << 7) | payload_type, sequence_number, 1234567, ssrc)
    header += b"".join(struct.pack("!L", csrc) for csrc in csrcs)
    if extension:
        header += struct.pack("!HH", 0xBEDE, len(extension) // 4) + extension
    tail = bytes(padding - 1) + bytes([padding]) if padding else b""
    return header + payload + tail


def test_header_length_counts_csrcs_and_the_extension_block() -> None:
    extension = bytes([0x10, ord("0"), 0, 0])  # mid "0" (one-byte form), padded to 4 bytes
    datagram = rtp(
        payload_type=97, sequence_number=1, ssrc=5, payload=b"xyz", csrcs=(7, 8), extension=extension
    )
    assert _header_length(datagram) == 12 + 8 + 4 + 4


def test_rtx_datagram_is_unwrapped_byte_for_byte() -> None:
    extension = bytes([0x10, ord("1"), 0x22, 1, 2, 3, 0, 0])  # mid "1" + abs-send-time, padded
    original = rtp(
        payload_type=97,
        sequence_number=40_000,
        ssrc=0xAAAA,
        payload=b"\x10vp8 data",
        marker=1,
        csrcs=(9,),
        extension=extension,
        padding=4,
    )
    rtx = rtp(
        payload_type=98,
        sequence_number=7,
        ssrc=0xBBBB,
        payload=struct.pack("!H", 40_000) + b"\x10vp8 data",
        marker=1,
        csrcs=(9,),
        extension=extension,
        padding=4,
    )
    # What aiortc hands the jitter buffer after unwrapping (only these fields of it are used).
    unwrapped = RtpPacket(payload_type=97, marker=1, sequence_number=40_000, ssrc=0xAAAA)
    assert _unwrapped_datagram(rtx, unwrapped) == original
