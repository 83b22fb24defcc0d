"""Who may see which case, and who may do what to it.

A court sees its own cases; a union sees the cases currently assigned to its organisations (itself and
every organisation under it); a mediator sees the cases currently assigned to them. A case the caller may
not see does not exist for them (404, never 403), so its existence leaks nothing.
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import ColumnElement, false, true
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.principal import Principal, PrincipalKind
from cases.lifecycle import CaseState
from cases.tables import Case
from tiaojie.errors import NotFound, PermissionDenied
from tiaojie.ids import is_id

__all__ = ["Action", "can", "case_filter", "ensure", "load_case", "reveals_personal_data", "sees_case"]


class Action(StrEnum):
    ASSIGN = "assign"
    ACCEPT = "accept"
    DECLINE = "decline"
    BEGIN_MEDIATION = "begin_mediation"
    SUSPEND = "suspend"
    RESUME = "resume"
    EXTEND = "extend"
    TERMINATE = "terminate"
    DISCLOSE = "disclose"
    REQUEST_CHANGE = "request_change"
    DECIDE_CHANGE = "decide_change"
    UPLOAD_MATERIAL = "upload_material"
    READ_MATERIAL = "read_material"
    READ_RECORDING = "read_recording"
    RENDER_RECORDING = "render_recording"


_K = PrincipalKind
_WHO: dict[Action, frozenset[PrincipalKind]] = {
    Action.ASSIGN: frozenset({_K.COURT}),
    Action.ACCEPT: frozenset({_K.MEDIATOR, _K.UNION}),
    Action.DECLINE: frozenset({_K.MEDIATOR, _K.UNION}),
    Action.BEGIN_MEDIATION: frozenset({_K.MEDIATOR}),
    Action.SUSPEND: frozenset({_K.MEDIATOR, _K.COURT}),
    Action.RESUME: frozenset({_K.MEDIATOR, _K.COURT}),
    Action.EXTEND: frozenset({_K.MEDIATOR}),
    Action.TERMINATE: frozenset({_K.MEDIATOR, _K.COURT}),
    Action.DISCLOSE: frozenset({_K.MEDIATOR}),
    Action.REQUEST_CHANGE: frozenset({_K.COURT, _K.MEDIATOR}),
    Action.DECIDE_CHANGE: frozenset({_K.COURT, _K.UNION}),
    Action.UPLOAD_MATERIAL: frozenset({_K.COURT, _K.MEDIATOR}),
    Action.READ_MATERIAL: frozenset({_K.COURT, _K.MEDIATOR}),
    # Recordings are confidential (OMR 29): the court and the mediator of the case, not the union's admins.
    Action.READ_RECORDING: frozenset({_K.COURT, _K.MEDIATOR}),
    Action.RENDER_RECORDING: frozenset({_K.COURT, _K.MEDIATOR}),
}


def case_filter(actor: Principal) -> ColumnElement[bool]:
    """A WHERE clause that keeps only the cases ``actor`` may see. On the table's columns, not the ORM
    attributes, so that it also serves plain Core selects (an ORM attribute makes a select an ORM one)."""
    cases = Case.__table__.c
    if actor.kind is PrincipalKind.SYSTEM:
        return true()
    if actor.kind is PrincipalKind.COURT and actor.court_id:
        return cases.court_id == actor.court_id
    if actor.kind is PrincipalKind.UNION and actor.organisation_ids:
        return cases.current_organisation_id.in_(sorted(actor.organisation_ids))
    if actor.kind is PrincipalKind.MEDIATOR and actor.mediator_id:
        return cases.current_mediator_id == actor.mediator_id
    return false()


def sees_case(actor: Principal, case: Case) -> bool:
    if actor.kind is PrincipalKind.SYSTEM:
        return True
    if actor.kind is PrincipalKind.COURT:
        return actor.court_id is not None and case.court_id == actor.court_id
    if actor.kind is PrincipalKind.UNION:
        return (
            case.current_organisation_id is not None
            and case.current_organisation_id in actor.organisation_ids
        )
    if actor.kind is PrincipalKind.MEDIATOR:
        return actor.mediator_id is not None and case.current_mediator_id == actor.mediator_id
    return False


async def load_case(
    session: AsyncSession, actor: Principal, case_id: str, *, for_update: bool = False
) -> Case:
    if not is_id(case_id, "cas"):  # not even shaped like one: nothing to look up (PostgreSQL refuses NUL)
        raise NotFound("case not found", resource="case")
    case = await session.get(Case, case_id, with_for_update=for_update)
    if case is None or not sees_case(actor, case):
        raise NotFound("case not found", resource="case")
    return case


def can(actor: Principal, action: Action, case: Case) -> bool:
    if not sees_case(actor, case):
        return False
    if actor.kind is PrincipalKind.SYSTEM:
        return True
    if (
        action is Action.TERMINATE
        and actor.kind is PrincipalKind.MEDIATOR
        and case.state == CaseState.ASSIGNED
    ):
        return False  # a mediator who has not accepted declines instead; only the court ends such a case
    return actor.kind in _WHO[action]


def ensure(actor: Principal, action: Action, case: Case) -> None:
    if not can(actor, action, case):
        raise PermissionDenied(
            f"you may not {action.value.replace('_', ' ')} on this case", action=action.value
        )


def reveals_personal_data(actor: Principal, case: Case) -> bool:
    """Full ID numbers, phones and addresses only for the court and the mediator handling the case."""
    return actor.kind in (PrincipalKind.SYSTEM, PrincipalKind.COURT, PrincipalKind.MEDIATOR) and sees_case(
        actor, case
    )
