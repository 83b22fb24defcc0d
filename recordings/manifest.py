"""The manifest of a recording and its verification; pure except for reading the files it checks.

A manifest lists the recording's participants and tracks, and for every segment file its place on the
recording's timeline, its size and its SHA-256. Its own SHA-256 is taken over a canonical JSON encoding
(sorted keys, no insignificant white space, UTF-8), so the same manifest always has the same digest. The
database keeps the manifest and its digest, and the append-only audit trail keeps the digest again: a
changed file no longer matches the manifest, and a manifest edited to match it no longer matches the digest.
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from recordings.segments import SegmentInfo, file_sha256

__all__ = [
    "MANIFEST_VERSION",
    "Manifest",
    "Problem",
    "ProblemKind",
    "TrackEntry",
    "manifest_digest",
    "verify_files",
]

MANIFEST_VERSION = 1


@dataclass(frozen=True, slots=True)
class TrackEntry:
    """One recorded track: whose, what, and its segments in order."""

    id: str
    participant_id: str
    kind: str
    source: str
    codec: str
    segments: tuple[SegmentInfo, ...]

    @property
    def start_ms(self) -> int:
        return self.segments[0].start_ms if self.segments else 0

    @property
    def end_ms(self) -> int:
        return max((s.start_ms + s.duration_ms for s in self.segments), default=0)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "participant_id": self.participant_id,
            "kind": self.kind,
            "source": self.source,
            "codec": self.codec,
            "start_ms": self.start_ms,
            "duration_ms": self.end_ms - self.start_ms,
            "segments": [
                {
                    "index": s.index,
                    "file": s.file,
                    "start_ms": s.start_ms,
                    "duration_ms": s.duration_ms,
                    "frames": s.frames,
                    "bytes": s.bytes,
                    "sha256": s.sha256,
                }
                for s in self.segments
            ],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TrackEntry:
        return cls(
            id=str(data["id"]),
            participant_id=str(data["participant_id"]),
            kind=str(data["kind"]),
            source=str(data["source"]),
            codec=str(data["codec"]),
            segments=tuple(
                SegmentInfo(
                    index=int(s["index"]),
                    file=str(s["file"]),
                    start_ms=int(s["start_ms"]),
                    duration_ms=int(s["duration_ms"]),
                    frames=int(s["frames"]),
                    bytes=int(s["bytes"]),
                    sha256=str(s["sha256"]),
                )
                for s in data["segments"]
            ),
        )


@dataclass(frozen=True, slots=True)
class Manifest:
    """Everything a court needs to know about one recording's files; see the module's docstring."""

    recording_id: str
    session_id: str
    case_id: str
    part: str  # "main", or the caucus sub-room's id: sub-rooms are recorded as separate parts
    label: str
    started_at: str  # ISO 8601 with offset
    ended_at: str
    interrupted: bool
    participants: tuple[Mapping[str, str], ...]
    tracks: tuple[TrackEntry, ...]

    @property
    def duration_ms(self) -> int:
        return max((t.end_ms for t in self.tracks), default=0)

    def to_json(self) -> dict[str, Any]:
        return {
            "version": MANIFEST_VERSION,
            "recording_id": self.recording_id,
            "session_id": self.session_id,
            "case_id": self.case_id,
            "part": self.part,
            "label": self.label,
            "started_at": self.started_at,
            "ended_at": self.ended_at,
            "interrupted": self.interrupted,
            "duration_ms": self.duration_ms,
            "participants": [dict(p) for p in self.participants],
            "tracks": [t.to_json() for t in self.tracks],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Manifest:
        if data.get("version") != MANIFEST_VERSION:
            raise ValueError(f"unknown manifest version {data.get('version')!r}")
        return cls(
            recording_id=str(data["recording_id"]),
            session_id=str(data["session_id"]),
            case_id=str(data["case_id"]),
            part=str(data["part"]),
            label=str(data["label"]),
            started_at=str(data["started_at"]),
            ended_at=str(data["ended_at"]),
            interrupted=bool(data["interrupted"]),
            participants=tuple({str(k): str(v) for k, v in p.items()} for p in data["participants"]),
            tracks=tuple(TrackEntry.from_json(t) for t in data["tracks"]),
        )

    def digest(self) -> str:
        return manifest_digest(self.to_json())


def manifest_digest(document: Mapping[str, Any]) -> str:
    """SHA-256 over the canonical JSON encoding of a manifest document."""
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


class ProblemKind(enum.StrEnum):
    MANIFEST_CHANGED = "manifest_changed"
    FILE_MISSING = "file_missing"
    SIZE_CHANGED = "size_changed"
    CONTENT_CHANGED = "content_changed"
    UNLISTED_FILE = "unlisted_file"


@dataclass(frozen=True, slots=True)
class Problem:
    kind: ProblemKind
    file: str | None = None

    def to_json(self) -> dict[str, str | None]:
        return {"kind": self.kind.value, "file": self.file}


def _listed(tracks: Iterable[TrackEntry]) -> dict[str, SegmentInfo]:
    return {segment.file: segment for track in tracks for segment in track.segments}


def verify_files(document: Mapping[str, Any], digest: str, root: Path) -> Sequence[Problem]:
    """Everything that no longer matches: the manifest against its digest, every file against the manifest,
    and files in the recording's directory that the manifest does not list. Empty means intact."""
    problems: list[Problem] = []
    if manifest_digest(document) != digest:
        problems.append(Problem(ProblemKind.MANIFEST_CHANGED))
    try:
        manifest = Manifest.from_json(document)
    except (KeyError, TypeError, ValueError):
        return [Problem(ProblemKind.MANIFEST_CHANGED)]
    listed = _listed(manifest.tracks)
    for name, segment in sorted(listed.items()):
        path = root / name
        if not path.is_file():
            problems.append(Problem(ProblemKind.FILE_MISSING, name))
        elif path.stat().st_size != segment.bytes:
            problems.append(Problem(ProblemKind.SIZE_CHANGED, name))
        elif file_sha256(path) != segment.sha256:
            problems.append(Problem(ProblemKind.CONTENT_CHANGED, name))
    if root.is_dir():
        for path in sorted(root.rglob("*.webm")):
            name = path.relative_to(root).as_posix()
            if name not in listed:
                problems.append(Problem(ProblemKind.UNLISTED_FILE, name))
    return problems
