"""The glue between the pure life cycle and storage: apply one event to one stored case.

:func:`apply_event` describes the case as :class:`~cases.lifecycle.CaseFacts`, lets the state machine
decide, carries out the returned effects (clock, pauses, closure), refreshes the stored deadline, writes
the audit entry and puts the court's webhook event in the outbox (:mod:`webhooks.outbox`), all in the
caller's transaction.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.principal import Principal
from cases import audit
from cases.context import CaseEnv
from cases.deadlines import (
    MediationDeadline,
    Pause,
    Procedure,
    base_period_days,
    jc_application_deadline,
    mediation_deadline,
)
from cases.lifecycle import (
    CaseEvent,
    CaseFacts,
    CaseKind,
    CaseState,
    Effect,
    Outcome,
    TerminationReason,
    Transition,
)
from cases.lifecycle import apply as apply_rule
from cases.tables import Case, CasePause
from cases.vocab import PauseKind
from tiaojie.ids import new_id
from webhooks.outbox import emit_case_transition

__all__ = ["apply_event", "deadline_of", "facts_for", "open_pauses", "pauses_of", "refresh_deadline"]


async def pauses_of(session: AsyncSession, case_id: str) -> list[CasePause]:
    return list(
        (
            await session.scalars(
                select(CasePause).where(CasePause.case_id == case_id).order_by(CasePause.started_at)
            )
        ).all()
    )


async def open_pauses(session: AsyncSession, case_id: str) -> list[CasePause]:
    return [p for p in await pauses_of(session, case_id) if p.ended_at is None]


def facts_for(case: Case, env: CaseEnv, *, all_parties_consent: bool = False) -> CaseFacts:
    jc_deadline = None
    if case.agreement_effective_at is not None:
        jc_deadline = jc_application_deadline(case.agreement_effective_at, env.calendar)
    return CaseFacts(
        kind=CaseKind(case.kind),
        state=CaseState(case.state),
        clock_started=case.accepted_at is not None,
        suspended_from=CaseState(case.suspended_from) if case.suspended_from else None,
        extended=case.extension_days > 0,
        outcome=Outcome(case.outcome) if case.outcome else None,
        today=env.today(),
        jc_deadline=jc_deadline,
        all_parties_consent=all_parties_consent,
    )


def deadline_of(case: Case, pauses: list[CasePause], env: CaseEnv) -> MediationDeadline | None:
    if case.accepted_at is None or case.base_days is None:
        return None
    return mediation_deadline(
        accepted_at=case.accepted_at,
        base_days=case.base_days,
        extension_days=case.extension_days,
        pauses=[Pause(start=p.started_at, end=p.ended_at) for p in pauses],
        now=env.now(),
        cal=env.calendar,
    )


async def refresh_deadline(session: AsyncSession, case: Case, env: CaseEnv) -> MediationDeadline | None:
    """Recompute the stored last day of the mediation period (None while paused or before acceptance)."""
    await session.flush()
    deadline = deadline_of(case, await pauses_of(session, case.id), env)
    case.last_day = deadline.last_day if deadline else None
    return deadline


async def apply_event(
    session: AsyncSession,
    env: CaseEnv,
    actor: Principal,
    case: Case,
    event: CaseEvent,
    *,
    reason: TerminationReason | None = None,
    outcome: Outcome | None = None,
    pause_kind: PauseKind | None = None,
    note: str | None = None,
    all_parties_consent: bool = False,
    data: dict[str, Any] | None = None,
) -> Transition:
    """Apply ``event`` to ``case``; raises IllegalTransition / InvalidInput and changes nothing on refusal."""
    now = env.now()
    transition = apply_rule(
        facts_for(case, env, all_parties_consent=all_parties_consent), event, reason=reason, outcome=outcome
    )
    for effect in transition.effects:
        if effect is Effect.START_CLOCK:
            case.accepted_at = now
            case.base_days = base_period_days(case.kind, Procedure(case.procedure))
        elif effect is Effect.PAUSE_CLOCK:
            session.add(
                CasePause(
                    id=new_id("pau"),
                    case_id=case.id,
                    kind=(pause_kind or PauseKind.APPRAISAL).value,
                    reason=note,
                    started_at=now,
                    started_by=actor.label,
                )
            )
            case.suspended_from = transition.from_state.value
        elif effect is Effect.PAUSE_CLOCK_FOR_CHANGE:
            session.add(
                CasePause(
                    id=new_id("pau"),
                    case_id=case.id,
                    kind=PauseKind.MEDIATOR_CHANGE.value,
                    reason=note,
                    started_at=now,
                    started_by=actor.label,
                )
            )
        elif effect in (Effect.RESUME_CLOCK, Effect.RESUME_CLOCK_AFTER_CHANGE, Effect.CLOSE):
            change = effect is Effect.RESUME_CLOCK_AFTER_CHANGE
            for pause in await open_pauses(session, case.id):
                if effect is Effect.CLOSE or (pause.kind == PauseKind.MEDIATOR_CHANGE) == change:
                    pause.ended_at = now
                    pause.ended_by = actor.label
            if effect is Effect.RESUME_CLOCK:
                case.suspended_from = None
            if effect is Effect.CLOSE:
                case.closed_at = now
                case.suspended_from = None
                case.outcome = transition.outcome.value if transition.outcome else None
                case.termination_reason = transition.reason.value if transition.reason else None
                case.termination_note = note
        # Effect.NOTIFY_COURT: every transition, the closing ones included, reaches the court as a webhook.
    case.state = transition.to_state.value
    case.updated_at = now
    if transition.to_state is not CaseState.ASSIGNED:
        case.acceptance_due = None
    await refresh_deadline(session, case, env)
    await audit.record(
        session,
        actor=actor,
        at=now,
        subject_type="case",
        subject_id=case.id,
        case_id=case.id,
        action=event.value,
        from_state=transition.from_state.value,
        to_state=transition.to_state.value,
        reason=note if transition.reason is None else f"{transition.reason.value}: {note or ''}".rstrip(": "),
        data={
            k: v for k, v in {**(data or {}), "effects": [e.value for e in transition.effects]}.items() if v
        },
    )
    await emit_case_transition(session, env, actor, case, transition, note=note, details=data or {})
    return transition
