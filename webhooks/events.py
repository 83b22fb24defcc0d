"""The events sent to courts and their payloads. Pure: no I/O, no clock.

Every event is an envelope ``{"id", "type", "timestamp", "data"}`` (the Standard Webhooks shape, with the
message id repeated from the ``webhook-id`` header). ``data`` carries identifiers and the facts a court needs
to act; documents themselves (agreements, transcripts, recordings) are fetched through the authenticated
API, whose paths ``data.links`` gives.

Every case transition has exactly one event type (:data:`CASE_EVENT_TYPES`, total over
:class:`~cases.lifecycle.CaseEvent`); the other types come from sessions, recordings, transcripts and
agreements.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from enum import StrEnum, unique
from types import MappingProxyType
from typing import Any, Final

from cases.lifecycle import REASON_LABELS_ZH, CaseEvent, Outcome, TerminationReason
from tiaojie.jsonvalue import day, instant

__all__ = [
    "CASE_EVENT_TYPES",
    "PERIOD_OVERDUE",
    "EventType",
    "agreement_data",
    "case_data",
    "envelope",
    "recording_data",
    "session_data",
    "transcript_data",
]


@unique
class EventType(StrEnum):
    CASE_ASSIGNED = "case.assigned"
    CASE_DECLINED = "case.declined"
    CASE_OVERDUE = "case.overdue"  # no answer within 3 working days (OMR 12), or the period ran out
    CASE_ACCEPTED = "case.accepted"
    CASE_MEDIATION_STARTED = "case.mediation_started"
    CASE_SUSPENDED = "case.suspended"
    CASE_RESUMED = "case.resumed"
    CASE_EXTENDED = "case.extended"
    CASE_MEDIATOR_CHANGED = "case.mediator_changed"
    CASE_SIGNATURES_REQUESTED = "case.signatures_requested"
    CASE_RETURNED_TO_MEDIATION = "case.returned_to_mediation"
    CASE_CLOSED = "case.closed"  # agreed (full / partial) or terminated, with the OMR 25 reason
    CASE_REPORTED = "case.reported"  # the result and, on failure, the OMR 21 report
    CASE_ACKNOWLEDGED = "case.acknowledged"
    CASE_MEDIATION_DOCUMENT_REQUESTED = "case.mediation_document_requested"
    CASE_SUIT_WITHDRAWN = "case.suit_withdrawn"
    JC_APPLIED = "judicial_confirmation.applied"
    JC_CONFIRMED = "judicial_confirmation.confirmed"
    JC_REJECTED = "judicial_confirmation.rejected"
    JC_WITHDRAWN = "judicial_confirmation.withdrawn"
    SESSION_STARTED = "session.started"
    SESSION_ENDED = "session.ended"
    RECORDING_READY = "recording.ready"
    TRANSCRIPT_CONFIRMED = "transcript.confirmed"
    AGREEMENT_SIGNED = "agreement.signed"
    AGREEMENT_EFFECTIVE = "agreement.effective"


CASE_EVENT_TYPES: Final[Mapping[CaseEvent, EventType]] = MappingProxyType(
    {
        CaseEvent.ASSIGN: EventType.CASE_ASSIGNED,
        CaseEvent.DECLINE: EventType.CASE_DECLINED,
        CaseEvent.ACCEPTANCE_TIMEOUT: EventType.CASE_OVERDUE,
        CaseEvent.ACCEPT: EventType.CASE_ACCEPTED,
        CaseEvent.BEGIN_MEDIATION: EventType.CASE_MEDIATION_STARTED,
        CaseEvent.SUSPEND: EventType.CASE_SUSPENDED,
        CaseEvent.RESUME: EventType.CASE_RESUMED,
        CaseEvent.EXTEND: EventType.CASE_EXTENDED,
        CaseEvent.CHANGE_MEDIATOR: EventType.CASE_MEDIATOR_CHANGED,
        CaseEvent.REQUEST_SIGNATURES: EventType.CASE_SIGNATURES_REQUESTED,
        CaseEvent.RETURN_TO_MEDIATION: EventType.CASE_RETURNED_TO_MEDIATION,
        CaseEvent.SIGNATURES_COMPLETE: EventType.CASE_CLOSED,
        CaseEvent.REFUSE_TO_SIGN: EventType.CASE_CLOSED,
        CaseEvent.TERMINATE: EventType.CASE_CLOSED,
        CaseEvent.REPORT: EventType.CASE_REPORTED,
        CaseEvent.ACKNOWLEDGE: EventType.CASE_ACKNOWLEDGED,
        CaseEvent.APPLY_JC: EventType.JC_APPLIED,
        CaseEvent.CONFIRM_JC: EventType.JC_CONFIRMED,
        CaseEvent.REJECT_JC: EventType.JC_REJECTED,
        CaseEvent.WITHDRAW_JC: EventType.JC_WITHDRAWN,
        CaseEvent.REQUEST_MEDIATION_DOC: EventType.CASE_MEDIATION_DOCUMENT_REQUESTED,
        CaseEvent.WITHDRAW_SUIT: EventType.CASE_SUIT_WITHDRAWN,
    }
)
"""The event type of each case transition."""

PERIOD_OVERDUE = "mediation_period_overdue"
"""``data.event`` of a ``case.overdue`` event for a mediation period that ran out (not a transition)."""

_API = "/api/v1"


def envelope(
    msg_id: str, event_type: EventType, occurred_at: datetime, data: dict[str, Any]
) -> dict[str, Any]:
    """The document sent as the body: the same for every attempt and every endpoint."""
    return {"id": msg_id, "type": event_type.value, "timestamp": instant(occurred_at), "data": data}


def _case_links(case_id: str) -> dict[str, str]:
    return {"case": f"{_API}/cases/{case_id}", "audit": f"{_API}/cases/{case_id}/events"}


def case_data(
    *,
    case_id: str,
    case_number: str,
    court_id: str,
    kind: str,
    event: CaseEvent | str,
    from_state: str,
    to_state: str,
    mediator_id: str | None,
    organisation_id: str | None,
    actor_kind: str,
    outcome: Outcome | None = None,
    reason: TerminationReason | None = None,
    note: str | None = None,
    accepted_at: datetime | None = None,
    acceptance_due: date | None = None,
    last_day: date | None = None,
    details: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """``data`` of a case transition: who has the case, where it stands, and why it moved."""
    return {
        "case_id": case_id,
        "case_number": case_number,
        "court_id": court_id,
        "kind": kind,
        "event": event.value if isinstance(event, CaseEvent) else event,
        "from_state": from_state,
        "state": to_state,
        "mediator_id": mediator_id,
        "organisation_id": organisation_id,
        "outcome": outcome.value if outcome else None,
        "reason": reason.value if reason else None,
        "reason_label": REASON_LABELS_ZH[reason] if reason else None,
        "note": note,
        "accepted_at": instant(accepted_at),
        "acceptance_due": day(acceptance_due),
        "last_day": day(last_day),
        "actor_kind": actor_kind,
        "details": dict(details or {}),
        "links": _case_links(case_id),
    }


def session_data(
    *,
    case_id: str,
    session_id: str,
    mode: str,
    started_at: datetime | None,
    ended_at: datetime | None = None,
    end_reason: str | None = None,
) -> dict[str, Any]:
    """``data`` of ``session.started`` and ``session.ended``."""
    return {
        "case_id": case_id,
        "session_id": session_id,
        "mode": mode,
        "started_at": instant(started_at),
        "ended_at": instant(ended_at),
        "end_reason": end_reason,
        "links": {**_case_links(case_id), "sessions": f"{_API}/cases/{case_id}/sessions"},
    }


def recording_data(
    *, case_id: str, session_id: str, recording_id: str, duration_ms: int | None, manifest_sha256: str | None
) -> dict[str, Any]:
    """``data`` of ``recording.ready``: the sealed recording's identity and digest, not its media."""
    return {
        "case_id": case_id,
        "session_id": session_id,
        "recording_id": recording_id,
        "duration_ms": duration_ms,
        "manifest_sha256": manifest_sha256,
        "links": {**_case_links(case_id), "recording": f"{_API}/cases/{case_id}/recordings/{recording_id}"},
    }


def transcript_data(
    *, case_id: str, session_id: str, transcript_id: str, version: int, sha256: str
) -> dict[str, Any]:
    """``data`` of ``transcript.confirmed``."""
    return {
        "case_id": case_id,
        "session_id": session_id,
        "transcript_id": transcript_id,
        "version": version,
        "sha256": sha256,
        "links": _case_links(case_id),
    }


def agreement_data(
    *,
    case_id: str,
    agreement_id: str,
    sha256: str,
    outcome: Outcome | None,
    signed_by: list[str],
    effective_at: datetime | None,
) -> dict[str, Any]:
    """``data`` of ``agreement.signed`` (a signature was added) and ``agreement.effective`` (the last one, or
    a signed agreement uploaded by the mediator: then ``agreement_id`` is its material and ``signed_by`` is
    empty)."""
    return {
        "case_id": case_id,
        "agreement_id": agreement_id,
        "sha256": sha256,
        "outcome": outcome.value if outcome else None,
        "signed_by": list(signed_by),
        "effective_at": instant(effective_at),
        "links": _case_links(case_id),
    }
