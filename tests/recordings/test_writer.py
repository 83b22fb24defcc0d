"""recordings.writer: a browser-like camera and a microphone recorded into segments on the writer thread."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiortc.rtp import RtpPacket

from media.rtp import RtpHeader
from recordings import writer as writer_module
from recordings.segments import TrackKind
from recordings.writer import RecordingWriter, TrackStats
from tests.recordings.media import LiveCamera, decode_all, opus_packets


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def record_session(directory: Path, seconds: float, *, segment_ms: int = 2_000) -> dict[str, object]:
    """Six seconds of 30 fps video and 50 packets/s of audio, interleaved as they would arrive."""
    clock = Clock()
    asked: list[str] = []
    writer = RecordingWriter(directory, segment_ms=segment_ms, now=clock, request_keyframe=asked.append)
    writer.add_track("cam", TrackKind.VIDEO)
    writer.add_track("mic", TrackKind.AUDIO)
    camera = LiveCamera()
    audio = opus_packets(int(seconds * 50), first_ts=123_456)
    clock.now += 0.040  # the microphone's first packet arrives 40 ms after the recording starts
    audio_at = [clock.now + i * 0.020 for i in range(len(audio))]
    video_at = [clock.now + 0.010 + i / 30 for i in range(int(seconds * 30))]
    events = sorted(
        [(t, "a", i) for i, t in enumerate(audio_at)] + [(t, "v", i) for i, t in enumerate(video_at)]
    )
    for at, kind, index in events:
        clock.now = at
        if kind == "a":
            writer.on_packet("mic", audio[index])
        else:
            wanted = bool(asked) and "cam" in asked
            asked.clear()
            for packet in camera.next_frame(keyframe=wanted and index > 0):
                writer.on_packet("cam", packet)
    segments = await writer.close()
    return {"segments": segments, "writer": writer, "camera": camera}


async def test_camera_and_microphone_are_recorded_in_aligned_segments(tmp_path: Path) -> None:
    result = await record_session(tmp_path, 6.0)
    segments = result["segments"]
    assert isinstance(segments, dict)
    video, audio = segments["cam"], segments["mic"]
    camera = result["camera"]
    assert isinstance(camera, LiveCamera)
    # The camera sent keyframes only on request, and every segment after the first starts with one of them.
    assert len(video) >= 3
    # No keyframe asked for was wasted: the first frame, the recorder's first request, one per later segment.
    assert len(camera.keyframes) == len(video) + 1
    for segment in video[:-1]:
        assert 1_800 <= segment.duration_ms <= 2_000
    for segment in video:
        frames, _, size = decode_all(str(tmp_path / segment.file))
        assert frames == segment.frames
        assert size == (320, 240)
    assert sum(s.frames for s in video) == 180
    # Both tracks cover the session's six seconds within 2 % and start within 100 ms of each other.
    video_span = video[-1].start_ms + video[-1].duration_ms - video[0].start_ms
    audio_span = audio[-1].start_ms + audio[-1].duration_ms - audio[0].start_ms
    assert video_span == pytest.approx(6000, rel=0.02)
    assert audio_span == pytest.approx(6000, rel=0.02)
    assert audio[0].start_ms == 40
    assert abs(video[0].start_ms - audio[0].start_ms) < 100
    assert len(audio) == 3
    for segment in audio:
        frames, _, _ = decode_all(str(tmp_path / segment.file))
        assert frames == segment.frames
    writer = result["writer"]
    assert isinstance(writer, RecordingWriter)
    assert writer.backlog_bytes == 0
    assert writer.failures() == {}
    # What the metrics read (Recorder.load): every frame written counted, none dropped.
    for track, segments in (("cam", video), ("mic", audio)):
        stats = writer.stats(track)
        assert (stats.frames, stats.dropped_backlog) == (sum(s.frames for s in segments), 0)


async def test_a_full_backlog_drops_frames_instead_of_growing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(writer_module, "MAX_BACKLOG_BYTES", 1)  # the disk never keeps up
    result = await record_session(tmp_path, 1.0)
    writer = result["writer"]
    assert isinstance(writer, RecordingWriter)
    assert writer.stats("cam").dropped_backlog == 30
    assert writer.stats("mic").dropped_backlog == 50
    assert writer.stats("cam").keyframe_requests > 1
    assert result["segments"] == {"cam": [], "mic": []}
    assert writer.backlog_bytes == 0
    assert writer.stats("mic") == TrackStats(frames=0, dropped_backlog=50, keyframe_requests=0)


async def test_the_sink_takes_what_the_forwarder_parsed(tmp_path: Path) -> None:
    # As SourceTrack.on_rtp hands them over: aiortc's parse of each packet, whose payload has no padding.
    clock = Clock()
    writer = RecordingWriter(tmp_path, segment_ms=60_000, now=clock, request_keyframe=lambda _: None)
    writer.add_track("cam", TrackKind.VIDEO)
    sink = writer.sink("cam")
    camera = LiveCamera()
    for index in range(60):
        clock.now += 1 / 30
        for packet in camera.next_frame():
            padded = RtpPacket.parse(packet.data)
            padded.padding_size = 1 + index % 8  # a sender may pad any packet
            parsed = RtpPacket.parse(padded.serialize())
            assert parsed.payload == packet.payload
            sink(parsed.sequence_number, parsed.timestamp, parsed.marker, parsed.payload)
    [segment] = (await writer.close())["cam"]
    assert segment.frames == 60
    frames, _, size = decode_all(str(tmp_path / segment.file))
    assert (frames, size) == (60, (320, 240))
    sink(camera.seq, 0, 1, b"\x10\x00")  # after the close: ignored
    assert writer.stats("cam").frames == 60


async def test_an_unwritable_directory_is_reported_not_raised(tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("a file where the recording's directory should be")
    result = await record_session(blocked, 0.5)
    writer = result["writer"]
    assert isinstance(writer, RecordingWriter)
    assert set(writer.failures()) == {"cam", "mic"}
    assert result["segments"] == {"cam": [], "mic": []}


async def test_tracks_are_added_once_and_not_after_close(tmp_path: Path) -> None:
    writer = RecordingWriter(tmp_path, segment_ms=2_000, now=Clock(), request_keyframe=lambda _: None)
    writer.add_track("mic", TrackKind.AUDIO)
    with pytest.raises(ValueError, match="already"):
        writer.add_track("mic", TrackKind.AUDIO)
    writer.on_packet("unknown", opus_packets(1)[0])  # ignored
    assert await writer.close() == {"mic": []}
    with pytest.raises(RuntimeError, match="closed"):
        writer.add_track("cam", TrackKind.VIDEO)


def _play(
    writer: RecordingWriter,
    clock: Clock,
    asked: list[str],
    camera: LiveCamera,
    audio: list[RtpHeader],
    seconds: float,
) -> None:
    """``seconds`` of the camera (30 fps, a keyframe when the writer asked) and the microphone, interleaved
    as they would arrive, from the clock's now."""
    start = clock.now
    events = sorted(
        [(start + i * 0.020, "a", i) for i in range(len(audio))]
        + [(start + 0.010 + i / 30, "v", i) for i in range(int(seconds * 30))]
    )
    for at, kind, index in events:
        clock.now = at
        if kind == "a":
            writer.on_packet("mic", audio[index])
        else:
            wanted = "cam" in asked
            asked.clear()
            for packet in camera.next_frame(keyframe=wanted and index > 0):
                writer.on_packet("cam", packet)
    clock.now = start + seconds


async def test_a_publisher_who_reconnects_goes_on_in_the_same_files(tmp_path: Path) -> None:
    """A reconnect is a new stream: other sequence numbers (here far behind the old ones, which the old
    stream's state would take for late duplicates for minutes) and a timestamp that starts again. After
    ``restart_track`` the same files go on, anchored afresh: nothing of either stream is lost."""
    clock = Clock()
    asked: list[str] = []
    writer = RecordingWriter(tmp_path, segment_ms=2_000, now=clock, request_keyframe=asked.append)
    writer.add_track("cam", TrackKind.VIDEO)
    writer.add_track("mic", TrackKind.AUDIO)
    _play(writer, clock, asked, LiveCamera(first_seq=40_000), opus_packets(150, first_ts=123_456), 3.0)
    writer.restart_track("cam")
    writer.restart_track("mic")
    assert "cam" in asked  # the new stream is recorded from its first keyframe: ask for it
    _play(writer, clock, asked, LiveCamera(first_seq=1_000), opus_packets(150, first_seq=3, first_ts=5), 3.0)
    segments = await writer.close()
    video, audio = segments["cam"], segments["mic"]
    assert sum(s.frames for s in audio) == 300
    assert sum(s.frames for s in video) >= 175  # all but what was in flight at the cut
    video_span = video[-1].start_ms + video[-1].duration_ms - video[0].start_ms
    audio_span = audio[-1].start_ms + audio[-1].duration_ms - audio[0].start_ms
    assert video_span == pytest.approx(6000, rel=0.03)
    assert audio_span == pytest.approx(6000, rel=0.03)
    for segment in video:
        frames, _, _ = decode_all(str(tmp_path / segment.file))
        assert frames == segment.frames
    assert writer.failures() == {}


async def test_a_lost_packet_mid_segment_asks_for_a_keyframe_at_once(tmp_path: Path) -> None:
    """A packet lost for good: the frames wait for a keyframe, and the writer asks for one as soon as it gives
    the lost packet up (after its reorder window), not when the (here one-minute) segment is due."""
    clock = Clock()
    asked_at: list[float] = []
    writer = RecordingWriter(
        tmp_path, segment_ms=60_000, now=clock, request_keyframe=lambda _: asked_at.append(clock.now)
    )
    writer.add_track("cam", TrackKind.VIDEO)
    camera = LiveCamera()
    lost_at = 0.0
    for index in range(240):  # 8 s at 30 fps, never a keyframe after the first (the camera is not told)
        clock.now += 1 / 30
        for position, packet in enumerate(camera.next_frame()):
            if index == 60 and position == 0:  # the first packet of frame 60 never arrives
                lost_at = clock.now
                continue
            writer.on_packet("cam", packet)
    after = [at - lost_at for at in asked_at if at > lost_at]
    assert after, "no keyframe asked for after the loss"
    assert after[0] < 2.0  # the reorder window (512 packets, about a second here), then at once
    assert len(after) >= 2  # and again every KEYFRAME_RETRY_MS while none comes
    await writer.close()
