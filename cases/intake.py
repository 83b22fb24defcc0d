"""Intake: a court creates a case with its parties; materials are uploaded to it."""

from __future__ import annotations

import contextlib
import re
import unicodedata
from collections.abc import AsyncIterable
from typing import Any, cast
from urllib.parse import unquote

from sqlalchemy import Table, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.principal import Principal, PrincipalKind
from cases import audit
from cases.access import Action, ensure
from cases.context import CaseEnv
from cases.deadlines import Procedure
from cases.identity import IdType
from cases.lifecycle import CaseKind, CaseState, initial_state
from cases.schemas import CaseCreate
from cases.tables import Case, Material, Party
from cases.vocab import Instance, PartyRole, PartyType, Side
from tiaojie.errors import Conflict, InvalidInput, PermissionDenied, UnsupportedMediaType
from tiaojie.ids import new_id

__all__ = ["create_case", "create_case_with_parties", "sniff_content_type", "upload_material"]

_PERSON_ID_TYPES = frozenset(IdType) - {IdType.CREDIT_CODE}
_PARTIES = cast(Table, Party.__table__)


def _check_parties(data: CaseCreate) -> None:
    keys: dict[str, int] = {}
    for index, party in enumerate(data.parties):
        if party.key is not None:
            if party.key in keys:
                raise InvalidInput(
                    "party keys must be unique", field=f"parties.{index}.key", code="duplicate_key"
                )
            keys[party.key] = index
    for side in Side:
        if not any(p.side is side and p.role is PartyRole.PRINCIPAL for p in data.parties):
            raise InvalidInput(
                f"the case needs at least one {side.value} party", field="parties", code="party_missing"
            )
    if not any(p.party_type is PartyType.WORKER and p.role is PartyRole.PRINCIPAL for p in data.parties):
        raise InvalidInput(
            "a labor dispute needs a worker among the parties", field="parties", code="worker_missing"
        )
    for index, party in enumerate(data.parties):
        where = f"parties.{index}"
        if party.role is PartyRole.PRINCIPAL:
            if party.party_type is PartyType.PERSON:
                raise InvalidInput(
                    "a principal party is a worker or an employer", field=f"{where}.party_type"
                )
            if party.represents is not None:
                raise InvalidInput("only agents represent another party", field=f"{where}.represents")
            if party.party_type is PartyType.WORKER and party.id_type not in _PERSON_ID_TYPES:
                raise InvalidInput("a worker is identified by a personal document", field=f"{where}.id_type")
        else:
            if party.party_type is not PartyType.PERSON:
                raise InvalidInput("an agent or representative is a person", field=f"{where}.party_type")
            if party.id_type not in _PERSON_ID_TYPES:
                raise InvalidInput("an agent is identified by a personal document", field=f"{where}.id_type")
            if party.represents is None or party.represents not in keys:
                raise InvalidInput(
                    "an agent must name the `key` of the party it represents",
                    field=f"{where}.represents",
                    code="unknown_party_key",
                )
            principal = data.parties[keys[party.represents]]
            if principal.role is not PartyRole.PRINCIPAL or principal.side is not party.side:
                raise InvalidInput(
                    "an agent represents a principal party on its own side", field=f"{where}.represents"
                )
            if (
                party.role is PartyRole.LEGAL_REPRESENTATIVE
                and principal.party_type is not PartyType.EMPLOYER
            ):
                raise InvalidInput("only an employer has a legal representative", field=f"{where}.represents")


def _check_case(data: CaseCreate) -> None:
    if data.instance is Instance.SECOND:
        if data.kind is not CaseKind.ENTRUSTED:
            raise InvalidInput(
                "second-instance cases are entrusted (委托)", field="kind", code="invalid_kind"
            )
        if data.procedure is not Procedure.ORDINARY:
            raise InvalidInput("second instance uses the ordinary procedure", field="procedure")
    if data.offline_agreement and data.agreement_effective_at is None:
        raise InvalidInput(
            "an offline agreement needs the time it took effect",
            field="agreement_effective_at",
            code="required",
        )
    if not data.offline_agreement and data.agreement_effective_at is not None:
        raise InvalidInput(
            "only offline agreements are created with an effective time", field="agreement_effective_at"
        )
    for name in ("applied_at", "agreement_effective_at"):
        value = getattr(data, name)
        if value is not None and value.tzinfo is None:
            raise InvalidInput("give the time with its UTC offset", field=name, code="naive_datetime")


def _duplicate_number() -> Conflict:
    return Conflict(
        "this court already has a case with that number", code="duplicate_case_number", field="case_number"
    )


async def create_case(session: AsyncSession, env: CaseEnv, actor: Principal, data: CaseCreate) -> Case:
    case, _ = await create_case_with_parties(session, env, actor, data)
    return case


async def create_case_with_parties(
    session: AsyncSession, env: CaseEnv, actor: Principal, data: CaseCreate
) -> tuple[Case, list[dict[str, Any]]]:
    """The new case (flushed) and the rows of its parties as inserted (one statement for all of them)."""
    if actor.kind is not PrincipalKind.COURT or actor.court_id is None:
        raise PermissionDenied("only a court creates mediation cases")
    _check_case(data)
    _check_parties(data)
    existing = await session.scalar(
        select(Case.id).where(Case.court_id == actor.court_id, Case.case_number == data.case_number)
    )
    if existing:
        raise _duplicate_number()
    now = env.now()
    state = initial_state(offline_agreement=data.offline_agreement)
    case = Case(
        id=new_id("cas"),
        court_id=actor.court_id,
        case_number=data.case_number,
        kind=data.kind.value,
        instance=data.instance.value,
        procedure=data.procedure.value,
        cause=data.cause.value,
        claims=data.claims,
        summary=data.summary,
        amount=data.amount,
        arbitration_award=data.arbitration_award,
        judge_name=data.judge_name,
        clerk_name=data.clerk_name,
        offline_agreement=data.offline_agreement,
        applied_at=data.applied_at,
        agreement_effective_at=data.agreement_effective_at,
        outcome="full" if data.offline_agreement else None,
        state=state.value,
        extension_days=0,
        created_at=now,
        updated_at=now,
    )
    try:
        # Two requests with the same number can both pass the check above; the unique constraint decides,
        # and the loser gets the same answer as a sequential duplicate, not a generic conflict.
        async with session.begin_nested():
            session.add(case)
            await session.flush()
    except IntegrityError as exc:
        detail = str(exc.orig)
        if "uq_cases_court_number" not in detail and "cases.case_number" not in detail:  # PostgreSQL, SQLite
            raise
        raise _duplicate_number() from exc
    ids = {p.key: new_id("pty") for p in data.parties if p.key is not None}
    # Principals first: an agent's row refers to its principal's.
    parties = [
        {
            "id": ids.get(party.key) if party.key else new_id("pty"),
            "case_id": case.id,
            "side": party.side.value,
            "role": party.role.value,
            "party_type": party.party_type.value,
            "name": party.name,
            "id_type": party.id_type.value,
            "id_number": party.id_number,
            "phone": party.phone,
            "service_address": party.service_address,
            "address": party.address,
            "represents_id": ids[party.represents] if party.represents else None,
            "authorisation": party.authorisation,
            "created_at": now,
        }
        for party in sorted(data.parties, key=lambda p: p.represents is not None)
    ]
    await session.execute(insert(_PARTIES), parties)  # one executemany, plain Core
    await audit.record(
        session,
        actor=actor,
        at=now,
        subject_type="case",
        subject_id=case.id,
        case_id=case.id,
        action="create",
        to_state=state.value,
        data={"case_number": case.case_number, "kind": case.kind, "parties": len(data.parties)},
    )
    if state is CaseState.OFFLINE_AGREEMENT_UPLOADED:
        case.outcome = "full"
    return case, parties


# --- materials --------------------------------------------------------------------------------------

_MAGIC: tuple[tuple[bytes, int, frozenset[str]], ...] = (
    (b"%PDF-", 0, frozenset({"application/pdf"})),
    (b"\x89PNG\r\n\x1a\n", 0, frozenset({"image/png"})),
    (b"\xff\xd8\xff", 0, frozenset({"image/jpeg"})),
    (
        b"PK\x03\x04",
        0,
        frozenset(
            {
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "application/ofd",
            }
        ),
    ),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 0, frozenset({"application/msword", "application/vnd.ms-excel"})),
)


def sniff_content_type(declared: str, head: bytes) -> None:
    """Refuse a file whose first bytes do not match its declared type (UnsupportedMediaType)."""
    if declared == "image/webp":
        if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
            return
    elif declared == "text/plain":
        if b"\x00" not in head:
            try:
                head.decode("utf-8")
                return
            except UnicodeDecodeError as exc:
                if exc.start >= len(head) - 3:  # a multi-byte character cut at the end of the sample
                    return
    else:
        for magic, offset, types in _MAGIC:
            if declared in types and head[offset : offset + len(magic)] == magic:
                return
    raise UnsupportedMediaType("the file's content does not match its declared type", declared=declared)


_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|]+")


_PERCENT_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")


def _clean_filename(name: str) -> str:
    """The name to store and show. Clients percent-encode what a quoted ``filename`` cannot carry (browsers
    ``"`` and line breaks, aiohttp's and others' clients every non-ASCII byte): decoded when it decodes to
    UTF-8, else kept as sent. Then path separators, control and reserved characters become ``_``."""
    if _PERCENT_ESCAPE.search(name):
        with contextlib.suppress(UnicodeDecodeError):
            name = unquote(name, errors="strict")
    name = unicodedata.normalize("NFC", name).strip()
    name = _UNSAFE.sub("_", name).strip(" .")
    return name[:200] or "file"


async def upload_material(
    session: AsyncSession,
    env: CaseEnv,
    actor: Principal,
    case: Case,
    *,
    filename: str,
    content_type: str,
    chunks: AsyncIterable[bytes],
    description: str | None = None,
) -> Material:
    ensure(actor, Action.UPLOAD_MATERIAL, case)
    content_type = content_type.split(";")[0].strip().lower()
    if content_type not in env.material_types:
        raise UnsupportedMediaType(
            f"files of type {content_type or 'unknown'} are not accepted", allowed=list(env.material_types)
        )

    async def checked() -> AsyncIterable[bytes]:
        first = True
        async for chunk in chunks:
            if first and chunk:
                sniff_content_type(content_type, chunk[:64])
                first = False
            yield chunk
        if first:
            raise InvalidInput("the file is empty", field="file", code="empty_file")

    stored = await env.files.put(checked(), max_bytes=env.max_upload_bytes)
    now = env.now()
    material = Material(
        id=new_id("mat"),
        case_id=case.id,
        filename=_clean_filename(filename),
        content_type=content_type,
        size=stored.size,
        sha256=stored.sha256,
        storage_key=stored.key,
        description=description,
        uploaded_by=actor.label,
        created_at=now,
    )
    session.add(material)
    await audit.record(
        session,
        actor=actor,
        at=now,
        subject_type="material",
        subject_id=material.id,
        case_id=case.id,
        action="upload_material",
        data={"sha256": stored.sha256, "size": stored.size, "content_type": content_type},
    )
    return material
