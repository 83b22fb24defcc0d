"""The case life cycle: every (kind, state, event) against a table written out here, then guards and paths.

The expectation table below is written independently of ``cases.lifecycle._TABLE``: states, events and
effects are plain strings, so a change to the module's table shows up here as a failing pair.
"""

from __future__ import annotations

import itertools
from collections import deque
from dataclasses import FrozenInstanceError, replace
from datetime import date, timedelta
from typing import Any

import pytest

from cases import lifecycle
from cases.lifecycle import (
    ACTIVE_STATES,
    CLOSED_STATES,
    FINAL_STATES,
    REASON_LABELS_EN,
    REASON_LABELS_ZH,
    CaseEvent,
    CaseFacts,
    CaseKind,
    CaseState,
    Effect,
    Outcome,
    TerminationReason,
    Transition,
    allowed_events,
    apply,
    initial_state,
)
from tiaojie.errors import IllegalTransition, InvalidInput

# --- The expectation table, written out --------------------------------------------------------------

CLOSE = ("close", "notify_court")

# (state, event) -> (target, effects): legal for both kinds, with the facts of `typical_facts`.
LEGAL_BOTH: dict[tuple[str, str], tuple[str, tuple[str, ...]]] = {
    ("created", "assign"): ("assigned", ()),
    ("assigned", "assign"): ("assigned", ()),
    ("awaiting_reassignment", "assign"): ("assigned", ()),
    ("mediator_change", "assign"): ("assigned", ()),
    ("assigned", "decline"): ("awaiting_reassignment", ()),
    ("assigned", "acceptance_timeout"): ("awaiting_reassignment", ()),
    ("assigned", "accept"): ("accepted", ("start_clock",)),
    ("accepted", "begin_mediation"): ("in_mediation", ()),
    ("accepted", "suspend"): ("suspended", ("pause_clock",)),
    ("in_mediation", "suspend"): ("suspended", ("pause_clock",)),
    ("extended", "suspend"): ("suspended", ("pause_clock",)),
    ("awaiting_signatures", "suspend"): ("suspended", ("pause_clock",)),
    ("suspended", "resume"): ("in_mediation", ("resume_clock",)),
    ("in_mediation", "extend"): ("extended", ()),
    ("extended", "extend"): ("extended", ()),
    ("assigned", "change_mediator"): ("mediator_change", ()),
    ("accepted", "change_mediator"): ("mediator_change", ("pause_clock_for_change",)),
    ("in_mediation", "change_mediator"): ("mediator_change", ("pause_clock_for_change",)),
    ("extended", "change_mediator"): ("mediator_change", ("pause_clock_for_change",)),
    ("awaiting_signatures", "change_mediator"): ("mediator_change", ("pause_clock_for_change",)),
    ("suspended", "change_mediator"): ("mediator_change", ("resume_clock", "pause_clock_for_change")),
    ("in_mediation", "request_signatures"): ("awaiting_signatures", ()),
    ("extended", "request_signatures"): ("awaiting_signatures", ()),
    ("awaiting_signatures", "return_to_mediation"): ("in_mediation", ()),
    ("awaiting_signatures", "signatures_complete"): ("agreed", CLOSE),
    ("awaiting_signatures", "refuse_to_sign"): ("terminated", CLOSE),
    ("created", "terminate"): ("terminated", CLOSE),
    ("assigned", "terminate"): ("terminated", CLOSE),
    ("awaiting_reassignment", "terminate"): ("terminated", CLOSE),
    ("accepted", "terminate"): ("terminated", CLOSE),
    ("in_mediation", "terminate"): ("terminated", CLOSE),
    ("suspended", "terminate"): ("terminated", CLOSE),
    ("extended", "terminate"): ("terminated", CLOSE),
    ("mediator_change", "terminate"): ("terminated", CLOSE),
    ("awaiting_signatures", "terminate"): ("terminated", CLOSE),
    ("agreed", "report"): ("reported", ()),
    ("terminated", "report"): ("reported", ()),
    ("reported", "acknowledge"): ("acknowledged", ()),
    ("offline_agreement_uploaded", "apply_jc"): ("jc_applied", ()),
    ("jc_applied", "confirm_jc"): ("jc_confirmed", ()),
    ("jc_applied", "reject_jc"): ("jc_rejected", ()),
    ("jc_applied", "withdraw_jc"): ("jc_withdrawn", ()),
}

# Legal only for a delegated (委派) case.
LEGAL_DELEGATED: dict[tuple[str, str], tuple[str, tuple[str, ...]]] = {
    ("agreed", "apply_jc"): ("jc_applied", ()),
    ("reported", "apply_jc"): ("jc_applied", ()),
    ("acknowledged", "apply_jc"): ("jc_applied", ()),
}

# Legal only for an entrusted (委托) case.
LEGAL_ENTRUSTED: dict[tuple[str, str], tuple[str, tuple[str, ...]]] = {
    ("agreed", "request_mediation_doc"): ("mediation_doc_requested", ()),
    ("reported", "request_mediation_doc"): ("mediation_doc_requested", ()),
    ("acknowledged", "request_mediation_doc"): ("mediation_doc_requested", ()),
    ("agreed", "withdraw_suit"): ("suit_withdrawn", ()),
    ("reported", "withdraw_suit"): ("suit_withdrawn", ()),
    ("acknowledged", "withdraw_suit"): ("suit_withdrawn", ()),
}

# (state, event) -> (reason, outcome) carried by the closing transitions, with the arguments of `ARGS`.
CLOSING: dict[tuple[str, str], tuple[str, str]] = {
    ("awaiting_signatures", "signatures_complete"): ("agreement_reached", "full"),
    ("awaiting_signatures", "refuse_to_sign"): ("refused_to_sign", "failed"),
    ("created", "terminate"): ("other", "failed"),
    ("assigned", "terminate"): ("other", "failed"),
    ("awaiting_reassignment", "terminate"): ("other", "failed"),
    ("accepted", "terminate"): ("other", "failed"),
    ("in_mediation", "terminate"): ("other", "failed"),
    ("suspended", "terminate"): ("other", "failed"),
    ("extended", "terminate"): ("other", "failed"),
    ("mediator_change", "terminate"): ("other", "failed"),
    ("awaiting_signatures", "terminate"): ("other", "failed"),
}

# Arguments that are always acceptable for an event, so only the state and the facts decide.
ARGS: dict[str, dict[str, Any]] = {
    "terminate": {"reason": TerminationReason.OTHER},
    "signatures_complete": {"outcome": Outcome.FULL},
}

# state -> (clock_started, outcome) of a typical case in that state; see `typical_facts`.
TYPICAL: dict[str, tuple[bool, str | None]] = {
    "created": (False, None),
    "assigned": (False, None),
    "awaiting_reassignment": (False, None),
    "accepted": (True, None),
    "in_mediation": (True, None),
    "suspended": (True, None),
    "extended": (True, None),
    "mediator_change": (True, None),
    "awaiting_signatures": (True, None),
    "agreed": (True, "full"),
    "terminated": (True, "failed"),
    "reported": (True, "full"),
    "acknowledged": (True, "full"),
    "jc_applied": (True, "full"),
    "jc_confirmed": (True, "full"),
    "jc_rejected": (True, "full"),
    "jc_withdrawn": (True, "full"),
    "mediation_doc_requested": (True, "full"),
    "suit_withdrawn": (True, "full"),
    "offline_agreement_uploaded": (False, None),
}


def typical_facts(kind: CaseKind, state: CaseState) -> CaseFacts:
    """A plausible case in ``state``: suspended from IN_MEDIATION, not extended, every party consenting."""
    clock_started, outcome = TYPICAL[state.value]
    return CaseFacts(
        kind=kind,
        state=state,
        clock_started=clock_started,
        suspended_from=CaseState.IN_MEDIATION if state is CaseState.SUSPENDED else None,
        outcome=Outcome(outcome) if outcome is not None else None,
        all_parties_consent=True,
    )


def expected(kind: CaseKind, state: CaseState, event: CaseEvent) -> tuple[str, tuple[str, ...]] | None:
    key = (state.value, event.value)
    only = LEGAL_DELEGATED if kind is CaseKind.DELEGATED else LEGAL_ENTRUSTED
    return LEGAL_BOTH.get(key) or only.get(key)


def test_the_expectation_table_names_real_states_and_events() -> None:
    tables = [LEGAL_BOTH, LEGAL_DELEGATED, LEGAL_ENTRUSTED]
    states = {s.value for s in CaseState}
    events = {e.value for e in CaseEvent}
    effects = {e.value for e in Effect}
    for table in tables:
        for (state, event), (target, effs) in table.items():
            assert state in states
            assert event in events
            assert target in states
            assert set(effs) <= effects
    assert not LEGAL_BOTH.keys() & LEGAL_DELEGATED.keys()
    assert not LEGAL_BOTH.keys() & LEGAL_ENTRUSTED.keys()
    assert set(TYPICAL) == states
    assert set(CLOSING) == {k for k, (_, effs) in LEGAL_BOTH.items() if "close" in effs}
    assert len(LEGAL_BOTH) + len(LEGAL_DELEGATED) + len(LEGAL_ENTRUSTED) == 51


# --- Every pair ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("event", list(CaseEvent))
@pytest.mark.parametrize("state", list(CaseState))
@pytest.mark.parametrize("kind", list(CaseKind))
def test_every_state_and_event(kind: CaseKind, state: CaseState, event: CaseEvent) -> None:
    facts = typical_facts(kind, state)
    want = expected(kind, state, event)
    if want is None:
        with pytest.raises(IllegalTransition) as info:
            apply(facts, event, **ARGS.get(event.value, {}))
        assert info.value.current_state == state.value
        assert info.value.event == event.value
        assert info.value.code == "illegal_transition"
        assert info.value.message.startswith(f"cannot '{event.value}' a case in state '{state.value}'")
        assert event not in allowed_events(facts)
        return
    transition = apply(facts, event, **ARGS.get(event.value, {}))
    target, effects = want
    assert transition.event is event
    assert transition.from_state is state
    assert transition.to_state.value == target
    assert tuple(e.value for e in transition.effects) == effects
    closing = CLOSING.get((state.value, event.value))
    if closing is None:
        assert (transition.reason, transition.outcome) == (None, None)
    else:
        assert transition.reason is not None
        assert transition.outcome is not None
        assert (transition.reason.value, transition.outcome.value) == closing
    assert event in allowed_events(facts)


@pytest.mark.parametrize("state", list(CaseState))
@pytest.mark.parametrize("kind", list(CaseKind))
def test_allowed_events_of_a_typical_case_match_the_table(kind: CaseKind, state: CaseState) -> None:
    want = {CaseEvent(event) for event in CaseEvent if expected(kind, state, CaseEvent(event)) is not None}
    assert allowed_events(typical_facts(kind, state)) == want


def test_illegal_transition_message() -> None:
    with pytest.raises(IllegalTransition) as info:
        apply(CaseFacts(CaseKind.DELEGATED, CaseState.CREATED), CaseEvent.ACCEPT)
    assert str(info.value) == "cannot 'accept' a case in state 'created'"
    assert info.value.details == {"current_state": "created", "event": "accept"}


def test_the_state_is_checked_before_the_arguments() -> None:
    facts = CaseFacts(CaseKind.DELEGATED, CaseState.AGREED, clock_started=True, outcome=Outcome.FULL)
    with pytest.raises(IllegalTransition):
        apply(facts, CaseEvent.TERMINATE)  # no reason, but the state rules it out first
    with pytest.raises(IllegalTransition):
        apply(facts, CaseEvent.SIGNATURES_COMPLETE, outcome=Outcome.FAILED)


# --- allowed_events agrees with apply ---------------------------------------------------------------------

D = date(2025, 3, 10)
DATE_PAIRS = [
    (None, None),
    (D, D),
    (D + timedelta(days=1), D),
    (None, D),
    (D, None),
]


@pytest.mark.parametrize("state", list(CaseState))
def test_allowed_events_agrees_with_apply(state: CaseState) -> None:
    checked = 0
    for kind, clock_started, suspended_from, extended, outcome, (
        today,
        deadline,
    ), consent in itertools.product(
        CaseKind,
        (False, True),
        (None, CaseState.IN_MEDIATION, CaseState.CREATED),
        (False, True),
        (None, *Outcome),
        DATE_PAIRS,
        (False, True),
    ):
        facts = CaseFacts(
            kind=kind,
            state=state,
            clock_started=clock_started,
            suspended_from=suspended_from,
            extended=extended,
            outcome=outcome,
            today=today,
            jc_deadline=deadline,
            all_parties_consent=consent,
        )
        allowed = allowed_events(facts)
        for event in CaseEvent:
            try:
                apply(facts, event, **ARGS.get(event.value, {}))
            except (IllegalTransition, InvalidInput):
                assert event not in allowed, (facts, event)
            else:
                assert event in allowed, (facts, event)
            checked += 1
    assert checked == 2 * 2 * 3 * 2 * 4 * len(DATE_PAIRS) * 2 * len(CaseEvent)


# --- Guards ----------------------------------------------------------------------------------------------


def closed(kind: CaseKind, state: CaseState, outcome: Outcome | None, **more: Any) -> CaseFacts:
    return CaseFacts(kind=kind, state=state, clock_started=True, outcome=outcome, **more)


@pytest.mark.parametrize("state", [CaseState.AGREED, CaseState.REPORTED, CaseState.ACKNOWLEDGED])
@pytest.mark.parametrize("outcome", [Outcome.FULL, Outcome.PARTIAL])
def test_judicial_confirmation_is_for_agreed_delegated_cases(state: CaseState, outcome: Outcome) -> None:
    t = apply(closed(CaseKind.DELEGATED, state, outcome), CaseEvent.APPLY_JC)
    assert t.to_state is CaseState.JC_APPLIED
    assert t.effects == ()
    with pytest.raises(IllegalTransition) as info:
        apply(closed(CaseKind.ENTRUSTED, state, outcome), CaseEvent.APPLY_JC)
    assert info.value.current_state == state.value
    assert "delegated" in info.value.message


@pytest.mark.parametrize("state", [CaseState.AGREED, CaseState.REPORTED, CaseState.ACKNOWLEDGED])
@pytest.mark.parametrize("event", [CaseEvent.REQUEST_MEDIATION_DOC, CaseEvent.WITHDRAW_SUIT])
def test_mediation_document_and_withdrawal_are_for_agreed_entrusted_cases(
    state: CaseState, event: CaseEvent
) -> None:
    t = apply(closed(CaseKind.ENTRUSTED, state, Outcome.PARTIAL), event)
    assert (
        t.to_state.value
        == {
            CaseEvent.REQUEST_MEDIATION_DOC: "mediation_doc_requested",
            CaseEvent.WITHDRAW_SUIT: "suit_withdrawn",
        }[event]
    )
    with pytest.raises(IllegalTransition) as info:
        apply(closed(CaseKind.DELEGATED, state, Outcome.FULL), event)
    assert info.value.current_state == state.value
    assert "entrusted" in info.value.message


@pytest.mark.parametrize("kind", list(CaseKind))
@pytest.mark.parametrize("outcome", [Outcome.FAILED, None])
@pytest.mark.parametrize("state", [CaseState.REPORTED, CaseState.ACKNOWLEDGED])
def test_a_failed_case_goes_no_further_than_acknowledged(
    kind: CaseKind, outcome: Outcome | None, state: CaseState
) -> None:
    facts = closed(kind, state, outcome)
    for event in (CaseEvent.APPLY_JC, CaseEvent.REQUEST_MEDIATION_DOC, CaseEvent.WITHDRAW_SUIT):
        with pytest.raises(IllegalTransition) as info:
            apply(facts, event)
        assert info.value.current_state == state.value
    expected_events = {CaseEvent.ACKNOWLEDGE} if state is CaseState.REPORTED else set()
    assert allowed_events(facts) == expected_events


@pytest.mark.parametrize("kind", list(CaseKind))
def test_an_offline_agreement_can_apply_for_confirmation_whatever_its_kind(kind: CaseKind) -> None:
    facts = CaseFacts(kind=kind, state=initial_state(offline_agreement=True))
    assert allowed_events(facts) == {CaseEvent.APPLY_JC}
    t = apply(facts, CaseEvent.APPLY_JC)
    assert (t.from_state, t.to_state, t.effects) == (
        CaseState.OFFLINE_AGREEMENT_UPLOADED,
        CaseState.JC_APPLIED,
        (),
    )


@pytest.mark.parametrize("state", [CaseState.IN_MEDIATION, CaseState.EXTENDED])
def test_an_extension_needs_every_partys_consent(state: CaseState) -> None:
    facts = CaseFacts(CaseKind.ENTRUSTED, state, clock_started=True, extended=state is CaseState.EXTENDED)
    with pytest.raises(InvalidInput) as info:
        apply(facts, CaseEvent.EXTEND)
    assert (info.value.code, info.value.field) == ("consent_missing", "consents")
    assert info.value.details == {"current_state": state.value, "event": "extend"}
    assert CaseEvent.EXTEND not in allowed_events(facts)
    consented = replace(facts, all_parties_consent=True)
    assert CaseEvent.EXTEND in allowed_events(consented)
    assert apply(consented, CaseEvent.EXTEND).to_state is CaseState.EXTENDED


def jc_cases() -> list[CaseFacts]:
    return [
        closed(CaseKind.DELEGATED, CaseState.AGREED, Outcome.FULL),
        closed(CaseKind.DELEGATED, CaseState.ACKNOWLEDGED, Outcome.PARTIAL),
        CaseFacts(CaseKind.ENTRUSTED, CaseState.OFFLINE_AGREEMENT_UPLOADED),
    ]


@pytest.mark.parametrize("facts", jc_cases(), ids=lambda f: f.state.value)
def test_judicial_confirmation_within_the_period(facts: CaseFacts) -> None:
    deadline = date(2025, 2, 7)
    on_time = [
        (deadline, deadline),
        (deadline - timedelta(days=29), deadline),
        (None, None),
        (deadline, None),
    ]
    for today, last_day in on_time:
        f = replace(facts, today=today, jc_deadline=last_day)
        assert apply(f, CaseEvent.APPLY_JC).to_state is CaseState.JC_APPLIED
        assert CaseEvent.APPLY_JC in allowed_events(f)


@pytest.mark.parametrize("facts", jc_cases(), ids=lambda f: f.state.value)
def test_judicial_confirmation_after_the_period(facts: CaseFacts) -> None:
    late = replace(facts, today=date(2025, 2, 8), jc_deadline=date(2025, 2, 7))
    with pytest.raises(InvalidInput) as info:
        apply(late, CaseEvent.APPLY_JC)
    assert (info.value.code, info.value.field) == ("jc_period_expired", "jc_deadline")
    assert "2025-02-07" in info.value.message
    assert CaseEvent.APPLY_JC not in allowed_events(late)


@pytest.mark.parametrize("facts", jc_cases(), ids=lambda f: f.state.value)
def test_a_deadline_without_today_is_refused(facts: CaseFacts) -> None:
    undated = replace(facts, jc_deadline=date(2025, 2, 7))
    with pytest.raises(InvalidInput) as info:
        apply(undated, CaseEvent.APPLY_JC)
    assert (info.value.code, info.value.field) == ("today_required", "today")
    assert CaseEvent.APPLY_JC not in allowed_events(undated)


def active_facts(state: CaseState, *, clock_started: bool = True) -> CaseFacts:
    return CaseFacts(
        CaseKind.DELEGATED,
        state,
        clock_started=clock_started,
        suspended_from=CaseState.ACCEPTED if state is CaseState.SUSPENDED else None,
    )


ACTIVE = [
    CaseState.CREATED,
    CaseState.ASSIGNED,
    CaseState.AWAITING_REASSIGNMENT,
    CaseState.ACCEPTED,
    CaseState.IN_MEDIATION,
    CaseState.SUSPENDED,
    CaseState.EXTENDED,
    CaseState.MEDIATOR_CHANGE,
    CaseState.AWAITING_SIGNATURES,
]
NEVER_STARTED = [CaseState.CREATED, CaseState.ASSIGNED, CaseState.AWAITING_REASSIGNMENT]


@pytest.mark.parametrize("state", ACTIVE)
def test_terminate_needs_a_reason(state: CaseState) -> None:
    with pytest.raises(InvalidInput) as info:
        apply(active_facts(state), CaseEvent.TERMINATE)
    assert (info.value.code, info.value.field) == ("reason_required", "reason")
    assert CaseEvent.TERMINATE in allowed_events(active_facts(state))  # argument checks are not fact guards


@pytest.mark.parametrize("state", ACTIVE)
def test_agreement_reached_is_never_a_termination_reason(state: CaseState) -> None:
    with pytest.raises(InvalidInput) as info:
        apply(active_facts(state), CaseEvent.TERMINATE, reason=TerminationReason.AGREEMENT_REACHED)
    assert (info.value.code, info.value.field) == ("invalid_reason", "reason")


@pytest.mark.parametrize("state", ACTIVE)
def test_refused_to_sign_only_while_signatures_are_awaited(state: CaseState) -> None:
    facts = active_facts(state)
    if state is CaseState.AWAITING_SIGNATURES:
        t = apply(facts, CaseEvent.TERMINATE, reason=TerminationReason.REFUSED_TO_SIGN)
        assert (t.to_state, t.reason, t.outcome) == (
            CaseState.TERMINATED,
            TerminationReason.REFUSED_TO_SIGN,
            Outcome.FAILED,
        )
        return
    with pytest.raises(InvalidInput) as info:
        apply(facts, CaseEvent.TERMINATE, reason=TerminationReason.REFUSED_TO_SIGN)
    assert (info.value.code, info.value.field) == ("invalid_reason", "reason")


@pytest.mark.parametrize("state", [*NEVER_STARTED, CaseState.MEDIATOR_CHANGE])
def test_period_expired_only_once_the_clock_started(state: CaseState) -> None:
    with pytest.raises(InvalidInput) as info:
        apply(
            active_facts(state, clock_started=False),
            CaseEvent.TERMINATE,
            reason=TerminationReason.PERIOD_EXPIRED,
        )
    assert (info.value.code, info.value.field) == ("invalid_reason", "reason")
    if state is not CaseState.CREATED:  # after a mediator change the case can be unassigned again
        t = apply(active_facts(state), CaseEvent.TERMINATE, reason=TerminationReason.PERIOD_EXPIRED)
        assert t.reason is TerminationReason.PERIOD_EXPIRED


@pytest.mark.parametrize("state", ACTIVE)
@pytest.mark.parametrize(
    "reason",
    [
        TerminationReason.SETTLED_WITHDRAWN,
        TerminationReason.PARTY_UNREACHABLE,
        TerminationReason.PARTY_REFUSES,
        TerminationReason.POSITIONS_TOO_FAR,
        TerminationReason.OTHER,
    ],
)
def test_every_termination_fails_whatever_the_reason(state: CaseState, reason: TerminationReason) -> None:
    for clock_started in (False, True):
        t = apply(active_facts(state, clock_started=clock_started), CaseEvent.TERMINATE, reason=reason)
        assert (t.to_state, t.reason, t.outcome) == (CaseState.TERMINATED, reason, Outcome.FAILED)
        assert t.effects == (Effect.CLOSE, Effect.NOTIFY_COURT)
    explicit = apply(active_facts(state), CaseEvent.TERMINATE, reason=reason, outcome=Outcome.FAILED)
    assert explicit.outcome is Outcome.FAILED


@pytest.mark.parametrize("outcome", [Outcome.FULL, Outcome.PARTIAL])
def test_a_termination_cannot_claim_success(outcome: Outcome) -> None:
    with pytest.raises(InvalidInput) as info:
        apply(
            active_facts(CaseState.IN_MEDIATION),
            CaseEvent.TERMINATE,
            reason=TerminationReason.OTHER,
            outcome=outcome,
        )
    assert (info.value.code, info.value.field) == ("invalid_outcome", "outcome")


SIGNING = CaseFacts(CaseKind.DELEGATED, CaseState.AWAITING_SIGNATURES, clock_started=True)


@pytest.mark.parametrize("outcome", [Outcome.FULL, Outcome.PARTIAL])
def test_signatures_complete_records_the_agreement(outcome: Outcome) -> None:
    t = apply(SIGNING, CaseEvent.SIGNATURES_COMPLETE, outcome=outcome)
    assert t == Transition(
        event=CaseEvent.SIGNATURES_COMPLETE,
        from_state=CaseState.AWAITING_SIGNATURES,
        to_state=CaseState.AGREED,
        effects=(Effect.CLOSE, Effect.NOTIFY_COURT),
        reason=TerminationReason.AGREEMENT_REACHED,
        outcome=outcome,
    )
    again = apply(
        SIGNING, CaseEvent.SIGNATURES_COMPLETE, outcome=outcome, reason=TerminationReason.AGREEMENT_REACHED
    )
    assert again == t


@pytest.mark.parametrize("outcome", [Outcome.FAILED, None])
def test_signatures_complete_needs_full_or_partial(outcome: Outcome | None) -> None:
    with pytest.raises(InvalidInput) as info:
        apply(SIGNING, CaseEvent.SIGNATURES_COMPLETE, outcome=outcome)
    assert (info.value.code, info.value.field) == ("invalid_outcome", "outcome")


def test_signatures_complete_takes_no_other_reason() -> None:
    with pytest.raises(InvalidInput) as info:
        apply(SIGNING, CaseEvent.SIGNATURES_COMPLETE, outcome=Outcome.FULL, reason=TerminationReason.OTHER)
    assert (info.value.code, info.value.field) == ("invalid_reason", "reason")


def test_refuse_to_sign_fixes_its_reason_and_outcome() -> None:
    t = apply(SIGNING, CaseEvent.REFUSE_TO_SIGN)
    assert (t.to_state, t.reason, t.outcome) == (
        CaseState.TERMINATED,
        TerminationReason.REFUSED_TO_SIGN,
        Outcome.FAILED,
    )
    assert apply(SIGNING, CaseEvent.REFUSE_TO_SIGN, reason=TerminationReason.REFUSED_TO_SIGN) == t
    with pytest.raises(InvalidInput) as info:
        apply(SIGNING, CaseEvent.REFUSE_TO_SIGN, reason=TerminationReason.PARTY_REFUSES)
    assert info.value.code == "invalid_reason"
    with pytest.raises(InvalidInput) as info:
        apply(SIGNING, CaseEvent.REFUSE_TO_SIGN, outcome=Outcome.PARTIAL)
    assert info.value.code == "invalid_outcome"


def test_events_that_do_not_close_take_no_reason_or_outcome() -> None:
    facts = CaseFacts(CaseKind.DELEGATED, CaseState.ASSIGNED)
    with pytest.raises(InvalidInput) as info:
        apply(facts, CaseEvent.ACCEPT, reason=TerminationReason.OTHER)
    assert (info.value.code, info.value.field) == ("unexpected_argument", "reason")
    with pytest.raises(InvalidInput) as info:
        apply(facts, CaseEvent.ACCEPT, outcome=Outcome.FULL)
    assert (info.value.code, info.value.field) == ("unexpected_argument", "outcome")


@pytest.mark.parametrize(
    ("suspended_from", "code"),
    [
        (None, "suspended_from_missing"),
        (CaseState.CREATED, "invalid_suspended_from"),
        (CaseState.AGREED, "invalid_suspended_from"),
    ],
)
def test_resume_needs_a_valid_origin(suspended_from: CaseState | None, code: str) -> None:
    facts = CaseFacts(
        CaseKind.ENTRUSTED, CaseState.SUSPENDED, clock_started=True, suspended_from=suspended_from
    )
    with pytest.raises(InvalidInput) as info:
        apply(facts, CaseEvent.RESUME)
    assert (info.value.code, info.value.field) == (code, "suspended_from")
    assert CaseEvent.RESUME not in allowed_events(facts)


# --- Paths -----------------------------------------------------------------------------------------------


def advance(facts: CaseFacts, transition: Transition) -> CaseFacts:
    """What the service layer stores after a transition (its twin, for the tests)."""
    return replace(
        facts,
        state=transition.to_state,
        clock_started=facts.clock_started or Effect.START_CLOCK in transition.effects,
        suspended_from=facts.state if transition.to_state is CaseState.SUSPENDED else None,
        extended=facts.extended or transition.event is CaseEvent.EXTEND,
        outcome=transition.outcome if transition.outcome is not None else facts.outcome,
    )


def run(
    facts: CaseFacts, *steps: CaseEvent | tuple[CaseEvent, dict[str, Any]]
) -> tuple[CaseFacts, list[Transition]]:
    transitions = []
    for step in steps:
        event, kwargs = step if isinstance(step, tuple) else (step, {})
        transition = apply(facts, event, **kwargs)
        transitions.append(transition)
        facts = advance(facts, transition)
    return facts, transitions


@pytest.mark.parametrize(
    "origin",
    [CaseState.ACCEPTED, CaseState.IN_MEDIATION, CaseState.EXTENDED, CaseState.AWAITING_SIGNATURES],
)
@pytest.mark.parametrize("extended", [False, True])
def test_suspend_and_resume_return_to_the_origin(origin: CaseState, extended: bool) -> None:
    start = CaseFacts(CaseKind.DELEGATED, origin, clock_started=True, extended=extended)
    end, (suspend, resume) = run(start, CaseEvent.SUSPEND, CaseEvent.RESUME)
    assert (suspend.to_state, suspend.effects) == (CaseState.SUSPENDED, (Effect.PAUSE_CLOCK,))
    assert (resume.from_state, resume.to_state, resume.effects) == (
        CaseState.SUSPENDED,
        origin,
        (Effect.RESUME_CLOCK,),
    )
    assert end == start


def test_the_clock_starts_only_on_the_first_acceptance() -> None:
    facts = CaseFacts(CaseKind.ENTRUSTED, initial_state())
    facts, transitions = run(
        facts,
        CaseEvent.ASSIGN,
        CaseEvent.DECLINE,
        CaseEvent.ASSIGN,
        CaseEvent.ACCEPTANCE_TIMEOUT,
        CaseEvent.ASSIGN,
        CaseEvent.ACCEPT,  # first acceptance
        CaseEvent.BEGIN_MEDIATION,
        CaseEvent.CHANGE_MEDIATOR,
        CaseEvent.ASSIGN,
        CaseEvent.DECLINE,
        CaseEvent.ASSIGN,
        CaseEvent.ACCEPT,  # the new mediator
        CaseEvent.SUSPEND,
        CaseEvent.CHANGE_MEDIATOR,
        CaseEvent.ASSIGN,
        CaseEvent.CHANGE_MEDIATOR,  # changed again before acceptance: the clock is already paused
        CaseEvent.ASSIGN,
        CaseEvent.ACCEPT,
    )
    effects = [(t.event.value, [e.value for e in t.effects]) for t in transitions if t.effects]
    assert effects == [
        ("accept", ["start_clock"]),
        ("change_mediator", ["pause_clock_for_change"]),
        ("accept", ["resume_clock_after_change"]),
        ("suspend", ["pause_clock"]),
        ("change_mediator", ["resume_clock", "pause_clock_for_change"]),
        ("accept", ["resume_clock_after_change"]),
    ]
    assert facts.state is CaseState.ACCEPTED
    assert facts.clock_started


def test_a_change_before_the_first_acceptance_does_not_touch_the_clock() -> None:
    _, transitions = run(
        CaseFacts(CaseKind.DELEGATED, CaseState.CREATED),
        CaseEvent.ASSIGN,
        CaseEvent.CHANGE_MEDIATOR,
        CaseEvent.ASSIGN,
        CaseEvent.ACCEPT,
    )
    assert [t.effects for t in transitions] == [(), (), (), (Effect.START_CLOCK,)]


def test_an_extended_case_stays_extended_after_a_change_of_mediator() -> None:
    facts = CaseFacts(CaseKind.DELEGATED, CaseState.EXTENDED, clock_started=True, extended=True)
    facts, transitions = run(
        facts,
        CaseEvent.CHANGE_MEDIATOR,
        CaseEvent.ASSIGN,
        CaseEvent.ACCEPT,
        CaseEvent.BEGIN_MEDIATION,
        CaseEvent.REQUEST_SIGNATURES,
        CaseEvent.RETURN_TO_MEDIATION,
    )
    assert [t.to_state for t in transitions][-3:] == [
        CaseState.EXTENDED,
        CaseState.AWAITING_SIGNATURES,
        CaseState.EXTENDED,
    ]


def test_happy_path_delegated() -> None:
    facts = CaseFacts(
        CaseKind.DELEGATED, initial_state(), today=date(2025, 3, 1), jc_deadline=date(2025, 3, 31)
    )
    facts, transitions = run(
        facts,
        CaseEvent.ASSIGN,
        CaseEvent.ACCEPT,
        CaseEvent.BEGIN_MEDIATION,
        CaseEvent.SUSPEND,
        CaseEvent.RESUME,
        CaseEvent.REQUEST_SIGNATURES,
        (CaseEvent.SIGNATURES_COMPLETE, {"outcome": Outcome.FULL}),
        CaseEvent.REPORT,
        CaseEvent.ACKNOWLEDGE,
        CaseEvent.APPLY_JC,
        CaseEvent.CONFIRM_JC,
    )
    assert [(t.to_state.value, [e.value for e in t.effects]) for t in transitions] == [
        ("assigned", []),
        ("accepted", ["start_clock"]),
        ("in_mediation", []),
        ("suspended", ["pause_clock"]),
        ("in_mediation", ["resume_clock"]),
        ("awaiting_signatures", []),
        ("agreed", ["close", "notify_court"]),
        ("reported", []),
        ("acknowledged", []),
        ("jc_applied", []),
        ("jc_confirmed", []),
    ]
    assert facts.outcome is Outcome.FULL
    assert [t.reason for t in transitions if t.reason] == [TerminationReason.AGREEMENT_REACHED]
    assert facts.state in FINAL_STATES
    assert allowed_events(facts) == frozenset()


def test_happy_path_entrusted() -> None:
    facts = CaseFacts(CaseKind.ENTRUSTED, initial_state(), all_parties_consent=True)
    facts, transitions = run(
        facts,
        CaseEvent.ASSIGN,
        CaseEvent.DECLINE,
        CaseEvent.ASSIGN,
        CaseEvent.ACCEPT,
        CaseEvent.BEGIN_MEDIATION,
        CaseEvent.EXTEND,
        CaseEvent.REQUEST_SIGNATURES,
        CaseEvent.RETURN_TO_MEDIATION,
        CaseEvent.REQUEST_SIGNATURES,
        (CaseEvent.SIGNATURES_COMPLETE, {"outcome": Outcome.PARTIAL}),
        CaseEvent.REPORT,
        CaseEvent.REQUEST_MEDIATION_DOC,
    )
    assert [(t.to_state.value, [e.value for e in t.effects]) for t in transitions] == [
        ("assigned", []),
        ("awaiting_reassignment", []),
        ("assigned", []),
        ("accepted", ["start_clock"]),
        ("in_mediation", []),
        ("extended", []),
        ("awaiting_signatures", []),
        ("extended", []),
        ("awaiting_signatures", []),
        ("agreed", ["close", "notify_court"]),
        ("reported", []),
        ("mediation_doc_requested", []),
    ]
    assert facts.outcome is Outcome.PARTIAL
    assert allowed_events(facts) == frozenset()


def test_entrusted_case_ending_in_withdrawal_of_the_suit() -> None:
    facts = CaseFacts(CaseKind.ENTRUSTED, CaseState.AWAITING_SIGNATURES, clock_started=True)
    facts, _ = run(facts, (CaseEvent.SIGNATURES_COMPLETE, {"outcome": Outcome.FULL}), CaseEvent.WITHDRAW_SUIT)
    assert facts.state is CaseState.SUIT_WITHDRAWN


def test_happy_path_offline_agreement() -> None:
    facts = CaseFacts(CaseKind.DELEGATED, initial_state(offline_agreement=True))
    facts, transitions = run(facts, CaseEvent.APPLY_JC, CaseEvent.REJECT_JC)
    assert [t.to_state for t in transitions] == [CaseState.JC_APPLIED, CaseState.JC_REJECTED]
    assert all(t.reason is None and t.effects == () for t in transitions)


# The mediation clock as the service layer keeps it: effect -> (states it may come from, state it leads to).
CLOCK_EFFECTS: dict[str, tuple[set[str], str]] = {
    "start_clock": ({"not_started"}, "running"),
    "pause_clock": ({"running"}, "suspended"),
    "resume_clock": ({"suspended"}, "running"),
    "pause_clock_for_change": ({"running"}, "changing"),
    "resume_clock_after_change": ({"changing"}, "running"),
    "close": ({"not_started", "running", "suspended", "changing"}, "stopped"),
}
# case state -> the clock states it may be in.
CLOCK_IN_STATE: dict[str, set[str]] = {
    "created": {"not_started"},
    "assigned": {"not_started", "changing"},
    "awaiting_reassignment": {"not_started", "changing"},
    "mediator_change": {"not_started", "changing"},
    "accepted": {"running"},
    "in_mediation": {"running"},
    "extended": {"running"},
    "awaiting_signatures": {"running"},
    "suspended": {"suspended"},
}


# A case in the walk below: its facts, its clock, the reason it closed with.
Node = tuple[CaseFacts, str, TerminationReason | None]


def closing_arguments(event: CaseEvent) -> list[dict[str, Any]]:
    if event is CaseEvent.TERMINATE:
        return [{"reason": reason} for reason in TerminationReason]
    if event is CaseEvent.SIGNATURES_COMPLETE:
        return [{"outcome": Outcome.FULL}, {"outcome": Outcome.PARTIAL}]
    return [{}]


@pytest.mark.parametrize("kind", list(CaseKind))
def test_every_reachable_path_closes_once_with_one_reason(kind: CaseKind) -> None:
    """Walk every case reachable from CREATED, with every acceptable argument, keeping a clock twin."""
    start = CaseFacts(kind, initial_state(), all_parties_consent=True)
    queue: deque[Node] = deque([(start, "not_started", None)])
    seen: set[Node] = {queue[0]}
    closings: set[tuple[str, str, str]] = set()
    while queue:
        facts, clock, reason = queue.popleft()
        state = facts.state.value
        if facts.state in ACTIVE_STATES:
            assert reason is None
            assert facts.outcome is None
            assert clock in CLOCK_IN_STATE[state], (facts, clock)
        else:
            assert facts.state in CLOSED_STATES
            assert reason is not None
            assert facts.outcome is not None
            assert clock == "stopped"
        for event in allowed_events(facts):
            for kwargs in closing_arguments(event):
                try:
                    transition = apply(facts, event, **kwargs)
                except InvalidInput:
                    assert event is CaseEvent.TERMINATE  # a reason that does not fit this state
                    continue
                effects = [e.value for e in transition.effects]
                closes = effects.count("close")
                assert closes <= 1
                assert (closes == 1) == (transition.reason is not None) == (transition.outcome is not None)
                assert (closes == 1) == ("notify_court" in effects)
                if closes:
                    assert reason is None, "closed twice"
                    assert transition.reason is not None
                    assert transition.outcome is not None
                    closings.add((state, transition.reason.value, transition.outcome.value))
                new_clock = clock
                for effect in effects:
                    if effect in CLOCK_EFFECTS:
                        sources, new_clock_state = CLOCK_EFFECTS[effect]
                        assert new_clock in sources, (facts, event, effect, new_clock)
                        new_clock = new_clock_state
                node = (advance(facts, transition), new_clock, transition.reason or reason)
                if node not in seen:
                    seen.add(node)
                    queue.append(node)
    reached = {node[0].state for node in seen}
    offline = {CaseState.OFFLINE_AGREEMENT_UPLOADED}
    unreachable_for_kind = (
        {CaseState.MEDIATION_DOC_REQUESTED, CaseState.SUIT_WITHDRAWN}
        if kind is CaseKind.DELEGATED
        else {CaseState.JC_APPLIED, CaseState.JC_CONFIRMED, CaseState.JC_REJECTED, CaseState.JC_WITHDRAWN}
    )
    assert reached == set(CaseState) - offline - unreachable_for_kind
    # Every way to close: agreement from signing, refusal to sign, and every termination reason that fits.
    assert ("awaiting_signatures", "agreement_reached", "partial") in closings
    assert ("awaiting_signatures", "refused_to_sign", "failed") in closings
    assert ("created", "period_expired", "failed") not in closings
    assert ("assigned", "period_expired", "failed") in closings  # after a mediator change
    assert {r for (_, r, _) in closings} == {r.value for r in TerminationReason}


# --- Vocabulary and sets ---------------------------------------------------------------------------------


def test_enum_values_are_as_stored() -> None:
    assert [s.value for s in CaseState] == [
        "created",
        "assigned",
        "awaiting_reassignment",
        "accepted",
        "in_mediation",
        "suspended",
        "extended",
        "mediator_change",
        "awaiting_signatures",
        "agreed",
        "terminated",
        "reported",
        "acknowledged",
        "jc_applied",
        "jc_confirmed",
        "jc_rejected",
        "jc_withdrawn",
        "mediation_doc_requested",
        "suit_withdrawn",
        "offline_agreement_uploaded",
    ]
    assert [e.value for e in CaseEvent] == [
        "assign",
        "decline",
        "acceptance_timeout",
        "accept",
        "begin_mediation",
        "suspend",
        "resume",
        "extend",
        "change_mediator",
        "request_signatures",
        "return_to_mediation",
        "signatures_complete",
        "refuse_to_sign",
        "terminate",
        "report",
        "acknowledge",
        "apply_jc",
        "confirm_jc",
        "reject_jc",
        "withdraw_jc",
        "request_mediation_doc",
        "withdraw_suit",
    ]
    assert [k.value for k in CaseKind] == ["delegated", "entrusted"]
    assert [o.value for o in Outcome] == ["full", "partial", "failed"]
    assert [r.value for r in TerminationReason] == [
        "agreement_reached",
        "settled_withdrawn",
        "party_unreachable",
        "party_refuses",
        "positions_too_far",
        "period_expired",
        "refused_to_sign",
        "other",
    ]
    assert [e.value for e in Effect] == [
        "start_clock",
        "pause_clock",
        "resume_clock",
        "pause_clock_for_change",
        "resume_clock_after_change",
        "close",
        "notify_court",
    ]


def test_state_sets() -> None:
    assert {s.value for s in ACTIVE_STATES} == {
        "created",
        "assigned",
        "awaiting_reassignment",
        "accepted",
        "in_mediation",
        "suspended",
        "extended",
        "mediator_change",
        "awaiting_signatures",
    }
    assert {s.value for s in CLOSED_STATES} == {
        "agreed",
        "terminated",
        "reported",
        "acknowledged",
        "jc_applied",
        "jc_confirmed",
        "jc_rejected",
        "jc_withdrawn",
        "mediation_doc_requested",
        "suit_withdrawn",
    }
    assert {s.value for s in FINAL_STATES} == {
        "jc_confirmed",
        "jc_rejected",
        "jc_withdrawn",
        "mediation_doc_requested",
        "suit_withdrawn",
    }
    assert not ACTIVE_STATES & CLOSED_STATES
    assert ACTIVE_STATES | CLOSED_STATES | {CaseState.OFFLINE_AGREEMENT_UPLOADED} == set(CaseState)
    assert FINAL_STATES <= CLOSED_STATES
    assert isinstance(ACTIVE_STATES, frozenset)


def test_initial_state() -> None:
    assert initial_state() is CaseState.CREATED
    assert initial_state(offline_agreement=False) is CaseState.CREATED
    assert initial_state(offline_agreement=True) is CaseState.OFFLINE_AGREEMENT_UPLOADED


def test_every_reason_has_both_labels() -> None:
    assert set(REASON_LABELS_ZH) == set(TerminationReason)
    assert set(REASON_LABELS_EN) == set(TerminationReason)
    for reason in TerminationReason:
        assert any("\u4e00" <= ch <= "\u9fff" for ch in REASON_LABELS_ZH[reason])
        assert REASON_LABELS_EN[reason].isascii()
        assert REASON_LABELS_EN[reason][:1].isupper()
    assert REASON_LABELS_ZH[TerminationReason.REFUSED_TO_SIGN] == "当事人一方拒绝在调解协议上签章"
    assert (
        len(set(REASON_LABELS_ZH.values())) == len(set(REASON_LABELS_EN.values())) == len(TerminationReason)
    )
    with pytest.raises(TypeError):
        REASON_LABELS_ZH[TerminationReason.OTHER] = "x"  # type: ignore[index]


def test_facts_and_transitions_are_immutable() -> None:
    facts = CaseFacts(CaseKind.DELEGATED, CaseState.CREATED)
    transition = apply(facts, CaseEvent.ASSIGN)
    with pytest.raises(FrozenInstanceError):
        facts.state = CaseState.ASSIGNED  # type: ignore[misc]
    with pytest.raises(FrozenInstanceError):
        transition.to_state = CaseState.CREATED  # type: ignore[misc]
    assert facts.state is CaseState.CREATED


def test_public_names() -> None:
    assert set(lifecycle.__all__) == {
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
    }
    assert len(lifecycle.__all__) == len(set(lifecycle.__all__))
    for name in lifecycle.__all__:
        assert getattr(lifecycle, name) is not None
