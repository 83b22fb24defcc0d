"""Tables of the cases package: roster, mediators, cases, parties, materials, assignment, timing, audit."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Date, ForeignKey, Index, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from store.base import Base, JsonValue

__all__ = [
    "Assignment",
    "AuditEvent",
    "Case",
    "CasePause",
    "ChangeRequest",
    "Disclosure",
    "Extension",
    "IdempotencyRecord",
    "Material",
    "Mediator",
    "Party",
    "RosterEntry",
]

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT identity.
_SerialId = BigInteger().with_variant(Integer(), "sqlite")


class Mediator(Base):
    """A trade-union mediator's profile (OMR 5: profile, case scope, specialties, fees)."""

    __tablename__ = "mediators"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    gender: Mapped[str | None] = mapped_column(String(10))
    phone: Mapped[str | None] = mapped_column(String(30))
    id_type: Mapped[str | None] = mapped_column(String(30))
    id_number: Mapped[str | None] = mapped_column(String(40))
    title: Mapped[str | None] = mapped_column(String(100))
    profile: Mapped[str | None] = mapped_column(Text)
    specialties: Mapped[list[str]] = mapped_column(JsonValue, default=list)
    case_scope: Mapped[list[str]] = mapped_column(JsonValue, default=list)
    languages: Mapped[list[str]] = mapped_column(JsonValue, default=list)
    fees_charged: Mapped[bool] = mapped_column(default=False)
    fee_note: Mapped[str | None] = mapped_column(String(300))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class RosterEntry(Base):
    """An organisation or a mediator on a court's specially-invited roster (特邀调解名册)."""

    __tablename__ = "roster_entries"
    __table_args__ = (
        UniqueConstraint("court_id", "organisation_id", "mediator_id", name="uq_roster_subject"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    court_id: Mapped[str] = mapped_column(ForeignKey("courts.id"), index=True)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    mediator_id: Mapped[str | None] = mapped_column(ForeignKey("mediators.id"), index=True)
    labor_roster: Mapped[bool] = mapped_column(default=True)
    status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(String(500))
    submitted_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class Case(Base):
    """A labor-dispute mediation case delegated (委派) or entrusted (委托) by a court."""

    __tablename__ = "cases"
    __table_args__ = (
        UniqueConstraint("court_id", "case_number", name="uq_cases_court_number"),
        Index("ix_cases_court_state", "court_id", "state"),
        Index("ix_cases_mediator_state", "current_mediator_id", "state"),
        Index("ix_cases_org_state", "current_organisation_id", "state"),
        Index("ix_cases_last_day", "last_day"),
        # Pages of the newest cases a court, an organisation or a mediator sees (cases.queries).
        Index("ix_cases_court_newest", "court_id", "id"),
        Index("ix_cases_org_newest", "current_organisation_id", "id"),
        Index("ix_cases_mediator_newest", "current_mediator_id", "id"),
        # The statistics read the cases received, accepted or closed within a period (stats.load).
        Index("ix_cases_created_at", "created_at"),
        Index("ix_cases_accepted_at", "accepted_at"),
        Index("ix_cases_closed_at", "closed_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    court_id: Mapped[str] = mapped_column(ForeignKey("courts.id"))
    case_number: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(20))
    instance: Mapped[str] = mapped_column(String(10))
    procedure: Mapped[str] = mapped_column(String(10))
    cause: Mapped[str] = mapped_column(String(40))
    claims: Mapped[str] = mapped_column(Text)
    summary: Mapped[str | None] = mapped_column(Text)
    amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    arbitration_award: Mapped[str | None] = mapped_column(String(120))
    judge_name: Mapped[str | None] = mapped_column(String(100))
    clerk_name: Mapped[str | None] = mapped_column(String(100))
    offline_agreement: Mapped[bool] = mapped_column(default=False)
    applied_at: Mapped[datetime | None]
    state: Mapped[str] = mapped_column(String(40))
    suspended_from: Mapped[str | None] = mapped_column(String(40))
    outcome: Mapped[str | None] = mapped_column(String(20))
    termination_reason: Mapped[str | None] = mapped_column(String(40))
    termination_note: Mapped[str | None] = mapped_column(Text)
    current_assignment_id: Mapped[str | None] = mapped_column(String(32))
    current_mediator_id: Mapped[str | None] = mapped_column(ForeignKey("mediators.id"))
    current_organisation_id: Mapped[str | None] = mapped_column(ForeignKey("organisations.id"))
    acceptance_due: Mapped[date | None] = mapped_column(Date)
    accepted_at: Mapped[datetime | None]
    base_days: Mapped[int | None]
    extension_days: Mapped[int] = mapped_column(default=0)
    last_day: Mapped[date | None] = mapped_column(Date)
    closed_at: Mapped[datetime | None]
    agreement_effective_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class Party(Base):
    """A worker, an employer, or an agent acting for one of them."""

    __tablename__ = "parties"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    side: Mapped[str] = mapped_column(String(20))
    role: Mapped[str] = mapped_column(String(20))
    party_type: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    id_type: Mapped[str] = mapped_column(String(30))
    id_number: Mapped[str] = mapped_column(String(40))
    phone: Mapped[str | None] = mapped_column(String(30))
    service_address: Mapped[str | None] = mapped_column(String(300))
    address: Mapped[str | None] = mapped_column(String(300))
    represents_id: Mapped[str | None] = mapped_column(ForeignKey("parties.id"))
    authorisation: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]


class Material(Base):
    """An uploaded file of a case, kept by its SHA-256."""

    __tablename__ = "materials"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(120))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(String(500))
    uploaded_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]


class Assignment(Base):
    """One designation of an organisation and mediator to a case, and its answer."""

    __tablename__ = "assignments"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    mediator_id: Mapped[str] = mapped_column(ForeignKey("mediators.id"))
    method: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    assigned_by: Mapped[str] = mapped_column(String(200))
    assigned_at: Mapped[datetime]
    accept_due: Mapped[date] = mapped_column(Date)
    responded_at: Mapped[datetime | None]
    decline_reason: Mapped[str | None] = mapped_column(Text)


class Disclosure(Base):
    """A mediator's disclosure of a possible conflict (OMR 13), with each party's answer."""

    __tablename__ = "disclosures"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    mediator_id: Mapped[str] = mapped_column(ForeignKey("mediators.id"))
    kind: Mapped[str] = mapped_column(String(30))
    details: Mapped[str] = mapped_column(Text)
    consents: Mapped[list[dict[str, Any]]] = mapped_column(JsonValue, default=list)
    created_at: Mapped[datetime]


class ChangeRequest(Base):
    """A party's request for recusal or for another mediator (OMR 14), and its decision."""

    __tablename__ = "change_requests"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    party_id: Mapped[str] = mapped_column(ForeignKey("parties.id"))
    kind: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))
    mediator_id: Mapped[str | None] = mapped_column(ForeignKey("mediators.id"))
    created_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[str | None] = mapped_column(String(200))
    decision_reason: Mapped[str | None] = mapped_column(Text)


class Extension(Base):
    """An extension of the mediation period, with every party's consent (OMR 24)."""

    __tablename__ = "extensions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    days: Mapped[int]
    reason: Mapped[str] = mapped_column(Text)
    consents: Mapped[list[dict[str, Any]]] = mapped_column(JsonValue, default=list)
    granted_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]


class CasePause(Base):
    """Time excluded from the mediation period: appraisal, suspected false mediation, mediator change."""

    __tablename__ = "pauses"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    started_by: Mapped[str] = mapped_column(String(200))
    ended_by: Mapped[str | None] = mapped_column(String(200))


class AuditEvent(Base):
    """Append-only record of every change: who, when, what, from which state to which, and why.

    Database triggers (see the migration) refuse UPDATE and DELETE on this table.
    """

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_subject", "subject_type", "subject_id"),)

    id: Mapped[int] = mapped_column(_SerialId, primary_key=True, autoincrement=True)
    at: Mapped[datetime]
    subject_type: Mapped[str] = mapped_column(String(30))
    subject_id: Mapped[str] = mapped_column(String(32))
    case_id: Mapped[str | None] = mapped_column(String(32), index=True)
    actor_kind: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[str] = mapped_column(String(32))
    actor_label: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(60))
    from_state: Mapped[str | None] = mapped_column(String(40))
    to_state: Mapped[str | None] = mapped_column(String(40))
    reason: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JsonValue, default=dict)
    ip: Mapped[str | None] = mapped_column(String(64))


class IdempotencyRecord(Base):
    """The first response to a creating POST, replayed for a retry with the same Idempotency-Key."""

    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("owner", "key", name="uq_idempotency_owner_key"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner: Mapped[str] = mapped_column(String(80))
    key: Mapped[str] = mapped_column(String(200))
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(300))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int]
    response: Mapped[dict[str, Any]] = mapped_column(JsonValue)
    created_at: Mapped[datetime]
