"""The outbox: events written in the same transaction as the change they report.

:func:`emit` adds the event and one pending delivery per endpoint of the court that subscribes to its type;
nothing is sent here. If the transaction rolls back, the event never existed; once it commits, the delivery
worker finds it even after a crash. Just before the commit (a ``before_commit`` hook on every session) the
court's events are numbered from its counter row, in commit order and without gaps: the counter's row lock
is the last lock a transaction takes, and is held only until its commit. After the commit the delivery
worker of this process is woken (:func:`on_commit`); other processes' workers find the event when they poll.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from accounts.principal import Principal
from cases.context import CaseEnv
from cases.deadlines import acceptance_due
from cases.lifecycle import CaseEvent, Transition
from cases.tables import Case, Mediator
from tiaojie.ids import new_id
from webhooks.events import CASE_EVENT_TYPES, EventType, case_data, envelope
from webhooks.tables import WebhookCounter, WebhookDelivery, WebhookEndpoint, WebhookEvent

__all__ = ["emit", "emit_case_transition", "emit_for_case", "on_commit"]

_PENDING = "webhooks.pending"
_EMITTED = "webhooks.emitted"
_bells: set[Callable[[], None]] = set()


def on_commit(callback: Callable[[], None]) -> Callable[[], None]:
    """Call ``callback`` after every commit in this process that emitted events; returns the remover."""
    _bells.add(callback)
    return lambda: _bells.discard(callback)


def subscribes(types: list[str], event_type: EventType) -> bool:
    return not types or event_type.value in types


async def emit(
    session: AsyncSession,
    *,
    court_id: str,
    case_id: str | None,
    event_type: EventType,
    data: dict[str, Any],
    occurred_at: datetime,
) -> WebhookEvent:
    """Write an event and its deliveries in the caller's transaction."""
    # Read the subscribers before adding the rows: an autoflush now would insert the event before its
    # number is known and update it again at the commit.
    endpoints = await session.execute(
        select(WebhookEndpoint.id, WebhookEndpoint.event_types).where(WebhookEndpoint.court_id == court_id)
    )
    msg_id = new_id("msg")
    row = WebhookEvent(
        id=msg_id,
        court_id=court_id,
        seq=None,
        case_id=case_id,
        type=event_type.value,
        occurred_at=occurred_at,
        payload=envelope(msg_id, event_type, occurred_at, data),
    )
    deliveries = [
        WebhookDelivery(
            id=new_id("whd"),
            event=row,
            endpoint_id=endpoint_id,
            case_id=case_id,
            seq=None,
            status="pending",
            attempts=0,
            next_attempt_at=occurred_at,
            created_at=occurred_at,
        )
        for endpoint_id, types in endpoints
        if subscribes(types, event_type)
    ]
    session.add(row)
    session.add_all(deliveries)
    session.sync_session.info.setdefault(_PENDING, []).append((row, deliveries))
    return row


async def emit_for_case(
    session: AsyncSession,
    *,
    case_id: str,
    event_type: EventType,
    data: dict[str, Any],
    occurred_at: datetime,
) -> WebhookEvent | None:
    """:func:`emit` for a change of something that belongs to a case (a session, a recording, a
    transcript): the event goes to the case's court. None when the case is gone."""
    court_id = await session.scalar(select(Case.court_id).where(Case.id == case_id))
    if court_id is None:
        return None
    return await emit(
        session,
        court_id=court_id,
        case_id=case_id,
        event_type=event_type,
        data=data,
        occurred_at=occurred_at,
    )


async def emit_case_transition(
    session: AsyncSession,
    env: CaseEnv,
    actor: Principal,
    case: Case,
    transition: Transition,
    *,
    note: str | None,
    details: Mapping[str, Any],
) -> WebhookEvent:
    """The event of one case transition (called by :func:`cases.workflow.apply_event`)."""
    now = env.now()
    mediator_id = case.current_mediator_id
    organisation_id = case.current_organisation_id
    due = case.acceptance_due
    if transition.event is CaseEvent.ASSIGN:
        # apply_event runs before the assignment is stored on the case: the new mediator is in the details.
        mediator_id = str(details.get("mediator_id") or mediator_id)
        mediator = await session.get(Mediator, mediator_id)
        organisation_id = mediator.organisation_id if mediator is not None else organisation_id
        due = acceptance_due(now, env.calendar)
    data = case_data(
        case_id=case.id,
        case_number=case.case_number,
        court_id=case.court_id,
        kind=case.kind,
        event=transition.event,
        from_state=transition.from_state.value,
        to_state=transition.to_state.value,
        mediator_id=mediator_id,
        organisation_id=organisation_id,
        actor_kind=actor.kind.value,
        outcome=transition.outcome,
        reason=transition.reason,
        note=note,
        accepted_at=case.accepted_at,
        acceptance_due=due,
        last_day=case.last_day,
        details=details,
    )
    return await emit(
        session,
        court_id=case.court_id,
        case_id=case.id,
        event_type=CASE_EVENT_TYPES[transition.event],
        data=data,
        occurred_at=now,
    )


def _counter_upsert(dialect: str, court_id: str, count: int) -> Any:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(WebhookCounter).values(court_id=court_id, last_seq=count)
    return statement.on_conflict_do_update(
        index_elements=[WebhookCounter.court_id], set_={"last_seq": WebhookCounter.last_seq + count}
    ).returning(WebhookCounter.last_seq)


@event.listens_for(Session, "before_commit")
def _number_events(session: Session) -> None:
    pending: list[tuple[WebhookEvent, list[WebhookDelivery]]] = session.info.pop(_PENDING, [])
    if not pending:
        return
    by_court: dict[str, list[tuple[WebhookEvent, list[WebhookDelivery]]]] = {}
    for item in pending:
        by_court.setdefault(item[0].court_id, []).append(item)
    dialect = session.get_bind().dialect.name
    with session.no_autoflush:
        for court_id in sorted(by_court):  # one lock order for every transaction
            items = by_court[court_id]
            last = int(session.execute(_counter_upsert(dialect, court_id, len(items))).scalar_one())
            for offset, (row, deliveries) in enumerate(items):
                row.seq = last - len(items) + 1 + offset
                for delivery in deliveries:
                    delivery.seq = row.seq
    session.info[_EMITTED] = True


@event.listens_for(Session, "after_commit")
def _ring(session: Session) -> None:
    if session.info.pop(_EMITTED, False):
        for bell in list(_bells):
            bell()


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_PENDING, None)
    session.info.pop(_EMITTED, None)
