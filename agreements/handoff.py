"""Handing a completed signing over to the sealing step: the :class:`Sealer` hook and the desk that feeds it.

When the last required signature (or the seal) lands, the round is marked ``evidence_status = pending`` in
the same transaction. After that transaction commits, the :class:`EvidenceDesk` of this process wakes,
assembles the :class:`~agreements.evidence.Evidence` (the frozen PDF, each signature with its image and
how the signer was authenticated, and the hash-chained trail up to the agreement taking effect) and gives
it to the attached sealer; once the sealer returns, the round is ``delivered``. A sealer that raises is
tried again later (the desk's ``run`` loop, every minute, also picks up rounds left pending by a crash),
so a sealer may see the same evidence more than once and must be idempotent: one version has at most one
effective round, so ``Evidence.version_id`` identifies it. Nothing is delivered while no sealer is
attached.

The lead wires the sealing side in with ``services.evidence.attach(sealer)``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from accounts.tables import Court, Organisation
from agreements import trail_store
from agreements.evidence import AuthMethod, Evidence, SignatureEvidence, TrailEntry
from agreements.tables import AgreementSignature, AgreementVersion, SigningRound, SigningSigner
from agreements.trail import Action
from cases.tables import Case
from store.database import Database
from store.files import FileStore
from tiaojie.clock import Clock

__all__ = ["EvidenceDesk", "Sealer", "build_evidence", "mark_effective"]

log = logging.getLogger(__name__)

_EFFECTIVE = "agreements.effective"
_bells: set[Callable[[], None]] = set()


class Sealer(Protocol):
    """The sealing step: turns the evidence into the sealed PDF. Called after the commit that made the
    agreement effective, outside any transaction; raising means "try again later"."""

    async def seal(self, evidence: Evidence) -> object: ...  # what it returns is not used


def mark_effective(session: AsyncSession) -> None:
    """Wake the desks once the caller's transaction commits (an agreement took effect in it)."""
    session.sync_session.info[_EFFECTIVE] = True


@event.listens_for(Session, "after_commit")
def _ring(session: Session) -> None:
    if session.info.pop(_EFFECTIVE, False):
        for bell in list(_bells):
            bell()


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_EFFECTIVE, None)


async def _read(files: FileStore, key: str) -> bytes:
    path: Path = files.path(key)
    return await asyncio.to_thread(path.read_bytes)


async def build_evidence(session: AsyncSession, files: FileStore, round_id: str) -> Evidence:
    """The evidence of an effective round, read from the database and the file store."""
    row = await session.get(SigningRound, round_id)
    assert row is not None
    assert row.effective_at is not None, "only an effective round has evidence"
    case = await session.get(Case, row.case_id)
    version = await session.get(AgreementVersion, row.version_id)
    assert case is not None
    assert version is not None
    assert version.pdf_key is not None
    court = await session.get(Court, case.court_id)
    organisation = (
        await session.get(Organisation, case.current_organisation_id)
        if case.current_organisation_id
        else None
    )
    signers = {
        s.signer_id: s
        for s in await session.scalars(select(SigningSigner).where(SigningSigner.round_id == row.id))
    }
    signatures = list(
        await session.scalars(
            select(AgreementSignature)
            .where(AgreementSignature.round_id == row.id)
            .order_by(AgreementSignature.signed_at, AgreementSignature.id)
        )
    )
    chain = await trail_store.entries(session, case.id)
    end = next(
        (e.seq for e in chain if e.action == Action.EFFECTIVE.value and e.round_id == row.id), len(chain)
    )
    return Evidence(
        case_id=case.id,
        case_number=case.case_number,
        court_name=court.name if court is not None else "",
        organisation_name=organisation.name if organisation is not None else "",
        version_id=version.id,
        version_number=version.number,
        document_pdf=await _read(files, version.pdf_key),
        document_sha256=row.document_sha256,
        effective_at=row.effective_at,
        signatures=tuple(
            SignatureEvidence(
                signer_id=s.signer_id,
                name=signers[s.signer_id].name,
                role=signers[s.signer_id].role,
                signed_at=s.signed_at,
                auth_method=AuthMethod(s.auth_method),
                image_png=image,
                ip=s.ip or "",
                user_agent=s.user_agent or "",
            )
            for s, image in zip(
                signatures, [await _read(files, s.image_key) for s in signatures], strict=True
            )
        ),
        trail=tuple(
            TrailEntry(
                seq=e.seq,
                at=e.at,
                actor=e.actor,
                action=e.action,
                auth_method=e.auth_method,
                ip=e.ip,
                user_agent=e.user_agent,
                document_sha256=e.document_sha256,
                entry_hash=e.entry_hash,
            )
            for e in chain
            if e.seq <= end
        ),
    )


class EvidenceDesk:
    """Delivers the evidence of effective rounds to the attached :class:`Sealer` (one delivery at a time in
    this process)."""

    def __init__(self, db: Database, files: FileStore, clock: Clock) -> None:
        self.db = db
        self.files = files
        self.clock = clock
        self.sealer: Sealer | None = None
        self._lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[list[str]]] = set()
        self._bell: Callable[[], None] | None = None

    def attach(self, sealer: Sealer) -> None:
        self.sealer = sealer

    def detach(self) -> None:
        """Deliver nothing until a sealer is attached again (the rounds wait, pending)."""
        self.sealer = None

    def start(self) -> None:
        """Listen for commits that made an agreement effective."""
        if self._bell is None:
            self._bell = self.wake
            _bells.add(self._bell)

    def stop(self) -> None:
        if self._bell is not None:
            _bells.discard(self._bell)
            self._bell = None

    def wake(self) -> None:
        if self.sealer is None:
            return
        try:
            task = asyncio.get_running_loop().create_task(self.deliver_pending())
        except RuntimeError:  # no loop in this thread: the run loop will find the round
            return
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        """Wait for the deliveries under way."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def deliver_pending(self, limit: int = 20) -> list[str]:
        """Deliver every pending round's evidence (up to ``limit``); the ids delivered."""
        sealer = self.sealer
        if sealer is None:
            return []
        delivered: list[str] = []
        async with self._lock:
            async with self.db.read() as session:
                pending = list(
                    await session.scalars(
                        select(SigningRound.id)
                        .where(SigningRound.evidence_status == "pending")
                        .order_by(SigningRound.effective_at, SigningRound.id)
                        .limit(limit)
                    )
                )
            for round_id in pending:
                try:
                    async with self.db.read() as session:
                        evidence = await build_evidence(session, self.files, round_id)
                    await sealer.seal(evidence)
                except Exception as exc:  # the sealer's failure: kept on the round and tried again later
                    log.warning("handing round %s to the sealer failed", round_id, exc_info=True)
                    await self._note(round_id, error=f"{exc.__class__.__name__}: {exc}"[:500])
                    continue
                await self._note(round_id, error=None)
                delivered.append(round_id)
        return delivered

    async def _note(self, round_id: str, *, error: str | None) -> None:
        async with self.db.session() as session:
            row = await session.get(SigningRound, round_id)
            if row is None or row.evidence_status != "pending":
                return
            row.evidence_attempts += 1
            row.evidence_error = error
            if error is None:
                row.evidence_status = "delivered"
                row.evidence_delivered_at = self.clock.now()

    async def run(self, interval: float = 60.0) -> None:
        """Retry what is still pending, every ``interval`` seconds (a background task)."""
        while True:
            try:
                await self.deliver_pending()
            except Exception:
                log.exception("delivering agreement evidence failed")
            await asyncio.sleep(interval)
