"""Tables of the rooms package: mediation sessions, their participants, and what happened in them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from store.base import Base, JsonValue

__all__ = ["MediationSession", "SessionParticipant", "SessionRecord"]

_SerialId = BigInteger().with_variant(Integer(), "sqlite")


class MediationSession(Base):
    """One audio/video session of a case (OMR 16: all parties at once, or each at its own time)."""

    __tablename__ = "mediation_sessions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    mode: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    scheduled_start: Mapped[datetime]
    scheduled_end: Mapped[datetime]
    title: Mapped[str | None] = mapped_column(String(200))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    started_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[str | None] = mapped_column(String(40))


class SessionParticipant(Base):
    """A seat in a session and its personal join link (``token_version`` bumps revoke older links)."""

    __tablename__ = "session_participants"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    session_id: Mapped[str] = mapped_column(
        ForeignKey("mediation_sessions.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(20))
    party_id: Mapped[str | None] = mapped_column(ForeignKey("parties.id"))
    mediator_id: Mapped[str | None] = mapped_column(ForeignKey("mediators.id"))
    display_name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(30))
    slot_start: Mapped[datetime | None]
    slot_end: Mapped[datetime | None]
    token_version: Mapped[int] = mapped_column(default=1)
    link_expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class SessionRecord(Base):
    """Append-only record of a session: joins, consents, warnings, identity checks, admissions, removals."""

    __tablename__ = "session_records"
    __table_args__ = (Index("ix_session_records_session", "session_id", "id"),)

    id: Mapped[int] = mapped_column(_SerialId, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("mediation_sessions.id", ondelete="CASCADE"))
    participant_id: Mapped[str | None] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(200))
    data: Mapped[dict[str, Any]] = mapped_column(JsonValue, default=dict)
    note: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime]
