"""Storing a case's agreement versions: saving a draft, freezing it to PDF, uploading an offline agreement.

Each step asks :func:`agreements.versions.plan` what to do with the latest version, writes the rows and an
audit event. A new version voids the signing round open on the one it supersedes, and a case awaiting
signatures goes back to mediation (:func:`agreements.rounds.on_new_version`). The caller holds the case row
locked (``load_case(for_update=True)``), so two steps on one case run one after the other.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, AsyncIterator
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.principal import Principal
from accounts.tables import Court
from agreements import pdf, rounds
from agreements.access import AgreementAction, ensure
from agreements.schemas import AgreementOut, ProblemOut, VersionOut, VersionSummaryOut
from agreements.tables import AgreementVersion
from agreements.text import AgreementContent, AgreementText, CaseHeader, PartyInfo, prefill, problems
from agreements.versions import Plan, Source, Step, VersionStatus, plan
from cases import audit
from cases.context import CaseEnv
from cases.intake import sniff_content_type
from cases.lifecycle import CaseState
from cases.tables import Case, Mediator, Party
from store.files import put_bytes
from tiaojie.errors import Conflict, InvalidInput, NotFound, UnsupportedMediaType
from tiaojie.ids import is_id, new_id

__all__ = [
    "DRAFTING_STATES",
    "agreement_out",
    "find_version",
    "freeze",
    "prefilled",
    "save_draft",
    "upload",
    "version_out",
    "version_tag",
]

DRAFTING_STATES = frozenset(
    {CaseState.ACCEPTED, CaseState.IN_MEDIATION, CaseState.EXTENDED, CaseState.AWAITING_SIGNATURES}
)
"""The agreement is drafted while the mediation is under way, and changed while signatures are collected."""


def _require_drafting(case: Case) -> None:
    if CaseState(case.state) not in DRAFTING_STATES:
        raise Conflict(
            "the agreement is drafted while the case is under mediation",
            code="case_not_in_mediation",
            current_state=case.state,
        )


async def _versions(session: AsyncSession, case_id: str) -> list[AgreementVersion]:
    rows = await session.scalars(
        select(AgreementVersion).where(AgreementVersion.case_id == case_id).order_by(AgreementVersion.number)
    )
    return list(rows)


async def find_version(session: AsyncSession, case: Case, version_id: str) -> AgreementVersion:
    row = await session.get(AgreementVersion, version_id) if is_id(version_id, "agv") else None
    if row is None or row.case_id != case.id:
        raise NotFound("no such agreement version", code="unknown_version", resource="agreement_version")
    return row


async def _header(session: AsyncSession, case: Case) -> tuple[CaseHeader, list[PartyInfo]]:
    court = await session.get(Court, case.court_id)
    mediator = await session.get(Mediator, case.current_mediator_id) if case.current_mediator_id else None
    header = CaseHeader(
        case_id=case.id,
        case_number=case.case_number,
        court_name=court.name if court else "",
        kind=case.kind,
        cause=case.cause,
        mediator_name=mediator.name if mediator else None,
    )
    rows = await session.scalars(select(Party).where(Party.case_id == case.id).order_by(Party.id))
    parties = [
        PartyInfo(
            party_id=p.id,
            side=p.side,
            role=p.role,
            party_type=p.party_type,
            name=p.name,
            id_type=p.id_type,
            id_number=p.id_number,
            address=p.address,
            represents_id=p.represents_id,
        )
        for p in rows
    ]
    return header, parties


async def prefilled(session: AsyncSession, actor: Principal, case: Case) -> AgreementContent:
    """A first draft's content from the case (nothing stored)."""
    ensure(actor, AgreementAction.DRAFT, case)
    employer = await session.scalar(
        select(Party.name).where(
            Party.case_id == case.id, Party.party_type == "employer", Party.role == "principal"
        )
    )
    return prefill(summary=case.summary, claims=case.claims, amount=case.amount, employer_pays=employer)


def _apply_plan(
    rows: list[AgreementVersion], step: Step, env: CaseEnv, *, target: AgreementVersion | None = None
) -> tuple[Plan, AgreementVersion | None]:
    latest = rows[-1] if rows else None
    decided = plan(
        VersionStatus(latest.status) if latest else None,
        step,
        target_is_latest=target is None or target is latest,
    )
    if decided.supersede_latest and latest is not None:
        latest.status = VersionStatus.SUPERSEDED.value
        latest.superseded_at = env.now()
    return decided, latest


def _new_row(
    case: Case, number: int, status: VersionStatus, source: Source, actor: Principal, env: CaseEnv
) -> AgreementVersion:
    now = env.now()
    return AgreementVersion(
        id=new_id("agv"),
        case_id=case.id,
        number=number,
        status=status.value,
        source=source.value,
        revision=1,
        created_by=actor.label,
        created_at=now,
        updated_at=now,
    )


def version_tag(row: AgreementVersion | None) -> str:
    """What an edit was based on: the latest version, its revision and status (``none`` without one)."""
    return "none" if row is None else f"{row.id}.{row.revision}.{row.status}"


async def save_draft(
    session: AsyncSession,
    env: CaseEnv,
    actor: Principal,
    case: Case,
    content: AgreementContent,
    *,
    based_on: str | None = None,
) -> AgreementVersion:
    """Change the latest draft, or start a new one (superseding a frozen latest version). ``based_on``
    (a :func:`version_tag`): refused with 409 ``stale_revision`` when the latest version is no longer the
    one the edit started from (changed, frozen or replaced meanwhile)."""
    ensure(actor, AgreementAction.DRAFT, case)
    _require_drafting(case)
    rows = await _versions(session, case.id)
    if based_on is not None and based_on != version_tag(rows[-1] if rows else None):
        latest = rows[-1] if rows else None
        raise Conflict(
            "the agreement was changed since you read it",
            code="stale_revision",
            revision=latest.revision if latest else 0,
        )
    decided, latest = _apply_plan(rows, Step.EDIT, env)
    header, parties = await _header(session, case)
    text = AgreementText(case=header, parties=parties, content=content).model_dump(mode="json")
    if decided.new_status is None:
        assert latest is not None
        row = latest
        row.text = text
        row.revision += 1
        row.updated_at = env.now()
    else:
        row = _new_row(case, len(rows) + 1, VersionStatus.DRAFT, Source.TEMPLATE, actor, env)
        row.text = text
        session.add(row)
    await session.flush()
    if decided.new_status is not None:
        await rounds.on_new_version(session, env, actor, case)
    await audit.record(
        session,
        actor=actor,
        at=env.now(),
        subject_type="agreement",
        subject_id=row.id,
        case_id=case.id,
        action="save_agreement_draft",
        data={"number": row.number, "revision": row.revision},
    )
    return row


async def freeze(
    session: AsyncSession,
    env: CaseEnv,
    actor: Principal,
    case: Case,
    row: AgreementVersion,
    *,
    revision: int,
    font: Path,
) -> AgreementVersion:
    """Render the latest draft to PDF and store it with its SHA-256; the version never changes again.
    Refused (422 ``agreement_incomplete``, listing the problems) while the text is incomplete."""
    ensure(actor, AgreementAction.DRAFT, case)
    _require_drafting(case)
    rows = await _versions(session, case.id)
    _apply_plan(rows, Step.FREEZE, env, target=row)
    if row.revision != revision:
        raise Conflict(
            "the draft was changed since you read it", code="stale_revision", revision=row.revision
        )
    assert row.text is not None
    text = AgreementText.model_validate(row.text)
    found = problems(text, env.today())
    if found:
        raise InvalidInput(
            "the agreement is not complete",
            code="agreement_incomplete",
            field=found[0].field,
            problems=[ProblemOut(field=p.field, code=p.code, message=p.message).model_dump() for p in found],
        )
    frozen_at = env.now().replace(microsecond=0)
    data = await asyncio.to_thread(pdf.render, text, number=row.number, frozen_at=frozen_at, font=font)
    stored = await put_bytes(env.files, data)
    row.pdf_key, row.pdf_sha256, row.pdf_size = stored.key, stored.sha256, stored.size
    row.status = VersionStatus.FROZEN.value
    row.frozen_at = frozen_at
    row.frozen_by = actor.label
    row.updated_at = frozen_at
    await session.flush()
    await audit.record(
        session,
        actor=actor,
        at=frozen_at,
        subject_type="agreement",
        subject_id=row.id,
        case_id=case.id,
        action="freeze_agreement",
        data={"number": row.number, "sha256": row.pdf_sha256, "size": row.pdf_size},
    )
    return row


async def upload(
    session: AsyncSession,
    env: CaseEnv,
    actor: Principal,
    case: Case,
    *,
    content_type: str,
    chunks: AsyncIterable[bytes],
) -> AgreementVersion:
    """An agreement reached offline, as a PDF: stored as a new frozen version (its bytes are what is
    signed and hashed). Refused unless it is a complete PDF (``%PDF-`` first, ``%%EOF`` at the end)."""
    ensure(actor, AgreementAction.DRAFT, case)
    _require_drafting(case)
    if content_type.split(";")[0].strip().lower() != "application/pdf":
        raise UnsupportedMediaType("an offline agreement is uploaded as a PDF", allowed=["application/pdf"])
    tail = bytearray()

    async def checked() -> AsyncIterator[bytes]:
        first = True
        async for chunk in chunks:
            if first and chunk:
                sniff_content_type("application/pdf", chunk[:64])
                first = False
            tail.extend(chunk)
            del tail[:-1024]
            yield chunk
        if first:
            raise InvalidInput("the file is empty", field="file", code="empty_file")
        if b"%%EOF" not in tail:
            raise InvalidInput(
                "the PDF is incomplete (no %%EOF at its end)", field="file", code="truncated_pdf"
            )

    stored = await env.files.put(checked(), max_bytes=env.max_upload_bytes)
    rows = await _versions(session, case.id)
    _apply_plan(rows, Step.UPLOAD, env)
    row = _new_row(case, len(rows) + 1, VersionStatus.FROZEN, Source.UPLOAD, actor, env)
    row.pdf_key, row.pdf_sha256, row.pdf_size = stored.key, stored.sha256, stored.size
    row.frozen_at = row.created_at.replace(microsecond=0)
    row.frozen_by = actor.label
    session.add(row)
    await session.flush()
    await rounds.on_new_version(session, env, actor, case)
    await audit.record(
        session,
        actor=actor,
        at=row.created_at,
        subject_type="agreement",
        subject_id=row.id,
        case_id=case.id,
        action="upload_agreement",
        data={"number": row.number, "sha256": stored.sha256, "size": stored.size},
    )
    return row


def version_out(row: AgreementVersion, env: CaseEnv) -> VersionOut:
    text = AgreementText.model_validate(row.text) if row.text is not None else None
    found = problems(text, env.today()) if text is not None and row.status == VersionStatus.DRAFT else []
    return VersionOut.model_validate(
        {
            **VersionSummaryOut.model_validate(row).model_dump(),
            "text": text,
            "problems": [ProblemOut(field=p.field, code=p.code, message=p.message) for p in found],
        }
    )


async def agreement_out(session: AsyncSession, actor: Principal, case: Case) -> AgreementOut:
    ensure(actor, AgreementAction.READ, case)
    rows = [VersionSummaryOut.model_validate(r) for r in await _versions(session, case.id)]
    return AgreementOut(case_id=case.id, current=rows[-1] if rows else None, versions=rows)
