"""The request and response types of the case API.

The same pydantic models validate requests, shape responses and generate the OpenAPI document. Identity
fields are validated here with the rules of :mod:`cases.identity`; a failure carries that rule's code
(``invalid_id_number``, ``invalid_credit_code``, ``invalid_phone``) and the field's location.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from cases.deadlines import DeadlineStatus, Procedure
from cases.identity import IdType, validate_identifier, validate_phone
from cases.lifecycle import CaseKind, CaseState, Outcome, TerminationReason
from cases.roster import RosterAction, RosterStatus
from cases.vocab import (
    AssignmentMethod,
    AssignmentStatus,
    Cause,
    ChangeKind,
    ChangeStatus,
    DisclosureKind,
    Instance,
    PartyRole,
    PartyType,
    PauseKind,
    Side,
)
from tiaojie.errors import InvalidInput

__all__ = [
    "AcceptIn",
    "AssignIn",
    "AssignmentOut",
    "AuditEventOut",
    "CaseCreate",
    "CaseListQuery",
    "CaseOut",
    "CaseSummaryOut",
    "ChangeDecisionIn",
    "ChangeRequestIn",
    "ChangeRequestOut",
    "ConsentIn",
    "DeadlineOut",
    "DeclineIn",
    "DisclosureConsentIn",
    "DisclosureIn",
    "DisclosureOut",
    "ExtensionIn",
    "ExtensionOut",
    "MaterialOut",
    "MediatorIn",
    "MediatorOut",
    "MediatorUpdate",
    "OrganisationIn",
    "OrganisationOut",
    "Page",
    "PageQuery",
    "PartyIn",
    "PartyOut",
    "PauseIn",
    "PauseOut",
    "ResumeIn",
    "RosterDecisionIn",
    "RosterEntryIn",
    "RosterEntryOut",
    "RosterListQuery",
    "TerminateIn",
]


def _phone(value: str) -> str:
    try:
        return validate_phone(value)
    except InvalidInput as exc:
        raise PydanticCustomError(exc.code, exc.message) from None


Phone = Annotated[str, Field(min_length=3, max_length=40), AfterValidator(_phone)]

_EARLIEST_DAY = date(1900, 1, 1)
_LATEST_DAY = date(2199, 12, 31)


_D = TypeVar("_D", bound=date)


def _plausible_day(value: _D) -> _D:
    """Dates far outside the life of a case overflow date arithmetic and time-zone conversion: refuse them."""
    day = value.date() if isinstance(value, datetime) else value
    if not _EARLIEST_DAY <= day <= _LATEST_DAY:
        raise PydanticCustomError("date_out_of_range", "the date must lie between 1900 and 2199")
    return value


Day = Annotated[date, AfterValidator(_plausible_day)]
Instant = Annotated[datetime, AfterValidator(_plausible_day)]
Text200 = Annotated[str, Field(min_length=1, max_length=200)]
Reason = Annotated[str, Field(min_length=1, max_length=2000)]
LongText = Annotated[str, Field(max_length=20000)]
Tags = Annotated[list[Annotated[str, Field(min_length=1, max_length=60)]], Field(max_length=30)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(
        None, description="Pass as `cursor` to get the next page; null at the end."
    )


class PageQuery(_In):
    limit: int = Field(50, ge=1, le=200)
    cursor: str | None = Field(None, max_length=40)


# --- organisations and the roster -------------------------------------------------------------------


class OrganisationIn(_In):
    name: Text200
    kind: Literal["union", "mediation_org"] = "mediation_org"
    parent_id: str | None = Field(None, max_length=40, description="Defaults to the caller's organisation.")
    credit_code: str | None = Field(None, max_length=40)
    address: str | None = Field(None, max_length=300)
    contact_name: str | None = Field(None, max_length=100)
    contact_phone: Phone | None = None
    profile: LongText | None = None

    @field_validator("credit_code")
    @classmethod
    def _credit(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return validate_identifier(IdType.CREDIT_CODE, value)
        except InvalidInput as exc:
            raise PydanticCustomError(exc.code, exc.message) from None


class OrganisationOut(_Out):
    id: str
    name: str
    kind: str
    parent_id: str | None
    credit_code: str | None
    address: str | None
    contact_name: str | None
    contact_phone: str | None
    profile: str | None
    created_at: datetime


class MediatorIn(_In):
    organisation_id: str | None = Field(
        None, max_length=40, description="Defaults to the caller's organisation."
    )
    name: Annotated[str, Field(min_length=1, max_length=100)]
    gender: Literal["male", "female"] | None = None
    phone: Phone | None = None
    id_type: IdType | None = None
    id_number: str | None = Field(None, max_length=64)
    title: str | None = Field(None, max_length=100, description="Profession or position, e.g. 工会法律顾问")
    profile: LongText | None = None
    specialties: Tags = Field(default_factory=list)
    case_scope: list[Cause] = Field(default_factory=list, max_length=20, description="Causes accepted.")
    languages: Tags = Field(default_factory=list)
    fees_charged: bool = False
    fee_note: str | None = Field(None, max_length=300)

    @field_validator("id_number")
    @classmethod
    def _id_number(cls, value: str | None, info: ValidationInfo) -> str | None:
        return _check_identifier(value, info.data.get("id_type"))


class MediatorUpdate(_In):
    phone: Phone | None = None
    title: str | None = Field(None, max_length=100)
    profile: LongText | None = None
    specialties: Tags | None = None
    case_scope: list[Cause] | None = Field(None, max_length=20)
    languages: Tags | None = None
    fees_charged: bool | None = None
    fee_note: str | None = Field(None, max_length=300)
    active: bool | None = None


class MediatorOut(_Out):
    id: str
    organisation_id: str
    name: str
    gender: str | None
    phone: str | None
    id_type: str | None
    id_number: str | None
    title: str | None
    profile: str | None
    specialties: list[str]
    case_scope: list[str]
    languages: list[str]
    fees_charged: bool
    fee_note: str | None
    active: bool
    created_at: datetime


class RosterEntryIn(_In):
    court_id: str = Field(max_length=40)
    organisation_id: str | None = Field(
        None, max_length=40, description="The organisation to put on the roster."
    )
    mediator_id: str | None = Field(None, max_length=40, description="Or a mediator (with its organisation).")
    labor_roster: bool = Field(True, description="On the court's separate labor-dispute roster.")


class RosterDecisionIn(_In):
    action: RosterAction
    reason: Reason | None = None
    version: int | None = Field(None, ge=1, description="Optimistic lock: the entry's version you saw.")


class RosterEntryOut(_Out):
    id: str
    court_id: str
    organisation_id: str
    mediator_id: str | None
    labor_roster: bool
    status: RosterStatus
    reason: str | None
    submitted_at: datetime
    decided_at: datetime | None
    version: int
    court_name: str | None = None
    organisation_name: str | None = None
    mediator_name: str | None = None


class RosterListQuery(PageQuery):
    court_id: str | None = Field(None, max_length=40)
    organisation_id: str | None = Field(None, max_length=40)
    status: RosterStatus | None = None
    mediators_only: bool = False


# --- cases ------------------------------------------------------------------------------------------


def _check_identifier(value: str | None, id_type: Any) -> str | None:
    if value is None:
        return None
    if id_type is None:
        raise PydanticCustomError("id_type_required", "id_type is required with id_number")
    try:
        return validate_identifier(IdType(id_type), value)
    except InvalidInput as exc:
        raise PydanticCustomError(exc.code, exc.message) from None


class PartyIn(_In):
    key: str | None = Field(
        None, max_length=40, description="A name for this party inside the request, for `represents`."
    )
    side: Side
    role: PartyRole = PartyRole.PRINCIPAL
    party_type: PartyType
    name: Text200
    id_type: IdType
    id_number: str = Field(min_length=1, max_length=64)
    phone: Phone | None = None
    service_address: str | None = Field(
        None, max_length=300, description="Electronic service address (电子送达地址), e.g. an e-mail address."
    )
    address: str | None = Field(None, max_length=300)
    represents: str | None = Field(
        None, max_length=40, description="For an agent: the `key` of its principal."
    )
    authorisation: str | None = Field(None, max_length=4000, description="Scope of the agent's authority.")

    @field_validator("id_number")
    @classmethod
    def _id_number(cls, value: str, info: ValidationInfo) -> str:
        checked = _check_identifier(value, info.data.get("id_type"))
        assert checked is not None
        return checked


class CaseCreate(_In):
    case_number: Annotated[str, Field(min_length=1, max_length=80, description="The court's case number.")]
    kind: CaseKind
    instance: Instance = Instance.FIRST
    procedure: Procedure = Procedure.ORDINARY
    cause: Cause
    claims: Annotated[str, Field(min_length=1, max_length=20000)]
    summary: LongText | None = None
    amount: Decimal | None = Field(None, ge=0, max_digits=14, decimal_places=2, description="Yuan.")
    arbitration_award: str | None = Field(
        None, max_length=120, description="Related arbitration award number."
    )
    judge_name: str | None = Field(None, max_length=100)
    clerk_name: str | None = Field(None, max_length=100)
    applied_at: Instant | None = Field(None, description="When the parties applied for mediation.")
    offline_agreement: bool = Field(
        False, description="An agreement reached offline, uploaded to apply for judicial confirmation."
    )
    agreement_effective_at: Instant | None = Field(
        None,
        description="For an offline agreement: when its last party signed (starts the 30-day JC period).",
    )
    parties: list[PartyIn] = Field(min_length=2, max_length=50)


class PartyOut(BaseModel):
    id: str
    side: Side
    role: PartyRole
    party_type: PartyType
    name: str
    id_type: IdType
    id_number: str
    phone: str | None
    service_address: str | None
    address: str | None
    represents_id: str | None
    authorisation: str | None
    masked: bool = Field(description="True when personal data is masked for this caller.")


class AssignmentOut(_Out):
    id: str
    organisation_id: str
    mediator_id: str
    method: AssignmentMethod
    status: AssignmentStatus
    assigned_by: str
    assigned_at: datetime
    accept_due: date
    responded_at: datetime | None
    decline_reason: str | None


class DeadlineOut(BaseModel):
    acceptance_due: date | None = Field(description="Last day to accept the current assignment.")
    base_days: int | None
    extension_days: int
    paused_days: int
    paused: bool
    last_day: date | None = Field(description="Last day of the mediation period (CPL 85 counting).")
    status: DeadlineStatus | None
    jc_last_day: date | None = Field(None, description="Last day to apply for judicial confirmation.")


class CaseSummaryOut(BaseModel):
    id: str
    court_id: str
    case_number: str
    kind: CaseKind
    instance: Instance
    procedure: Procedure
    cause: Cause
    state: CaseState
    outcome: Outcome | None
    termination_reason: TerminationReason | None
    current_mediator_id: str | None
    current_organisation_id: str | None
    acceptance_due: date | None
    last_day: date | None
    deadline_status: DeadlineStatus | None
    parties: list[PartyOut]
    created_at: datetime
    updated_at: datetime
    version: int


class CaseOut(CaseSummaryOut):
    claims: str
    summary: str | None
    amount: Decimal | None
    arbitration_award: str | None
    judge_name: str | None
    clerk_name: str | None
    offline_agreement: bool
    applied_at: datetime | None
    accepted_at: datetime | None
    closed_at: datetime | None
    agreement_effective_at: datetime | None
    termination_note: str | None
    deadline: DeadlineOut
    assignment: AssignmentOut | None
    allowed_actions: list[str] = Field(description="What the caller may do next.")


class CaseListQuery(PageQuery):
    state: list[CaseState] | None = Field(None, description="One or more states (repeat the parameter).")
    kind: CaseKind | None = None
    deadline: Literal["overdue", "due_soon", "due_today", "acceptance_overdue"] | None = None
    mediator_id: str | None = Field(None, max_length=40)
    organisation_id: str | None = Field(None, max_length=40)
    case_number: str | None = Field(None, max_length=80)
    created_from: Day | None = None
    created_to: Day | None = None
    closed_from: Day | None = Field(None, description="Closed on or after this day (Asia/Shanghai).")


class MaterialOut(_Out):
    id: str
    case_id: str
    filename: str
    content_type: str
    size: int
    sha256: str
    description: str | None
    uploaded_by: str
    created_at: datetime


class AssignIn(_In):
    mediator_id: str = Field(max_length=40)
    method: AssignmentMethod = AssignmentMethod.DESIGNATED


class AcceptIn(_In):
    note: str | None = Field(None, max_length=2000)


class DeclineIn(_In):
    reason: Reason


class DisclosureIn(_In):
    kind: DisclosureKind
    details: Annotated[str, Field(max_length=4000)] = ""


class DisclosureConsentIn(_In):
    party_id: str = Field(max_length=40)
    consents: bool = Field(description="Whether the party agrees that the mediator continues.")
    method: Annotated[str, Field(min_length=1, max_length=100)] = "in_writing"


class DisclosureOut(_Out):
    id: str
    mediator_id: str
    kind: DisclosureKind
    details: str
    consents: list[dict[str, Any]]
    created_at: datetime


class ChangeRequestIn(_In):
    party_id: str = Field(max_length=40)
    kind: ChangeKind
    reason: Reason


class ChangeDecisionIn(_In):
    grant: bool
    reason: Reason | None = None


class ChangeRequestOut(_Out):
    id: str
    party_id: str
    kind: ChangeKind
    reason: str
    status: ChangeStatus
    mediator_id: str | None
    created_at: datetime
    decided_at: datetime | None
    decided_by: str | None
    decision_reason: str | None


class ConsentIn(_In):
    party_id: str = Field(max_length=40)
    consented_at: Instant
    method: Annotated[str, Field(min_length=1, max_length=100)] = Field(
        description="How consent was given, e.g. signed form, recorded call, in session."
    )


class ExtensionIn(_In):
    days: int = Field(ge=1, le=365)
    reason: Reason
    consents: list[ConsentIn] = Field(min_length=1, max_length=50)


class ExtensionOut(_Out):
    id: str
    days: int
    reason: str
    consents: list[dict[str, Any]]
    granted_by: str
    created_at: datetime


class PauseIn(_In):
    kind: Literal["appraisal", "suspected_false_mediation"]
    reason: Reason


class ResumeIn(_In):
    note: str | None = Field(None, max_length=2000)


class PauseOut(_Out):
    id: str
    kind: PauseKind
    reason: str | None
    started_at: datetime
    ended_at: datetime | None
    started_by: str
    ended_by: str | None


class TerminateIn(_In):
    reason: TerminationReason
    note: str | None = Field(None, max_length=20000)


class AuditEventOut(_Out):
    id: int
    at: datetime
    subject_type: str
    subject_id: str
    actor_kind: str
    actor_label: str
    action: str
    from_state: str | None
    to_state: str | None
    reason: str | None
    data: dict[str, Any]
