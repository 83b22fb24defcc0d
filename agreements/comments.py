"""Comments on the agreement shown in a session room: stored with the version (and its revision), the
showing, the part of the room, the author and the time; read back by the people of that showing and, for
the whole case, by its mediator in the console. Who may comment is the room's decision
(:mod:`rooms.showing`); the text's length and characters are checked by the protocol's parser."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from agreements.comment_tables import AgreementComment
from agreements.tables import AgreementVersion
from tiaojie.ids import new_id

__all__ = ["MAX_COMMENT_CHARS", "add", "as_json", "for_case", "for_show"]

MAX_COMMENT_CHARS = 1000


async def add(
    session: AsyncSession,
    version: AgreementVersion,
    *,
    session_id: str,
    show_id: str,
    part: str,
    participant_id: str,
    author: str,
    role: str,
    text: str,
    audience: Iterable[str],
    now: datetime,
) -> AgreementComment:
    row = AgreementComment(
        id=new_id("agc"),
        case_id=version.case_id,
        version_id=version.id,
        revision=version.revision,
        session_id=session_id,
        show_id=show_id,
        part=part,
        participant_id=participant_id,
        author=author,
        role=role,
        text=text,
        audience=sorted({*audience, participant_id}),
        created_at=now,
    )
    session.add(row)
    await session.flush()
    return row


async def for_show(session: AsyncSession, show_id: str, reader: str | None) -> list[AgreementComment]:
    """The comments of a showing that ``reader`` may read back: those written while they were there (every
    comment for ``None``, the mediator)."""
    rows = await session.scalars(
        select(AgreementComment)
        .where(AgreementComment.show_id == show_id)
        .order_by(AgreementComment.created_at, AgreementComment.id)
    )
    return [row for row in rows if reader is None or reader in (row.audience or [row.participant_id])]


async def for_case(session: AsyncSession, case_id: str) -> list[AgreementComment]:
    """Every comment on the case's agreement, newest first."""
    rows = await session.scalars(
        select(AgreementComment)
        .where(AgreementComment.case_id == case_id)
        .order_by(AgreementComment.created_at.desc(), AgreementComment.id.desc())
    )
    return list(rows)


def as_json(row: AgreementComment, number: int) -> dict[str, Any]:
    """A comment as the room protocol sends it (``number``: the version's)."""
    return {
        "id": row.id,
        "version_id": row.version_id,
        "number": number,
        "revision": row.revision,
        "from": row.participant_id,
        "name": row.author,
        "role": row.role,
        "part": row.part,
        "text": row.text,
        "at": row.created_at.isoformat(),
    }
