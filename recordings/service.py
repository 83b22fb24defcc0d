"""Recordings in the database: start, tracks, sealing with a manifest, recovery after a crash, verification.

A recording's files live under ``<media root>/recordings/<recording id>/``; the row says which node writes
them, so that after a restart each node recovers only its own. Sealing computes the manifest (every segment's
place, size and SHA-256), stores it with its digest, and writes the digest into the append-only audit trail:
from then on :func:`verify` detects any change to the files or to the manifest.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import socket
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.principal import Principal
from cases import audit
from recordings.locks import machine_lock
from recordings.manifest import Manifest, Problem, TrackEntry, verify_files
from recordings.repair import repair_segment
from recordings.segments import SegmentInfo, TrackKind, file_sha256, frame_interval_ms
from recordings.tables import Recording, RecordingTrack
from rooms.tables import MediationSession, SessionParticipant
from store.database import Database
from tiaojie.clock import Clock
from tiaojie.errors import Conflict
from tiaojie.ids import new_id
from webhooks.events import EventType, recording_data
from webhooks.outbox import emit_for_case

__all__ = [
    "RecordingStatus",
    "add_track",
    "heartbeat",
    "local_node",
    "purge_expired",
    "recording_directory",
    "recover_interrupted",
    "seal",
    "start_recording",
    "verify",
]

_SEGMENT_NAME = re.compile(r"^(?P<track>[a-z]+_[0-9A-Z]{26})-(?P<index>\d{4,})\.webm$")
HEARTBEAT_SECONDS = 10.0
STALE_SECONDS = 45.0


class RecordingStatus:
    RECORDING = "recording"
    COMPLETE = "complete"
    INTERRUPTED = "interrupted"
    DELETED = "deleted"


def local_node() -> str:
    """The name under which this machine writes recordings (its files are on its own disk)."""
    return socket.gethostname() or "localhost"


def recording_directory(media_root: Path, recording: Recording) -> Path:
    return media_root / recording.directory


async def start_recording(
    session: AsyncSession,
    *,
    mediation: MediationSession,
    part: str,
    label: str,
    node: str,
    at: datetime,
) -> Recording:
    """A new recording of ``part`` ("main" or a sub-room id) of a running session."""
    active = await session.scalar(
        select(Recording.id).where(
            Recording.session_id == mediation.id,
            Recording.part == part,
            Recording.status == RecordingStatus.RECORDING,
        )
    )
    if active is not None:
        raise Conflict("this part of the session is already being recorded", code="already_recording")
    recording_id = new_id("rec")
    recording = Recording(
        id=recording_id,
        session_id=mediation.id,
        case_id=mediation.case_id,
        part=part,
        label=label,
        status=RecordingStatus.RECORDING,
        node=node,
        directory=f"recordings/{recording_id}",
        started_at=at,
        heartbeat_at=at,
    )
    session.add(recording)
    await audit.record(
        session,
        actor=Principal.system("recorder"),
        at=at,
        subject_type="recording",
        subject_id=recording.id,
        case_id=mediation.case_id,
        action="recording_started",
        to_state=RecordingStatus.RECORDING,
        data={"session_id": mediation.id, "part": part},
    )
    return recording


async def add_track(
    session: AsyncSession,
    recording: Recording,
    *,
    participant_id: str,
    kind: TrackKind,
    source: str,
    codec: str,
    at: datetime,
) -> RecordingTrack:
    if recording.status != RecordingStatus.RECORDING:
        raise Conflict("the recording has ended", code="recording_ended")
    track = RecordingTrack(
        id=new_id("trk"),
        recording_id=recording.id,
        participant_id=participant_id,
        kind=kind.value,
        source=source,
        codec=codec,
        started_at=at,
    )
    session.add(track)
    return track


async def _participants(session: AsyncSession, ids: set[str]) -> tuple[dict[str, str], ...]:
    if not ids:
        return ()
    rows = await session.execute(
        select(SessionParticipant.id, SessionParticipant.role, SessionParticipant.display_name)
        .where(SessionParticipant.id.in_(ids))
        .order_by(SessionParticipant.id)
    )
    return tuple({"id": pid, "role": role, "name": name} for pid, role, name in rows)


async def seal(
    session: AsyncSession,
    recording: Recording,
    *,
    segments: Mapping[str, Sequence[SegmentInfo]],
    ended_at: datetime,
    interrupted: bool,
    retention_days: int,
    note: str | None = None,
) -> Manifest:
    """Close a recording: store its manifest and digest, and put the digest in the audit trail."""
    if recording.status != RecordingStatus.RECORDING:
        raise Conflict("the recording is already sealed", code="recording_sealed")
    tracks = (
        await session.scalars(
            select(RecordingTrack)
            .where(RecordingTrack.recording_id == recording.id)
            .order_by(RecordingTrack.started_at, RecordingTrack.id)
        )
    ).all()
    entries = tuple(
        TrackEntry(t.id, t.participant_id, t.kind, t.source, t.codec, tuple(segments.get(t.id, ())))
        for t in tracks
    )
    manifest = Manifest(
        recording_id=recording.id,
        session_id=recording.session_id,
        case_id=recording.case_id,
        part=recording.part,
        label=recording.label,
        started_at=recording.started_at.isoformat(),
        ended_at=ended_at.isoformat(),
        interrupted=interrupted,
        participants=await _participants(session, {t.participant_id for t in tracks}),
        tracks=entries,
    )
    digest = manifest.digest()
    status = RecordingStatus.INTERRUPTED if interrupted else RecordingStatus.COMPLETE
    recording.status = status
    recording.ended_at = ended_at
    recording.manifest = manifest.to_json()
    recording.manifest_sha256 = digest
    recording.duration_ms = manifest.duration_ms
    recording.bytes = sum(s.bytes for t in entries for s in t.segments)
    recording.retain_until = (ended_at + timedelta(days=retention_days)).date()
    recording.note = note
    await audit.record(
        session,
        actor=Principal.system("recorder"),
        at=ended_at,
        subject_type="recording",
        subject_id=recording.id,
        case_id=recording.case_id,
        action="recording_sealed",
        from_state=RecordingStatus.RECORDING,
        to_state=status,
        reason=note,
        data={"manifest_sha256": digest, "duration_ms": manifest.duration_ms, "bytes": recording.bytes},
    )
    await emit_for_case(
        session,
        case_id=recording.case_id,
        event_type=EventType.RECORDING_READY,
        data=recording_data(
            case_id=recording.case_id,
            session_id=recording.session_id,
            recording_id=recording.id,
            duration_ms=manifest.duration_ms,
            manifest_sha256=digest,
        ),
        occurred_at=ended_at,
    )
    return manifest


def _recovered_segments(directory: Path, track: RecordingTrack) -> list[SegmentInfo]:
    """Every segment file of a track, repaired, as the manifest describes segments."""
    found: list[tuple[int, Path]] = []
    for path in directory.glob(f"{track.id}-*.webm"):
        match = _SEGMENT_NAME.match(path.name)
        if match is not None and match.group("track") == track.id:
            found.append((int(match.group("index")), path))
    repaired = [(index, repair_segment(path)) for index, path in sorted(found)]
    kept = [(index, result) for index, result in repaired if not result.empty]
    segments: list[SegmentInfo] = []
    for position, (index, result) in enumerate(kept):
        if position + 1 < len(kept):
            end = kept[position + 1][1].first_ms
        else:
            end = result.last_ms + frame_interval_ms(result.first_ms, result.last_ms, result.frames)
        segments.append(
            SegmentInfo(
                index=index,
                file=result.path.name,
                start_ms=result.first_ms,
                duration_ms=end - result.first_ms,
                frames=result.frames,
                bytes=result.path.stat().st_size,
                sha256=file_sha256(result.path),
            )
        )
    return segments


def _recover_tracks(directory: Path, tracks: Sequence[RecordingTrack]) -> dict[str, list[SegmentInfo]]:
    return {track.id: _recovered_segments(directory, track) for track in tracks}


async def recover_interrupted(
    db: Database,
    *,
    media_root: Path,
    node: str,
    clock: Clock,
    retention_days: int,
    stale_seconds: float = STALE_SECONDS,
) -> list[str]:
    """Seal, as interrupted, every recording of this machine whose writer stopped; return their ids.

    A recorder renews ``heartbeat_at`` every :data:`HEARTBEAT_SECONDS` while it records; a recording whose
    heartbeat is older than ``stale_seconds`` lost its writer (a crashed or killed process). Every process
    runs this on start and then now and then; a lock file makes one process of the machine do it at a time.
    The last segment of each track is repaired (the crash cut it off); what could be read is kept and
    described in the manifest, and the recording says it was interrupted instead of silently disappearing.
    """
    with machine_lock(media_root / "recordings" / ".recovery.lock") as mine:
        if not mine:
            return []
        return await _recover(db, media_root, node, clock, retention_days, stale_seconds)


async def _recover(
    db: Database, media_root: Path, node: str, clock: Clock, retention_days: int, stale_seconds: float
) -> list[str]:
    stale_before = clock.now() - timedelta(seconds=stale_seconds)
    async with db.read() as session:
        pending = (
            await session.scalars(
                select(Recording).where(
                    Recording.status == RecordingStatus.RECORDING,
                    Recording.node == node,
                    Recording.heartbeat_at < stale_before,
                )
            )
        ).all()
        tracks = {
            recording.id: (
                await session.scalars(
                    select(RecordingTrack).where(RecordingTrack.recording_id == recording.id)
                )
            ).all()
            for recording in pending
        }
    recovered: list[str] = []
    for found in pending:
        directory = recording_directory(media_root, found)
        segments = await asyncio.to_thread(_recover_tracks, directory, tracks[found.id])
        last = max((s.start_ms + s.duration_ms for listed in segments.values() for s in listed), default=0)
        async with db.session() as session:
            recording = await session.get(Recording, found.id)
            if (
                recording is None
                or recording.status != RecordingStatus.RECORDING
                or recording.heartbeat_at >= stale_before  # its writer came back meanwhile
            ):
                continue
            await seal(
                session,
                recording,
                segments=segments,
                ended_at=recording.started_at + timedelta(milliseconds=last),
                interrupted=True,
                retention_days=retention_days,
                note=f"the server stopped while recording; recovered on {clock.now().isoformat()}",
            )
            recovered.append(recording.id)
    return recovered


async def purge_expired(db: Database, *, media_root: Path, node: str, clock: Clock) -> list[str]:
    """Delete the files of this machine's recordings whose retention period is over; keep the row (status
    ``deleted``, its manifest and digest) and write an audit entry. Returns the ids purged."""
    with machine_lock(media_root / "recordings" / ".recovery.lock") as mine:
        if not mine:
            return []
        today = clock.now().date()
        async with db.read() as session:
            due = (
                await session.scalars(
                    select(Recording).where(
                        Recording.node == node,
                        Recording.status.in_([RecordingStatus.COMPLETE, RecordingStatus.INTERRUPTED]),
                        Recording.retain_until < today,
                    )
                )
            ).all()
        purged: list[str] = []
        for found in due:
            await asyncio.to_thread(shutil.rmtree, recording_directory(media_root, found), True)
            async with db.session() as session:
                recording = await session.get(Recording, found.id)
                if recording is None or recording.status == RecordingStatus.DELETED:
                    continue
                previous = recording.status
                recording.status = RecordingStatus.DELETED
                recording.deleted_at = clock.now()
                recording.render_status = None
                recording.render_file = None
                await audit.record(
                    session,
                    actor=Principal.system("retention"),
                    at=clock.now(),
                    subject_type="recording",
                    subject_id=recording.id,
                    case_id=recording.case_id,
                    action="recording_deleted",
                    from_state=previous,
                    to_state=RecordingStatus.DELETED,
                    reason=f"retention period ended on {recording.retain_until}",
                    data={"manifest_sha256": recording.manifest_sha256, "bytes": recording.bytes},
                )
            purged.append(found.id)
        return purged


async def heartbeat(db: Database, recording_ids: Collection[str], at: datetime) -> None:
    """The writer of these recordings is alive (see :func:`recover_interrupted`)."""
    if not recording_ids:
        return
    async with db.session() as session:
        await session.execute(
            update(Recording)
            .where(Recording.id.in_(sorted(recording_ids)), Recording.status == RecordingStatus.RECORDING)
            .values(heartbeat_at=at)
        )


def verify(recording: Recording, media_root: Path) -> Sequence[Problem]:
    """What no longer matches the sealed manifest (empty: intact). Reads every file: run it off the loop."""
    if recording.manifest is None or recording.manifest_sha256 is None:
        raise Conflict("the recording is not sealed yet", code="recording_not_sealed")
    return verify_files(
        recording.manifest, recording.manifest_sha256, recording_directory(media_root, recording)
    )
