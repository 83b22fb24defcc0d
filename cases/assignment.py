"""Assignment: designation or joint choice, acceptance or decline, disclosure, recusal and change requests.

OMR 10–14: the parties may jointly choose a roster mediator, otherwise the court designates one; the
organisation or mediator accepts within 3 working days or declines in writing with reasons; on a decline
or a lapse the court reassigns. The mediator discloses conflicts and continues only with the parties'
consent; a party may ask for recusal or another mediator, and the organisation or the court decides.
"""

from __future__ import annotations

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.principal import Principal, PrincipalKind
from cases import audit
from cases.access import Action, ensure
from cases.context import CaseEnv
from cases.deadlines import acceptance_due
from cases.lifecycle import ACTIVE_STATES, CaseEvent, CaseState
from cases.roster import RosterStatus
from cases.schemas import AssignIn, ChangeDecisionIn, ChangeRequestIn, DisclosureConsentIn, DisclosureIn
from cases.tables import Assignment, Case, ChangeRequest, Disclosure, Mediator, Party, RosterEntry
from cases.vocab import AssignmentStatus, ChangeStatus, DisclosureKind
from cases.workflow import apply_event
from tiaojie.errors import Conflict, IllegalTransition, InvalidInput, NotFound
from tiaojie.ids import new_id

__all__ = [
    "accept",
    "assign",
    "decide_change",
    "decline",
    "disclose",
    "expire_overdue_assignments",
    "record_disclosure_consent",
    "request_change",
]


async def _confirmed_on_roster(session: AsyncSession, court_id: str, mediator: Mediator) -> bool:
    """A mediator may be assigned when they, or their organisation, are confirmed on the court's roster."""
    entry = await session.scalar(
        select(RosterEntry.id).where(
            RosterEntry.court_id == court_id,
            RosterEntry.status == RosterStatus.CONFIRMED.value,
            RosterEntry.mediator_id == mediator.id,
        )
    )
    return entry is not None


async def _current_assignment(session: AsyncSession, case: Case) -> Assignment | None:
    if case.current_assignment_id is None:
        return None
    return await session.get(Assignment, case.current_assignment_id)


async def assign(
    session: AsyncSession, env: CaseEnv, actor: Principal, case: Case, data: AssignIn
) -> Assignment:
    ensure(actor, Action.ASSIGN, case)
    mediator = await session.get(Mediator, data.mediator_id)
    if mediator is None or not mediator.active:
        raise NotFound("mediator not found", field="mediator_id", resource="mediator")
    if not await _confirmed_on_roster(session, case.court_id, mediator):
        raise Conflict(
            "only mediators confirmed on this court's roster can be assigned",
            code="mediator_not_on_roster",
            field="mediator_id",
        )
    previous = await _current_assignment(session, case)
    if (
        previous is not None
        and previous.mediator_id == mediator.id
        and previous.status == AssignmentStatus.PENDING
    ):
        raise Conflict("this mediator is already assigned and has not answered yet", code="already_assigned")
    if await session.scalar(
        select(ChangeRequest.id).where(
            ChangeRequest.case_id == case.id,
            ChangeRequest.status == ChangeStatus.GRANTED.value,
            ChangeRequest.mediator_id == mediator.id,
        )
    ):
        raise Conflict("this mediator was recused or replaced on this case", code="mediator_recused")
    now = env.now()
    await apply_event(session, env, actor, case, CaseEvent.ASSIGN, data={"mediator_id": mediator.id})
    if previous is not None and previous.status == AssignmentStatus.PENDING:
        previous.status = AssignmentStatus.REPLACED.value
        previous.responded_at = now
    assignment = Assignment(
        id=new_id("asg"),
        case_id=case.id,
        organisation_id=mediator.organisation_id,
        mediator_id=mediator.id,
        method=data.method.value,
        status=AssignmentStatus.PENDING.value,
        assigned_by=actor.label,
        assigned_at=now,
        accept_due=acceptance_due(now, env.calendar),
    )
    session.add(assignment)
    case.current_assignment_id = assignment.id
    case.current_mediator_id = mediator.id
    case.current_organisation_id = mediator.organisation_id
    case.acceptance_due = assignment.accept_due
    return assignment


async def _pending(session: AsyncSession, case: Case) -> Assignment:
    assignment = await _current_assignment(session, case)
    if (
        assignment is None
        or assignment.status != AssignmentStatus.PENDING
        or case.state != CaseState.ASSIGNED
    ):
        raise Conflict(
            "the case has no assignment waiting for an answer",
            code="no_pending_assignment",
            current_state=case.state,
        )
    return assignment


def _answer_in_time(env: CaseEnv, assignment: Assignment) -> None:
    """An answer after the last day is refused even before the sweeper lapsed the assignment (OMR 12).

    The lapse itself is the sweeper's (it records the timeout and releases the case to its court); until it
    runs, the late answer must not win the race with it.
    """
    if assignment.accept_due < env.today():
        raise Conflict(
            f"the time to answer this assignment ended on {assignment.accept_due.isoformat()}; "
            "the court will reassign the case",
            code="acceptance_lapsed",
            current_state=CaseState.ASSIGNED,
        )


async def accept(session: AsyncSession, env: CaseEnv, actor: Principal, case: Case, note: str | None) -> Case:
    ensure(actor, Action.ACCEPT, case)
    assignment = await _pending(session, case)
    _answer_in_time(env, assignment)
    await apply_event(
        session, env, actor, case, CaseEvent.ACCEPT, note=note, data={"assignment_id": assignment.id}
    )
    assignment.status = AssignmentStatus.ACCEPTED.value
    assignment.responded_at = env.now()
    return case


async def decline(session: AsyncSession, env: CaseEnv, actor: Principal, case: Case, reason: str) -> Case:
    ensure(actor, Action.DECLINE, case)
    assignment = await _pending(session, case)
    _answer_in_time(env, assignment)
    await apply_event(
        session, env, actor, case, CaseEvent.DECLINE, note=reason, data={"assignment_id": assignment.id}
    )
    assignment.status = AssignmentStatus.DECLINED.value
    assignment.responded_at = env.now()
    assignment.decline_reason = reason
    _release(case)
    return case


def _release(case: Case) -> None:
    """The case goes back to its court: no current mediator or organisation sees it any more."""
    case.current_assignment_id = None
    case.current_mediator_id = None
    case.current_organisation_id = None
    case.acceptance_due = None


async def expire_overdue_assignments(session: AsyncSession, env: CaseEnv) -> list[str]:
    """Lapse assignments not accepted in time; the court must reassign (OMR 12). Returns case ids."""
    today = env.today()
    overdue = (
        await session.scalars(
            select(Case)
            .join(Assignment, Assignment.id == Case.current_assignment_id)
            .where(
                and_(
                    Case.state == CaseState.ASSIGNED.value,
                    Assignment.status == AssignmentStatus.PENDING.value,
                    Assignment.accept_due < today,
                )
            )
            .limit(500)
        )
    ).all()
    actor = Principal.system("deadline sweeper")
    expired: list[str] = []
    for case in overdue:
        assignment = await _pending(session, case)
        await apply_event(
            session,
            env,
            actor,
            case,
            CaseEvent.ACCEPTANCE_TIMEOUT,
            note=f"not accepted by {assignment.accept_due.isoformat()}",
            data={"assignment_id": assignment.id},
        )
        assignment.status = AssignmentStatus.EXPIRED.value
        assignment.responded_at = env.now()
        _release(case)
        expired.append(case.id)
    return expired


def _require_active(case: Case, action: str) -> None:
    """Disclosures and change requests belong to a mediation still under way (as ``allowed_actions`` says)."""
    if CaseState(case.state) not in ACTIVE_STATES:
        raise IllegalTransition(
            f"cannot {action.replace('_', ' ')} on a case in state {case.state!r}",
            current_state=case.state,
            event=action,
        )


async def _party_of(session: AsyncSession, case: Case, party_id: str, field: str) -> Party:
    party = await session.get(Party, party_id)
    if party is None or party.case_id != case.id:
        raise NotFound("no such party on this case", field=field, resource="party")
    return party


async def disclose(
    session: AsyncSession, env: CaseEnv, actor: Principal, case: Case, data: DisclosureIn
) -> Disclosure:
    ensure(actor, Action.DISCLOSE, case)
    _require_active(case, "disclose")
    if data.kind is not DisclosureKind.NONE and not data.details.strip():
        raise InvalidInput("describe the circumstances you disclose", field="details", code="required")
    assert case.current_mediator_id is not None
    now = env.now()
    disclosure = Disclosure(
        id=new_id("dsc"),
        case_id=case.id,
        mediator_id=case.current_mediator_id,
        kind=data.kind.value,
        details=data.details,
        consents=[],
        created_at=now,
    )
    session.add(disclosure)
    await audit.record(
        session,
        actor=actor,
        at=now,
        subject_type="disclosure",
        subject_id=disclosure.id,
        case_id=case.id,
        action="disclose",
        data={"kind": data.kind.value},
    )
    return disclosure


async def record_disclosure_consent(
    session: AsyncSession,
    env: CaseEnv,
    actor: Principal,
    case: Case,
    disclosure_id: str,
    data: DisclosureConsentIn,
) -> Disclosure:
    ensure(actor, Action.DISCLOSE, case)
    disclosure = await session.get(Disclosure, disclosure_id)
    if disclosure is None or disclosure.case_id != case.id:
        raise NotFound("disclosure not found", resource="disclosure")
    await _party_of(session, case, data.party_id, "party_id")
    if any(c["party_id"] == data.party_id for c in disclosure.consents):
        raise Conflict("this party has already answered", code="already_answered")
    now = env.now()
    disclosure.consents = [
        *disclosure.consents,
        {"party_id": data.party_id, "consents": data.consents, "method": data.method, "at": now.isoformat()},
    ]
    await audit.record(
        session,
        actor=actor,
        at=now,
        subject_type="disclosure",
        subject_id=disclosure.id,
        case_id=case.id,
        action="disclosure_consent" if data.consents else "disclosure_objection",
        data={"party_id": data.party_id, "method": data.method},
    )
    return disclosure


async def request_change(
    session: AsyncSession, env: CaseEnv, actor: Principal, case: Case, data: ChangeRequestIn
) -> ChangeRequest:
    ensure(actor, Action.REQUEST_CHANGE, case)
    _require_active(case, "request_change")
    await _party_of(session, case, data.party_id, "party_id")
    if case.current_mediator_id is None:
        raise Conflict("the case has no mediator to change", code="no_mediator", current_state=case.state)
    pending = await session.scalar(
        select(ChangeRequest.id).where(
            ChangeRequest.case_id == case.id, ChangeRequest.status == ChangeStatus.PENDING.value
        )
    )
    if pending:
        raise Conflict("a change request is already waiting for a decision", code="change_request_pending")
    now = env.now()
    request = ChangeRequest(
        id=new_id("chg"),
        case_id=case.id,
        party_id=data.party_id,
        kind=data.kind.value,
        reason=data.reason,
        status=ChangeStatus.PENDING.value,
        mediator_id=case.current_mediator_id,
        created_at=now,
    )
    session.add(request)
    await audit.record(
        session,
        actor=actor,
        at=now,
        subject_type="change_request",
        subject_id=request.id,
        case_id=case.id,
        action=f"request_{data.kind.value}",
        reason=data.reason,
        data={"party_id": data.party_id, "mediator_id": case.current_mediator_id},
    )
    return request


async def decide_change(
    session: AsyncSession,
    env: CaseEnv,
    actor: Principal,
    case: Case,
    request_id: str,
    data: ChangeDecisionIn,
) -> ChangeRequest:
    ensure(actor, Action.DECIDE_CHANGE, case)
    request = await session.get(ChangeRequest, request_id)
    if request is None or request.case_id != case.id:
        raise NotFound("change request not found", resource="change_request")
    if request.status != ChangeStatus.PENDING:
        raise Conflict(
            "this request was already decided", code="already_decided", current_state=request.status
        )
    if not data.grant and not data.reason:
        raise InvalidInput("give the reason for refusing", field="reason", code="reason_required")
    now = env.now()
    if data.grant:
        if actor.kind is PrincipalKind.UNION and request.mediator_id != case.current_mediator_id:
            raise Conflict("the mediator has changed since the request", code="stale_request")
        await apply_event(
            session,
            env,
            actor,
            case,
            CaseEvent.CHANGE_MEDIATOR,
            note=data.reason,
            data={"change_request_id": request.id, "mediator_id": request.mediator_id},
        )
        assignment = await _current_assignment(session, case)
        if assignment is not None and assignment.status in (
            AssignmentStatus.PENDING,
            AssignmentStatus.ACCEPTED,
        ):
            assignment.status = AssignmentStatus.REPLACED.value
            assignment.responded_at = now
        _release(case)
    request.status = (ChangeStatus.GRANTED if data.grant else ChangeStatus.REFUSED).value
    request.decided_at = now
    request.decided_by = actor.label
    request.decision_reason = data.reason
    await audit.record(
        session,
        actor=actor,
        at=now,
        subject_type="change_request",
        subject_id=request.id,
        case_id=case.id,
        action="grant_change" if data.grant else "refuse_change",
        reason=data.reason,
    )
    return request
