"""The case page's video sessions: the case's scheduled and live sessions, and for the mediator handling the
case a link into each room (their own join link, ``/j#<token>``, as the session's invitation carries it).

The link is the mediator's current one (:func:`rooms.sessions.join_token`): nothing is re-issued, so links
sent earlier keep working, and a revoked or expired link is not offered.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.principal import Principal, PrincipalKind
from cases.tables import Case
from rooms.room import Role
from rooms.sessions import join_token
from rooms.tables import MediationSession, SessionParticipant

__all__ = ["SessionEntry", "session_entries"]

OPEN = ("scheduled", "live")


@dataclass(frozen=True, slots=True)
class SessionEntry:
    id: str
    title: str | None
    status: str
    scheduled_start: datetime
    scheduled_end: datetime
    hosting: bool  # the viewer is the case's mediator
    enter_url: str | None  # the viewer's link into the room, while it works


async def session_entries(
    session: AsyncSession, actor: Principal, case: Case, *, secret: str, now: datetime
) -> list[SessionEntry]:
    rows = await session.scalars(
        select(MediationSession)
        .where(MediationSession.case_id == case.id, MediationSession.status.in_(OPEN))
        .order_by(MediationSession.scheduled_start)
    )
    hosting = actor.kind is PrincipalKind.MEDIATOR and actor.mediator_id == case.current_mediator_id
    entries = []
    for ms in rows.all():
        url = None
        if hosting:
            seat = await session.scalar(
                select(SessionParticipant).where(
                    SessionParticipant.session_id == ms.id,
                    SessionParticipant.role == Role.MEDIATOR.value,
                    SessionParticipant.mediator_id == actor.mediator_id,
                )
            )
            if seat is not None and seat.revoked_at is None and seat.link_expires_at > now:
                url = f"/j#{join_token(seat, ms, secret=secret)}"
        entries.append(
            SessionEntry(ms.id, ms.title, ms.status, ms.scheduled_start, ms.scheduled_end, hosting, url)
        )
    return entries
