"""The load generator's frame counting from RTP headers alone (bench/media_clients.StreamCount)."""

from __future__ import annotations

import struct

from bench.media_clients import StreamCount


def header(seq: int, marker: bool, timestamp: int = 0) -> bytes:
    return struct.pack("!BBHII", 0x80, (0x80 if marker else 0) | 96, seq & 0xFFFF, timestamp, 0x1234)


def feed(count: StreamCount, packets: list[tuple[int, bool]], now: float = 1.0) -> None:
    for seq, marker in packets:
        count.add(header(seq, marker), now)


def test_frames_whose_every_packet_arrived_are_whole_across_the_sequence_wrap() -> None:
    count = StreamCount(video=True)
    feed(count, [(65533, False), (65534, True), (65535, False), (0, False), (1, True), (2, True)], now=5.0)
    assert (count.packets, count.whole, count.broken) == (6, 3, 0)
    assert count.first_whole == 5.0


def test_a_frame_with_a_missing_packet_is_broken_and_the_next_one_whole_again() -> None:
    count = StreamCount(video=True)
    feed(count, [(10, False), (11, True), (12, False), (14, True), (15, False), (16, True)])
    assert (count.whole, count.broken) == (2, 1)


def test_the_first_frame_counts_from_the_first_packet_seen() -> None:
    count = StreamCount(video=True)
    feed(count, [(100, True)])
    assert count.whole == 1
    late = StreamCount(video=True)
    feed(late, [(7, False), (9, True)])  # 8 never came
    assert (late.whole, late.broken, late.first_whole) == (0, 1, None)


def test_audio_counts_packets_only() -> None:
    count = StreamCount(video=False)
    feed(count, [(1, True), (3, True)])
    assert (count.packets, count.whole, count.broken) == (2, 0, 0)
