"""API types of recordings: what the court and the mediator see of a recording and its rendering."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["ProblemOut", "RecordingOut", "RenderOut", "SegmentQuery", "VerifyOut"]


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
