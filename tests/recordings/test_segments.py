"""recordings.segments: when segments are cut, and real WebM files that decode from every segment's start."""

from __future__ import annotations

from pathlib import Path

import pytest

from recordings.frames import OpusFrames, Vp8Assembler
from recordings.segments import SegmentInfo, SegmentPlan, TrackFile, TrackKind, file_sha256
from tests.recordings.media import decode_all, opus_packets, vp8_stream


def test_video_plan_waits_for_a_keyframe_and_cuts_only_at_one() -> None:
    plan = SegmentPlan(TrackKind.VIDEO, segment_ms=10_000)
    assert plan.accept(0, keyframe=False) is None
    assert plan.wants_keyframe(0)
    assert not plan.wants_keyframe(1_000)  # asked a moment ago
    assert plan.wants_keyframe(2_500)
    assert plan.accept(3_000, keyframe=True) == "open"
    assert plan.accept(3_033, keyframe=False) == "write"
    assert not plan.wants_keyframe(11_000)  # the segment is not due for another second
    assert plan.wants_keyframe(12_000)
    assert plan.accept(13_000, keyframe=False) == "write"  # due, but a segment starts only at a keyframe
    assert plan.accept(13_100, keyframe=True) == "rotate"
    assert not plan.wants_keyframe(13_200)


def test_audio_plan_cuts_by_time_and_never_asks_for_keyframes() -> None:
    plan = SegmentPlan(TrackKind.AUDIO, segment_ms=4_000)
    assert plan.accept(500, keyframe=True) == "open"
    assert plan.accept(4_480, keyframe=True) == "write"
    assert plan.accept(4_500, keyframe=True) == "rotate"
    assert not plan.wants_keyframe(9_000)
    with pytest.raises(ValueError, match="two seconds"):
        SegmentPlan(TrackKind.AUDIO, segment_ms=1_000)


def record(
    directory: Path, kind: TrackKind, frames: list[tuple[int, bool, bytes]], segment_ms: int
) -> list[SegmentInfo]:
    plan = SegmentPlan(kind, segment_ms)
    track = TrackFile(directory, kind.value, kind)
    closed: list[SegmentInfo] = []
    for pts, keyframe, data in frames:
        action = plan.accept(pts, keyframe)
        if action in ("open", "rotate"):
            segment = track.start_segment(pts, data)
            if segment is not None:
                closed.append(segment)
        elif action == "write":
            track.write(pts, data, keyframe=keyframe)
    last = track.close()
    assert last is not None
    return [*closed, last]


def test_video_segments_each_decode_from_their_start(tmp_path: Path) -> None:
    video = vp8_stream(150, keyframes={30, 60, 90, 120})  # five seconds, a keyframe every second
    assembler = Vp8Assembler()
    frames = []
    for packet in video.packets:
        for frame in assembler.push(packet):
            frames.append(((frame.timestamp - 5000) // 90, frame.keyframe, frame.data))
    segments = record(tmp_path, TrackKind.VIDEO, frames, segment_ms=2_000)
    assert [s.start_ms for s in segments] == [0, 2000, 4000]
    assert [s.frames for s in segments] == [60, 60, 30]
    assert [s.duration_ms for s in segments[:2]] == [2000, 2000]
    assert 960 <= segments[2].duration_ms <= 1010
    for segment in segments:
        path = tmp_path / segment.file
        assert segment.bytes == path.stat().st_size
        assert segment.sha256 == file_sha256(path)
        decoded, _, size = decode_all(str(path))
        assert decoded == segment.frames
        assert size == (320, 240)


def test_audio_segments_decode_with_their_duration(tmp_path: Path) -> None:
    opus = OpusFrames()
    frames = [(f.timestamp // 48, True, f.data) for p in opus_packets(250) for f in opus.push(p)]  # 5 s
    segments = record(tmp_path, TrackKind.AUDIO, frames, segment_ms=2_000)
    assert [s.start_ms for s in segments] == [0, 2000, 4000]
    assert sum(s.duration_ms for s in segments) == 5000
    for segment in segments:
        decoded, seconds, _ = decode_all(str(tmp_path / segment.file))
        assert decoded == segment.frames
        assert seconds * 1000 == pytest.approx(segment.start_ms + segment.duration_ms, abs=21)


def test_a_video_segment_must_open_on_a_keyframe(tmp_path: Path) -> None:
    video = vp8_stream(2)
    frames = Vp8Assembler()
    data = [f.data for p in video.packets for f in frames.push(p)]
    track = TrackFile(tmp_path, "v", TrackKind.VIDEO)
    with pytest.raises(ValueError, match="keyframe"):
        track.start_segment(0, data[1])
    with pytest.raises(RuntimeError, match="no segment"):
        track.write(0, data[1], keyframe=False)
    assert track.close() is None
