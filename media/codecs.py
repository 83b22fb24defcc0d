"""Keyframes and frame boundaries in RTP payloads: VP8 (RFC 7741), H.264 (RFC 6184), Opus.

The forwarder asks two questions of a payload it never decodes: does this packet start a frame, and does
it start a keyframe (a frame a decoder can start from)? Each function takes the packet's bytes and the
payload's bounds (``RtpHeader.payload_offset`` / ``payload_end``), so nothing is copied, and looks at the
first few bytes only.

- **VP8**: the payload descriptor; a frame starts where S=1 and PID=0, and that first packet also carries
  the VP8 payload header, whose P bit is 0 on a keyframe. :class:`Vp8Descriptor` parses and serialises the
  whole descriptor (picture id, TL0PICIDX, TID/Y, KEYIDX) for the picture-id rewriting in
  :mod:`media.rewrite`.
- **H.264** (packetization-mode 1: single NAL unit, STAP-A, FU-A): a keyframe starts at a packet that
  carries an SPS, or the first slice of an IDR picture (``first_mb_in_slice`` = 0, the first bit after the
  NAL header). Requiring the first slice matters: an IDR picture of several slices spans several packets
  that all say "IDR", and starting from the second one loses the first. A browser sends SPS and PPS in a
  STAP-A just before the IDR slice, so two packets of one keyframe qualify; the first in sequence order is
  the one to start from, and the rewriter starts at the first it sees. The second still helps a stream
  whose parameter sets travel only in the SDP. For the same reason a first slice counts as a frame start
  although parameter sets or an SEI may precede it: for H.264 the authoritative boundary is the RTP
  marker bit (last packet of a frame) or a change of timestamp.
- **Opus**: every packet is a frame and decodable on its own.
"""

from __future__ import annotations

import enum
from typing import NamedTuple

from media.rtp import MalformedPacket

__all__ = [
    "Codec",
    "Vp8Descriptor",
    "h264_is_frame_start",
    "h264_is_keyframe",
    "h264_nal_types",
    "is_frame_start",
    "is_keyframe",
    "vp8_descriptor_size",
    "vp8_is_frame_start",
    "vp8_is_keyframe",
    "vp8_picture_ids",
]


class Codec(enum.Enum):
    """The codecs a room can use, by their SDP encoding name."""

    VP8 = "VP8"
    H264 = "H264"
    OPUS = "opus"

    @classmethod
    def from_mime(cls, mime_type: str) -> Codec:
        """``video/VP8``, ``video/H264`` or ``audio/opus`` (any case) → the codec; ValueError otherwise."""
        name = mime_type.rpartition("/")[2].lower()
        for codec in cls:
            if codec.value.lower() == name:
                return codec
        raise ValueError(f"unsupported codec {mime_type!r}")

    @property
    def is_video(self) -> bool:
        """Whether forwarding has to start at a keyframe."""
        return self is not Codec.OPUS

    @property
    def clock_rate(self) -> int:
        """The RTP clock rate (Hz)."""
        return 48000 if self is Codec.OPUS else 90000


def vp8_descriptor_size(data: bytes, start: int, end: int) -> int:
    """Length of the VP8 payload descriptor at ``data[start:end]``; :class:`MalformedPacket` when it is
    empty or the descriptor is cut off."""
    if start >= end:
        raise MalformedPacket("VP8 payload is empty")
    if not data[start] & 0x80:
        return 1
    if start + 2 > end:
        raise MalformedPacket("VP8 descriptor is truncated after its X bit")
    ext = data[start + 1]
    size = 2
    if ext & 0x80:
        if start + 3 > end:
            raise MalformedPacket("VP8 picture id is truncated")
        size += 2 if data[start + 2] & 0x80 else 1
    if ext & 0x40:
        size += 1
    if ext & 0x30:
        size += 1
    if start + size > end:
        raise MalformedPacket("VP8 descriptor is truncated")
    return size


def vp8_picture_ids(data: bytes, start: int = 0, end: int | None = None) -> tuple[int, int, int]:
    """(picture id, its width in bits, TL0PICIDX) of a VP8 payload, without building a descriptor.

    The width is 7 or 15, or 0 without a picture id (which is then -1); TL0PICIDX is -1 when absent.
    """
    stop = len(data) if end is None else end
    vp8_descriptor_size(data, start, stop)
    if not data[start] & 0x80:
        return -1, 0, -1
    ext = data[start + 1]
    pos = start + 2
    picture_id = -1
    bits = 0
    if ext & 0x80:
        if data[pos] & 0x80:
            picture_id = ((data[pos] & 0x7F) << 8) | data[pos + 1]
            bits = 15
            pos += 2
        else:
            picture_id = data[pos]
            bits = 7
            pos += 1
    return picture_id, bits, data[pos] if ext & 0x40 else -1


def vp8_is_frame_start(data: bytes, start: int = 0, end: int | None = None) -> bool:
    """Whether the VP8 packet starts a frame (S=1, PID=0)."""
    stop = len(data) if end is None else end
    vp8_descriptor_size(data, start, stop)
    return data[start] & 0x17 == 0x10


_VP8_START_CODE = b"\x9d\x01\x2a"
_VP8_KEYFRAME_HEADER = 10  # frame tag (3), start code (3), width and height (2 + 2)


def vp8_is_keyframe(data: bytes, start: int = 0, end: int | None = None) -> bool:
    """Whether the VP8 packet starts a keyframe: S=1, PID=0 and the payload header's P bit is 0.

    A keyframe's first packet must also carry the rest of its 10-byte header (RFC 6386 §9.1: the 3-byte
    frame tag, the start code 9d 01 2a, width and height); one that does not is :class:`MalformedPacket`,
    so that nobody is started on a keyframe no decoder can use.
    """
    stop = len(data) if end is None else end
    size = vp8_descriptor_size(data, start, stop)
    if data[start] & 0x17 != 0x10:
        return False
    header = start + size
    if header >= stop:
        raise MalformedPacket("VP8 frame start has no payload header")
    if data[header] & 0x01:
        return False
    if header + _VP8_KEYFRAME_HEADER > stop or data[header + 3 : header + 6] != _VP8_START_CODE:
        raise MalformedPacket("VP8 keyframe without its start code and dimensions")
    return True


class Vp8Descriptor(NamedTuple):
    """The VP8 payload descriptor (RFC 7741 §4.2), parsed and serialisable.

    ``picture_id_bits`` is 7 or 15 when a picture id is present (0 otherwise); :meth:`__bytes__` writes
    the same width, so ``Vp8Descriptor.parse(bytes(d)) == d``, except that an X byte announcing no field is
    not written back. ``size`` is the parsed length in bytes.
    """

    start_of_partition: bool
    partition_id: int = 0
    non_reference: bool = False
    picture_id: int | None = None
    picture_id_bits: int = 0
    tl0picidx: int | None = None
    temporal_id: int | None = None
    layer_sync: bool = False
    key_index: int | None = None
    size: int = 0

    @classmethod
    def parse(cls, data: bytes, start: int = 0, end: int | None = None) -> Vp8Descriptor:
        """The descriptor at the start of the VP8 payload ``data[start:end]``."""
        stop = len(data) if end is None else end
        size = vp8_descriptor_size(data, start, stop)
        first = data[start]
        picture_id = tl0picidx = temporal_id = key_index = None
        bits = 0
        layer_sync = False
        if first & 0x80:
            ext = data[start + 1]
            pos = start + 2
            if ext & 0x80:
                if data[pos] & 0x80:
                    picture_id = ((data[pos] & 0x7F) << 8) | data[pos + 1]
                    bits = 15
                    pos += 2
                else:
                    picture_id = data[pos]
                    bits = 7
                    pos += 1
            if ext & 0x40:
                tl0picidx = data[pos]
                pos += 1
            if ext & 0x30:
                byte = data[pos]
                if ext & 0x20:
                    temporal_id = byte >> 6
                    layer_sync = bool(byte & 0x20)
                if ext & 0x10:
                    key_index = byte & 0x1F
        return cls(
            first & 0x10 != 0,
            first & 0x07,
            first & 0x20 != 0,
            picture_id,
            bits,
            tl0picidx,
            temporal_id,
            layer_sync,
            key_index,
            size,
        )

    @property
    def is_frame_start(self) -> bool:
        """S=1 and PID=0: the first packet of a frame."""
        return self.start_of_partition and self.partition_id == 0

    def __bytes__(self) -> bytes:
        first = (0x20 if self.non_reference else 0) | (0x10 if self.start_of_partition else 0)
        first |= self.partition_id & 0x07
        ext = 0
        tail = bytearray()
        if self.picture_id is not None:
            ext |= 0x80
            if self.picture_id_bits == 7:
                tail.append(self.picture_id & 0x7F)
            else:
                tail += (0x8000 | (self.picture_id & 0x7FFF)).to_bytes(2, "big")
        if self.tl0picidx is not None:
            ext |= 0x40
            tail.append(self.tl0picidx & 0xFF)
        if self.temporal_id is not None or self.key_index is not None:
            byte = 0
            if self.temporal_id is not None:
                ext |= 0x20
                byte |= (self.temporal_id & 0x03) << 6 | (0x20 if self.layer_sync else 0)
            if self.key_index is not None:
                ext |= 0x10
                byte |= self.key_index & 0x1F
            tail.append(byte)
        if not ext:
            return bytes((first,))
        return bytes((first | 0x80, ext)) + tail


_NAL_SPS = 7
_NAL_IDR = 5
_NAL_STAP_A = 24
_NAL_FU_A = 28
_AU_START_TYPES = frozenset((6, 7, 8, 9))  # SEI, SPS, PPS, access unit delimiter
_SLICE_TYPES = frozenset((1, 5))


def h264_nal_types(data: bytes, start: int = 0, end: int | None = None) -> list[tuple[int, bool]]:
    """The NAL units an H.264 packet starts, as (nal_unit_type, first_mb_in_slice_is_0) pairs.

    A single NAL unit packet gives one pair, a STAP-A one per aggregated unit, an FU-A one for its first
    fragment and none for the others; packetization-mode 2 types (STAP-B, MTAP, FU-B) give none. The
    boolean is meaningful for slices (types 1 and 5) only.
    """
    stop = len(data) if end is None else end
    if start >= stop:
        raise MalformedPacket("H.264 payload is empty")
    nal_type = data[start] & 0x1F
    if 1 <= nal_type <= 23:
        return [(nal_type, start + 1 < stop and data[start + 1] >= 0x80)]
    if nal_type == _NAL_FU_A:
        if start + 2 > stop:
            raise MalformedPacket("H.264 FU-A header is truncated")
        header = data[start + 1]
        if not header & 0x80:
            return []
        return [(header & 0x1F, start + 2 < stop and data[start + 2] >= 0x80)]
    if nal_type == _NAL_STAP_A:
        units = []
        pos = start + 1
        while pos + 2 <= stop:
            size = (data[pos] << 8) | data[pos + 1]
            pos += 2
            if size == 0 or pos + size > stop:
                raise MalformedPacket(f"H.264 STAP-A unit of {size} bytes overruns the packet")
            units.append((data[pos] & 0x1F, size > 1 and data[pos + 1] >= 0x80))
            pos += size
        if not units:
            raise MalformedPacket("H.264 STAP-A carries no NAL unit")
        return units
    return []


def h264_is_keyframe(data: bytes, start: int = 0, end: int | None = None) -> bool:
    """Whether the H.264 packet starts a keyframe: it carries an SPS or the first slice of an IDR picture."""
    for nal_type, first_slice in h264_nal_types(data, start, end):
        if nal_type == _NAL_SPS or (nal_type == _NAL_IDR and first_slice):
            return True
    return False


def h264_is_frame_start(data: bytes, start: int = 0, end: int | None = None) -> bool:
    """Whether the H.264 packet starts an access unit: its first NAL unit is an SEI, SPS, PPS or access
    unit delimiter, or the first slice of a picture."""
    units = h264_nal_types(data, start, end)
    if not units:
        return False
    nal_type, first_slice = units[0]
    return nal_type in _AU_START_TYPES or (nal_type in _SLICE_TYPES and first_slice)


def is_keyframe(codec: Codec, data: bytes, start: int = 0, end: int | None = None) -> bool:
    """Whether the packet starts a frame a decoder can start from (always true for Opus)."""
    if codec is Codec.VP8:
        return vp8_is_keyframe(data, start, end)
    if codec is Codec.H264:
        return h264_is_keyframe(data, start, end)
    return True


def is_frame_start(codec: Codec, data: bytes, start: int = 0, end: int | None = None) -> bool:
    """Whether the packet is the first of a frame (always true for Opus: one frame per packet)."""
    if codec is Codec.VP8:
        return vp8_is_frame_start(data, start, end)
    if codec is Codec.H264:
        return h264_is_frame_start(data, start, end)
    return True
