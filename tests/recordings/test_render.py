"""recordings.render: a recorded three-person session rendered into one watchable, checked MP4."""

from __future__ import annotations

from pathlib import Path

import av
import pytest

from recordings.manifest import Manifest, TrackEntry
from recordings.render import RenderOptions, check_rendering, grid, render
from recordings.segments import TrackKind
from recordings.writer import RecordingWriter
from tests.recordings.media import LiveCamera, opus_packets


def test_grid_layouts() -> None:
    assert grid(0, 1280, 720) == []
    assert grid(1, 1280, 720) == [(0, 0, 1280, 720)]
    assert grid(2, 1280, 720) == [(0, 0, 640, 720), (640, 0, 640, 720)]
    three = grid(3, 1280, 720)
    assert three[:2] == [(0, 0, 640, 360), (640, 0, 640, 360)]
    assert three[2] == (320, 360, 640, 360)  # the short last row is centred
    for x, y, w, h in grid(7, 1280, 720):
        assert x % 2 == y % 2 == w % 2 == h % 2 == 0
        assert x + w <= 1280
        assert y + h <= 720


async def record(directory: Path) -> Manifest:
    """Four seconds: A with camera and microphone, B heard only, C's camera from the second second on."""
    clock = [50.0]
    asked: list[str] = []
    writer = RecordingWriter(directory, segment_ms=2_000, now=lambda: clock[0], request_keyframe=asked.append)
    for track, kind in (("a_cam", TrackKind.VIDEO), ("a_mic", TrackKind.AUDIO), ("b_mic", TrackKind.AUDIO)):
        writer.add_track(track, kind)
    cameras = {"a_cam": LiveCamera(), "c_cam": LiveCamera(size=(256, 192))}
    mics = {"a_mic": opus_packets(200, first_seq=1), "b_mic": opus_packets(200, first_seq=900)}
    start = clock[0]
    for step in range(4 * 150):  # 150 steps a second: video every 5th step, audio every 3rd
        clock[0] = start + step / 150
        if step == 150:
            writer.add_track("c_cam", TrackKind.VIDEO)
        if step % 3 == 0:
            for name, packets in mics.items():
                writer.on_packet(name, packets[step // 3])
        if step % 5 == 0:
            for name, camera in cameras.items():
                if name == "c_cam" and step < 150:
                    continue
                wanted = name in asked
                for packet in camera.next_frame(keyframe=wanted):
                    writer.on_packet(name, packet)
            asked.clear()
    segments = await writer.close()
    people = {"a_cam": "p_a", "a_mic": "p_a", "b_mic": "p_b", "c_cam": "p_c"}
    return Manifest(
        recording_id="rec_r",
        session_id="ses_r",
        case_id="cas_r",
        part="main",
        label="主会场",
        started_at="2026-03-02T09:00:00+08:00",
        ended_at="2026-03-02T09:00:04+08:00",
        interrupted=False,
        participants=(
            {"id": "p_a", "role": "mediator", "name": "李调解"},
            {"id": "p_b", "role": "applicant", "name": "张三"},
            {"id": "p_c", "role": "respondent", "name": "某某公司"},
        ),
        tracks=tuple(
            TrackEntry(
                name,
                people[name],
                "video" if "cam" in name else "audio",
                "camera" if "cam" in name else "audio",
                "vp8" if "cam" in name else "opus",
                tuple(segments[name]),
            )
            for name in ("a_cam", "a_mic", "b_mic", "c_cam")
        ),
    )


def luma(frame: av.VideoFrame, x: int, y: int, w: int, h: int) -> tuple[float, int]:
    """Mean and spread of the Y plane over a region (sampled every 4th pixel)."""
    plane = frame.planes[0]
    data = bytes(plane)
    values = [data[row * plane.line_size + col] for row in range(y, y + h, 4) for col in range(x, x + w, 4)]
    return sum(values) / len(values), max(values) - min(values)


def frames_at(path: Path, seconds: tuple[float, ...]) -> dict[float, av.VideoFrame]:
    found: dict[float, av.VideoFrame] = {}
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            assert frame.time is not None
            for wanted in seconds:
                if wanted not in found and frame.time >= wanted:
                    found[wanted] = frame.reformat(format="yuv420p")
    return found


async def test_a_session_renders_to_a_checked_grid_with_mixed_audio(tmp_path: Path) -> None:
    manifest = await record(tmp_path / "files")
    assert manifest.duration_ms == pytest.approx(4000, rel=0.02)
    seen: list[float] = []
    options = RenderOptions(width=640, height=360, fps=15)
    result = render(
        manifest, tmp_path / "files", tmp_path / "out" / "playback.mp4", options=options, progress=seen.append
    )
    assert result.path.exists()
    assert not list((tmp_path / "out").glob("*.partial"))
    assert seen[0] == 0.0
    assert seen[-1] == 1.0
    assert seen == sorted(seen)
    check = check_rendering(result.path, manifest.duration_ms)
    assert check.ok, check.reason
    assert check.video_frames == result.video_frames == manifest.duration_ms * 15 // 1000
    assert check.audio_ms == pytest.approx(manifest.duration_ms, abs=100)
    with av.open(str(result.path)) as container:
        assert container.streams.video[0].codec_context.name == "h264"
        assert container.streams.audio[0].codec_context.name == "aac"
    # Tiles: A (camera) top-left, C (camera from 1 s) top-right, B (heard only) centred below.
    boxes = grid(3, 640, 360)
    frames = frames_at(result.path, (0.5, 3.0))
    (ax, ay, aw, ah), (cx, cy, cw, ch), (bx, by, bw, bh) = boxes
    label = 28
    a_mean, a_spread = luma(frames[0.5], ax + 40, ay + 20, aw - 80, ah - label - 40)
    assert a_spread > 60  # the noisy camera picture
    c_before = luma(frames[0.5], cx + 40, cy + 40, cw - 80, ch - label - 60)  # below the clock
    assert c_before[1] < 8  # dark: C had not joined yet
    c_after = luma(frames[3.0], cx + 60, cy + 40, cw - 120, ch - label - 70)
    assert c_after[1] > 60
    b_tile = luma(frames[3.0], bx + 40, by + 20, bw - 80, bh // 2 - 30)
    assert b_tile[1] < 8  # heard, not seen: dark, with an "audio only" note in the middle
    assert luma(frames[3.0], bx + (bw - 160) // 2, by + bh // 2, 160, label)[1] > 60
    name_bar = luma(frames[3.0], bx, by + bh - label, bw, label)
    assert name_bar[1] > 60  # text on the bar
    assert a_mean > 0


async def test_the_check_refuses_a_short_or_broken_rendering(tmp_path: Path) -> None:
    manifest = await record(tmp_path / "files")
    result = render(
        manifest, tmp_path / "files", tmp_path / "p.mp4", options=RenderOptions(width=320, height=180)
    )
    too_long = check_rendering(result.path, manifest.duration_ms + 2_000)
    assert not too_long.ok
    assert too_long.reason is not None
    assert "video lasts" in too_long.reason
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(result.path.read_bytes()[: result.bytes // 3])
    assert not check_rendering(broken, manifest.duration_ms).ok
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(b"not a video at all")
    assert not check_rendering(garbage, 1000).ok
    with pytest.raises(ValueError, match="no media"):
        render(
            Manifest("r", "s", "c", "main", "", manifest.started_at, manifest.ended_at, False, (), ()),
            tmp_path,
            tmp_path / "none.mp4",
        )
