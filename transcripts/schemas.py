"""What the API and the room protocol show of a transcript."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from transcripts.canonical import FORMAT

__all__ = ["EntryOut", "ReviewOut", "ReviewerOut", "TranscriptOut", "VersionOut", "VersionSummaryOut"]


class EntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    seq: int
    speaker: str
    speaker_id: str | None
    text: str
    at: datetime = Field(validation_alias="said_at", description="When it was said.")
    undisputed: bool = Field(description="A fact both sides accept (OMR 22).")
    source: str = Field(description="mediator: written by the mediator; chat: pulled from a chat message.")


class ReviewerOut(BaseModel):
    id: str
    name: str
    role: str


class ReviewOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    participant_id: str
    name: str
    role: str
    decision: str = Field(description="confirmed or disputed")
    comment: str | None
    at: datetime


class VersionSummaryOut(BaseModel):
    id: str
    number: int
    status: str = Field(description="saved, in_review, disputed or locked")
    entries: int
    created_by: str
    created_at: datetime
    review_opened_at: datetime | None
    locked_at: datetime | None
    sha256: str | None


class VersionOut(BaseModel):
    id: str
    session_id: str
    number: int
    status: str
    created_by: str
    created_at: datetime
    review_opened_at: datetime | None
    locked_at: datetime | None
    sha256: str | None = Field(
        description=f"Once locked: SHA-256 of the canonical encoding ({FORMAT}, see docs/api.md)."
    )
    entries: list[EntryOut]
    reviewers: list[ReviewerOut]
    reviews: list[ReviewOut]


class TranscriptOut(BaseModel):
    session_id: str
    status: str = Field(description="editing, in_review or locked")
    versions: list[VersionSummaryOut]
