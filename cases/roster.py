"""Life cycle of an entry on a court's specially-invited mediation roster (特邀调解名册).

OMR 5, 27, 28; SIM 6, 10. Trade unions submit mediation organisations and mediators to the court; the court
confirms or rejects them, and may later suspend, reinstate or remove a confirmed entry. A rejected or removed
entry may be submitted again. Only a confirmed entry may be given cases. This module is pure: one
transition function, no I/O.

::

    SUBMITTED  ─confirm──────> CONFIRMED        (court)
    SUBMITTED  ─reject*──────> REJECTED         (court)
    CONFIRMED  ─suspend*─────> SUSPENDED        (court)
    SUSPENDED  ─reinstate────> CONFIRMED        (court)
    CONFIRMED  ─remove*──────> REMOVED          (court)
    SUSPENDED  ─remove*──────> REMOVED          (court)
    REJECTED   ─resubmit─────> SUBMITTED        (union)
    REMOVED    ─resubmit─────> SUBMITTED        (union)

    * a non-blank reason is required
"""

from __future__ import annotations

from enum import StrEnum

from tiaojie.errors import IllegalTransition, InvalidInput

__all__ = [
    "COURT_ACTIONS",
    "ROSTER_ACTION_LABELS_EN",
    "ROSTER_ACTION_LABELS_ZH",
    "ROSTER_STATUS_LABELS_EN",
    "ROSTER_STATUS_LABELS_ZH",
    "UNION_ACTIONS",
    "RosterAction",
    "RosterStatus",
    "can_be_assigned",
    "decide",
]


class RosterStatus(StrEnum):
    """Where a roster entry (an organisation or a mediator) stands with the court."""

    SUBMITTED = "submitted"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"
    SUSPENDED = "suspended"
    REMOVED = "removed"


class RosterAction(StrEnum):
    """A decision about a roster entry."""

    CONFIRM = "confirm"
    REJECT = "reject"
    SUSPEND = "suspend"
    REINSTATE = "reinstate"
    REMOVE = "remove"
    RESUBMIT = "resubmit"


ROSTER_STATUS_LABELS_ZH: dict[RosterStatus, str] = {
    RosterStatus.SUBMITTED: "待确认",
    RosterStatus.CONFIRMED: "已确认",
    RosterStatus.REJECTED: "不予确认",
    RosterStatus.SUSPENDED: "已暂停",
    RosterStatus.REMOVED: "已除名",
}

ROSTER_STATUS_LABELS_EN: dict[RosterStatus, str] = {
    RosterStatus.SUBMITTED: "Awaiting confirmation",
    RosterStatus.CONFIRMED: "Confirmed",
    RosterStatus.REJECTED: "Rejected",
    RosterStatus.SUSPENDED: "Suspended",
    RosterStatus.REMOVED: "Removed",
}

ROSTER_ACTION_LABELS_ZH: dict[RosterAction, str] = {
    RosterAction.CONFIRM: "确认",
    RosterAction.REJECT: "不予确认",
    RosterAction.SUSPEND: "暂停",
    RosterAction.REINSTATE: "恢复",
    RosterAction.REMOVE: "除名",
    RosterAction.RESUBMIT: "重新报送",
}

ROSTER_ACTION_LABELS_EN: dict[RosterAction, str] = {
    RosterAction.CONFIRM: "Confirm",
    RosterAction.REJECT: "Reject",
    RosterAction.SUSPEND: "Suspend",
    RosterAction.REINSTATE: "Reinstate",
    RosterAction.REMOVE: "Remove",
    RosterAction.RESUBMIT: "Resubmit",
}

COURT_ACTIONS: frozenset[RosterAction] = frozenset(
    {
        RosterAction.CONFIRM,
        RosterAction.REJECT,
        RosterAction.SUSPEND,
        RosterAction.REINSTATE,
        RosterAction.REMOVE,
    }
)
"""Actions the inviting court takes."""

UNION_ACTIONS: frozenset[RosterAction] = frozenset({RosterAction.RESUBMIT})
"""Actions the submitting trade union takes."""

_TRANSITIONS: dict[tuple[RosterStatus, RosterAction], RosterStatus] = {
    (RosterStatus.SUBMITTED, RosterAction.CONFIRM): RosterStatus.CONFIRMED,
    (RosterStatus.SUBMITTED, RosterAction.REJECT): RosterStatus.REJECTED,
    (RosterStatus.CONFIRMED, RosterAction.SUSPEND): RosterStatus.SUSPENDED,
    (RosterStatus.SUSPENDED, RosterAction.REINSTATE): RosterStatus.CONFIRMED,
    (RosterStatus.CONFIRMED, RosterAction.REMOVE): RosterStatus.REMOVED,
    (RosterStatus.SUSPENDED, RosterAction.REMOVE): RosterStatus.REMOVED,
    (RosterStatus.REJECTED, RosterAction.RESUBMIT): RosterStatus.SUBMITTED,
    (RosterStatus.REMOVED, RosterAction.RESUBMIT): RosterStatus.SUBMITTED,
}

_REASON_REQUIRED = frozenset({RosterAction.REJECT, RosterAction.SUSPEND, RosterAction.REMOVE})


def decide(status: RosterStatus, action: RosterAction, *, reason: str | None) -> RosterStatus:
    """Return the status a roster entry in ``status`` has after ``action``.

    Raises ``IllegalTransition`` if ``status`` does not allow ``action``, and ``InvalidInput``
    (``code="reason_required"``, ``field="reason"``) if a reject, suspend or remove comes without a reason.
    """
    status, action = RosterStatus(status), RosterAction(action)
    target = _TRANSITIONS.get((status, action))
    if target is None:
        raise IllegalTransition(
            f"a roster entry that is {status.value} cannot be given the action {action.value}",
            current_state=status.value,
            event=action.value,
        )
    if action in _REASON_REQUIRED and (reason is None or not reason.strip()):
        raise InvalidInput(
            f"a reason is required to {action.value} a roster entry", field="reason", code="reason_required"
        )
    return target


def can_be_assigned(status: RosterStatus) -> bool:
    """Whether an organisation or mediator with this status may be given cases: only when confirmed."""
    return status == RosterStatus.CONFIRMED
