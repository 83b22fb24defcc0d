"""Mediation periods that ran out: a ``case.overdue`` event for each case still under mediation after its
last day (OMR 24, 26), once per last day (an extension gives a new one). Run periodically under a job lease;
assignments not answered in time reach the court through their own transition (``acceptance_timeout``)."""

from __future__ import annotations

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from cases.deadlines import local_date
from cases.queries import CLOCK_RUNNING_STATES
from cases.tables import Case
from tiaojie.clock import Clock
from webhooks.events import PERIOD_OVERDUE, EventType, case_data
from webhooks.outbox import emit
from webhooks.tables import WebhookReminder

__all__ = ["report_overdue"]

_BATCH = 500


async def report_overdue(session: AsyncSession, clock: Clock) -> list[str]:
    """Emit ``case.overdue`` for every running case past its last day not yet reported; the case ids."""
    now = clock.now()
    today = local_date(now)
    sent = WebhookReminder
    cases = (
        await session.scalars(
            select(Case)
            .outerjoin(
                sent,
                and_(
                    sent.case_id == Case.id,
                    sent.kind == PERIOD_OVERDUE,
                    sent.last_day == Case.last_day,
                ),
            )
            .where(
                Case.state.in_(CLOCK_RUNNING_STATES),
                Case.last_day < today,
                sent.case_id.is_(None),
            )
            .order_by(Case.last_day, Case.id)
            .limit(_BATCH)
        )
    ).all()
    for case in cases:
        assert case.last_day is not None
        data = case_data(
            case_id=case.id,
            case_number=case.case_number,
            court_id=case.court_id,
            kind=case.kind,
            event=PERIOD_OVERDUE,
            from_state=case.state,
            to_state=case.state,
            mediator_id=case.current_mediator_id,
            organisation_id=case.current_organisation_id,
            actor_kind="system",
            accepted_at=case.accepted_at,
            last_day=case.last_day,
            details={"deadline": "mediation_period", "days_over": (today - case.last_day).days},
        )
        await emit(
            session,
            court_id=case.court_id,
            case_id=case.id,
            event_type=EventType.CASE_OVERDUE,
            data=data,
            occurred_at=now,
        )
        session.add(
            WebhookReminder(case_id=case.id, kind=PERIOD_OVERDUE, last_day=case.last_day, sent_at=now)
        )
    return [case.id for case in cases]
