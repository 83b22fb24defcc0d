"""media.rtp: the header view and the rewriter against aiortc's parser, malformed input, wrap-around."""

from __future__ import annotations

import random
import struct

import pytest
from aiortc.rtp import RtpPacket, pack_header_extensions, unpack_header_extensions

from media.rtp import (
    ONE_BYTE_PROFILE,
    TWO_BYTE_PROFILE,
    MalformedPacket,
    RtpHeader,
    abs_send_time,
    encode_extensions,
    rewrite,
    seq_add,
    seq_diff,
    seq_gt,
    seq_unwrap,
    ts_add,
    ts_diff,
    ts_gt,
)
from tests.media.packets import RtpSpec, build_rtp, random_rtp

SEED = 20260302
PACKETS = 400


def random_packets(seed: int = SEED, count: int = PACKETS) -> list[tuple[RtpSpec, bytes]]:
    rng = random.Random(seed)
    specs = [random_rtp(rng) for _ in range(count)]
    return [(spec, build_rtp(spec)) for spec in specs]


def assert_same_as_aiortc(header: RtpHeader, data: bytes) -> None:
    oracle = RtpPacket.parse(data)
    assert header.marker == bool(oracle.marker)
    assert header.payload_type == oracle.payload_type
    assert header.sequence_number == oracle.sequence_number
    assert header.timestamp == oracle.timestamp
    assert header.ssrc == oracle.ssrc
    assert list(header.csrcs()) == oracle.csrc
    assert header.payload == oracle.payload
    assert header.padding_size == oracle.padding_size
    if header.extension_profile is not None:
        block = data[header.extension_start : header.extension_end]
        assert header.extensions() == dict(unpack_header_extensions(header.extension_profile, block))


def test_parse_matches_aiortc_and_the_spec_on_random_packets() -> None:
    for spec, data in random_packets():
        header = RtpHeader.parse(data)
        assert_same_as_aiortc(header, data)
        assert header.sequence_number == spec.seq
        assert header.csrcs() == tuple(spec.csrcs)
        assert header.payload == spec.payload
        assert header.padding == bool(spec.padding)
        assert header.extensions() == dict(spec.extensions)
        assert header.extension_profile == spec.extension_profile


def test_constructor_and_parse_agree() -> None:
    data = build_rtp(RtpSpec(seq=9, csrcs=[1], padding=2))
    assert repr(RtpHeader(data)) == repr(RtpHeader.parse(data))


def test_padding_only_packet() -> None:
    header = RtpHeader.parse(build_rtp(RtpSpec(payload=b"", padding=255)))
    assert header.payload_size == 0
    assert header.padding_size == 255


def test_rewrite_matches_aiortc_on_random_packets() -> None:
    rng = random.Random(SEED + 1)
    for _, data in random_packets(SEED + 2):
        original = RtpHeader.parse(data)
        ssrc, seq, ts = rng.randrange(1 << 32), rng.randrange(1 << 16), rng.randrange(1 << 32)
        extensions = {
            rng.randrange(1, 15): rng.randbytes(rng.randrange(1, 17)) for _ in range(rng.randrange(3))
        }
        if rng.random() < 0.2:
            extensions[rng.randrange(15, 256)] = b""
        payload_type = rng.choice((None, rng.randrange(128)))
        out = rewrite(
            data, ssrc=ssrc, seq=seq, timestamp=ts, payload_type=payload_type, extensions=extensions
        )
        header = RtpHeader.parse(out)
        assert_same_as_aiortc(header, out)
        assert (header.ssrc, header.sequence_number, header.timestamp) == (ssrc, seq, ts)
        assert header.payload_type == (original.payload_type if payload_type is None else payload_type)
        assert header.marker == original.marker
        assert header.csrcs() == original.csrcs()
        assert header.extensions() == extensions
        assert header.payload == original.payload
        assert out[header.payload_end :] == data[original.payload_end :]


def test_rewrite_without_extensions_is_a_new_fixed_header_and_the_original_tail() -> None:
    data = build_rtp(RtpSpec(seq=7, extension_profile=ONE_BYTE_PROFILE, extensions=[(3, b"abc")], padding=4))
    header = RtpHeader.parse(data)
    out = rewrite(data, ssrc=9, seq=65536 + 5, timestamp=(1 << 32) + 3)
    assert out[:12] == struct.pack("!BBHII", 0xA0, 96, 5, 3, 9)
    assert out[12:] == data[header.payload_offset :]
    assert rewrite(data, ssrc=9, seq=5, timestamp=3, extensions={}) == out


def test_rewrite_can_replace_the_payload_and_keeps_padding() -> None:
    data = build_rtp(RtpSpec(csrcs=[1, 2], payload=b"old payload", padding=3, marker=True))
    out = rewrite(data, ssrc=1, seq=2, timestamp=3, payload=b"new", extensions={1: b"x"})
    header = RtpHeader.parse(out)
    assert header.payload == b"new"
    assert header.padding_size == 3
    assert header.csrcs() == (1, 2)
    assert header.marker
    assert header.extensions() == {1: b"x"}


def test_encode_extensions_matches_aiortc() -> None:
    rng = random.Random(SEED + 3)
    for _ in range(300):
        one_byte = rng.random() < 0.6
        ids = rng.sample(range(1, 15 if one_byte else 256), rng.randrange(1, 6))
        elements = [
            (ext_id, rng.randbytes(rng.randrange(1, 17) if one_byte else rng.randrange(1, 60)))
            for ext_id in ids
        ]
        profile, value = pack_header_extensions(elements)
        assert encode_extensions(dict(elements)) == struct.pack("!HH", profile, len(value) // 4) + value


def test_encode_extensions_picks_the_form() -> None:
    assert encode_extensions({}) == b""
    assert encode_extensions({1: b"m"})[:2] == struct.pack("!H", ONE_BYTE_PROFILE)
    assert encode_extensions({14: bytes(16)})[:2] == struct.pack("!H", ONE_BYTE_PROFILE)
    assert encode_extensions({15: b"m"})[:2] == struct.pack("!H", TWO_BYTE_PROFILE)
    assert encode_extensions({1: bytes(17)})[:2] == struct.pack("!H", TWO_BYTE_PROFILE)
    assert encode_extensions({1: b""})[:2] == struct.pack("!H", TWO_BYTE_PROFILE)
    for bad in ({0: b"x"}, {256: b"x"}, {1: bytes(256)}):
        with pytest.raises(ValueError, match="fits neither"):
            encode_extensions(bad)


def test_one_byte_extensions_stop_at_id_15_and_skip_padding() -> None:
    block = bytes((0x00, 0x10, 0xAA, 0x00, 0x00, 0xF0, 0x20, 0xBB))
    data = build_rtp(RtpSpec())[:12]
    data = bytes((data[0] | 0x10,)) + data[1:] + struct.pack("!HH", ONE_BYTE_PROFILE, 2) + block + b"payload"
    header = RtpHeader.parse(data)
    assert header.extensions() == {1: b"\xaa"}
    assert header.payload == b"payload"


def test_two_byte_profile_appbits_are_ignored() -> None:
    spec = RtpSpec(extension_profile=0x1003, extensions=[(200, b""), (1, b"xyz")])
    assert RtpHeader.parse(build_rtp(spec)).extensions() == {200: b"", 1: b"xyz"}


def test_unknown_extension_profile_gives_no_elements() -> None:
    data = build_rtp(RtpSpec(extension_profile=0x1234, extensions=[(1, b"abc")]))
    header = RtpHeader.parse(data)
    assert header.extensions() == {}
    assert header.extension(1) is None
    assert header.payload == RtpSpec().payload


def test_extension_lookup_and_repr() -> None:
    header = RtpHeader.parse(
        build_rtp(RtpSpec(seq=3, extension_profile=ONE_BYTE_PROFILE, extensions=[(2, b"a")]))
    )
    assert header.extension(2) == b"a"
    assert header.extension(3) is None
    assert "seq=3" in repr(header)


GOOD = build_rtp(RtpSpec(payload=b"0123456789"))
FIXED_X = bytes((0x90,)) + GOOD[1:12]
MALFORMED = {
    "empty": b"",
    "short header": GOOD[:11],
    "version 0": bytes((0x00,)) + GOOD[1:],
    "version 1": bytes((0x40,)) + GOOD[1:],
    "version 3": bytes((0xC0,)) + GOOD[1:],
    "csrc overrun": bytes((0x83,)) + GOOD[1:12] + bytes(8),
    "extension header truncated": FIXED_X + b"\xbe\xde",
    "extension block overrun": FIXED_X + struct.pack("!HH", ONE_BYTE_PROFILE, 3) + bytes(8),
    "padding count 0": bytes((0xA0,)) + GOOD[1:-1] + b"\x00",
    "padding longer than payload": bytes((0xA0,)) + GOOD[1:12] + b"ab\x04",
    "padding into the header": bytes((0xA0,)) + GOOD[1:12] + b"\x0d",
}


@pytest.mark.parametrize("data", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_packets_raise(data: bytes) -> None:
    with pytest.raises(MalformedPacket):
        RtpHeader.parse(data)
    with pytest.raises(MalformedPacket):
        rewrite(data, ssrc=1, seq=1, timestamp=1, payload=b"x")


ELEMENT_OVERRUNS = {
    "one-byte value past the block": (ONE_BYTE_PROFILE, bytes((0x13, 1, 2, 3))),
    "two-byte without length": (TWO_BYTE_PROFILE, bytes((0, 0, 0, 7))),
    "two-byte value past the block": (TWO_BYTE_PROFILE, bytes((7, 5, 1, 2))),
}


@pytest.mark.parametrize(("profile", "block"), ELEMENT_OVERRUNS.values(), ids=ELEMENT_OVERRUNS.keys())
def test_extension_element_overruns_raise(profile: int, block: bytes) -> None:
    data = FIXED_X + struct.pack("!HH", profile, len(block) // 4) + block + b"payload"
    header = RtpHeader.parse(data)
    assert header.payload == b"payload"
    with pytest.raises(MalformedPacket, match="extension"):
        header.extensions()


def test_truncated_and_corrupted_packets_raise_only_malformed_packet() -> None:
    rng = random.Random(SEED + 4)
    for _, data in random_packets(SEED + 5, 60):
        candidates = [data[:cut] for cut in range(min(len(data), 80))]
        for _ in range(30):
            corrupted = bytearray(data)
            for _ in range(rng.randrange(1, 4)):
                corrupted[rng.randrange(min(len(data), 40))] = rng.randrange(256)
            candidates.append(bytes(corrupted))
        for candidate in candidates:
            try:
                header = RtpHeader.parse(candidate)
                header.extensions()
                header.csrcs()
                rewrite(candidate, ssrc=1, seq=2, timestamp=3, extensions={1: b"m"}, payload=b"p")
            except MalformedPacket:
                pass


def test_sequence_numbers_wrap_at_65535() -> None:
    assert seq_diff(0, 65535) == 1
    assert seq_diff(65535, 0) == -1
    assert seq_diff(5, 65530) == 11
    assert seq_gt(0, 65535)
    assert not seq_gt(65535, 0)
    assert not seq_gt(7, 7)
    assert not seq_gt(0, 32768)
    assert not seq_gt(32768, 0)
    assert seq_add(65535, 1) == 0
    assert seq_add(0, -1) == 65535
    assert seq_unwrap(65535, 0) == 65536
    assert seq_unwrap(65536, 65535) == 65535
    assert seq_unwrap(3 * 65536 + 10, 65530) == 3 * 65536 - 6
    rng = random.Random(SEED + 6)
    for _ in range(1000):
        a, b = rng.randrange(1 << 16), rng.randrange(1 << 16)
        d = seq_diff(a, b)
        assert -32768 <= d <= 32767
        assert seq_add(b, d) == a
        assert seq_gt(a, b) == (d > 0)


def test_timestamps_wrap_at_2_to_the_32() -> None:
    top = (1 << 32) - 1
    assert ts_diff(0, top) == 1
    assert ts_diff(top, 0) == -1
    assert ts_gt(5, top - 5)
    assert not ts_gt(top - 5, 5)
    assert ts_add(top, 1) == 0
    assert ts_add(0, -90000) == (1 << 32) - 90000
    rng = random.Random(SEED + 7)
    for _ in range(1000):
        a, b = rng.randrange(1 << 32), rng.randrange(1 << 32)
        assert ts_add(b, ts_diff(a, b)) == a
        assert ts_gt(a, b) == (ts_diff(a, b) > 0)


def test_abs_send_time_is_6_18_fixed_point_and_wraps_every_64_seconds() -> None:
    assert abs_send_time(0.0) == b"\x00\x00\x00"
    assert abs_send_time(1.0) == b"\x04\x00\x00"
    assert abs_send_time(1.5) == b"\x06\x00\x00"
    assert abs_send_time(64.0 + 1 / (1 << 18)) == b"\x00\x00\x01"
