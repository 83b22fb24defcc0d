"""recordings.frames: VP8 frames reassembled from real encoder output, in spite of reordering and loss."""

from __future__ import annotations

import random

import av
import pytest
from aiortc.codecs.vpx import vp8_depayload

from media.rtp import RtpHeader
from recordings.frames import (
    EncodedFrame,
    OpusFrames,
    TimestampUnwrapper,
    Vp8Assembler,
    opus_head,
    vp8_dimensions,
)
from tests.recordings.media import EncodedVideo, opus_packets, vp8_stream


@pytest.fixture(scope="module")
def video() -> EncodedVideo:
    return vp8_stream(40, keyframes={20})


def expected(video: EncodedVideo, index: int) -> bytes:
    _, _, packets = video.frames[index]
    return b"".join(vp8_depayload(video.packets[i].data[video.packets[i].payload_offset :]) for i in packets)


def feed(assembler: Vp8Assembler, packets: list[RtpHeader]) -> list[EncodedFrame]:
    out: list[EncodedFrame] = []
    for packet in packets:
        out += assembler.push(packet)
    return out


def decodes(frames: list[EncodedFrame]) -> int:
    decoder = av.CodecContext.create("vp8", "r")
    return sum(len(decoder.decode(av.Packet(frame.data))) for frame in frames)


def test_in_order_packets_give_every_frame(video: EncodedVideo) -> None:
    frames = feed(Vp8Assembler(), video.packets)
    assert len(frames) == 40
    for index, frame in enumerate(frames):
        assert frame.data == expected(video, index)
        assert frame.keyframe == (index in (0, 20))
        assert frame.timestamp == video.frames[index][0]
    assert decodes(frames) == 40
    assert vp8_dimensions(frames[0].data) == (320, 240)
    assert vp8_dimensions(frames[1].data) is None


def test_reordered_and_duplicated_packets_give_the_same_frames(video: EncodedVideo) -> None:
    rng = random.Random(3)
    shuffled: list[RtpHeader] = []
    for start in range(0, len(video.packets), 8):  # reorder within blocks of eight, as a network might
        block = video.packets[start : start + 8]
        rng.shuffle(block)
        shuffled += block
        shuffled += rng.sample(block, 2)  # and deliver some twice
    assembler = Vp8Assembler()
    frames = feed(assembler, shuffled)
    assert [f.data for f in frames] == [expected(video, i) for i in range(40)]
    assert assembler.dropped == 0


def test_a_lost_packet_drops_frames_until_the_next_keyframe(video: EncodedVideo) -> None:
    _, _, lost_frame = video.frames[5]
    lost = lost_frame[0]
    assembler = Vp8Assembler(window=100)  # interframes here are 19 packets, keyframes 62
    frames = feed(assembler, [p for i, p in enumerate(video.packets) if i != lost])
    timestamps = [f.timestamp for f in frames]
    kept = [i for i in range(40) if i < 5 or i >= 20]
    assert timestamps == [video.frames[i][0] for i in kept]
    assert assembler.dropped >= 1
    assert not assembler.waiting_for_keyframe
    assert decodes(frames) == len(kept)


def renumbered(packets: list[tuple[int, int, bool, bytes]]) -> list[tuple[int, int, bool, bytes]]:
    """(seq, timestamp, marker, payload) with consecutive sequence numbers from the first one."""
    first = packets[0][0]
    return [((first + i) & 0xFFFF, ts, marker, payload) for i, (_, ts, marker, payload) in enumerate(packets)]


def fields(packet: RtpHeader) -> tuple[int, int, bool, bytes]:
    """What the forwarder hands the recorder."""
    return packet.sequence_number, packet.timestamp, packet.marker, packet.payload


def test_padding_packets_between_and_inside_frames_lose_nothing(video: EncodedVideo) -> None:
    # A browser probing for bandwidth sends padding-only packets (empty payload) with their own sequence
    # numbers: between frames (the last frame's timestamp) and, rarely, among a frame's packets.
    packets: list[tuple[int, int, bool, bytes]] = []
    for index, (timestamp, _, numbers) in enumerate(video.frames):
        frame = [fields(video.packets[i]) for i in numbers]
        if index % 3 == 1:
            frame.insert(1, (0, timestamp, False, b""))
        packets += frame
        if index % 4 == 0:
            packets += [(0, timestamp, False, b"")] * 2
    assembler = Vp8Assembler()
    frames = [frame for packet in renumbered(packets) for frame in assembler.take(*packet)]
    assert [f.data for f in frames] == [expected(video, i) for i in range(40)]
    assert assembler.dropped == assembler.malformed == 0


def test_frames_complete_on_their_marker_before_and_after_a_reordering(video: EncodedVideo) -> None:
    packets = [fields(p) for p in video.packets]
    _, _, fifth = video.frames[5]
    swapped = [*packets[: fifth[2]], packets[fifth[3]], packets[fifth[2]], *packets[fifth[3] + 1 :]]
    assembler = Vp8Assembler()
    completed_at: list[int] = []
    frames: list[EncodedFrame] = []
    for position, packet in enumerate(swapped):
        out = assembler.take(*packet)
        frames += out
        completed_at += [position] * len(out)
    assert [f.data for f in frames] == [expected(video, i) for i in range(40)]
    # Every frame, the reordered one too, came out with its marker packet: none waited for a later packet.
    assert completed_at == [numbers[-1] for _, _, numbers in video.frames]
    assert assembler.waiting == 0


def test_waits_for_a_keyframe_when_joining_mid_stream(video: EncodedVideo) -> None:
    _, _, third = video.frames[3]
    assembler = Vp8Assembler()
    assert assembler.waiting_for_keyframe
    frames = feed(assembler, video.packets[third[1] :])  # starts inside frame 3
    assert frames[0].timestamp == video.frames[20][0]
    assert frames[0].keyframe
    assert len(frames) == 20


def test_sequence_numbers_and_timestamps_wrap() -> None:
    wrapping = vp8_stream(12, first_seq=65530, first_ts=0xFFFFFFFF - 6000)
    frames = feed(Vp8Assembler(), wrapping.packets)
    assert len(frames) == 12
    assert [f.timestamp for f in frames] == [0xFFFFFFFF - 6000 + 3000 * i for i in range(12)]


def test_malformed_packets_are_counted_not_fatal(video: EncodedVideo) -> None:
    assembler = Vp8Assembler()
    broken = RtpHeader(video.packets[0].data[:12] + b"\x80")  # X bit set, descriptor cut off
    empty = RtpHeader(video.packets[0].data[:12] + b"\x10")  # a descriptor and no VP8 data
    assert assembler.push(broken) == ()
    assert assembler.push(empty) == ()
    assert assembler.malformed == 2
    assert len(feed(assembler, video.packets)) == 40


def test_timestamp_unwrapper() -> None:
    unwrap = TimestampUnwrapper()
    assert unwrap(0xFFFFFF00) == 0xFFFFFF00
    assert unwrap(0x00000100) == 0x1_00000100
    assert unwrap(0xFFFFFFF0) == 0xFFFFFFF0  # a late packet from before the wrap stays before it
    assert unwrap(0x00000200) == 0x1_00000200


def test_opus_frames_in_order_without_duplicates() -> None:
    packets = opus_packets(10, first_seq=65533)
    frames = OpusFrames()
    out: list[EncodedFrame] = []
    for packet in [*packets[:4], packets[2], *packets[4:]]:
        out += frames.push(packet)
    assert [f.timestamp for f in out] == [960 * i for i in range(10)]
    assert all(f.keyframe for f in out)


def test_opus_head() -> None:
    head = opus_head(2)
    assert head[:8] == b"OpusHead"
    assert len(head) == 19
    assert head[9] == 2
    with pytest.raises(ValueError, match="channels"):
        opus_head(3)
