"""API types of recordings: what the court and the mediator see of a recording and its rendering."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "PartyLinkOut",
    "PartyLinksIn",
    "PartyRecordingOut",
    "PartyRecordingsView",
    "PartyTokenIn",
    "ProblemOut",
    "RecordingOut",
    "RenderOut",
    "SegmentQuery",
    "VerifyOut",
]


class RenderOut(BaseModel):
    status: str | None = Field(description="null (never asked), queued, rendering, ready or failed")
    progress: float | None = Field(description="0–1 while rendering")
    bytes: int | None
    sha256: str | None
    error: str | None
    updated_at: datetime | None


class RecordingOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    case_id: str
    session_id: str
    part: str = Field(description='"main", or the caucus sub-room recorded separately')
    label: str
    status: str = Field(description="recording, complete, interrupted or deleted")
    started_at: datetime
    ended_at: datetime | None
    duration_ms: int | None
    bytes: int | None
    manifest_sha256: str | None
    note: str | None
    retain_until: date | None
    render: RenderOut
    manifest: dict[str, Any] | None = Field(
        None, description="Participants, tracks and segments with their SHA-256 (only on the single view)."
    )


class ProblemOut(BaseModel):
    kind: str = Field(
        description="manifest_changed, file_missing, size_changed, content_changed or unlisted_file"
    )
    file: str | None


class VerifyOut(BaseModel):
    intact: bool
    manifest_sha256: str
    problems: list[ProblemOut]
    checked_at: datetime


class SegmentQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    index: int = Field(0, ge=0, le=1_000_000, description="The segment's index in its track (default 0).")


class PartyLinksIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    party_ids: list[str] | None = Field(
        None,
        max_length=50,
        description="The parties (and agents) to give a link; default: every party of the case.",
    )
    valid_days: int | None = Field(
        None, ge=1, le=30, description="How long the links work; default TIAOJIE_RECORDING_LINK_DAYS."
    )
    notify: bool = Field(True, description="Send each link by SMS to the party's phone (the notifier).")


class PartyLinkOut(BaseModel):
    party_id: str
    name: str
    side: str
    role: str
    url: str = Field(description="The party's link (the token is in the fragment, never sent to a server).")
    expires_at: datetime
    recordings: list[str] = Field(description="The recordings this party is entitled to now.")
    notified: bool = Field(description="Whether an SMS went out.")


class PartyTokenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: str = Field(min_length=1, max_length=1024)


class PartyRecordingOut(BaseModel):
    id: str
    label: str
    part: str = Field(description='"main", or the caucus sub-room')
    session_title: str | None
    started_at: datetime
    ended_at: datetime | None
    duration_ms: int | None
    interrupted: bool
    playback: str = Field(description="ready, preparing or unavailable")
    url: str | None = Field(description="Where the playback file streams (HTTP Range) once ready.")
    bytes: int | None
    sha256: str | None


class PartyRecordingsView(BaseModel):
    case_number: str
    court_name: str
    party_name: str
    side: str
    expires_at: datetime
    recordings: list[PartyRecordingOut]
