"""What the case page shows of a case's recordings: each session's recorded parts (main room, caucus
sub-rooms), their status, length, size and sealed manifest digest, the playback rendering and the original
files. Only for those who may read recordings (the court of the case and its mediator, as in the API); for
anyone else the page gets ``None`` and says the recordings are not theirs to see.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.principal import Principal
from cases.access import Action, can
from cases.tables import Case
from recordings.jobs import RenderStatus
from recordings.service import RecordingStatus
from recordings.tables import Recording
from rooms.tables import MediationSession

__all__ = [
    "RecordingEntry",
    "SegmentLink",
    "SessionRecordings",
    "TrackFiles",
    "format_duration",
    "format_size",
    "recording_sessions",
]

MAIN_PART = "main"
_SOURCES = frozenset({"audio", "camera", "screen"})  # what the media engine publishes
_PENDING = frozenset({RenderStatus.QUEUED.value, RenderStatus.RENDERING.value})


def format_duration(ms: int | None) -> str | None:
    """``0:07``, ``12:34``, ``1:02:03`` (hours only when there are some)."""
    if ms is None:
        return None
    seconds = max(ms, 0) // 1000
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


def format_size(size: int | None) -> str | None:
    """Bytes as ``980 B``, ``12.3 KB``, ``4.5 MB``, ``1.20 GB`` (powers of 1024)."""
    if size is None:
        return None
    if size < 1024:
        return f"{size} B"
    for unit, scale in (("KB", 1024), ("MB", 1024**2)):
        if size < scale * 1024:
            return f"{size / scale:.1f} {unit}"
    return f"{size / 1024**3:.2f} GB"


@dataclass(frozen=True, slots=True)
class SegmentLink:
    number: int  # from 1, as people count
    size: str
    sha256: str
    url: str


@dataclass(frozen=True, slots=True)
class TrackFiles:
    person: str
    kind: str  # audio | video
    source: str  # audio | camera | screen
    segments: tuple[SegmentLink, ...]

    @property
    def known_source(self) -> bool:
        return self.source in _SOURCES


@dataclass(frozen=True, slots=True)
class RecordingEntry:
    id: str
    url: str  # the console path of this recording; its actions and files are below it
    part: str
    label: str
    status: str
    started_at: datetime
    ended_at: datetime | None
    duration: str | None
    size: str | None
    manifest_sha256: str | None
    note: str | None
    retain_until: date | None
    deleted_at: datetime | None
    render_status: str | None
    render_percent: int
    render_size: str | None
    render_error: str | None
    tracks: tuple[TrackFiles, ...]

    @property
    def caucus(self) -> bool:
        return self.part != MAIN_PART

    @property
    def sealed(self) -> bool:
        """Its files are there and described by a sealed manifest: it can be verified, rendered, fetched."""
        return self.manifest_sha256 is not None and self.status in (
            RecordingStatus.COMPLETE,
            RecordingStatus.INTERRUPTED,
        )

    @property
    def rendering(self) -> bool:
        return self.render_status in _PENDING

    @property
    def file_count(self) -> int:
        return sum(len(track.segments) for track in self.tracks)

    @property
    def may_render(self) -> bool:
        return self.sealed and self.render_status in (None, RenderStatus.FAILED.value)


@dataclass(frozen=True, slots=True)
class SessionRecordings:
    session_id: str
    title: str | None
    scheduled_start: datetime
    recordings: tuple[RecordingEntry, ...]


def _tracks(manifest: dict[str, Any] | None, url: str) -> tuple[TrackFiles, ...]:
    if not manifest:
        return ()
    names = {p.get("id"): p.get("name") or p.get("id") for p in manifest.get("participants", [])}
    out = []
    for track in manifest.get("tracks", []):
        segments = tuple(
            SegmentLink(
                number=int(s["index"]) + 1,
                size=format_size(int(s.get("bytes", 0))) or "",
                sha256=str(s.get("sha256", "")),
                url=f"{url}/tracks/{quote(str(track['id']), safe='')}?index={int(s['index'])}",
            )
            for s in track.get("segments", [])
        )
        if segments:
            person = str(names.get(track.get("participant_id")) or track.get("participant_id", ""))
            out.append(TrackFiles(person, str(track.get("kind")), str(track.get("source")), segments))
    return tuple(out)


def _entry(recording: Recording, case_path: str) -> RecordingEntry:
    url = f"{case_path}/recordings/{quote(recording.id, safe='')}"
    progress = recording.render_progress or 0.0
    return RecordingEntry(
        id=recording.id,
        url=url,
        part=recording.part,
        label=recording.label,
        status=recording.status,
        started_at=recording.started_at,
        ended_at=recording.ended_at,
        duration=format_duration(recording.duration_ms),
        size=format_size(recording.bytes),
        manifest_sha256=recording.manifest_sha256,
        note=recording.note,
        retain_until=recording.retain_until,
        deleted_at=recording.deleted_at,
        render_status=recording.render_status,
        render_percent=max(0, min(100, round(progress * 100))),
        render_size=format_size(recording.render_bytes),
        render_error=recording.render_error,
        tracks=_tracks(recording.manifest if recording.status != RecordingStatus.DELETED else None, url),
    )


async def recording_sessions(
    session: AsyncSession, actor: Principal, case: Case, case_path: str
) -> list[SessionRecordings] | None:
    """The case's recordings grouped by session (latest session first; parts in the order they began), or
    None when ``actor`` may not see recordings. Deleted recordings stay listed with their digest."""
    if not can(actor, Action.READ_RECORDING, case):
        return None
    rows = (
        await session.scalars(
            select(Recording).where(Recording.case_id == case.id).order_by(Recording.started_at, Recording.id)
        )
    ).all()
    if not rows:
        return []
    sessions = {
        ms.id: ms
        for ms in await session.scalars(
            select(MediationSession).where(MediationSession.id.in_({r.session_id for r in rows}))
        )
    }
    grouped: dict[str, list[RecordingEntry]] = {}
    for recording in rows:
        grouped.setdefault(recording.session_id, []).append(_entry(recording, case_path))
    out = [
        SessionRecordings(sid, sessions[sid].title, sessions[sid].scheduled_start, tuple(entries))
        for sid, entries in grouped.items()
        if sid in sessions
    ]
    out.sort(key=lambda group: group.scheduled_start, reverse=True)
    return out
