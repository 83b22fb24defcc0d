"""The life cycle of a mediation case as a pure state machine: no I/O, no clock, no storage.

The service layer loads a case, describes it as :class:`CaseFacts`, calls :func:`apply` with an event and
gets back a :class:`Transition`: the new state plus the :class:`Effect` s it must carry out (start or pause
the mediation clock, close the case with its OMR 25 reason, tell the court). Nothing here reads the time:
dates the rules need (``today``, the judicial-confirmation deadline) come in the facts.

Every rule lives in one table, ``_TABLE`` (event → source state → rule); :func:`apply`,
:func:`allowed_events` and the state sets below are all derived from it. ::

    CREATED ─assign→ ASSIGNED ─decline / acceptance_timeout→ AWAITING_REASSIGNMENT ─assign→ ASSIGNED
    ASSIGNED ─assign→ ASSIGNED                    (the court re-designates before acceptance)
    ASSIGNED ─accept→ ACCEPTED                    (START_CLOCK the first time, else RESUME_CLOCK_AFTER_CHANGE)
    ACCEPTED ─begin_mediation→ IN_MEDIATION | EXTENDED (EXTENDED once an extension was granted)
    ACCEPTED | IN_MEDIATION | EXTENDED | AWAITING_SIGNATURES ─suspend→ SUSPENDED ─resume→ where it came from
    IN_MEDIATION | EXTENDED ─extend (all parties consent)→ EXTENDED
    ASSIGNED … AWAITING_SIGNATURES ─change_mediator→ MEDIATOR_CHANGE ─assign→ ASSIGNED
    IN_MEDIATION | EXTENDED ─request_signatures→ AWAITING_SIGNATURES ─return_to_mediation→ back
    AWAITING_SIGNATURES ─signatures_complete (full | partial)→ AGREED
    AWAITING_SIGNATURES ─refuse_to_sign→ TERMINATED
    any active state ─terminate(reason)→ TERMINATED
    AGREED | TERMINATED ─report→ REPORTED ─acknowledge→ ACKNOWLEDGED
    AGREED | REPORTED | ACKNOWLEDGED (委派, agreed) ─apply_jc→ JC_APPLIED
    OFFLINE_AGREEMENT_UPLOADED ─apply_jc→ JC_APPLIED ─confirm_jc | reject_jc | withdraw_jc→ JC_*
    AGREED | REPORTED | ACKNOWLEDGED (委托, agreed) ─request_mediation_doc | withdraw_suit→ …

The states fall into three disjoint groups that together cover :class:`CaseState`:

- :data:`ACTIVE_STATES` — the mediation is under way (CREATED … AWAITING_SIGNATURES); exactly the states
  from which ``terminate`` is allowed;
- :data:`CLOSED_STATES` — the mediation has ended: AGREED, TERMINATED and every state reachable from them.
  A case enters this group through exactly one closing transition, which carries the case's single OMR 25
  :class:`TerminationReason` and its :class:`Outcome`;
- OFFLINE_AGREEMENT_UPLOADED on its own — an agreement reached offline, uploaded only to apply for judicial
  confirmation (OMR 2, 20); it was never mediated here, so it is neither active nor closed and carries no
  reason. (The JC_* states it leads to are in :data:`CLOSED_STATES`.)

:data:`FINAL_STATES` are the states no event leaves. ACKNOWLEDGED is not among them: a delegated or
entrusted case that reached an agreement can still go on to judicial confirmation or a mediation document;
``allowed_events(facts)`` is empty when a particular case has nothing left to do.

The mediation clock (OMR 24, 26): it runs in ACCEPTED, IN_MEDIATION, EXTENDED and AWAITING_SIGNATURES;
it is paused while SUSPENDED (PAUSE_CLOCK … RESUME_CLOCK) and while a granted mediator change waits for the
new mediator's acceptance (PAUSE_CLOCK_FOR_CHANGE … RESUME_CLOCK_AFTER_CHANGE). Every pause effect is
matched by exactly one resume effect, except that CLOSE stops the clock for good and so also ends whatever
pause is open. Two consequences of that pairing:

- ``change_mediator`` from ASSIGNED pauses nothing: the clock is either not started yet or already paused
  by the earlier change that led to this assignment;
- ``change_mediator`` from SUSPENDED emits RESUME_CLOCK then PAUSE_CLOCK_FOR_CHANGE: the suspension ends
  and the change pause begins at the same instant. The suspension is not restored afterwards; the new
  mediator suspends again if the cause (appraisal, suspected false mediation) still holds.

Errors (from :mod:`tiaojie.errors`): an event the state does not allow, including a kind or outcome that
rules it out (judicial confirmation only for an agreed 委派 case, a 调解书 only for an agreed 委托 case),
raises :class:`~tiaojie.errors.IllegalTransition` naming the event and the current state. An allowed event
with an unacceptable fact or argument (no consent to extend, judicial confirmation applied for too late, a
missing or wrong reason or outcome) raises :class:`~tiaojie.errors.InvalidInput` with a ``field`` and a
specific ``code``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from enum import Enum, StrEnum, unique
from types import MappingProxyType
from typing import Final

from tiaojie.errors import IllegalTransition, InvalidInput, TiaojieError

__all__ = [
    "ACTIVE_STATES",
    "CLOSED_STATES",
    "FINAL_STATES",
    "REASON_LABELS_EN",
    "REASON_LABELS_ZH",
    "CaseEvent",
    "CaseFacts",
    "CaseKind",
    "CaseState",
    "Effect",
    "Outcome",
    "TerminationReason",
    "Transition",
    "allowed_events",
    "apply",
    "initial_state",
]


@unique
class CaseKind(StrEnum):
    """How the court hands the dispute over."""

    DELEGATED = "delegated"  # 委派调解: before filing; success may lead to judicial confirmation
    ENTRUSTED = "entrusted"  # 委托调解: after filing; success leads to a 调解书 or a withdrawal


@unique
class CaseState(StrEnum):
    """Where a case stands. Values are the lowercase names and are stored as they are."""

    CREATED = "created"
    ASSIGNED = "assigned"
    AWAITING_REASSIGNMENT = "awaiting_reassignment"
    ACCEPTED = "accepted"
    IN_MEDIATION = "in_mediation"
    SUSPENDED = "suspended"
    EXTENDED = "extended"
    MEDIATOR_CHANGE = "mediator_change"
    AWAITING_SIGNATURES = "awaiting_signatures"
    AGREED = "agreed"
    TERMINATED = "terminated"
    REPORTED = "reported"
    ACKNOWLEDGED = "acknowledged"
    JC_APPLIED = "jc_applied"
    JC_CONFIRMED = "jc_confirmed"
    JC_REJECTED = "jc_rejected"
    JC_WITHDRAWN = "jc_withdrawn"
    MEDIATION_DOC_REQUESTED = "mediation_doc_requested"
    SUIT_WITHDRAWN = "suit_withdrawn"
    OFFLINE_AGREEMENT_UPLOADED = "offline_agreement_uploaded"


@unique
class CaseEvent(StrEnum):
    """What can happen to a case. Values are the lowercase names."""

    ASSIGN = "assign"  # the parties choose or the court designates a mediator (OMR 10-11)
    DECLINE = "decline"  # the mediator or organisation declines in writing (OMR 12)
    ACCEPTANCE_TIMEOUT = "acceptance_timeout"  # no answer within 3 working days (OMR 12)
    ACCEPT = "accept"  # the mediator accepts on the platform
    BEGIN_MEDIATION = "begin_mediation"
    SUSPEND = "suspend"  # appraisal (鉴定评估) or suspected false mediation (SIM 18)
    RESUME = "resume"
    EXTEND = "extend"  # all parties consent to a longer period (OMR 24)
    CHANGE_MEDIATOR = "change_mediator"  # a recusal or change request was granted (OMR 14)
    REQUEST_SIGNATURES = "request_signatures"
    RETURN_TO_MEDIATION = "return_to_mediation"
    SIGNATURES_COMPLETE = "signatures_complete"  # the last party signed (OMR 19)
    REFUSE_TO_SIGN = "refuse_to_sign"  # OMR 25 (7)
    TERMINATE = "terminate"  # OMR 25, with a reason
    REPORT = "report"  # the result was sent to the court (OMR 21)
    ACKNOWLEDGE = "acknowledge"  # the court acknowledged the result
    APPLY_JC = "apply_jc"  # joint application for judicial confirmation (CPL 205)
    CONFIRM_JC = "confirm_jc"
    REJECT_JC = "reject_jc"
    WITHDRAW_JC = "withdraw_jc"
    REQUEST_MEDIATION_DOC = "request_mediation_doc"  # ask the court for a 调解书
    WITHDRAW_SUIT = "withdraw_suit"  # the plaintiff withdraws the filed suit


@unique
class Outcome(StrEnum):
    """The result of a closed case, for statistics (success rate = full + partial over closed)."""

    FULL = "full"  # agreement on all claims
    PARTIAL = "partial"  # agreement on part of the claims
    FAILED = "failed"  # no agreement: every termination, whatever its reason


@unique
class TerminationReason(StrEnum):
    """Why a case closed (OMR 25). Every closed case carries exactly one."""

    AGREEMENT_REACHED = "agreement_reached"
    SETTLED_WITHDRAWN = "settled_withdrawn"
    PARTY_UNREACHABLE = "party_unreachable"
    PARTY_REFUSES = "party_refuses"
    POSITIONS_TOO_FAR = "positions_too_far"
    PERIOD_EXPIRED = "period_expired"
    REFUSED_TO_SIGN = "refused_to_sign"
    OTHER = "other"


REASON_LABELS_ZH: Final[Mapping[TerminationReason, str]] = MappingProxyType(
    {
        TerminationReason.AGREEMENT_REACHED: "当事人达成调解协议",
        TerminationReason.SETTLED_WITHDRAWN: "当事人自行和解，撤回调解申请",
        TerminationReason.PARTY_UNREACHABLE: "在调解期限内无法联系到当事人",
        TerminationReason.PARTY_REFUSES: "当事人一方明确表示不愿意继续调解",
        TerminationReason.POSITIONS_TOO_FAR: "当事人分歧较大且难以达成调解协议",
        TerminationReason.PERIOD_EXPIRED: (
            "调解期限届满，未达成调解协议，且各方当事人未达成延长调解期限的合意"
        ),
        TerminationReason.REFUSED_TO_SIGN: "当事人一方拒绝在调解协议上签章",
        TerminationReason.OTHER: "其他导致调解无法进行的情形",
    }
)
"""Chinese labels of the OMR 25 reasons, as the rule words them."""

REASON_LABELS_EN: Final[Mapping[TerminationReason, str]] = MappingProxyType(
    {
        TerminationReason.AGREEMENT_REACHED: "The parties reached a mediation agreement",
        TerminationReason.SETTLED_WITHDRAWN: "The parties settled and withdrew the application",
        TerminationReason.PARTY_UNREACHABLE: "A party could not be reached within the mediation period",
        TerminationReason.PARTY_REFUSES: "A party clearly refused to continue the mediation",
        TerminationReason.POSITIONS_TOO_FAR: "The parties' positions were too far apart to agree",
        TerminationReason.PERIOD_EXPIRED: "The mediation period expired without agreement or extension",
        TerminationReason.REFUSED_TO_SIGN: "A party refused to sign the mediation agreement",
        TerminationReason.OTHER: "Other circumstances prevented the mediation",
    }
)
"""English labels of the OMR 25 reasons."""


@unique
class Effect(StrEnum):
    """What the service layer must do besides storing the new state."""

    START_CLOCK = "start_clock"  # first acceptance ever: the mediation period starts
    PAUSE_CLOCK = "pause_clock"  # a suspension begins; its time is excluded from the period
    RESUME_CLOCK = "resume_clock"  # the suspension ends
    PAUSE_CLOCK_FOR_CHANGE = "pause_clock_for_change"  # a granted mediator change; excluded likewise
    RESUME_CLOCK_AFTER_CHANGE = "resume_clock_after_change"  # the new mediator accepted
    CLOSE = "close"  # record the reason and outcome; the clock stops for good, ending any open pause
    NOTIFY_COURT = "notify_court"  # report the result back to the court (OMR 21)


@dataclass(frozen=True, slots=True)
class CaseFacts:
    """What the state machine needs to know about a case, gathered by the caller."""

    kind: CaseKind
    state: CaseState
    clock_started: bool = False  # the case was accepted at least once
    suspended_from: CaseState | None = None  # while SUSPENDED: the state RESUME returns to
    extended: bool = False  # at least one extension was granted
    outcome: Outcome | None = None  # set once the case is closed
    today: date | None = None  # local date (Asia/Shanghai); checked against jc_deadline for APPLY_JC
    jc_deadline: date | None = None  # last day to apply for judicial confirmation (cases.deadlines)
    all_parties_consent: bool = False  # every party consented to the extension asked for (EXTEND)


@dataclass(frozen=True, slots=True)
class Transition:
    """The result of :func:`apply`: the new state and what else must happen.

    ``reason`` and ``outcome`` are set exactly when ``effects`` contains :attr:`Effect.CLOSE`.
    """

    event: CaseEvent
    from_state: CaseState
    to_state: CaseState
    effects: tuple[Effect, ...] = ()
    reason: TerminationReason | None = None
    outcome: Outcome | None = None


# --- The table ------------------------------------------------------------------------------------------


@unique
class _Target(Enum):
    """A target state that depends on the facts."""

    MEDIATION = "mediation"  # IN_MEDIATION, or EXTENDED once an extension was granted
    SUSPENDED_FROM = "suspended_from"  # the state the suspension interrupted


@unique
class _Guard(Enum):
    """A condition on the facts, checked after the (state, event) pair is found in the table."""

    DELEGATED_AGREEMENT = "delegated_agreement"  # kind 委派 and outcome full/partial, else IllegalTransition
    ENTRUSTED_AGREEMENT = "entrusted_agreement"  # kind 委托 and outcome full/partial, else IllegalTransition
    CONSENT = "consent"  # every party consented, else InvalidInput consent_missing
    JC_PERIOD = "jc_period"  # not past the judicial-confirmation deadline, else InvalidInput
    SUSPENDED_FROM = "suspended_from"  # suspended_from names a suspendable state, else InvalidInput


@dataclass(frozen=True, slots=True)
class _Closing:
    """How a closing transition gets its reason and outcome.

    A single allowed value is the default (the caller may omit it or repeat it); with several the caller
    must pick one.
    """

    reasons: frozenset[TerminationReason]
    outcomes: frozenset[Outcome]


@dataclass(frozen=True, slots=True)
class _Rule:
    """One row of the table: where an event leads from one state, and on what conditions."""

    to: CaseState | _Target
    effects: tuple[Effect, ...] = ()
    effects_once_clocked: tuple[Effect, ...] | None = None  # replaces ``effects`` when clock_started
    guards: tuple[_Guard, ...] = ()
    closing: _Closing | None = None


def _each(states: Iterable[CaseState], rule: _Rule) -> dict[CaseState, _Rule]:
    return dict.fromkeys(states, rule)


def _freeze(
    table: Mapping[CaseEvent, Mapping[CaseState, _Rule]],
) -> Mapping[CaseEvent, Mapping[CaseState, _Rule]]:
    return MappingProxyType({event: MappingProxyType(dict(rows)) for event, rows in table.items()})


_CLOSE_EFFECTS: Final = (Effect.CLOSE, Effect.NOTIFY_COURT)
_AGREED_OUTCOMES: Final = frozenset({Outcome.FULL, Outcome.PARTIAL})
# Reasons a caller may give to TERMINATE; REFUSED_TO_SIGN is added where signatures are awaited.
_TERMINATE_REASONS: Final = frozenset(TerminationReason) - {
    TerminationReason.AGREEMENT_REACHED,
    TerminationReason.REFUSED_TO_SIGN,
}
# Reasons that only make sense once the mediation period has started.
_REASONS_NEEDING_CLOCK: Final = frozenset({TerminationReason.PERIOD_EXPIRED})
_TERMINATE: Final = _Rule(
    CaseState.TERMINATED,
    _CLOSE_EFFECTS,
    closing=_Closing(_TERMINATE_REASONS, frozenset({Outcome.FAILED})),
)
_AFTER_CLOSE: Final = (CaseState.AGREED, CaseState.REPORTED, CaseState.ACKNOWLEDGED)

_TABLE: Final[Mapping[CaseEvent, Mapping[CaseState, _Rule]]] = _freeze(
    {
        CaseEvent.ASSIGN: _each(
            (
                CaseState.CREATED,
                CaseState.ASSIGNED,
                CaseState.AWAITING_REASSIGNMENT,
                CaseState.MEDIATOR_CHANGE,
            ),
            _Rule(CaseState.ASSIGNED),
        ),
        CaseEvent.DECLINE: {CaseState.ASSIGNED: _Rule(CaseState.AWAITING_REASSIGNMENT)},
        CaseEvent.ACCEPTANCE_TIMEOUT: {CaseState.ASSIGNED: _Rule(CaseState.AWAITING_REASSIGNMENT)},
        CaseEvent.ACCEPT: {
            CaseState.ASSIGNED: _Rule(
                CaseState.ACCEPTED,
                (Effect.START_CLOCK,),
                effects_once_clocked=(Effect.RESUME_CLOCK_AFTER_CHANGE,),
            )
        },
        CaseEvent.BEGIN_MEDIATION: {CaseState.ACCEPTED: _Rule(_Target.MEDIATION)},
        CaseEvent.SUSPEND: _each(
            (
                CaseState.ACCEPTED,
                CaseState.IN_MEDIATION,
                CaseState.EXTENDED,
                CaseState.AWAITING_SIGNATURES,
            ),
            _Rule(CaseState.SUSPENDED, (Effect.PAUSE_CLOCK,)),
        ),
        CaseEvent.RESUME: {
            CaseState.SUSPENDED: _Rule(
                _Target.SUSPENDED_FROM, (Effect.RESUME_CLOCK,), guards=(_Guard.SUSPENDED_FROM,)
            )
        },
        CaseEvent.EXTEND: _each(
            (CaseState.IN_MEDIATION, CaseState.EXTENDED),
            _Rule(CaseState.EXTENDED, guards=(_Guard.CONSENT,)),
        ),
        CaseEvent.CHANGE_MEDIATOR: {
            # Before acceptance the clock is not running: not started, or paused by an earlier change.
            CaseState.ASSIGNED: _Rule(CaseState.MEDIATOR_CHANGE),
            **_each(
                (
                    CaseState.ACCEPTED,
                    CaseState.IN_MEDIATION,
                    CaseState.EXTENDED,
                    CaseState.AWAITING_SIGNATURES,
                ),
                _Rule(CaseState.MEDIATOR_CHANGE, effects_once_clocked=(Effect.PAUSE_CLOCK_FOR_CHANGE,)),
            ),
            # Already paused: the suspension pause ends and the change pause takes over.
            CaseState.SUSPENDED: _Rule(
                CaseState.MEDIATOR_CHANGE,
                effects_once_clocked=(Effect.RESUME_CLOCK, Effect.PAUSE_CLOCK_FOR_CHANGE),
            ),
        },
        CaseEvent.REQUEST_SIGNATURES: _each(
            (CaseState.IN_MEDIATION, CaseState.EXTENDED), _Rule(CaseState.AWAITING_SIGNATURES)
        ),
        CaseEvent.RETURN_TO_MEDIATION: {CaseState.AWAITING_SIGNATURES: _Rule(_Target.MEDIATION)},
        CaseEvent.SIGNATURES_COMPLETE: {
            CaseState.AWAITING_SIGNATURES: _Rule(
                CaseState.AGREED,
                _CLOSE_EFFECTS,
                closing=_Closing(frozenset({TerminationReason.AGREEMENT_REACHED}), _AGREED_OUTCOMES),
            )
        },
        CaseEvent.REFUSE_TO_SIGN: {
            CaseState.AWAITING_SIGNATURES: _Rule(
                CaseState.TERMINATED,
                _CLOSE_EFFECTS,
                closing=_Closing(frozenset({TerminationReason.REFUSED_TO_SIGN}), frozenset({Outcome.FAILED})),
            )
        },
        CaseEvent.TERMINATE: {
            **_each(
                (
                    CaseState.CREATED,
                    CaseState.ASSIGNED,
                    CaseState.AWAITING_REASSIGNMENT,
                    CaseState.ACCEPTED,
                    CaseState.IN_MEDIATION,
                    CaseState.SUSPENDED,
                    CaseState.EXTENDED,
                    CaseState.MEDIATOR_CHANGE,
                ),
                _TERMINATE,
            ),
            CaseState.AWAITING_SIGNATURES: _Rule(
                CaseState.TERMINATED,
                _CLOSE_EFFECTS,
                closing=_Closing(
                    _TERMINATE_REASONS | {TerminationReason.REFUSED_TO_SIGN}, frozenset({Outcome.FAILED})
                ),
            ),
        },
        CaseEvent.REPORT: _each((CaseState.AGREED, CaseState.TERMINATED), _Rule(CaseState.REPORTED)),
        CaseEvent.ACKNOWLEDGE: {CaseState.REPORTED: _Rule(CaseState.ACKNOWLEDGED)},
        CaseEvent.APPLY_JC: {
            **_each(
                _AFTER_CLOSE,
                _Rule(CaseState.JC_APPLIED, guards=(_Guard.DELEGATED_AGREEMENT, _Guard.JC_PERIOD)),
            ),
            # An uploaded offline agreement exists only to be confirmed, whatever the kind.
            CaseState.OFFLINE_AGREEMENT_UPLOADED: _Rule(CaseState.JC_APPLIED, guards=(_Guard.JC_PERIOD,)),
        },
        CaseEvent.CONFIRM_JC: {CaseState.JC_APPLIED: _Rule(CaseState.JC_CONFIRMED)},
        CaseEvent.REJECT_JC: {CaseState.JC_APPLIED: _Rule(CaseState.JC_REJECTED)},
        CaseEvent.WITHDRAW_JC: {CaseState.JC_APPLIED: _Rule(CaseState.JC_WITHDRAWN)},
        CaseEvent.REQUEST_MEDIATION_DOC: _each(
            _AFTER_CLOSE,
            _Rule(CaseState.MEDIATION_DOC_REQUESTED, guards=(_Guard.ENTRUSTED_AGREEMENT,)),
        ),
        CaseEvent.WITHDRAW_SUIT: _each(
            _AFTER_CLOSE,
            _Rule(CaseState.SUIT_WITHDRAWN, guards=(_Guard.ENTRUSTED_AGREEMENT,)),
        ),
    }
)


# --- Derived from the table -----------------------------------------------------------------------------

_OUTGOING: Final[Mapping[CaseState, frozenset[CaseEvent]]] = MappingProxyType(
    {state: frozenset(e for e, rows in _TABLE.items() if state in rows) for state in CaseState}
)

ACTIVE_STATES: Final[frozenset[CaseState]] = frozenset(_TABLE[CaseEvent.TERMINATE])
"""States of a case still under mediation (CREATED … AWAITING_SIGNATURES), which ``terminate`` leaves."""

_SUSPENDABLE: Final[frozenset[CaseState]] = frozenset(_TABLE[CaseEvent.SUSPEND])


def _possible_targets(rule: _Rule) -> frozenset[CaseState]:
    if rule.to is _Target.MEDIATION:
        return frozenset({CaseState.IN_MEDIATION, CaseState.EXTENDED})
    if rule.to is _Target.SUSPENDED_FROM:
        return _SUSPENDABLE
    assert isinstance(rule.to, CaseState)
    return frozenset({rule.to})


def _reachable_from(starts: Iterable[CaseState]) -> frozenset[CaseState]:
    seen: set[CaseState] = set(starts)
    todo = list(seen)
    while todo:
        state = todo.pop()
        for event in _OUTGOING[state]:
            for target in _possible_targets(_TABLE[event][state]) - seen:
                seen.add(target)
                todo.append(target)
    return frozenset(seen)


CLOSED_STATES: Final[frozenset[CaseState]] = _reachable_from(
    target
    for rows in _TABLE.values()
    for rule in rows.values()
    if rule.closing
    for target in _possible_targets(rule)
)
"""States of a case whose mediation has ended: AGREED, TERMINATED and every state reachable from them."""

FINAL_STATES: Final[frozenset[CaseState]] = frozenset(s for s in CaseState if not _OUTGOING[s])
"""States no event leaves (the JC results, the 调解书 request, the withdrawn suit)."""


# --- The functions --------------------------------------------------------------------------------------


def initial_state(*, offline_agreement: bool = False) -> CaseState:
    """The state a new case starts in: CREATED, or OFFLINE_AGREEMENT_UPLOADED for an offline agreement."""
    return CaseState.OFFLINE_AGREEMENT_UPLOADED if offline_agreement else CaseState.CREATED


def apply(
    facts: CaseFacts,
    event: CaseEvent,
    *,
    reason: TerminationReason | None = None,
    outcome: Outcome | None = None,
) -> Transition:
    """Apply ``event`` to a case described by ``facts`` and return the transition; change nothing.

    ``reason`` is required by ``terminate`` (any OMR 25 reason but ``agreement_reached``;
    ``refused_to_sign`` only while signatures are awaited; ``period_expired`` only once the clock started).
    ``outcome`` is required by ``signatures_complete`` (``full`` or ``partial``). Every termination has the
    outcome ``failed``, including ``settled_withdrawn``: the parties settled outside the mediation, which
    does not count as a mediation success. Other events take neither argument.

    Raises :class:`~tiaojie.errors.IllegalTransition` if the state, the kind or the outcome rules the event
    out, and :class:`~tiaojie.errors.InvalidInput` if a fact or an argument is not acceptable.
    """
    rule = _rule_for(facts, event)
    for guard in rule.guards:
        error = _guard_error(facts, event, guard)
        if error is not None:
            raise error
    closed_reason, closed_outcome = _closing_arguments(facts, event, rule, reason, outcome)
    effects = rule.effects
    if facts.clock_started and rule.effects_once_clocked is not None:
        effects = rule.effects_once_clocked
    return Transition(
        event=event,
        from_state=facts.state,
        to_state=_target(facts, rule),
        effects=effects,
        reason=closed_reason,
        outcome=closed_outcome,
    )


def allowed_events(facts: CaseFacts) -> frozenset[CaseEvent]:
    """The events :func:`apply` accepts for ``facts``, given suitable ``reason`` and ``outcome`` arguments."""
    return frozenset(
        event
        for event in _OUTGOING[facts.state]
        if all(_guard_error(facts, event, guard) is None for guard in _TABLE[event][facts.state].guards)
    )


# --- Helpers --------------------------------------------------------------------------------------------


def _illegal(facts: CaseFacts, event: CaseEvent, why: str = "") -> IllegalTransition:
    message = f"cannot {event.value!r} a case in state {facts.state.value!r}"
    return IllegalTransition(
        f"{message}: {why}" if why else message, current_state=facts.state.value, event=event.value
    )


def _invalid(facts: CaseFacts, event: CaseEvent, message: str, *, field: str, code: str) -> InvalidInput:
    return InvalidInput(message, field=field, code=code, current_state=facts.state.value, event=event.value)


def _rule_for(facts: CaseFacts, event: CaseEvent) -> _Rule:
    rule = _TABLE[event].get(facts.state)
    if rule is None:
        raise _illegal(facts, event)
    return rule


def _guard_error(facts: CaseFacts, event: CaseEvent, guard: _Guard) -> TiaojieError | None:
    """The error ``guard`` raises for ``facts``, or None if the guard holds."""
    if guard is _Guard.DELEGATED_AGREEMENT or guard is _Guard.ENTRUSTED_AGREEMENT:
        kind = CaseKind.DELEGATED if guard is _Guard.DELEGATED_AGREEMENT else CaseKind.ENTRUSTED
        if facts.kind != kind or facts.outcome not in _AGREED_OUTCOMES:
            outcome = facts.outcome.value if facts.outcome is not None else "none"
            return _illegal(
                facts,
                event,
                f"only for a {kind.value} case that reached an agreement "
                f"(this one is {facts.kind.value}, outcome {outcome})",
            )
        return None
    if guard is _Guard.CONSENT:
        if not facts.all_parties_consent:
            return _invalid(
                facts,
                event,
                "an extension needs the consent of every party",
                field="consents",
                code="consent_missing",
            )
        return None
    if guard is _Guard.JC_PERIOD:
        if facts.jc_deadline is None:
            return None
        if facts.today is None:
            return _invalid(
                facts,
                event,
                "today's date is needed to check the judicial-confirmation deadline",
                field="today",
                code="today_required",
            )
        if facts.today > facts.jc_deadline:
            return _invalid(
                facts,
                event,
                f"the period to apply for judicial confirmation ended on {facts.jc_deadline.isoformat()}",
                field="jc_deadline",
                code="jc_period_expired",
            )
        return None
    assert guard is _Guard.SUSPENDED_FROM
    if facts.suspended_from is None:
        return _invalid(
            facts,
            event,
            "a suspended case must say which state it was suspended from",
            field="suspended_from",
            code="suspended_from_missing",
        )
    if facts.suspended_from not in _SUSPENDABLE:
        return _invalid(
            facts,
            event,
            f"a case cannot have been suspended from state {facts.suspended_from.value!r}",
            field="suspended_from",
            code="invalid_suspended_from",
        )
    return None


def _closing_arguments(
    facts: CaseFacts,
    event: CaseEvent,
    rule: _Rule,
    reason: TerminationReason | None,
    outcome: Outcome | None,
) -> tuple[TerminationReason | None, Outcome | None]:
    """Check ``reason`` and ``outcome`` against the rule; return the ones the transition carries."""
    closing = rule.closing
    if closing is None:
        for name, value in (("reason", reason), ("outcome", outcome)):
            if value is not None:
                raise _invalid(
                    facts, event, f"{event.value!r} takes no {name}", field=name, code="unexpected_argument"
                )
        return None, None
    if reason is None:
        if len(closing.reasons) != 1:
            raise _invalid(
                facts, event, f"{event.value!r} needs a reason", field="reason", code="reason_required"
            )
        (reason,) = closing.reasons
    elif reason not in closing.reasons:
        raise _invalid(
            facts,
            event,
            f"{reason.value!r} is not a reason to {event.value!r} a case in state {facts.state.value!r}",
            field="reason",
            code="invalid_reason",
        )
    if reason in _REASONS_NEEDING_CLOCK and not facts.clock_started:
        raise _invalid(
            facts,
            event,
            f"{reason.value!r} needs a mediation period, and this case was never accepted",
            field="reason",
            code="invalid_reason",
        )
    if outcome is None:
        if len(closing.outcomes) != 1:
            allowed = " or ".join(sorted(o.value for o in closing.outcomes))
            raise _invalid(
                facts,
                event,
                f"{event.value!r} needs an outcome ({allowed})",
                field="outcome",
                code="invalid_outcome",
            )
        (outcome,) = closing.outcomes
    elif outcome not in closing.outcomes:
        raise _invalid(
            facts,
            event,
            f"{outcome.value!r} is not an outcome of {event.value!r}",
            field="outcome",
            code="invalid_outcome",
        )
    return reason, outcome


def _target(facts: CaseFacts, rule: _Rule) -> CaseState:
    if rule.to is _Target.MEDIATION:
        return CaseState.EXTENDED if facts.extended else CaseState.IN_MEDIATION
    if rule.to is _Target.SUSPENDED_FROM:
        assert facts.suspended_from is not None  # checked by _Guard.SUSPENDED_FROM
        return facts.suspended_from
    assert isinstance(rule.to, CaseState)
    return rule.to
