"""Finding cases: the caller's inbox with filters, deadlines due and overdue, pages by cursor."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.principal import Principal
from cases.access import case_filter
from cases.context import CaseEnv
from cases.deadlines import SHANGHAI
from cases.lifecycle import CaseState
from cases.schemas import CaseListQuery
from cases.tables import Case

__all__ = ["CLOCK_RUNNING_STATES", "list_cases"]

CLOCK_RUNNING_STATES = (
    CaseState.ACCEPTED.value,
    CaseState.IN_MEDIATION.value,
    CaseState.EXTENDED.value,
    CaseState.AWAITING_SIGNATURES.value,
)


def _local_midnight(day: object) -> datetime:
    assert hasattr(day, "year")
    return datetime.combine(day, time(0), tzinfo=SHANGHAI)  # type: ignore[arg-type]


def case_query(actor: Principal, env: CaseEnv, query: CaseListQuery) -> Select[Case]:
    stmt = select(Case).where(case_filter(actor))
    if query.state:
        stmt = stmt.where(Case.state.in_([s.value for s in query.state]))
    if query.kind:
        stmt = stmt.where(Case.kind == query.kind.value)
    if query.mediator_id:
        stmt = stmt.where(Case.current_mediator_id == query.mediator_id)
    if query.organisation_id:
        stmt = stmt.where(Case.current_organisation_id == query.organisation_id)
    if query.case_number:
        stmt = stmt.where(Case.case_number == query.case_number)
    if query.created_from:
        stmt = stmt.where(Case.created_at >= _local_midnight(query.created_from))
    if query.closed_from:
        stmt = stmt.where(Case.closed_at >= _local_midnight(query.closed_from))
    if query.created_to:
        stmt = stmt.where(Case.created_at < _local_midnight(query.created_to + timedelta(days=1)))
    today = env.today()
    if query.deadline == "overdue":
        stmt = stmt.where(Case.state.in_(CLOCK_RUNNING_STATES), Case.last_day < today)
    elif query.deadline == "due_today":
        stmt = stmt.where(Case.state.in_(CLOCK_RUNNING_STATES), Case.last_day == today)
    elif query.deadline == "due_soon":
        stmt = stmt.where(
            Case.state.in_(CLOCK_RUNNING_STATES),
            Case.last_day >= today,
            Case.last_day <= today + timedelta(days=env.warn_days),
        )
    elif query.deadline == "acceptance_overdue":
        stmt = stmt.where(Case.state == CaseState.ASSIGNED.value, Case.acceptance_due < today)
    if query.cursor:
        stmt = stmt.where(Case.id < query.cursor)
    return stmt.order_by(Case.id.desc()).limit(query.limit + 1)


async def list_cases(
    session: AsyncSession, actor: Principal, env: CaseEnv, query: CaseListQuery
) -> list[Case]:
    """Up to ``query.limit + 1`` cases, newest first (the extra one tells that there is a next page)."""
    return list((await session.scalars(case_query(actor, env, query))).all())
