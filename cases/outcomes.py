"""How a mediation ends, and the result going back to the court (OMR 19, 21, 25; SIM 19–21).

The mediator records the outcome once: an agreement (all or part of the claims, with the signed agreement
uploaded as a material and the time it took effect), or a termination with one OMR 25 reason and the OMR 21
report (the course of the mediation, why it failed, conduct that raised the other side's costs, anything
else). For a 委托 (entrusted) case that agreed, the report also says whether the parties ask the court for a
调解书 or the plaintiff withdraws. Recording closes the case if it is still active (``signatures_complete``
or ``terminate``) and reports it (``report``); each step is a life-cycle transition, so each reaches the
court as a webhook. The court acknowledges receipt (``acknowledge``); for an agreed 委托 case the request
in the report then stands (``request_mediation_doc`` or ``withdraw_suit``). Reports not yet acknowledged are
listed for everyone who sees the case.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.principal import Principal, PrincipalKind
from cases.access import Action, case_filter, ensure, sees_case
from cases.context import CaseEnv
from cases.deadlines import jc_application_deadline, local_date
from cases.lifecycle import (
    ACTIVE_STATES,
    REASON_LABELS_ZH,
    CaseEvent,
    CaseKind,
    CaseState,
    Outcome,
    TerminationReason,
)
from cases.outcome_schemas import OutcomeIn, ReportOut, UnacknowledgedOut
from cases.outcome_tables import CaseReport
from cases.tables import Case, Material
from cases.workflow import apply_event
from tiaojie.errors import Conflict, IllegalTransition, InvalidInput, NotFound, PermissionDenied
from tiaojie.ids import is_id, new_id
from webhooks.events import EventType, agreement_data
from webhooks.outbox import emit

__all__ = [
    "acknowledge",
    "agreement_material",
    "load_report",
    "record_outcome",
    "report_of",
    "report_out",
    "require_case_court",
    "require_case_mediator",
    "unacknowledged",
]

_ENTRUSTED_EVENTS = {
    "mediation_document": CaseEvent.REQUEST_MEDIATION_DOC,
    "suit_withdrawal": CaseEvent.WITHDRAW_SUIT,
}


def require_case_mediator(actor: Principal, case: Case) -> None:
    if actor.kind is not PrincipalKind.MEDIATOR or actor.mediator_id != case.current_mediator_id:
        raise PermissionDenied("only the mediator handling the case may do this", code="not_case_mediator")


def require_case_court(actor: Principal, case: Case) -> None:
    if actor.kind is not PrincipalKind.COURT or actor.court_id != case.court_id:
        raise PermissionDenied("only the court of the case may do this", code="not_case_court")


async def agreement_material(session: AsyncSession, case: Case, material_id: str, field: str) -> Material:
    material = await session.get(Material, material_id) if is_id(material_id, "mat") else None
    if material is None or material.case_id != case.id:
        raise InvalidInput("no such material on this case", field=field, code="unknown_material")
    return material


def _unexpected(field: str, why: str) -> InvalidInput:
    return InvalidInput(why, field=field, code="unexpected_field")


def _required(field: str, why: str) -> InvalidInput:
    return InvalidInput(why, field=field, code="required")


async def report_of(session: AsyncSession, case: Case) -> CaseReport | None:
    found: CaseReport | None = await session.scalar(select(CaseReport).where(CaseReport.case_id == case.id))
    return found


async def record_outcome(
    session: AsyncSession, env: CaseEnv, actor: Principal, case: Case, data: OutcomeIn
) -> CaseReport:
    """Close the case if it is still active, and report the result to the court."""
    require_case_mediator(actor, case)
    if await report_of(session, case) is not None:
        raise Conflict("the outcome of this case was already reported", code="already_reported")
    state = CaseState(case.state)
    if data.result == "agreed":
        material_id = await _agree(session, env, actor, case, state, data)
    else:
        material_id = None
        await _terminate(session, env, actor, case, state, data)
    now = env.now()
    report = CaseReport(
        id=new_id("rpt"),
        case_id=case.id,
        outcome=case.outcome or Outcome.FAILED.value,
        reason=case.termination_reason or TerminationReason.OTHER.value,
        agreement_material_id=material_id,
        entrusted_request=data.entrusted_request,
        course=data.report.course if data.report else None,
        failure_reason=data.report.failure_reason if data.report else None,
        cost_conduct=data.report.cost_conduct if data.report else None,
        other_matters=data.report.other_matters if data.report else None,
        note=data.note,
        reported_at=now,
        reported_by=actor.label,
    )
    session.add(report)
    await apply_event(
        session,
        env,
        actor,
        case,
        CaseEvent.REPORT,
        note=data.note,
        data={
            "report_id": report.id,
            "outcome": report.outcome,
            "reason": report.reason,
            "entrusted_request": report.entrusted_request,
            "agreement_material_id": material_id,
        },
    )
    return report


async def _agree(
    session: AsyncSession, env: CaseEnv, actor: Principal, case: Case, state: CaseState, data: OutcomeIn
) -> str | None:
    if data.reason is not None:
        raise _unexpected("reason", "an agreement has no termination reason")
    if data.report is not None:
        raise _unexpected("report", "the OMR 21 report is for a mediation that failed")
    if case.kind == CaseKind.ENTRUSTED and data.entrusted_request is None:
        raise _required(
            "entrusted_request", "say whether the parties ask for a 调解书 or the suit is withdrawn"
        )
    if case.kind == CaseKind.DELEGATED and data.entrusted_request is not None:
        raise _unexpected(
            "entrusted_request", "only an entrusted (委托) case asks for a 调解书 or a withdrawal"
        )
    if state is CaseState.AGREED:  # closed by the signing of the agreement itself
        if data.scope is not None and data.scope != case.outcome:
            raise InvalidInput(
                f"the agreement covers {case.outcome} claims", field="scope", code="outcome_mismatch"
            )
        if data.agreement_material_id is not None:
            await agreement_material(session, case, data.agreement_material_id, "agreement_material_id")
        return data.agreement_material_id
    if state not in (CaseState.IN_MEDIATION, CaseState.EXTENDED, CaseState.AWAITING_SIGNATURES):
        raise IllegalTransition(
            f"an agreement cannot be recorded for a case in state {state.value!r}",
            current_state=state.value,
            event=CaseEvent.SIGNATURES_COMPLETE.value,
        )
    if data.scope is None:
        raise _required("scope", "say whether the agreement covers all claims (full) or part (partial)")
    if data.agreement_material_id is None:
        raise _required("agreement_material_id", "upload the signed agreement and give its material id")
    material = await agreement_material(session, case, data.agreement_material_id, "agreement_material_id")
    effective = _effective_at(env, case, data.agreement_effective_at)
    details = {"agreement_material_id": material.id, "agreement_sha256": material.sha256}
    if state is not CaseState.AWAITING_SIGNATURES:
        await apply_event(session, env, actor, case, CaseEvent.REQUEST_SIGNATURES, data=details)
    case.agreement_effective_at = effective
    await apply_event(
        session,
        env,
        actor,
        case,
        CaseEvent.SIGNATURES_COMPLETE,
        outcome=Outcome(data.scope),
        note=data.note,
        data={**details, "agreement_effective_at": effective.isoformat()},
    )
    # The agreement was signed outside the platform and uploaded: it is effective now, not signature by
    # signature (who signed is in the document itself).
    await emit(
        session,
        court_id=case.court_id,
        case_id=case.id,
        event_type=EventType.AGREEMENT_EFFECTIVE,
        data=agreement_data(
            case_id=case.id,
            agreement_id=material.id,
            sha256=material.sha256,
            outcome=Outcome(data.scope),
            signed_by=[],
            effective_at=effective,
        ),
        occurred_at=env.now(),
    )
    return material.id


def _effective_at(env: CaseEnv, case: Case, given: datetime | None) -> datetime:
    now = env.now()
    if given is None:
        return now
    if given.tzinfo is None:
        raise InvalidInput(
            "give the time with its UTC offset", field="agreement_effective_at", code="naive_datetime"
        )
    if given > now:
        raise InvalidInput("the agreement cannot take effect in the future", field="agreement_effective_at")
    if case.accepted_at is not None and given < case.accepted_at:
        raise InvalidInput(
            "the agreement cannot take effect before the mediation began", field="agreement_effective_at"
        )
    return given


async def _terminate(
    session: AsyncSession, env: CaseEnv, actor: Principal, case: Case, state: CaseState, data: OutcomeIn
) -> None:
    for name in ("scope", "agreement_material_id", "agreement_effective_at", "entrusted_request"):
        if getattr(data, name) is not None:
            raise _unexpected(name, "only an agreement has this")
    if data.reason is None:
        raise _required("reason", "a terminated mediation carries one OMR 25 reason")
    if data.report is None:
        raise _required("report", "a failed mediation is reported with its course and why it failed (OMR 21)")
    if state is CaseState.TERMINATED:
        if data.reason.value != case.termination_reason:
            raise InvalidInput(
                f"the case was terminated for {case.termination_reason}",
                field="reason",
                code="reason_mismatch",
            )
        return
    if state not in ACTIVE_STATES:
        raise IllegalTransition(
            f"a termination cannot be recorded for a case in state {state.value!r}",
            current_state=state.value,
            event=CaseEvent.TERMINATE.value,
        )
    ensure(actor, Action.TERMINATE, case)  # not before the mediator accepted: they decline instead
    await apply_event(session, env, actor, case, CaseEvent.TERMINATE, reason=data.reason, note=data.note)


async def acknowledge(
    session: AsyncSession, env: CaseEnv, actor: Principal, case: Case, note: str | None
) -> CaseReport:
    """The court confirms it received the result; for an agreed 委托 case the parties' request stands."""
    require_case_court(actor, case)
    report = await report_of(session, case)
    if report is None:
        raise Conflict("the result of this case has not been reported yet", code="not_reported")
    await apply_event(
        session, env, actor, case, CaseEvent.ACKNOWLEDGE, note=note, data={"report_id": report.id}
    )
    report.acknowledged_at = env.now()
    report.acknowledged_by = actor.label
    report.acknowledgement_note = note
    if report.entrusted_request is not None:
        await apply_event(
            session,
            env,
            actor,
            case,
            _ENTRUSTED_EVENTS[report.entrusted_request],
            data={"report_id": report.id},
        )
    return report


def report_out(case: Case, report: CaseReport, env: CaseEnv) -> ReportOut:
    jc_last_day = None
    if case.agreement_effective_at is not None and case.kind == CaseKind.DELEGATED:
        jc_last_day = jc_application_deadline(case.agreement_effective_at, env.calendar)
    reason = TerminationReason(report.reason)
    return ReportOut(
        case_id=case.id,
        case_number=case.case_number,
        state=case.state,
        outcome=Outcome(report.outcome),
        reason=reason,
        reason_label=REASON_LABELS_ZH[reason],
        agreement_material_id=report.agreement_material_id,
        agreement_effective_at=case.agreement_effective_at,
        jc_last_day=jc_last_day,
        entrusted_request="mediation_document"
        if report.entrusted_request == "mediation_document"
        else "suit_withdrawal"
        if report.entrusted_request == "suit_withdrawal"
        else None,
        course=report.course,
        failure_reason=report.failure_reason,
        cost_conduct=report.cost_conduct,
        other_matters=report.other_matters,
        note=report.note,
        reported_at=report.reported_at,
        reported_by=report.reported_by,
        acknowledged_at=report.acknowledged_at,
        acknowledged_by=report.acknowledged_by,
        acknowledgement_note=report.acknowledgement_note,
    )


async def load_report(session: AsyncSession, actor: Principal, case: Case) -> CaseReport:
    if not sees_case(actor, case):
        raise NotFound("case not found", resource="case")
    report = await report_of(session, case)
    if report is None:
        raise NotFound("the result of this case has not been reported yet", resource="report")
    return report


async def unacknowledged(
    session: AsyncSession, env: CaseEnv, actor: Principal, limit: int
) -> list[UnacknowledgedOut]:
    """Reports the court has not acknowledged yet, oldest first, among the cases ``actor`` sees."""
    rows = await session.execute(
        select(Case, CaseReport)
        .join(CaseReport, CaseReport.case_id == Case.id)
        .where(
            case_filter(actor), Case.state == CaseState.REPORTED.value, CaseReport.acknowledged_at.is_(None)
        )
        .order_by(CaseReport.reported_at, Case.id)
        .limit(limit)
    )
    today = env.today()
    return [
        UnacknowledgedOut(
            case_id=case.id,
            case_number=case.case_number,
            court_id=case.court_id,
            mediator_id=case.current_mediator_id,
            outcome=Outcome(report.outcome),
            reason=TerminationReason(report.reason),
            reported_at=report.reported_at,
            waiting_days=(today - local_date(report.reported_at)).days,
        )
        for case, report in rows.all()
    ]
