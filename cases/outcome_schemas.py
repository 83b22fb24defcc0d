"""The request and response types of outcomes, reports to the court and judicial confirmation."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from cases.lifecycle import Outcome, TerminationReason
from cases.schemas import Instant, Phone

__all__ = [
    "AcknowledgeIn",
    "FailureReportIn",
    "JcAnswerIn",
    "JcApplicationOut",
    "JcConfirmationOut",
    "JcPartyView",
    "JcResultIn",
    "JcStartIn",
    "JcTokenIn",
    "OutcomeIn",
    "ReportOut",
    "UnacknowledgedOut",
    "UnacknowledgedQuery",
]

EntrustedRequest = Literal["mediation_document", "suit_withdrawal"]
Text = Annotated[str, Field(min_length=1, max_length=20000)]
Short = Annotated[str, Field(min_length=1, max_length=2000)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class FailureReportIn(_In):
    """OMR 21: what the court needs when a mediation failed."""

    course: Text = Field(description="The course of the mediation.")
    failure_reason: Text = Field(description="Why it failed.")
    cost_conduct: Text | None = Field(
        None, description="Conduct of a party that raised the other side's costs (delay, bad faith …)."
    )
    other_matters: Text | None = Field(None, description="Anything else the court should know.")


class OutcomeIn(_In):
    """The mediator records how the mediation ended and reports it to the court (one report per case)."""

    result: Literal["agreed", "terminated"]
    scope: Literal["full", "partial"] | None = Field(None, description="agreed: all claims or part of them.")
    agreement_material_id: str | None = Field(
        None, max_length=40, description="agreed: the signed agreement, uploaded as a material of the case."
    )
    agreement_effective_at: Instant | None = Field(
        None, description="agreed: when the last party signed (default: now); starts the 30-day JC period."
    )
    entrusted_request: EntrustedRequest | None = Field(
        None, description="agreed 委托 case: the parties ask for a 调解书, or the plaintiff withdraws."
    )
    reason: TerminationReason | None = Field(None, description="terminated: the one OMR 25 reason code.")
    report: FailureReportIn | None = Field(None, description="terminated: the OMR 21 report.")
    note: Short | None = None


class AcknowledgeIn(_In):
    note: Short | None = None


class ReportOut(BaseModel):
    case_id: str
    case_number: str
    state: str
    outcome: Outcome
    reason: TerminationReason
    reason_label: str
    agreement_material_id: str | None
    agreement_effective_at: datetime | None
    jc_last_day: date | None = Field(description="委派 agreement: the last day to apply for confirmation.")
    entrusted_request: EntrustedRequest | None
    course: str | None
    failure_reason: str | None
    cost_conduct: str | None
    other_matters: str | None
    note: str | None
    reported_at: datetime
    reported_by: str
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    acknowledgement_note: str | None


class UnacknowledgedQuery(_In):
    limit: int = Field(100, ge=1, le=500)


class UnacknowledgedOut(BaseModel):
    case_id: str
    case_number: str
    court_id: str
    mediator_id: str | None
    outcome: Outcome
    reason: TerminationReason
    reported_at: datetime
    waiting_days: int = Field(description="Whole days since the report.")


class JcStartIn(_In):
    agreement_material_id: str | None = Field(
        None,
        max_length=40,
        description="The signed agreement (a material of the case); default: the one in the report.",
    )
    notify: bool = Field(True, description="Send each principal party their confirmation link by SMS.")


class JcResultIn(_In):
    result: Literal["confirmed", "rejected", "withdrawn"]
    reason: Short | None = Field(None, description="Required when rejected.")


class JcConfirmationOut(BaseModel):
    party_id: str
    name: str
    side: str
    id_type: str
    id_number: str
    phone: str | None
    service_address: str | None
    answer: Literal["confirmed", "declined"] | None
    answered_at: datetime | None
    decline_reason: str | None
    link: str | None = Field(None, description="Only in the answer to the mediator who started it.")


class JcApplicationOut(BaseModel):
    id: str
    case_id: str
    case_number: str
    status: Literal["awaiting_parties", "applied", "refused", "lapsed", "confirmed", "rejected", "withdrawn"]
    agreement_material_id: str | None
    agreement_effective_at: datetime | None
    last_day: date
    started_at: datetime
    applied_at: datetime | None
    closed_reason: str | None
    result_at: datetime | None
    parties: list[JcConfirmationOut]


class JcTokenIn(_In):
    token: str = Field(min_length=1, max_length=1024)


class JcAnswerIn(JcTokenIn):
    confirm: bool
    phone: Phone | None = Field(None, description="Confirmed or corrected contact phone.")
    service_address: str | None = Field(None, max_length=300, description="Electronic service address.")
    reason: Short | None = Field(None, description="Why the party does not apply (when confirm is false).")


class JcPartyView(BaseModel):
    """What a party sees on the confirmation page."""

    case_number: str
    court_name: str
    party_name: str
    other_parties: list[str]
    agreement_effective_at: datetime | None
    last_day: date
    status: str
    answer: str | None
    phone: str | None
    service_address: str | None
