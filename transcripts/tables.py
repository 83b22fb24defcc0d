"""Tables of the transcripts package: the working entries of a session's transcript, its saved versions,
and the parties' reviews of a version (append-only)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from store.base import Base, JsonValue

__all__ = ["TranscriptEntry", "TranscriptReview", "TranscriptVersion"]

_SerialId = BigInteger().with_variant(Integer(), "sqlite")


class TranscriptEntry(Base):
    """One line of the working transcript the mediator keeps: who said what, when; ``undisputed`` marks a
    fact both sides accept (OMR 22). ``chat_record_id`` names the chat message it was pulled from."""

    __tablename__ = "transcript_entries"
    __table_args__ = (UniqueConstraint("session_id", "seq"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    session_id: Mapped[str] = mapped_column(
        ForeignKey("mediation_sessions.id", ondelete="CASCADE"), index=True
    )
    seq: Mapped[int]
    speaker: Mapped[str] = mapped_column(String(100))
    speaker_id: Mapped[str | None] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    said_at: Mapped[datetime]
    undisputed: Mapped[bool] = mapped_column(default=False)
    source: Mapped[str] = mapped_column(String(20))
    chat_record_id: Mapped[int | None] = mapped_column(BigInteger)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class TranscriptVersion(Base):
    """A saved version: a copy of the entries at that moment. Reviewed by the parties present; locked with
    the SHA-256 of its canonical encoding (:mod:`transcripts.canonical`) once every reviewer confirmed."""

    __tablename__ = "transcript_versions"
    __table_args__ = (UniqueConstraint("session_id", "number"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    session_id: Mapped[str] = mapped_column(
        ForeignKey("mediation_sessions.id", ondelete="CASCADE"), index=True
    )
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    status: Mapped[str] = mapped_column(String(20))
    entries: Mapped[list[dict[str, Any]]] = mapped_column(JsonValue)
    reviewers: Mapped[list[dict[str, Any]]] = mapped_column(JsonValue, default=list)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    review_opened_at: Mapped[datetime | None]
    locked_at: Mapped[datetime | None]
    sha256: Mapped[str | None] = mapped_column(String(64))


class TranscriptReview(Base):
    """A reviewer's confirmation or dispute (with a comment) of one version. Append-only."""

    __tablename__ = "transcript_reviews"

    id: Mapped[int] = mapped_column(_SerialId, primary_key=True, autoincrement=True)
    version_id: Mapped[str] = mapped_column(
        ForeignKey("transcript_versions.id", ondelete="CASCADE"), index=True
    )
    participant_id: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(20))
    decision: Mapped[str] = mapped_column(String(20))
    comment: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime]
