"""Playback-rendering benchmark: how fast a recorded session becomes one watchable file.

Builds a recording the way the recorder stores it — per party a 640×480 30 fps VP8 camera track and an Opus
track, stream-copied into one-minute WebM segments — then renders it with :func:`recordings.render.render`
(the code the render job runs) and checks the result by decoding it end to end. Reports the rendering's
wall and CPU time and the real-time factor (seconds of session per second of rendering). The goal in issue 4
is at least 4× real time for a three-party 640×480 session on the project's 2-core machine.

    python -m bench.render [--parties 3] [--seconds 60] [--fps 15] [--size 1280x720] [--keep DIR]

Making the source media (encoding VP8 and Opus) is not timed. Everything stays in a temporary directory.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import av

from recordings.manifest import Manifest, TrackEntry
from recordings.render import RenderOptions, check_rendering, render
from recordings.segments import SegmentInfo, SegmentPlan, TrackFile, TrackKind

WIDTH, HEIGHT, FPS = 640, 480, 30


def _camera_frames(seconds: int, seed: int) -> list[tuple[int, bool, bytes]]:
    """(pts in ms, keyframe, VP8 data) of a moving gradient, keyframes every 2 s (as the recorder asks)."""
    encoder = av.CodecContext.create("libvpx", "w")
    encoder.width, encoder.height = WIDTH, HEIGHT
    encoder.pix_fmt = "yuv420p"
    encoder.time_base = Fraction(1, FPS)
    encoder.bit_rate = 600_000
    encoder.options = {"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0"}
    ramp = bytes((x * 3 + seed * 40) % 256 for x in range(WIDTH * 2)) * (HEIGHT + 64)
    frames: list[tuple[int, bool, bytes]] = []
    for index in range(seconds * FPS):
        frame = av.VideoFrame(WIDTH, HEIGHT, "yuv420p")
        shift = (index * 4) % (WIDTH * 2)
        luma = frame.planes[0]
        luma.update(ramp[shift : shift + luma.buffer_size])
        for chroma in frame.planes[1:]:
            chroma.update(bytes([128 + seed * 10]) * chroma.buffer_size)
        frame.pts = index
        frame.pict_type = (
            av.video.frame.PictureType.I if index % (2 * FPS) == 0 else av.video.frame.PictureType.NONE
        )
        for packet in encoder.encode(frame):
            data = bytes(packet)
            frames.append((int(packet.pts or 0) * 1000 // FPS, data[0] & 1 == 0, data))
    for packet in encoder.encode(None):
        data = bytes(packet)
        frames.append((int(packet.pts or 0) * 1000 // FPS, data[0] & 1 == 0, data))
    return frames


def _microphone_frames(seconds: int, seed: int) -> list[tuple[int, bool, bytes]]:
    encoder = av.CodecContext.create("libopus", "w")
    encoder.sample_rate = 48_000
    encoder.layout = "stereo"
    encoder.format = "s16"
    encoder.time_base = Fraction(1, 48_000)
    frames: list[tuple[int, bool, bytes]] = []
    tone = bytes((i * (seed + 3)) % 200 for i in range(960 * 4))
    for index in range(seconds * 50):
        frame = av.AudioFrame(format="s16", layout="stereo", samples=960)
        frame.sample_rate = 48_000
        frame.pts = index * 960
        frame.planes[0].update(tone)
        for packet in encoder.encode(frame):
            frames.append((int(packet.pts or 0) // 48, True, bytes(packet)))
    return frames


def _write_track(
    directory: Path, stem: str, kind: TrackKind, frames: list[tuple[int, bool, bytes]]
) -> tuple[SegmentInfo, ...]:
    plan = SegmentPlan(kind, 60_000)
    track = TrackFile(directory, stem, kind)
    segments: list[SegmentInfo] = []
    for pts, keyframe, data in frames:
        action = plan.accept(pts, keyframe)
        if action in ("open", "rotate"):
            closed = track.start_segment(pts, data)
            if closed is not None:
                segments.append(closed)
        elif action == "write":
            track.write(pts, data, keyframe=keyframe)
    last = track.close()
    if last is not None:
        segments.append(last)
    return tuple(segments)


def build_recording(directory: Path, parties: int, seconds: int) -> Manifest:
    tracks: list[TrackEntry] = []
    people = []
    for party in range(parties):
        pid = f"prt_{party}"
        people.append(
            {
                "id": pid,
                "role": ("mediator", "applicant", "respondent")[party % 3],
                "name": f"参与人{party + 1}",
            }
        )
        camera = _write_track(directory, f"cam{party}", TrackKind.VIDEO, _camera_frames(seconds, party))
        mic = _write_track(directory, f"mic{party}", TrackKind.AUDIO, _microphone_frames(seconds, party))
        tracks += [
            TrackEntry(f"cam{party}", pid, "video", "camera", "vp8", camera),
            TrackEntry(f"mic{party}", pid, "audio", "audio", "opus", mic),
        ]
    return Manifest(
        recording_id="rec_bench",
        session_id="ses_bench",
        case_id="cas_bench",
        part="main",
        label="bench",
        started_at="2026-11-28T09:00:00+08:00",
        ended_at="2026-11-28T09:01:00+08:00",
        interrupted=False,
        participants=tuple(people),
        tracks=tuple(tracks),
    )


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.render", description=__doc__.split("\n\n")[0])
    parser.add_argument("--parties", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--fps", type=int, default=15, help="output frame rate")
    parser.add_argument("--size", default="1280x720", help="output size")
    parser.add_argument("--keep", type=Path, help="keep the recording and the rendering in this directory")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON")
    args = parser.parse_args(argv)
    width, height = (int(v) for v in args.size.split("x"))
    root = Path(tempfile.mkdtemp(prefix="tiaojie-render-bench-"))
    try:
        print(f"load average {os.getloadavg()[0]:.2f}; making {args.parties} × {args.seconds} s of 640×480")
        manifest = build_recording(root / "files", args.parties, args.seconds)
        out = root / "playback.mp4"
        wall, cpu = time.perf_counter(), _cpu()
        result = render(
            manifest, root / "files", out, options=RenderOptions(width=width, height=height, fps=args.fps)
        )
        wall, cpu = time.perf_counter() - wall, _cpu() - cpu
        check = check_rendering(out, manifest.duration_ms)
        media_s = manifest.duration_ms / 1000
        figures = {
            "parties": args.parties,
            "session_seconds": round(media_s, 2),
            "output": f"{width}x{height}@{args.fps}",
            "render_wall_seconds": round(wall, 2),
            "render_cpu_seconds": round(cpu, 2),
            "realtime_factor": round(media_s / wall, 2),
            "cpu_per_session_second": round(cpu / media_s, 3),
            "output_bytes": result.bytes,
            "check_ok": check.ok,
            "check_reason": check.reason,
            "load_average_after": round(os.getloadavg()[0], 2),
        }
        print(f"rendered {media_s:.1f} s, {args.parties} parties, in {wall:.1f} s wall and {cpu:.1f} s CPU")
        print(f"real-time factor {media_s / wall:.2f}× (goal ≥ 4×); {cpu / media_s:.3f} CPU-s per second")
        print(f"output {result.bytes / 1e6:.1f} MB; decoded end to end: {'ok' if check.ok else check.reason}")
        if args.json:
            args.json.write_text(json.dumps(figures, indent=1), encoding="utf-8")
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            shutil.copytree(root, args.keep, dirs_exist_ok=True)
        return 0 if check.ok else 1
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
