"""Tables of the agreements package: the versions of a case's mediation agreement, their signing rounds,
signers, one-time codes, signatures, and the hash-chained audit trail (signatures and the trail are
append-only: the database refuses UPDATE and DELETE on them)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from store.base import Base, JsonValue

__all__ = [
    "AgreementSignature",
    "AgreementTrailEntry",
    "AgreementVersion",
    "SigningCode",
    "SigningRound",
    "SigningSigner",
]

_SerialId = BigInteger().with_variant(Integer(), "sqlite")


class AgreementVersion(Base):
    """One version of a case's agreement (:mod:`agreements.versions`). A template version keeps its text
    (:class:`agreements.text.AgreementText` as JSON); an uploaded one has none. A frozen version has its PDF
    in the file store under ``pdf_key``, with its SHA-256: after freezing, no column but ``status`` and
    ``superseded_at`` ever changes. ``revision`` counts the edits of a draft (optimistic concurrency)."""

    __tablename__ = "agreement_versions"
    __table_args__ = (UniqueConstraint("case_id", "number"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    status: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(20))
    text: Mapped[dict[str, Any] | None] = mapped_column(JsonValue)
    revision: Mapped[int] = mapped_column(default=1)
    pdf_sha256: Mapped[str | None] = mapped_column(String(64))
    pdf_key: Mapped[str | None] = mapped_column(String(300))
    pdf_size: Mapped[int | None] = mapped_column(BigInteger)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    frozen_by: Mapped[str | None] = mapped_column(String(200))
    frozen_at: Mapped[datetime | None]
    superseded_at: Mapped[datetime | None]


class SigningRound(Base):
    """Collecting signatures on one frozen version (:mod:`agreements.signing`). ``status`` is the pure state
    machine's status after the last step; ``outcome`` (full or partial) is what the case closes with.
    ``evidence_status``: ``pending`` once effective until the sealer took the evidence, then ``delivered``."""

    __tablename__ = "signing_rounds"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    version_id: Mapped[str] = mapped_column(ForeignKey("agreement_versions.id"), index=True)
    signing_order: Mapped[str] = mapped_column(String(20))
    seal_required: Mapped[bool]
    outcome: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    document_sha256: Mapped[str] = mapped_column(String(64))
    requested_by: Mapped[str] = mapped_column(String(200))
    requested_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    effective_at: Mapped[datetime | None]
    refusal_signer_id: Mapped[str | None] = mapped_column(String(32))
    refusal_reason: Mapped[str | None] = mapped_column(Text)
    evidence_status: Mapped[str | None] = mapped_column(String(20))
    evidence_attempts: Mapped[int] = mapped_column(default=0)
    evidence_error: Mapped[str | None] = mapped_column(String(500))
    evidence_delivered_at: Mapped[datetime | None]


class SigningSigner(Base):
    """One signer of a round, in signing order: a party (``signer_id`` its party id), the mediator (mediator
    id) or the organisation's seal (organisation id). ``phone`` is the party's phone when the round was
    requested (where one-time codes go); ``link_version`` bumps revoke the party's older links."""

    __tablename__ = "signing_signers"
    __table_args__ = (UniqueConstraint("round_id", "signer_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    round_id: Mapped[str] = mapped_column(ForeignKey("signing_rounds.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    signer_id: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(20))
    role: Mapped[str] = mapped_column(String(30))
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(30))
    required: Mapped[bool]
    last: Mapped[bool]
    link_version: Mapped[int] = mapped_column(default=1)
    status: Mapped[str] = mapped_column(String(20))


class SigningCode(Base):
    """A one-time code sent to a signer (:mod:`agreements.codes`): only its HMAC is kept."""

    __tablename__ = "signing_codes"
    __table_args__ = (Index("ix_signing_codes_signer", "signer_id", "sent_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    round_id: Mapped[str] = mapped_column(ForeignKey("signing_rounds.id", ondelete="CASCADE"), index=True)
    signer_id: Mapped[str] = mapped_column(String(32))
    code_hash: Mapped[str] = mapped_column(String(64))
    phone_masked: Mapped[str] = mapped_column(String(30))
    sent_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(default=0)
    used_at: Mapped[datetime | None]


class AgreementSignature(Base):
    """One signature (or the seal) on a round's document: append-only. The drawn strokes (canonical JSON)
    and the image (PNG) are in the file store under their SHA-256; the seal has no strokes."""

    __tablename__ = "agreement_signatures"
    __table_args__ = (UniqueConstraint("round_id", "signer_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    round_id: Mapped[str] = mapped_column(ForeignKey("signing_rounds.id"), index=True)
    case_id: Mapped[str] = mapped_column(String(32), index=True)
    signer_id: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(200))
    signed_at: Mapped[datetime]
    auth_method: Mapped[str] = mapped_column(String(20))
    document_sha256: Mapped[str] = mapped_column(String(64))
    strokes_key: Mapped[str | None] = mapped_column(String(300))
    strokes_sha256: Mapped[str | None] = mapped_column(String(64))
    image_key: Mapped[str] = mapped_column(String(300))
    image_sha256: Mapped[str] = mapped_column(String(64))
    width: Mapped[int | None]
    height: Mapped[int | None]
    points: Mapped[int | None]
    duration_ms: Mapped[int | None]
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(300))


class AgreementTrailEntry(Base):
    """One entry of a case's agreement audit trail (:mod:`agreements.trail`): append-only, numbered per
    case, each hashed over its fields and the hash of the entry before."""

    __tablename__ = "agreement_trail"
    __table_args__ = (UniqueConstraint("case_id", "seq"),)

    id: Mapped[int] = mapped_column(_SerialId, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(String(32))
    seq: Mapped[int]
    at: Mapped[datetime]
    round_id: Mapped[str | None] = mapped_column(String(32))
    version_id: Mapped[str | None] = mapped_column(String(32))
    actor_kind: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[str] = mapped_column(String(200))
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(40))
    signer_id: Mapped[str | None] = mapped_column(String(32))
    auth_method: Mapped[str | None] = mapped_column(String(20))
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(300))
    document_sha256: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JsonValue, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64))
