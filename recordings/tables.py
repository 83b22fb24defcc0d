"""Tables of the recordings package: one row per recorded part of a session, and its tracks."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Date, Double, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from store.base import Base, JsonValue

__all__ = ["Recording", "RecordingTrack"]


class Recording(Base):
    """A recording of one part of a session: the main room, or one caucus sub-room (never mixed).

    ``status``: ``recording`` while files are being written; ``complete`` when it ended normally;
    ``interrupted`` when the server stopped mid-recording and it was recovered on the next start; ``deleted``
    after its retention period. The manifest and its SHA-256 are set when it leaves ``recording``. The
    ``render_*`` columns follow the playback rendering job (:mod:`recordings.jobs`).
    """

    __tablename__ = "recordings"
    __table_args__ = (Index("ix_recordings_status_node", "status", "node"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    session_id: Mapped[str] = mapped_column(
        ForeignKey("mediation_sessions.id", ondelete="CASCADE"), index=True
    )
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    part: Mapped[str] = mapped_column(String(40))
    label: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20))
    node: Mapped[str] = mapped_column(String(100))
    directory: Mapped[str] = mapped_column(String(200))
    started_at: Mapped[datetime]
    heartbeat_at: Mapped[
        datetime
    ]  # renewed while recording: a stale one was cut off (see recover_interrupted)
    ended_at: Mapped[datetime | None]
    duration_ms: Mapped[int | None] = mapped_column(BigInteger)
    bytes: Mapped[int | None] = mapped_column(BigInteger)
    manifest: Mapped[dict[str, Any] | None] = mapped_column(JsonValue)
    manifest_sha256: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)
    retain_until: Mapped[date | None] = mapped_column(Date)
    deleted_at: Mapped[datetime | None]
    # The playback rendering (one watchable file): queued → rendering → ready | failed.
    render_status: Mapped[str | None] = mapped_column(String(20))
    render_progress: Mapped[float | None] = mapped_column(Double)
    render_file: Mapped[str | None] = mapped_column(String(200))
    render_bytes: Mapped[int | None] = mapped_column(BigInteger)
    render_sha256: Mapped[str | None] = mapped_column(String(64))
    render_error: Mapped[str | None] = mapped_column(Text)
    render_updated_at: Mapped[datetime | None]


class RecordingTrack(Base):
    """A track being recorded: whose, which source, which codec; its files are ``<id>-<nnnn>.webm``."""

    __tablename__ = "recording_tracks"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    recording_id: Mapped[str] = mapped_column(ForeignKey("recordings.id", ondelete="CASCADE"), index=True)
    participant_id: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(10))
    source: Mapped[str] = mapped_column(String(20))
    codec: Mapped[str] = mapped_column(String(20))
    started_at: Mapped[datetime]
