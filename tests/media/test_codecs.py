"""media.codecs: VP8 descriptors against aiortc, keyframes in real encoder output checked by a decoder."""

from __future__ import annotations

import contextlib
import fractions
import random
import struct
from collections.abc import Callable
from typing import cast

import av
import pytest
from aiortc.codecs.h264 import H264Encoder, h264_depayload
from aiortc.codecs.vpx import Vp8Encoder, VpxPayloadDescriptor, vp8_depayload
from aiortc.rtp import RtpPacket
from av.video.codeccontext import VideoCodecContext

from media.codecs import (
    Codec,
    Vp8Descriptor,
    h264_is_frame_start,
    h264_is_keyframe,
    h264_nal_types,
    is_frame_start,
    is_keyframe,
    vp8_is_frame_start,
    vp8_is_keyframe,
    vp8_picture_ids,
)
from media.rtp import MalformedPacket, RtpHeader
from tests.media.packets import random_vp8_payload

SEED = 7741
FORCED_KEYFRAMES = (0, 4)

# (payloads of one encoded frame, whether the decoder says it is a keyframe)
EncodedFrames = list[tuple[list[bytes], bool]]


def encode(codec: str) -> EncodedFrames:
    """Six noisy 320×240 frames through aiortc's encoder, keyframes forced at 0 and 4, checked by FFmpeg."""
    rng = random.Random(SEED)
    encoder: Vp8Encoder | H264Encoder = Vp8Encoder() if codec == "vp8" else H264Encoder()
    depayload: Callable[[bytes], bytes] = vp8_depayload if codec == "vp8" else h264_depayload
    decoder = cast(VideoCodecContext, av.CodecContext.create(codec, "r"))
    frames: EncodedFrames = []
    for index in range(6):
        frame = av.VideoFrame(width=320, height=240, format="yuv420p")
        for plane in frame.planes:
            plane.update(rng.randbytes(plane.buffer_size))
        frame.pts = index * 3000
        frame.time_base = fractions.Fraction(1, 90000)
        payloads, _ = encoder.encode(frame, force_keyframe=index in FORCED_KEYFRAMES)
        [decoded] = decoder.decode(av.Packet(b"".join(depayload(payload) for payload in payloads)))
        frames.append((payloads, decoded.key_frame))
    return frames


@pytest.fixture(scope="module")
def vp8_frames() -> EncodedFrames:
    return encode("vp8")


@pytest.fixture(scope="module")
def h264_frames() -> EncodedFrames:
    return encode("h264")


@pytest.mark.parametrize("codec", [Codec.VP8, Codec.H264])
def test_keyframe_and_frame_start_in_real_encoder_output(
    codec: Codec, vp8_frames: EncodedFrames, h264_frames: EncodedFrames
) -> None:
    frames = vp8_frames if codec is Codec.VP8 else h264_frames
    assert [key for _, key in frames] == [index in FORCED_KEYFRAMES for index in range(6)]
    for payloads, key in frames:
        assert len(payloads) > 1
        for position, payload in enumerate(payloads):
            packet = RtpPacket(payload_type=96, sequence_number=position, payload=payload)
            packet.padding_size = 3 if position % 2 else 0
            data = packet.serialize()
            header = RtpHeader.parse(data)
            start, end = header.payload_offset, header.payload_end
            # H.264 keyframes: the packet with SPS and PPS, then the first packet of the IDR slice
            starts_key = key and (position == 0 or (codec is Codec.H264 and position == 1))
            assert is_keyframe(codec, data, start, end) == starts_key
            assert is_frame_start(codec, data, start, end) == (position == 0 or starts_key)


def test_vp8_descriptor_parses_like_aiortc_and_round_trips() -> None:
    rng = random.Random(SEED)
    for _ in range(500):
        payload, fields = random_vp8_payload(rng)
        descriptor = Vp8Descriptor.parse(payload)
        assert {name: getattr(descriptor, name) for name in fields} == fields
        if payload[0] & 0x80 and not payload[1]:  # an X byte announcing nothing is not written back
            assert bytes(descriptor) == bytes((payload[0] & 0x7F,))
        else:
            assert bytes(descriptor) == payload[: descriptor.size]
        oracle, rest = VpxPayloadDescriptor.parse(payload)
        assert rest == payload[descriptor.size :]
        assert oracle.partition_start == descriptor.start_of_partition
        assert oracle.partition_id == descriptor.partition_id
        assert oracle.picture_id == descriptor.picture_id
        assert oracle.tl0picidx == descriptor.tl0picidx
        assert oracle.keyidx == descriptor.key_index
        if descriptor.temporal_id is not None:
            assert oracle.tid == (descriptor.temporal_id, int(descriptor.layer_sync))
        assert descriptor.is_frame_start == vp8_is_frame_start(payload)
        picture_id = -1 if descriptor.picture_id is None else descriptor.picture_id
        tl0 = -1 if descriptor.tl0picidx is None else descriptor.tl0picidx
        assert vp8_picture_ids(payload) == (picture_id, descriptor.picture_id_bits, tl0)
        header = payload[descriptor.size :]
        if descriptor.is_frame_start and not header[0] & 1 and header[3:6] != b"\x9d\x01\x2a":
            with pytest.raises(MalformedPacket, match="start code"):
                vp8_is_keyframe(payload)
        else:
            assert vp8_is_keyframe(payload) == (descriptor.is_frame_start and not header[0] & 1)


def test_vp8_descriptor_inside_a_packet() -> None:
    payload = bytes((0x90, 0x80, 0x81, 0x02)) + KEYFRAME_HEADER
    data = b"header" + payload + b"\x00\x00\x03"
    descriptor = Vp8Descriptor.parse(data, 6, 6 + len(payload))
    assert (descriptor.picture_id, descriptor.picture_id_bits, descriptor.size) == (0x102, 15, 4)
    assert vp8_is_keyframe(data, 6, 6 + len(payload))
    assert not vp8_is_keyframe(b"\x10\x01")  # P=1: an interframe
    assert not vp8_is_keyframe(b"\x11\x00")  # PID=1: not the first partition
    assert not vp8_is_keyframe(b"\x00\x00")  # S=0: a continuation


VP8_MALFORMED = {
    "empty": b"",
    "X without extension byte": b"\x90",
    "I without picture id": b"\x90\x80",
    "15-bit picture id truncated": b"\x90\x80\x81",
    "L without TL0PICIDX": b"\x90\x40",
    "T without its byte": b"\x90\x20",
    "K without its byte": b"\x90\x10",
    "all of them truncated": b"\x90\xf0\x81\x02\x03",
}


@pytest.mark.parametrize("payload", VP8_MALFORMED.values(), ids=VP8_MALFORMED.keys())
def test_malformed_vp8_descriptors_raise(payload: bytes) -> None:
    for check in (Vp8Descriptor.parse, vp8_is_keyframe, vp8_is_frame_start, vp8_picture_ids):
        with pytest.raises(MalformedPacket):
            check(payload)


# A keyframe's 10-byte header: frame tag (P=0, show), start code, 640 x 480.
KEYFRAME_HEADER = b"\x50\x42\x00\x9d\x01\x2a\x80\x02\xe0\x01"


@pytest.mark.parametrize(
    "header",
    [KEYFRAME_HEADER[:3], KEYFRAME_HEADER[:9], b"\x50\x42\x00\x00\x00\x00\x80\x02\xe0\x01"],
    ids=["frame tag only", "dimensions cut short", "no start code"],
)
def test_a_vp8_keyframe_without_its_start_code_and_dimensions_raises(header: bytes) -> None:
    assert vp8_is_keyframe(b"\x10" + KEYFRAME_HEADER)
    with pytest.raises(MalformedPacket, match="start code"):
        vp8_is_keyframe(b"\x10" + header)
    assert not vp8_is_keyframe(b"\x10\x01" + header[2:])  # P=1: an interframe needs no start code


def test_vp8_frame_start_without_payload_header_raises() -> None:
    with pytest.raises(MalformedPacket, match="payload header"):
        vp8_is_keyframe(b"\x10")
    assert vp8_is_frame_start(b"\x10")


SPS = bytes((0x67, 0x42, 0xC0, 0x1F))
PPS = bytes((0x68, 0xCE, 0x3C, 0x80))
IDR_FIRST = bytes((0x65, 0x88, 0x84))  # first_mb_in_slice = 0: the first bit after the NAL header is 1
IDR_LATER = bytes((0x65, 0x0A, 0x84))  # first_mb_in_slice > 0
P_FIRST = bytes((0x41, 0x9A, 0x02))


def stap_a(*units: bytes) -> bytes:
    return b"\x78" + b"".join(struct.pack("!H", len(unit)) + unit for unit in units)


def fu_a(unit: bytes, *, start: bool, end: bool = False) -> bytes:
    header = (0x80 if start else 0) | (0x40 if end else 0) | (unit[0] & 0x1F)
    return bytes(((unit[0] & 0xE0) | 28, header)) + unit[1:]


H264_CASES = {
    # name: (payload, keyframe, frame start)
    "SPS alone": (SPS, True, True),
    "PPS alone": (PPS, False, True),
    "IDR, first slice": (IDR_FIRST, True, True),
    "IDR, later slice": (IDR_LATER, False, False),
    "P slice, first": (P_FIRST, False, True),
    "SEI": (b"\x06\x05\x01", False, True),
    "access unit delimiter": (b"\x09\xf0", False, True),
    "STAP-A with SPS, PPS, IDR": (stap_a(SPS, PPS, IDR_FIRST), True, True),
    "STAP-A with PPS and a later IDR slice": (stap_a(PPS, IDR_LATER), False, True),
    "FU-A start of first IDR slice": (fu_a(IDR_FIRST, start=True), True, True),
    "FU-A start of later IDR slice": (fu_a(IDR_LATER, start=True), False, False),
    "FU-A middle of IDR": (fu_a(IDR_FIRST, start=False), False, False),
    "FU-A end of IDR": (fu_a(IDR_FIRST, start=False, end=True), False, False),
    "FU-A start of P slice": (fu_a(P_FIRST, start=True), False, True),
    "STAP-B (mode 2)": (b"\x79\x00\x01" + SPS, False, False),
    "FU-B (mode 2)": (b"\x7d\x85\x00\x01\x88", False, False),
    "reserved type 0": (b"\x00\x01", False, False),
}


@pytest.mark.parametrize(("payload", "key", "start"), H264_CASES.values(), ids=H264_CASES.keys())
def test_h264_packets(payload: bytes, key: bool, start: bool) -> None:
    assert h264_is_keyframe(payload) is key
    assert h264_is_frame_start(payload) is start
    assert is_keyframe(Codec.H264, b"xx" + payload, 2) is key


def test_h264_nal_types() -> None:
    assert h264_nal_types(stap_a(SPS, PPS, IDR_FIRST)) == [(7, False), (8, True), (5, True)]
    assert h264_nal_types(fu_a(IDR_LATER, start=True)) == [(5, False)]
    assert h264_nal_types(fu_a(IDR_LATER, start=False)) == []


H264_MALFORMED = {
    "empty": b"",
    "FU-A without header": b"\x7c",
    "STAP-A unit overrun": b"\x78\x00\x09" + SPS,
    "STAP-A empty unit": b"\x78\x00\x00" + SPS,
    "STAP-A without unit": b"\x78",
}


@pytest.mark.parametrize("payload", H264_MALFORMED.values(), ids=H264_MALFORMED.keys())
def test_malformed_h264_raises(payload: bytes) -> None:
    for check in (h264_is_keyframe, h264_is_frame_start):
        with pytest.raises(MalformedPacket):
            check(payload)


def test_opus_packets_are_always_keyframes_and_frame_starts() -> None:
    assert is_keyframe(Codec.OPUS, b"\xfc\xff\xfe")
    assert is_frame_start(Codec.OPUS, b"")


def test_codec_from_mime() -> None:
    assert Codec.from_mime("video/VP8") is Codec.VP8
    assert Codec.from_mime("video/h264") is Codec.H264
    assert Codec.from_mime("audio/opus") is Codec.OPUS
    assert Codec.OPUS.clock_rate == 48000
    assert not Codec.OPUS.is_video
    assert Codec.VP8.clock_rate == 90000
    assert Codec.VP8.is_video
    with pytest.raises(ValueError, match="unsupported"):
        Codec.from_mime("video/AV1")


def test_random_payloads_raise_only_malformed_packet() -> None:
    rng = random.Random(SEED + 1)
    checks = (
        vp8_is_keyframe,
        vp8_is_frame_start,
        vp8_picture_ids,
        Vp8Descriptor.parse,
        h264_is_keyframe,
        h264_is_frame_start,
    )
    for _ in range(3000):
        payload = rng.randbytes(rng.randrange(0, 12))
        for check in checks:
            with contextlib.suppress(MalformedPacket):
                check(payload)
