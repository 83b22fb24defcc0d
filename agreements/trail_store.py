"""Storing the agreement's hash-chained audit trail (:mod:`agreements.trail`): appending an entry after the
case's last one, and reading a case's chain back.

The caller holds the case row locked (``load_case(for_update=True)`` or :func:`lock_case`), so entries of
one case are appended one after the other; the unique ``(case_id, seq)`` refuses a fork in any case.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.principal import Principal
from agreements.tables import AgreementTrailEntry, SigningRound
from agreements.trail import Action, Entry, chain

__all__ = ["append", "entries", "to_entry"]


def to_entry(row: AgreementTrailEntry) -> Entry:
    return Entry(
        seq=row.seq,
        at=row.at,
        case_id=row.case_id,
        round_id=row.round_id,
        version_id=row.version_id,
        actor_kind=row.actor_kind,
        actor_id=row.actor_id,
        actor=row.actor,
        action=row.action,
        signer_id=row.signer_id,
        auth_method=row.auth_method,
        ip=row.ip,
        user_agent=row.user_agent,
        document_sha256=row.document_sha256,
        details=dict(row.details or {}),
        prev_hash=row.prev_hash,
        entry_hash=row.entry_hash,
    )


async def _last(session: AsyncSession, case_id: str) -> AgreementTrailEntry | None:
    row: AgreementTrailEntry | None = await session.scalar(
        select(AgreementTrailEntry)
        .where(AgreementTrailEntry.case_id == case_id)
        .order_by(AgreementTrailEntry.seq.desc())
        .limit(1)
    )
    return row


async def append_for_round(
    session: AsyncSession,
    row: SigningRound,
    *,
    at: datetime,
    actor: Principal,
    action: Action,
    signer_id: str | None = None,
    auth_method: str | None = None,
    details: Mapping[str, Any] | None = None,
) -> Entry:
    """:func:`append` for a step of one signing round: its case, round, version and document hash."""
    return await append(
        session,
        case_id=row.case_id,
        at=at,
        actor=actor,
        action=action,
        round_id=row.id,
        version_id=row.version_id,
        signer_id=signer_id,
        auth_method=auth_method,
        document_sha256=row.document_sha256,
        details=details,
    )


async def append(
    session: AsyncSession,
    *,
    case_id: str,
    at: datetime,
    actor: Principal,
    action: Action,
    round_id: str | None = None,
    version_id: str | None = None,
    signer_id: str | None = None,
    auth_method: str | None = None,
    document_sha256: str | None = None,
    details: Mapping[str, Any] | None = None,
) -> Entry:
    """Chain one entry after the case's last one. IP and user agent are the actor's (the request's)."""
    last = await _last(session, case_id)
    entry = chain(
        Entry(
            seq=0,
            at=at,
            case_id=case_id,
            round_id=round_id,
            version_id=version_id,
            actor_kind=actor.kind.value,
            actor_id=actor.id,
            actor=actor.label,
            action=action.value,
            signer_id=signer_id,
            auth_method=auth_method,
            ip=actor.ip,
            user_agent=actor.user_agent,
            document_sha256=document_sha256,
            details=dict(details or {}),
        ),
        to_entry(last) if last is not None else None,
    )
    session.add(
        AgreementTrailEntry(
            case_id=entry.case_id,
            seq=entry.seq,
            at=entry.at,
            round_id=entry.round_id,
            version_id=entry.version_id,
            actor_kind=entry.actor_kind,
            actor_id=entry.actor_id,
            actor=entry.actor,
            action=entry.action,
            signer_id=entry.signer_id,
            auth_method=entry.auth_method,
            ip=entry.ip,
            user_agent=entry.user_agent,
            document_sha256=entry.document_sha256,
            details=dict(entry.details),
            prev_hash=entry.prev_hash,
            entry_hash=entry.entry_hash,
        )
    )
    await session.flush()
    return entry


async def entries(session: AsyncSession, case_id: str) -> list[Entry]:
    rows = await session.scalars(
        select(AgreementTrailEntry)
        .where(AgreementTrailEntry.case_id == case_id)
        .order_by(AgreementTrailEntry.seq, AgreementTrailEntry.id)
    )
    return [to_entry(row) for row in rows]
