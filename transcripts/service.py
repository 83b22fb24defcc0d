"""The transcript in the database: entries the mediator adds and edits (or pulls from the chat), versions
saved from them, the review by the parties, and the lock with its hash. Rules: :mod:`transcripts.model`.

Transcript text is confidential: nothing here logs it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.principal import Principal
from cases import audit
from rooms.tables import MediationSession, SessionRecord
from tiaojie.errors import Conflict, NotFound
from tiaojie.ids import new_id
from transcripts.canonical import digest, utc_text
from transcripts.model import (
    Decision,
    Reviewer,
    TranscriptStatus,
    VersionStatus,
    check_review,
    require_editable,
    review_outcome,
    status_of,
)
from transcripts.schemas import EntryOut, ReviewerOut, ReviewOut, TranscriptOut, VersionOut, VersionSummaryOut
from transcripts.tables import TranscriptEntry, TranscriptReview, TranscriptVersion
from webhooks.events import EventType, transcript_data
from webhooks.outbox import emit_for_case

__all__ = [
    "add_entry",
    "edit_entry",
    "entries",
    "open_review",
    "pull_chat",
    "review",
    "room_view",
    "save_version",
    "status",
    "transcript_out",
    "version",
    "version_out",
    "versions",
]


async def entries(session: AsyncSession, session_id: str) -> list[TranscriptEntry]:
    rows = await session.scalars(
        select(TranscriptEntry).where(TranscriptEntry.session_id == session_id).order_by(TranscriptEntry.seq)
    )
    return list(rows.all())


async def versions(session: AsyncSession, session_id: str) -> list[TranscriptVersion]:
    rows = await session.scalars(
        select(TranscriptVersion)
        .where(TranscriptVersion.session_id == session_id)
        .order_by(TranscriptVersion.number)
    )
    return list(rows.all())


async def status(session: AsyncSession, session_id: str) -> TranscriptStatus:
    return status_of(VersionStatus(v.status) for v in await versions(session, session_id))


async def version(session: AsyncSession, session_id: str, number: int) -> TranscriptVersion:
    row = await session.scalar(
        select(TranscriptVersion).where(
            TranscriptVersion.session_id == session_id, TranscriptVersion.number == number
        )
    )
    if row is None:
        raise NotFound("no such transcript version", code="unknown_version", resource="transcript_version")
    return row


async def add_entry(
    session: AsyncSession,
    ms: MediationSession,
    *,
    actor: str,
    speaker: str,
    speaker_id: str | None,
    text: str,
    said_at: datetime,
    undisputed: bool,
    now: datetime,
    source: str = "mediator",
    chat_record_id: int | None = None,
) -> TranscriptEntry:
    require_editable(await status(session, ms.id))
    last = await session.scalar(
        select(func.max(TranscriptEntry.seq)).where(TranscriptEntry.session_id == ms.id)
    )
    entry = TranscriptEntry(
        id=new_id("tre"),
        session_id=ms.id,
        seq=(last or 0) + 1,
        speaker=speaker,
        speaker_id=speaker_id,
        text=text,
        said_at=said_at,
        undisputed=undisputed,
        source=source,
        chat_record_id=chat_record_id,
        created_by=actor,
        created_at=now,
        updated_at=now,
    )
    session.add(entry)
    await session.flush()
    return entry


async def edit_entry(
    session: AsyncSession, ms: MediationSession, entry_id: str, changes: dict[str, Any], *, now: datetime
) -> TranscriptEntry:
    """``changes``: any of speaker, speaker_id, text, said_at, undisputed."""
    require_editable(await status(session, ms.id))
    entry = await session.get(TranscriptEntry, entry_id)
    if entry is None or entry.session_id != ms.id:
        raise NotFound("no such transcript entry", code="unknown_entry", resource="transcript_entry")
    for name in ("speaker", "speaker_id", "text", "said_at", "undisputed"):
        if name in changes:
            setattr(entry, name, changes[name])
    entry.updated_at = now
    await session.flush()
    return entry


async def pull_chat(
    session: AsyncSession, ms: MediationSession, record_id: int, *, actor: str, now: datetime
) -> TranscriptEntry:
    """A chat message of this session becomes an entry (speaker, text and time from the message)."""
    record = await session.get(SessionRecord, record_id)
    if record is None or record.session_id != ms.id or record.kind != "chat":
        raise NotFound("no such chat message in this session", code="unknown_chat_message")
    pulled = await session.scalar(
        select(TranscriptEntry.id).where(
            TranscriptEntry.session_id == ms.id, TranscriptEntry.chat_record_id == record_id
        )
    )
    if pulled is not None:
        raise Conflict("this message is in the transcript already", code="chat_already_pulled")
    return await add_entry(
        session,
        ms,
        actor=actor,
        speaker=record.actor[:100],
        speaker_id=record.participant_id,
        text=str(record.data.get("text", "")),
        said_at=record.at,
        undisputed=False,
        now=now,
        source="chat",
        chat_record_id=record_id,
    )


def _frozen(entry: TranscriptEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "seq": entry.seq,
        "speaker": entry.speaker,
        "speaker_id": entry.speaker_id,
        "text": entry.text,
        "at": utc_text(entry.said_at),
        "undisputed": entry.undisputed,
        "source": entry.source,
    }


async def save_version(
    session: AsyncSession, ms: MediationSession, *, actor: str, now: datetime
) -> TranscriptVersion:
    require_editable(await status(session, ms.id))
    rows = await entries(session, ms.id)
    if not rows:
        raise Conflict("the transcript has no entries yet", code="transcript_empty")
    existing = await versions(session, ms.id)
    row = TranscriptVersion(
        id=new_id("trv"),
        session_id=ms.id,
        case_id=ms.case_id,
        number=len(existing) + 1,
        status=VersionStatus.SAVED.value,
        entries=[_frozen(e) for e in rows],
        reviewers=[],
        created_by=actor,
        created_at=now,
    )
    session.add(row)
    await session.flush()
    return row


async def open_review(
    session: AsyncSession,
    ms: MediationSession,
    number: int | None,
    reviewers: Sequence[Reviewer],
    *,
    now: datetime,
) -> TranscriptVersion:
    """The parties present review the latest saved version (``number`` None: whichever that is)."""
    require_editable(await status(session, ms.id))
    all_versions = await versions(session, ms.id)
    if number is None and not all_versions:
        raise Conflict("save a version first", code="transcript_empty")
    row = await version(session, ms.id, all_versions[-1].number if number is None else number)
    if row is not all_versions[-1]:
        raise Conflict("only the latest version can be reviewed", code="version_not_latest")
    if row.status != VersionStatus.SAVED:
        raise Conflict(
            "this version was reviewed already; save a new one",
            code="not_reviewable",
            current_state=row.status,
        )
    if not reviewers:
        raise Conflict("no party is present to review the transcript", code="no_reviewers")
    row.status = VersionStatus.IN_REVIEW.value
    row.reviewers = [r.as_dict() for r in reviewers]
    row.review_opened_at = now
    await session.flush()
    return row


async def _reviews(session: AsyncSession, version_id: str) -> list[TranscriptReview]:
    rows = await session.scalars(
        select(TranscriptReview)
        .where(TranscriptReview.version_id == version_id)
        .order_by(TranscriptReview.id)
    )
    return list(rows.all())


async def review(
    session: AsyncSession,
    ms: MediationSession,
    number: int,
    reviewer_id: str,
    decision: Decision,
    comment: str | None,
    *,
    now: datetime,
) -> TranscriptVersion:
    """A reviewer confirms or disputes; the last confirmation locks and hashes the version."""
    row = await version(session, ms.id, number)
    reviewers = {r["id"]: r for r in row.reviewers}
    done = await _reviews(session, row.id)
    check_review(
        VersionStatus(row.status),
        reviewers.keys(),
        {r.participant_id for r in done},
        reviewer_id,
        decision,
        comment,
    )
    who = reviewers[reviewer_id]
    session.add(
        TranscriptReview(
            version_id=row.id,
            participant_id=reviewer_id,
            name=who["name"],
            role=who["role"],
            decision=decision.value,
            comment=(comment or "").strip() or None,
            at=now,
        )
    )
    decisions = {r.participant_id: Decision(r.decision) for r in done} | {reviewer_id: decision}
    outcome = review_outcome(reviewers.keys(), decisions)
    row.status = outcome.value
    if outcome is VersionStatus.LOCKED:
        row.locked_at = now
        row.sha256 = digest(ms.id, row.number, row.entries)
        await audit.record(
            session,
            actor=Principal.system("transcript review"),
            at=now,
            subject_type="session",
            subject_id=ms.id,
            case_id=ms.case_id,
            action="transcript_locked",
            data={"version": row.number, "sha256": row.sha256, "reviewers": sorted(reviewers)},
        )
        await emit_for_case(
            session,
            case_id=ms.case_id,
            event_type=EventType.TRANSCRIPT_CONFIRMED,
            data=transcript_data(
                case_id=ms.case_id,
                session_id=ms.id,
                transcript_id=row.id,
                version=row.number,
                sha256=row.sha256,
            ),
            occurred_at=now,
        )
    await session.flush()
    return row


def _summary(row: TranscriptVersion) -> VersionSummaryOut:
    return VersionSummaryOut(
        id=row.id,
        number=row.number,
        status=row.status,
        entries=len(row.entries),
        created_by=row.created_by,
        created_at=row.created_at,
        review_opened_at=row.review_opened_at,
        locked_at=row.locked_at,
        sha256=row.sha256,
    )


async def version_out(session: AsyncSession, row: TranscriptVersion) -> VersionOut:
    return VersionOut(
        id=row.id,
        session_id=row.session_id,
        number=row.number,
        status=row.status,
        created_by=row.created_by,
        created_at=row.created_at,
        review_opened_at=row.review_opened_at,
        locked_at=row.locked_at,
        sha256=row.sha256,
        entries=[EntryOut.model_validate({**e, "said_at": e["at"]}) for e in row.entries],
        reviewers=[ReviewerOut.model_validate(r) for r in row.reviewers],
        reviews=[ReviewOut.model_validate(r) for r in await _reviews(session, row.id)],
    )


async def transcript_out(session: AsyncSession, session_id: str) -> TranscriptOut:
    rows = await versions(session, session_id)
    return TranscriptOut(
        session_id=session_id,
        status=status_of(VersionStatus(v.status) for v in rows).value,
        versions=[_summary(v) for v in rows],
    )


async def room_view(session: AsyncSession, session_id: str, *, keeper: bool) -> dict[str, Any]:
    """The transcript as the session page shows it. The mediator (``keeper``) gets the working entries,
    every version and the latest one in full; a party only the latest version put to review (or locked)."""
    rows = await versions(session, session_id)
    shown = rows if keeper else [v for v in rows if v.status != VersionStatus.SAVED]
    current = await version_out(session, shown[-1]) if shown else None
    return {
        "status": status_of(VersionStatus(v.status) for v in rows).value,
        "entries": (
            [EntryOut.model_validate(e).model_dump(mode="json") for e in await entries(session, session_id)]
            if keeper
            else []
        ),
        "versions": [_summary(v).model_dump(mode="json") for v in rows] if keeper else [],
        "current": current.model_dump(mode="json") if current else None,
    }
