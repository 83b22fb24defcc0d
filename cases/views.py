"""Turning stored cases into API views: personal data masked unless the caller handles the case.

The views are built as JSON values (``*_json``) that the API encodes directly; the response models
(``CaseOut``, ``CaseSummaryOut``) are the same views validated, for the console and the OpenAPI document.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.principal import Principal
from cases.access import Action, can, reveals_personal_data
from cases.context import CaseEnv
from cases.deadlines import deadline_status, jc_application_deadline
from cases.identity import IdType
from cases.lifecycle import CaseEvent, CaseState, allowed_events
from cases.queries import CaseDetail, case_detail
from cases.schemas import CaseOut, CaseSummaryOut, PartyOut
from cases.tables import Assignment, Case, Party
from cases.workflow import deadline_of, facts_for
from store.rows import AsyncRows
from tiaojie.jsonvalue import day, instant, number
from tiaojie.masking import mask_address, mask_credit_code, mask_id_number, mask_phone, scrub

__all__ = [
    "allowed_actions",
    "assignment_json",
    "case_json",
    "case_out",
    "case_summary",
    "case_view",
    "parties_by_case",
    "party_json",
    "party_out",
    "summary_json",
]

# Which caller action each life-cycle event is reached through.
_EVENT_ACTIONS: dict[CaseEvent, Action] = {
    CaseEvent.ASSIGN: Action.ASSIGN,
    CaseEvent.ACCEPT: Action.ACCEPT,
    CaseEvent.DECLINE: Action.DECLINE,
    CaseEvent.BEGIN_MEDIATION: Action.BEGIN_MEDIATION,
    CaseEvent.SUSPEND: Action.SUSPEND,
    CaseEvent.RESUME: Action.RESUME,
    CaseEvent.EXTEND: Action.EXTEND,
    CaseEvent.TERMINATE: Action.TERMINATE,
}


def party_json(party: Party, *, reveal: bool) -> dict[str, Any]:
    """A party as the API shows it (``PartyOut``), masked unless ``reveal``."""
    id_number = party.id_number
    phone = party.phone
    address = party.address
    service_address = party.service_address
    if not reveal:
        id_number = (
            mask_credit_code(id_number) if party.id_type == IdType.CREDIT_CODE else mask_id_number(id_number)
        )
        phone = mask_phone(phone) if phone else None
        address = mask_address(address) if address else None
        service_address = mask_address(service_address) if service_address else None
    return {
        "id": party.id,
        "side": party.side,
        "role": party.role,
        "party_type": party.party_type,
        "name": party.name,
        "id_type": party.id_type,
        "id_number": id_number,
        "phone": phone,
        "service_address": service_address,
        "address": address,
        "represents_id": party.represents_id,
        "authorisation": party.authorisation,
        "masked": not reveal,
    }


def party_out(party: Party, *, reveal: bool) -> PartyOut:
    return PartyOut.model_validate(party_json(party, reveal=reveal))


async def parties_by_case(session: AsyncSession, case_ids: list[str]) -> dict[str, list[Party]]:
    result: dict[str, list[Party]] = {case_id: [] for case_id in case_ids}
    if not case_ids:
        return result
    rows = await session.scalars(select(Party).where(Party.case_id.in_(case_ids)).order_by(Party.id))
    for party in rows:
        result[party.case_id].append(party)
    return result


def allowed_actions(actor: Principal, case: Case, env: CaseEnv) -> list[str]:
    events = allowed_events(facts_for(case, env, all_parties_consent=True))
    actions = {
        action for event, action in _EVENT_ACTIONS.items() if event in events and can(actor, action, case)
    }
    for extra in (Action.DISCLOSE, Action.REQUEST_CHANGE, Action.DECIDE_CHANGE, Action.UPLOAD_MATERIAL):
        if can(actor, extra, case) and CaseState(case.state) in _ACTIVE_FOR_EXTRAS:
            actions.add(extra)
    if can(actor, Action.READ_MATERIAL, case):
        actions.add(Action.READ_MATERIAL)
    return sorted(a.value for a in actions)


_ACTIVE_FOR_EXTRAS = frozenset(
    {
        CaseState.ASSIGNED,
        CaseState.ACCEPTED,
        CaseState.IN_MEDIATION,
        CaseState.EXTENDED,
        CaseState.SUSPENDED,
        CaseState.AWAITING_SIGNATURES,
        CaseState.CREATED,
        CaseState.AWAITING_REASSIGNMENT,
        CaseState.MEDIATOR_CHANGE,
    }
)


def summary_json(case: Case, parties: list[Party], actor: Principal, env: CaseEnv) -> dict[str, Any]:
    """A case as the API lists it (``CaseSummaryOut``): JSON values, personal data masked for callers who do
    not handle the case."""
    return _summary_json(case, parties, actor, _status(case, env))


def _summary_json(case: Case, parties: list[Party], actor: Principal, status: str | None) -> dict[str, Any]:
    reveal = reveals_personal_data(actor, case)
    return {
        "id": case.id,
        "court_id": case.court_id,
        "case_number": case.case_number,
        "kind": case.kind,
        "instance": case.instance,
        "procedure": case.procedure,
        "cause": case.cause,
        "state": case.state,
        "outcome": case.outcome,
        "termination_reason": case.termination_reason,
        "current_mediator_id": case.current_mediator_id,
        "current_organisation_id": case.current_organisation_id,
        "acceptance_due": day(case.acceptance_due),
        "last_day": day(case.last_day),
        "deadline_status": status,
        "parties": [party_json(p, reveal=reveal) for p in parties],
        "created_at": instant(case.created_at),
        "updated_at": instant(case.updated_at),
        "version": case.version,
    }


def _status(case: Case, env: CaseEnv) -> str | None:
    state = CaseState(case.state)
    if state is CaseState.ASSIGNED and case.acceptance_due is not None:
        return deadline_status(case.acceptance_due, env.today(), warn_days=env.warn_days).value
    if case.accepted_at is None or state not in _CLOCK_STATES:
        return None
    return deadline_status(case.last_day, env.today(), warn_days=env.warn_days).value


_CLOCK_STATES = frozenset(
    {
        CaseState.ACCEPTED,
        CaseState.IN_MEDIATION,
        CaseState.EXTENDED,
        CaseState.SUSPENDED,
        CaseState.AWAITING_SIGNATURES,
        CaseState.MEDIATOR_CHANGE,
    }
)


def _as_is(value: str | None) -> str | None:
    return value


def _scrubbed(value: str | None) -> str | None:
    return scrub(value) if value else value


def case_summary(case: Case, parties: list[Party], actor: Principal, env: CaseEnv) -> CaseSummaryOut:
    return CaseSummaryOut.model_validate(summary_json(case, parties, actor, env))


def assignment_json(assignment: Assignment) -> dict[str, Any]:
    """``AssignmentOut`` as JSON values."""
    return {
        "id": assignment.id,
        "organisation_id": assignment.organisation_id,
        "mediator_id": assignment.mediator_id,
        "method": assignment.method,
        "status": assignment.status,
        "assigned_by": assignment.assigned_by,
        "assigned_at": instant(assignment.assigned_at),
        "accept_due": day(assignment.accept_due),
        "responded_at": instant(assignment.responded_at),
        "decline_reason": assignment.decline_reason,
    }


def case_json(detail: CaseDetail, actor: Principal, env: CaseEnv) -> dict[str, Any]:
    """A whole case as the API shows it (``CaseOut``), as JSON values."""
    case = detail.case
    status = _status(case, env)
    deadline = deadline_of(case, detail.pauses, env)
    jc_last_day = (
        jc_application_deadline(case.agreement_effective_at, env.calendar)
        if case.agreement_effective_at
        else None
    )
    out = _summary_json(case, detail.parties, actor, status)
    # Free text may quote an ID or phone number: masked in it as in the parties for those who see them masked.
    text = _as_is if reveals_personal_data(actor, case) else _scrubbed
    out.update(
        {
            "claims": text(case.claims),
            "summary": text(case.summary),
            "amount": number(case.amount),
            "arbitration_award": case.arbitration_award,
            "judge_name": case.judge_name,
            "clerk_name": case.clerk_name,
            "offline_agreement": case.offline_agreement,
            "applied_at": instant(case.applied_at),
            "accepted_at": instant(case.accepted_at),
            "closed_at": instant(case.closed_at),
            "agreement_effective_at": instant(case.agreement_effective_at),
            "termination_note": text(case.termination_note),
            "deadline": {
                "acceptance_due": day(case.acceptance_due),
                "base_days": case.base_days,
                "extension_days": case.extension_days,
                "paused_days": deadline.paused_days if deadline else 0,
                "paused": deadline.paused if deadline else False,
                "last_day": day(deadline.last_day) if deadline else None,
                "status": status,
                "jc_last_day": day(jc_last_day),
            },
            "assignment": assignment_json(detail.assignment) if detail.assignment else None,
            "allowed_actions": allowed_actions(actor, case, env),
        }
    )
    return out


async def case_view(session: AsyncSession, case: Case, actor: Principal, env: CaseEnv) -> dict[str, Any]:
    """``case_json`` of a case the caller holds as an ORM object (flushed), after reading the rest."""
    detail = await case_detail(AsyncRows(session), case.id, case)
    assert detail is not None, "the case was flushed in this session"
    return case_json(detail, actor, env)


async def case_out(session: AsyncSession, case: Case, actor: Principal, env: CaseEnv) -> CaseOut:
    return CaseOut.model_validate(await case_view(session, case, actor, env))
