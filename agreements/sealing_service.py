"""Sealing an agreement that took effect, and finding sealed agreements again.

The signing side calls a :class:`Sealer` when the last required signature lands, with the
:class:`agreements.evidence.Evidence` of the version. Two ways to plug it in:

- inside the transaction that records the last signature: ``await seal_agreement(session, env, setup,
  evidence)`` — the sealed row and its audit event commit (or roll back) with that transaction;
- after it committed: ``await DatabaseSealer(db, env, setup).seal(evidence)`` — its own transaction.

Either is idempotent per version: sealing a version that is already sealed returns the existing row (and
refuses, 409 ``evidence_mismatch``, evidence for another document hash). The parties' download through their
signed link calls :func:`sealed_pdf` with the case and version it names.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.principal import Principal
from agreements.certificate import SealFacts
from agreements.evidence import Evidence
from agreements.pdf import DEFAULT_FONT
from agreements.seal_keys import SealKeys, load_seal_keys
from agreements.sealed_tables import SealedAgreement
from agreements.sealing import build_sealed
from agreements.tables import AgreementVersion
from agreements.verification_codes import grouped, new_code
from agreements.versions import VersionStatus
from cases import audit
from cases.context import CaseEnv
from store.database import Database
from store.files import FileStore, put_bytes
from tiaojie.errors import Conflict, InvalidInput, NotFound
from tiaojie.ids import new_id
from tiaojie.settings import Settings

__all__ = [
    "DatabaseSealer",
    "KeyRing",
    "SealingSetup",
    "by_code",
    "by_sha256",
    "for_case",
    "seal_agreement",
    "sealed_pdf",
]


class KeyRing:
    """The sealing keys, loaded (and the development pair made) on first use, then kept. Thread-safe: it is
    first used from the worker threads that sign and verify."""

    def __init__(self, load: Callable[[], SealKeys]) -> None:
        self._load = load
        self._keys: SealKeys | None = None
        self._lock = threading.Lock()

    def get(self) -> SealKeys:
        with self._lock:
            if self._keys is None:
                self._keys = self._load()
            return self._keys


@dataclass(frozen=True, slots=True)
class SealingSetup:
    keys: KeyRing
    font: Path
    base_url: str
    actor: Principal = field(default_factory=lambda: Principal.system("sealing"))

    @classmethod
    def from_settings(cls, settings: Settings) -> SealingSetup:
        def load() -> SealKeys:
            return load_seal_keys(
                data_dir=settings.data_dir,
                key=settings.seal_key,
                cert=settings.seal_cert,
                chain=settings.seal_chain,
                passphrase=settings.seal_key_passphrase,
                trust_roots=settings.seal_trust_roots,
            )

        return cls(
            keys=KeyRing(load), font=settings.render_font or DEFAULT_FONT, base_url=settings.base_url()
        )

    def verify_url(self, code: str) -> str:
        """What the QR code on the certificate holds: the verify page with the code in the fragment (which
        browsers do not send to the server)."""
        return f"{self.base_url}/verify#{grouped(code)}"


def _mismatch(message: str) -> InvalidInput:
    return InvalidInput(message, code="evidence_mismatch")


def _check(evidence: Evidence, version: AgreementVersion | None) -> None:
    if version is None or version.case_id != evidence.case_id or version.number != evidence.version_number:
        raise _mismatch("the evidence names no agreement version of its case")
    if version.status != VersionStatus.FROZEN.value:
        raise Conflict(
            "only the frozen version in force is sealed", code="version_not_frozen", status=version.status
        )
    if hashlib.sha256(evidence.document_pdf).hexdigest() != evidence.document_sha256:
        raise _mismatch("the evidence's document does not have the evidence's hash")
    if version.pdf_sha256 != evidence.document_sha256:
        raise _mismatch("the evidence's document is not the frozen version's PDF")
    if not evidence.signatures:
        raise _mismatch("the evidence has no signature")
    if evidence.effective_at.tzinfo is None or any(s.signed_at.tzinfo is None for s in evidence.signatures):
        raise _mismatch("times in the evidence must be aware")


async def _existing(session: AsyncSession, evidence: Evidence) -> SealedAgreement | None:
    row = await session.scalar(
        select(SealedAgreement).where(SealedAgreement.version_id == evidence.version_id)
    )
    if row is not None and row.document_sha256 != evidence.document_sha256:
        raise Conflict("this version was sealed with another document", code="evidence_mismatch")
    return row


async def seal_agreement(
    session: AsyncSession, env: CaseEnv, setup: SealingSetup, evidence: Evidence
) -> SealedAgreement:
    """Build the sealed PDF of ``evidence``, store it, record it and an audit event ``seal_agreement``, all in
    the caller's transaction. Returns the existing row when the version is already sealed."""
    existing = await _existing(session, evidence)
    if existing is not None:
        return existing
    _check(evidence, await session.get(AgreementVersion, evidence.version_id))
    row, development = await _build(env, setup, evidence)
    kept = await _record(session, setup, evidence, row, development)
    if kept is not row:
        await env.files.discard(row.pdf_key)  # another request sealed it first: ours is referred to nowhere
    return kept


async def _build(env: CaseEnv, setup: SealingSetup, evidence: Evidence) -> tuple[SealedAgreement, bool]:
    """The sealed PDF made (in a thread) and stored, and its row, not yet added; whether the development
    key sealed it. No database."""
    keys = await asyncio.to_thread(setup.keys.get)
    code = new_code()
    sealed_at = env.now().replace(microsecond=0)
    facts = SealFacts(code=grouped(code), verify_url=setup.verify_url(code), sealed_at=sealed_at)
    data = await asyncio.to_thread(build_sealed, evidence, facts, keys, font=setup.font)
    stored = await put_bytes(env.files, data)
    row = SealedAgreement(
        id=new_id("sld"),
        case_id=evidence.case_id,
        version_id=evidence.version_id,
        version_number=evidence.version_number,
        code=code,
        pdf_key=stored.key,
        sealed_sha256=stored.sha256,
        size=stored.size,
        document_sha256=evidence.document_sha256,
        signers=[
            {
                "name": s.name,
                "role": s.role,
                "signed_at": s.signed_at.isoformat(),
                "auth_method": s.auth_method.value,
            }
            for s in evidence.signatures
        ],
        effective_at=evidence.effective_at,
        sealed_at=sealed_at,
    )
    return row, keys.development


async def _record(
    session: AsyncSession, setup: SealingSetup, evidence: Evidence, row: SealedAgreement, development: bool
) -> SealedAgreement:
    """Add the row and its audit event; if another request sealed the version meanwhile, that one stands."""
    existing = await _existing(session, evidence)
    if existing is not None:
        return existing
    try:
        async with session.begin_nested():
            session.add(row)
    except IntegrityError:
        # Sealed meanwhile by another request (a unique version id): that one stands.
        winner = await _existing(session, evidence)
        if winner is None:
            raise
        return winner
    await audit.record(
        session,
        actor=setup.actor,
        at=row.sealed_at,
        subject_type="agreement",
        subject_id=evidence.version_id,
        case_id=evidence.case_id,
        action="seal_agreement",
        data={
            "number": evidence.version_number,
            "sealed_id": row.id,
            "sha256": row.sealed_sha256,
            "size": row.size,
            "document_sha256": evidence.document_sha256,
            "development_key": development,
        },
    )
    return row


class DatabaseSealer:
    """The :class:`agreements.handoff.Sealer` of the service (``Services.build`` attaches it to the evidence
    desk). The PDF is built and signed outside any transaction (it may take a second or more, and on SQLite
    a writing transaction holds the write lock); only recording it takes a short one."""

    def __init__(self, db: Database, env: CaseEnv, setup: SealingSetup) -> None:
        self.db = db
        self.env = env
        self.setup = setup

    async def seal(self, evidence: Evidence) -> SealedAgreement:
        async with self.db.read() as session:
            existing = await _existing(session, evidence)
            if existing is not None:
                return existing
            _check(evidence, await session.get(AgreementVersion, evidence.version_id))
        row, development = await _build(self.env, self.setup, evidence)
        async with self.db.session() as session:
            try:
                kept = await _record(session, self.setup, evidence, row, development)
            except BaseException:
                # Not recorded (the unit of work rolls back). A failure of the commit itself is not
                # caught here: the row may have been stored, and a file left over beats a file lost.
                await asyncio.shield(self.env.files.discard(row.pdf_key))
                raise
        if kept is not row:  # another desk sealed it first: its PDF stands, ours is referred to nowhere
            await self.env.files.discard(row.pdf_key)
        return kept


async def by_code(session: AsyncSession, code: str) -> SealedAgreement | None:
    """``code`` normalised (:func:`agreements.verification_codes.normalise`)."""
    row: SealedAgreement | None = await session.scalar(
        select(SealedAgreement).where(SealedAgreement.code == code)
    )
    return row


async def by_sha256(session: AsyncSession, sha256: str) -> SealedAgreement | None:
    row: SealedAgreement | None = await session.scalar(
        select(SealedAgreement).where(SealedAgreement.sealed_sha256 == sha256)
    )
    return row


async def for_case(session: AsyncSession, case_id: str) -> SealedAgreement | None:
    """The case's sealed agreement in force: that of its latest sealed version."""
    row: SealedAgreement | None = await session.scalar(
        select(SealedAgreement)
        .where(SealedAgreement.case_id == case_id)
        .order_by(SealedAgreement.version_number.desc())
        .limit(1)
    )
    return row


async def sealed_pdf(session: AsyncSession, files: FileStore, case_id: str, version_id: str) -> bytes:
    """The sealed PDF of one version of one case (for the parties' download through their signed link:
    the caller has checked the link). NotFound ``not_sealed`` when that version is not sealed."""
    row = await session.scalar(select(SealedAgreement).where(SealedAgreement.version_id == version_id))
    if row is None or row.case_id != case_id:
        raise NotFound("this agreement version is not sealed", code="not_sealed", resource="sealed_agreement")
    return await asyncio.to_thread(files.path(row.pdf_key).read_bytes)
