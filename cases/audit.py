"""The append-only audit trail: every change, by whom, when, from which state to which, and why."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.principal import Principal
from cases.tables import AuditEvent

__all__ = ["events_for", "record"]


async def record(
    session: AsyncSession,
    *,
    actor: Principal,
    at: datetime,
    subject_type: str,
    subject_id: str,
    action: str,
    case_id: str | None = None,
    from_state: str | None = None,
    to_state: str | None = None,
    reason: str | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    session.add(
        AuditEvent(
            at=at,
            subject_type=subject_type,
            subject_id=subject_id,
            case_id=case_id,
            actor_kind=actor.kind.value,
            actor_id=actor.id,
            actor_label=actor.label,
            action=action,
            from_state=from_state,
            to_state=to_state,
            reason=reason,
            data=data or {},
            ip=actor.ip,
        )
    )


async def events_for(
    session: AsyncSession,
    *,
    subject_type: str | None = None,
    subject_id: str | None = None,
    case_id: str | None = None,
    limit: int = 500,
) -> list[AuditEvent]:
    query = select(AuditEvent).order_by(AuditEvent.id).limit(limit)
    if case_id is not None:
        query = query.where(AuditEvent.case_id == case_id)
    if subject_type is not None:
        query = query.where(AuditEvent.subject_type == subject_type)
    if subject_id is not None:
        query = query.where(AuditEvent.subject_id == subject_id)
    return list((await session.scalars(query)).all())
