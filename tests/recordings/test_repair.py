"""recordings.repair: a segment cut off by kill -9 keeps what was written up to its last cluster."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from recordings.repair import repair_segment
from tests.recordings.media import decode_all

# Writes 120 frames (4 s at 30 fps) of a one-segment video track, says so, then waits to be killed.
WRITER = """
import sys
from pathlib import Path
from recordings.frames import Vp8Assembler
from recordings.segments import TrackFile, TrackKind
from tests.recordings.media import vp8_stream

video = vp8_stream(150, keyframes={60})
assembler = Vp8Assembler()
track = TrackFile(Path(sys.argv[1]), "camera", TrackKind.VIDEO)
written = 0
for packet in video.packets:
    for frame in assembler.push(packet):
        pts = (frame.timestamp - 5000) // 90
        if written == 0:
            track.start_segment(pts, frame.data)
        else:
            track.write(pts, frame.data, keyframe=frame.keyframe)
        written += 1
        if written == 120:
            print("written", flush=True)
            sys.stdin.read()
"""


def test_kill_9_mid_segment_then_repair(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    child = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(tmp_path)],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "written"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
        for stream in (child.stdin, child.stdout):
            if stream:
                stream.close()
    segment = tmp_path / "camera-0000.webm"
    result = repair_segment(segment)
    assert result.path == segment
    # Everything but the open cluster (at most about a second) survived, and all of it decodes.
    assert 120 - 31 <= result.frames <= 120
    frames, seconds, size = decode_all(str(segment))
    assert frames == result.frames
    assert size == (320, 240)
    assert result.first_ms == 0
    assert abs(result.last_ms - (result.frames - 1) * 1000 / 30) <= 2
    assert seconds > 2.9
    assert not list(tmp_path.glob("*.repairing"))
    # Repairing a sound file again changes nothing it holds.
    again = repair_segment(segment)
    assert (again.frames, again.last_ms) == (result.frames, result.last_ms)


def test_a_file_with_nothing_readable_is_set_aside(tmp_path: Path) -> None:
    broken = tmp_path / "camera-0003.webm"
    broken.write_bytes(b"\x1a\x45\xdf\xa3" + os.urandom(64))
    result = repair_segment(broken)
    assert result.empty
    assert not broken.exists()
    assert result.path.name == "camera-0003.webm.unreadable"
    assert result.path.exists()
