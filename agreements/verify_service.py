"""Verification answers: an uploaded file or a typed code against the sealed documents on record.

Anyone may verify (the QR code on a sealed agreement opens the public verify page). What they see: the
verdict and its problems, the file's own checks, and of the sealed document the code, the version (id,
number, still in force or not), when it took effect and was sealed, both hashes, and the signers with names
masked (:func:`tiaojie.masking.mask_name`), role, time and authentication method. The court and the mediator
of the case (authenticated) also see the names in full and the case (id, number, court).
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.principal import Principal
from accounts.tables import Court
from agreements.access import AgreementAction, ensure
from agreements.sealed_tables import SealedAgreement
from agreements.sealing_schemas import FileChecksOut, SealedCaseOut, SealedOut, SignerOut, VerificationOut
from agreements.sealing_service import SealingSetup, by_code, by_sha256
from agreements.tables import AgreementVersion
from agreements.verification import FileFindings, judge, read_file
from agreements.verification_codes import grouped, normalise
from cases.tables import Case
from tiaojie.errors import InvalidInput, NotFound, PermissionDenied
from tiaojie.masking import mask_name

__all__ = ["analyse_file", "parse_code", "verify_code", "verify_file"]


def parse_code(typed: str) -> str:
    """The normalised code, or InvalidInput ``malformed_code``."""
    code = normalise(typed)
    if code is None:
        raise InvalidInput(
            "a verification code is 16 letters and digits (XXXX-XXXX-XXXX-XXXX)",
            field="code",
            code="malformed_code",
        )
    return code


def _entitled(viewer: Principal | None, case: Case | None) -> bool:
    if viewer is None or case is None:
        return False
    try:
        ensure(viewer, AgreementAction.READ, case)
    except PermissionDenied:
        return False
    return True


async def _sealed_out(session: AsyncSession, row: SealedAgreement, viewer: Principal | None) -> SealedOut:
    case = await session.get(Case, row.case_id)
    full = _entitled(viewer, case)
    latest = await session.scalar(
        select(AgreementVersion.id)
        .where(AgreementVersion.case_id == row.case_id)
        .order_by(AgreementVersion.number.desc())
        .limit(1)
    )
    case_out = None
    if full and case is not None:
        court = await session.get(Court, case.court_id)
        case_out = SealedCaseOut(
            case_id=case.id, case_number=case.case_number, court_name=court.name if court else ""
        )
    return SealedOut(
        code=grouped(row.code),
        version_id=row.version_id,
        version_number=row.version_number,
        version_current=latest == row.version_id,
        effective_at=row.effective_at,
        sealed_at=row.sealed_at,
        document_sha256=row.document_sha256,
        sealed_sha256=row.sealed_sha256,
        size=row.size,
        signers=[
            SignerOut(
                name=s["name"] if full else mask_name(s["name"]),
                role=s["role"],
                signed_at=datetime.fromisoformat(s["signed_at"]),
                auth_method=s["auth_method"],
            )
            for s in row.signers
        ],
        names_masked=not full,
        case=case_out,
    )


async def verify_code(session: AsyncSession, typed: str, viewer: Principal | None) -> VerificationOut:
    """The sealed document of a code. InvalidInput ``malformed_code``; NotFound ``unknown_code``."""
    row = await by_code(session, parse_code(typed))
    if row is None:
        raise NotFound("no sealed agreement has this verification code", code="unknown_code")
    return VerificationOut(result="on_record", problems=[], sealed=await _sealed_out(session, row, viewer))


async def analyse_file(setup: SealingSetup, data: bytes) -> FileFindings:
    """What the file itself says (hash, seal, attached document): no database, in a worker thread."""
    keys = await asyncio.to_thread(setup.keys.get)
    return await asyncio.to_thread(read_file, data, keys.trust_roots)


async def verify_file(
    session: AsyncSession,
    findings: FileFindings,
    viewer: Principal | None,
    *,
    expected_code: str | None = None,
) -> VerificationOut:
    """The verdict on an uploaded file analysed by :func:`analyse_file` (see :mod:`agreements.verification`);
    with ``expected_code``, also whether the file is the document of that code."""
    expected = parse_code(expected_code) if expected_code is not None else None
    row = await by_sha256(session, findings.sha256)
    if row is None and findings.claimed_code is not None:
        row = await by_code(session, findings.claimed_code)
    verdict = judge(
        findings,
        record_sha256=row.sealed_sha256 if row else None,
        record_document_sha256=row.document_sha256 if row else None,
    )
    seal = findings.seal
    return VerificationOut(
        result=verdict.verdict,
        problems=list(verdict.problems),
        code_matches=None if expected is None else (row is not None and row.code == expected),
        file=FileChecksOut(
            sha256=findings.sha256,
            size=findings.size,
            signatures=seal.count,
            signature_valid=seal.valid,
            signature_trusted=seal.trusted,
            covers_whole_file=seal.whole_file,
            signer=seal.signer,
            attached_document_sha256=findings.attached_sha256,
        ),
        sealed=await _sealed_out(session, row, viewer) if row is not None else None,
    )
