"""Tables of a case's result: the report to the court (OMR 21) and the application for judicial
confirmation (CPL 205) with each party's confirmation."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from store.base import Base

__all__ = ["CaseReport", "JcApplication", "JcConfirmation"]


class CaseReport(Base):
    """The result the mediator sent to the court, and the court's acknowledgement of it."""

    __tablename__ = "case_reports"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), unique=True)
    outcome: Mapped[str] = mapped_column(String(20))  # full | partial | failed
    reason: Mapped[str] = mapped_column(String(40))  # the OMR 25 code
    agreement_material_id: Mapped[str | None] = mapped_column(ForeignKey("materials.id"))
    entrusted_request: Mapped[str | None] = mapped_column(String(30))  # mediation_document | suit_withdrawal
    course: Mapped[str | None] = mapped_column(Text)  # OMR 21: the course of the mediation
    failure_reason: Mapped[str | None] = mapped_column(Text)  # why it failed
    cost_conduct: Mapped[str | None] = mapped_column(Text)  # conduct that raised the other side's costs
    other_matters: Mapped[str | None] = mapped_column(Text)  # anything else the court should know
    note: Mapped[str | None] = mapped_column(Text)
    reported_at: Mapped[datetime]
    reported_by: Mapped[str] = mapped_column(String(200))
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by: Mapped[str | None] = mapped_column(String(200))
    acknowledgement_note: Mapped[str | None] = mapped_column(Text)


class JcApplication(Base):
    """A joint application for judicial confirmation, waiting for every principal party's confirmation."""

    __tablename__ = "jc_applications"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(20))
    agreement_material_id: Mapped[str | None] = mapped_column(ForeignKey("materials.id"))
    last_day: Mapped[date] = mapped_column(Date)
    started_at: Mapped[datetime]
    started_by: Mapped[str] = mapped_column(String(200))
    applied_at: Mapped[datetime | None]
    closed_reason: Mapped[str | None] = mapped_column(Text)  # why refused, lapsed, rejected or withdrawn
    result_at: Mapped[datetime | None]
    result_by: Mapped[str | None] = mapped_column(String(200))


class JcConfirmation(Base):
    """One principal party's answer to a joint application, given in the browser through a signed link."""

    __tablename__ = "jc_confirmations"
    __table_args__ = (UniqueConstraint("application_id", "party_id", name="uq_jc_confirmations_party"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("jc_applications.id", ondelete="CASCADE"))
    party_id: Mapped[str] = mapped_column(ForeignKey("parties.id"))
    answer: Mapped[str | None] = mapped_column(String(20))  # confirmed | declined
    answered_at: Mapped[datetime | None]
    phone: Mapped[str | None] = mapped_column(String(30))
    service_address: Mapped[str | None] = mapped_column(String(300))
    decline_reason: Mapped[str | None] = mapped_column(Text)
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(300))
