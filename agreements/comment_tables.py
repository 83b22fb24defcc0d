"""Tables of the agreements package: what participants said about an agreement shown in the room."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from store.base import Base, JsonValue

__all__ = ["AgreementComment"]


class AgreementComment(Base):
    """A comment on the agreement version the mediator showed in a session (:mod:`agreements.comments`):
    who wrote it, in which part of the room (``main`` or a caucus sub-room) and on which showing
    (``show_id``: only the people of that showing read it back), and the version's revision it was
    written against. Never changed or deleted while the case exists."""

    __tablename__ = "agreement_comments"
    __table_args__ = (Index("ix_agreement_comments_case", "case_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    version_id: Mapped[str] = mapped_column(
        ForeignKey("agreement_versions.id", ondelete="CASCADE"), index=True
    )
    revision: Mapped[int]
    session_id: Mapped[str] = mapped_column(ForeignKey("mediation_sessions.id", ondelete="CASCADE"))
    show_id: Mapped[str] = mapped_column(String(40), index=True)
    part: Mapped[str] = mapped_column(String(40))
    participant_id: Mapped[str] = mapped_column(String(32))
    author: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
    # The participants who read it when it was written (the showing's part then, and the author): only they
    # read it back, so a comment made while the other side was in a caucus never reaches them afterwards.
    audience: Mapped[list[str] | None] = mapped_column(JsonValue)
    created_at: Mapped[datetime]
