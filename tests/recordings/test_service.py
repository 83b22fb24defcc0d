"""recordings.service: sealing with a manifest in the database and the audit trail, recovery after kill -9."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from cases.tables import AuditEvent
from recordings.locks import machine_lock
from recordings.manifest import ProblemKind
from recordings.segments import TrackKind
from recordings.service import (
    RecordingStatus,
    add_track,
    heartbeat,
    recording_directory,
    recover_interrupted,
    seal,
    start_recording,
    verify,
)
from recordings.tables import Recording
from recordings.writer import RecordingWriter
from rooms.tables import MediationSession
from store.database import Database
from tests.recordings.media import LiveCamera, decode_all, opus_packets
from tiaojie.clock import FrozenClock
from tiaojie.errors import Conflict

NODE = "node-test"


async def begin(
    db: Database, scene: dict[str, Any], clock: FrozenClock, *, part: str = "main", who: str = "worker"
) -> tuple[str, dict[str, str]]:
    """A recording of a part (default the main room) with one person's camera and microphone (default the
    worker's); (recording id, track ids)."""
    async with db.session() as session:
        mediation = await session.get(MediationSession, scene["session_id"])
        assert mediation is not None
        label = "主会场" if part == "main" else f"单独会谈 {part}"
        recording = await start_recording(
            session, mediation=mediation, part=part, label=label, node=NODE, at=clock.now()
        )
        worker = scene["ids"][who]
        cam = await add_track(
            session,
            recording,
            participant_id=worker,
            kind=TrackKind.VIDEO,
            source="camera",
            codec="vp8",
            at=clock.now(),
        )
        mic = await add_track(
            session,
            recording,
            participant_id=worker,
            kind=TrackKind.AUDIO,
            source="audio",
            codec="opus",
            at=clock.now(),
        )
        with pytest.raises(Conflict, match="already being recorded"):
            await start_recording(
                session, mediation=mediation, part=part, label="x", node=NODE, at=clock.now()
            )
        return recording.id, {"cam": cam.id, "mic": mic.id}


async def feed(writer: RecordingWriter, tracks: dict[str, str], clock: list[float], seconds: float) -> None:
    """Interleaved camera (honouring keyframe requests) and microphone packets, ``seconds`` long."""
    camera = LiveCamera()
    audio = opus_packets(int(seconds * 50))
    asked: list[str] = writer.asked  # type: ignore[attr-defined]
    events = sorted(
        [(i * 0.02, "a", i) for i in range(len(audio))] + [(i / 30, "v", i) for i in range(int(seconds * 30))]
    )
    start = clock[0]
    for at, kind, index in events:
        clock[0] = start + at
        if kind == "a":
            writer.on_packet(tracks["mic"], audio[index])
        else:
            wanted = tracks["cam"] in asked
            asked.clear()
            for packet in camera.next_frame(keyframe=wanted):
                writer.on_packet(tracks["cam"], packet)


def new_writer(directory: Path, tracks: dict[str, str]) -> tuple[RecordingWriter, list[float]]:
    clock = [100.0]
    asked: list[str] = []
    writer = RecordingWriter(directory, segment_ms=2_000, now=lambda: clock[0], request_keyframe=asked.append)
    writer.asked = asked  # type: ignore[attr-defined]
    writer.add_track(tracks["cam"], TrackKind.VIDEO)
    writer.add_track(tracks["mic"], TrackKind.AUDIO)
    return writer, clock


async def record_and_seal(
    db: Database,
    scene: dict[str, Any],
    clock: FrozenClock,
    media_root: Path,
    seconds: float = 3.0,
    *,
    part: str = "main",
    who: str = "worker",
) -> str:
    """A sealed recording of ``seconds`` of one person's camera and microphone (default the worker's, in the
    main room); its id."""
    recording_id, tracks = await begin(db, scene, clock, part=part, who=who)
    async with db.read() as session:
        recording = await session.get(Recording, recording_id)
        assert recording is not None
        directory = recording_directory(media_root, recording)
    writer, fake_clock = new_writer(directory, tracks)
    await feed(writer, tracks, fake_clock, seconds)
    segments = await writer.close()
    async with db.session() as session:
        recording = await session.get(Recording, recording_id)
        assert recording is not None
        await seal(
            session, recording, segments=segments, ended_at=clock.now(), interrupted=False, retention_days=30
        )
    return recording_id


async def test_a_sealed_recording_has_a_manifest_and_detects_tampering(
    db: Database,
    scene: dict[str, Any],
    clock: FrozenClock,
    tmp_path: Path,
) -> None:
    recording_id, tracks = await begin(db, scene, clock)
    async with db.read() as session:
        recording = await session.get(Recording, recording_id)
        assert recording is not None
        directory = recording_directory(tmp_path, recording)
    writer, fake_clock = new_writer(directory, tracks)
    await feed(writer, tracks, fake_clock, 4.0)
    segments = await writer.close()
    async with db.session() as session:
        recording = await session.get(Recording, recording_id)
        assert recording is not None
        manifest = await seal(
            session, recording, segments=segments, ended_at=clock.now(), interrupted=False, retention_days=180
        )
        with pytest.raises(Conflict, match="already sealed"):
            await seal(
                session,
                recording,
                segments=segments,
                ended_at=clock.now(),
                interrupted=False,
                retention_days=1,
            )
    assert sorted(t.source for t in manifest.tracks) == ["audio", "camera"]
    assert [p["role"] for p in manifest.participants] == ["applicant"]
    assert manifest.duration_ms == pytest.approx(4000, rel=0.02)
    async with db.read() as session:
        stored = await session.get(Recording, recording_id)
        assert stored is not None
        assert stored.status == RecordingStatus.COMPLETE
        assert stored.manifest_sha256 == manifest.digest()
        assert stored.bytes == sum(s.bytes for t in manifest.tracks for s in t.segments)
        audit = (
            await session.scalars(
                select(AuditEvent).where(AuditEvent.subject_id == recording_id).order_by(AuditEvent.id)
            )
        ).all()
        assert [e.action for e in audit] == ["recording_started", "recording_sealed"]
        assert audit[-1].data["manifest_sha256"] == manifest.digest()
        assert await asyncio.to_thread(verify, stored, tmp_path) == []
        victim = directory / manifest.tracks[0].segments[-1].file
        data = bytearray(victim.read_bytes())
        data[len(data) // 2] ^= 0xFF
        victim.write_bytes(bytes(data))
        problems = await asyncio.to_thread(verify, stored, tmp_path)
        assert [(p.kind, p.file) for p in problems] == [(ProblemKind.CONTENT_CHANGED, victim.name)]


CHILD = """
import asyncio, sys
from pathlib import Path
from tests.recordings.test_service import feed, new_writer

async def main():
    directory, cam, mic = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
    tracks = {"cam": cam, "mic": mic}
    writer, clock = new_writer(directory, tracks)
    await feed(writer, tracks, clock, 5.0)
    await writer.flush()
    print("written", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)

asyncio.run(main())
"""


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_kill_9_mid_recording_is_recovered_as_interrupted(
    db: Database,
    scene: dict[str, Any],
    clock: FrozenClock,
    tmp_path: Path,
) -> None:
    recording_id, tracks = await begin(db, scene, clock)
    directory = tmp_path / "recordings" / recording_id
    root = Path(__file__).resolve().parents[2]
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        CHILD,
        str(directory),
        tracks["cam"],
        tracks["mic"],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert child.stdout is not None
        assert (await asyncio.wait_for(child.stdout.readline(), 40)).strip() == b"written"
    finally:
        child.send_signal(signal.SIGKILL)
        await child.wait()

    async def recover(node: str = NODE) -> list[str]:
        return await recover_interrupted(db, media_root=tmp_path, node=node, clock=clock, retention_days=30)

    assert await recover("another-node") == []
    # A recording whose writer renewed its heartbeat lately is left alone: it may still be running.
    assert await recover() == []
    clock.advance(timedelta(seconds=30))
    await heartbeat(db, [recording_id], clock.now())
    clock.advance(timedelta(seconds=40))
    assert await recover() == []
    clock.advance(timedelta(seconds=10))
    with machine_lock(tmp_path / "recordings" / ".recovery.lock") as mine:  # another process is at it
        assert mine
        assert await recover() == []
    assert await recover() == [recording_id]
    assert await recover() == []
    async with db.read() as session:
        recording = await session.get(Recording, recording_id)
        assert recording is not None
        assert recording.status == RecordingStatus.INTERRUPTED
        assert recording.note is not None
        assert "recovered" in recording.note
        manifest = recording.manifest
        assert manifest is not None
        assert manifest["interrupted"] is True
        # The crash cost at most the open cluster of each track: about a second of five.
        for track in manifest["tracks"]:
            assert track["duration_ms"] >= 3_800, track
            for segment in track["segments"]:
                frames, _, _ = decode_all(str(directory / segment["file"]))
                assert frames == segment["frames"]
        assert await asyncio.to_thread(verify, recording, tmp_path) == []
