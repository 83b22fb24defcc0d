"""Packet factories for the media tests, written independently of the code under test (plain ``struct``)."""

from __future__ import annotations

import random
import struct
from dataclasses import dataclass, field

__all__ = ["RtpSpec", "build_rtp", "random_rtp", "random_vp8_payload"]


@dataclass
class RtpSpec:
    """Everything that goes into one RTP packet."""

    payload_type: int = 96
    marker: bool = False
    seq: int = 0
    timestamp: int = 0
    ssrc: int = 0x11223344
    csrcs: list[int] = field(default_factory=list)
    extension_profile: int | None = None
    extensions: list[tuple[int, bytes]] = field(default_factory=list)
    extension_padding: int = 0
    payload: bytes = b"\x90\x80\x00payload"
    padding: int = 0


def _extension_block(spec: RtpSpec) -> bytes:
    body = bytearray()
    for ext_id, value in spec.extensions:
        if spec.extension_profile == 0xBEDE:
            body.append((ext_id << 4) | (len(value) - 1))
        else:
            body += bytes((ext_id, len(value)))
        body += value
        body += bytes(spec.extension_padding)
    body += bytes(-len(body) % 4)
    assert spec.extension_profile is not None
    return struct.pack("!HH", spec.extension_profile, len(body) // 4) + body


def build_rtp(spec: RtpSpec) -> bytes:
    """The bytes of ``spec``."""
    first = 0x80 | (0x20 if spec.padding else 0) | len(spec.csrcs)
    if spec.extension_profile is not None:
        first |= 0x10
    data = struct.pack(
        "!BBHII", first, (0x80 if spec.marker else 0) | spec.payload_type, spec.seq, spec.timestamp, spec.ssrc
    )
    data += b"".join(struct.pack("!I", csrc) for csrc in spec.csrcs)
    if spec.extension_profile is not None:
        data += _extension_block(spec)
    data += spec.payload
    if spec.padding:
        data += bytes(spec.padding - 1) + bytes((spec.padding,))
    return data


def random_rtp(rng: random.Random) -> RtpSpec:
    """A random valid packet: CSRCs, one- or two-byte extensions with padding bytes, padding, any payload."""
    spec = RtpSpec(
        payload_type=rng.randrange(128),
        marker=rng.random() < 0.3,
        seq=rng.randrange(1 << 16),
        timestamp=rng.randrange(1 << 32),
        ssrc=rng.randrange(1 << 32),
        csrcs=[rng.randrange(1 << 32) for _ in range(rng.choice((0, 0, 0, 1, 2, 15)))],
        payload=rng.randbytes(rng.randrange(0, 1300)),
        padding=rng.choice((0, 0, 0, 1, 4, 255)),
    )
    kind = rng.randrange(3)
    if kind:
        ids = rng.sample(range(1, 15 if kind == 1 else 256), rng.randrange(0, 5))
        spec.extension_profile = 0xBEDE if kind == 1 else 0x1000
        spec.extensions = [
            (ext_id, rng.randbytes(rng.randrange(1, 17) if kind == 1 else rng.randrange(0, 40)))
            for ext_id in ids
        ]
        spec.extension_padding = rng.choice((0, 0, 1, 3))
    return spec


def random_vp8_payload(rng: random.Random) -> tuple[bytes, dict[str, object]]:
    """A VP8 payload with a random descriptor, and its fields as ``Vp8Descriptor`` names them."""
    start_of_partition = rng.random() < 0.5
    partition_id = rng.choice((0, 0, 1, 7))
    non_reference = rng.random() < 0.2
    picture_id: int | None = None
    picture_id_bits = 0
    tl0picidx: int | None = None
    temporal_id: int | None = None
    layer_sync = False
    key_index: int | None = None
    first = (0x20 if non_reference else 0) | (0x10 if start_of_partition else 0) | partition_id
    if rng.random() < 0.8:
        ext = 0
        tail = bytearray()
        if rng.random() < 0.8:
            ext |= 0x80
            if rng.random() < 0.7:
                picture_id, picture_id_bits = rng.randrange(1 << 15), 15
                tail += struct.pack("!H", 0x8000 | picture_id)
            else:
                picture_id, picture_id_bits = rng.randrange(128), 7
                tail.append(picture_id)
        if rng.random() < 0.5:
            ext |= 0x40
            tl0picidx = rng.randrange(256)
            tail.append(tl0picidx)
        with_t, with_k = rng.random() < 0.5, rng.random() < 0.3
        if with_t or with_k:
            byte = 0
            if with_t:
                ext |= 0x20
                temporal_id, layer_sync = rng.randrange(4), rng.random() < 0.5
                byte |= temporal_id << 6 | (0x20 if layer_sync else 0)
            if with_k:
                ext |= 0x10
                key_index = rng.randrange(32)
                byte |= key_index
            tail.append(byte)
        descriptor = bytes((first | 0x80, ext)) + tail
    else:
        descriptor = bytes((first,))
    fields: dict[str, object] = {
        "start_of_partition": start_of_partition,
        "partition_id": partition_id,
        "non_reference": non_reference,
        "picture_id": picture_id,
        "picture_id_bits": picture_id_bits,
        "tl0picidx": tl0picidx,
        "temporal_id": temporal_id,
        "layer_sync": layer_sync,
        "key_index": key_index,
        "size": len(descriptor),
    }
    vp8_header = rng.randbytes(rng.randrange(3, 50))
    return descriptor + vp8_header, fields
