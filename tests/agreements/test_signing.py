"""The signing state machine, exhaustively over small signer sets: every order of signatures, every point
of refusal and of superseding."""

from __future__ import annotations

from itertools import permutations

import pytest

from agreements.signing import Event, Order, Signer, Signing, SigningStatus, refuse, sign, supersede
from tiaojie.errors import Conflict, InvalidInput, TiaojieError

H = "a" * 64
SIGNERS = (Signer("worker"), Signer("employer"), Signer("mediator"))


def code(action: object) -> str:
    assert callable(action)
    with pytest.raises(TiaojieError) as caught:
        action()
    return caught.value.code


@pytest.mark.parametrize("sequence", list(permutations([s.id for s in SIGNERS])))
def test_parallel_takes_effect_exactly_on_the_last_signature_in_any_order(sequence: tuple[str, ...]) -> None:
    state = Signing(H, SIGNERS)
    for index, who in enumerate(sequence):
        assert state.status is SigningStatus.OPEN
        state, events = sign(state, who, H)
        last = index == len(sequence) - 1
        assert events == ([Event.SIGNED, Event.TOOK_EFFECT] if last else [Event.SIGNED])
        assert code(lambda: sign(state, who, H)) == "already_signed"  # noqa: B023
    assert state.status is SigningStatus.EFFECTIVE
    assert state.signed == sequence
    assert state.waiting_for() == ()


@pytest.mark.parametrize("sequence", list(permutations([s.id for s in SIGNERS])))
def test_ordered_accepts_only_the_listed_order(sequence: tuple[str, ...]) -> None:
    state = Signing(H, SIGNERS, Order.ORDERED)
    expected = [s.id for s in SIGNERS]
    for index, who in enumerate(sequence):
        if who != expected[index]:
            assert code(lambda: sign(state, who, H)) == "not_your_turn"  # noqa: B023
            assert sequence != tuple(expected)
            return
        state, _ = sign(state, who, H)
    assert sequence == tuple(expected)
    assert state.status is SigningStatus.EFFECTIVE


def test_an_optional_signer_signs_any_time_and_is_not_waited_for() -> None:
    state = Signing(H, (Signer("worker"), Signer("agent", required=False), Signer("mediator")), Order.ORDERED)
    assert state.waiting_for() == ("worker", "agent")
    state, _ = sign(state, "agent", H)
    state, _ = sign(state, "worker", H)
    state, events = sign(state, "mediator", H)
    assert (state.status, events) == (SigningStatus.EFFECTIVE, [Event.SIGNED, Event.TOOK_EFFECT])
    early = Signing(H, (Signer("worker"), Signer("agent", required=False)))
    done, events = sign(early, "worker", H)
    assert (done.status, events[-1]) == (SigningStatus.EFFECTIVE, Event.TOOK_EFFECT)
    assert code(lambda: sign(done, "agent", H)) == "signing_closed"


@pytest.mark.parametrize("signed_before", range(3))
@pytest.mark.parametrize("order", list(Order))
def test_a_refusal_at_any_point_ends_the_signing(signed_before: int, order: Order) -> None:
    state = Signing(H, SIGNERS, order)
    for signer in SIGNERS[:signed_before]:
        state, _ = sign(state, signer.id, H)
    refuser = SIGNERS[-1].id  # even out of turn
    assert code(lambda: refuse(state, refuser, "  ")) == "reason_required"
    after, events = refuse(state, refuser, " 金额不同意 ")
    assert (after.status, events, after.refusal) == (SigningStatus.REFUSED, [Event.REFUSED], after.refusal)
    assert after.refusal is not None
    assert (after.refusal.signer_id, after.refusal.reason) == (refuser, "金额不同意")
    for signer in SIGNERS:
        if signer.id not in after.signed:
            assert code(lambda: sign(after, signer.id, H)) == "signing_closed"  # noqa: B023
    if signed_before:
        assert code(lambda: refuse(state, SIGNERS[0].id, "x")) == "already_signed"
    assert code(lambda: supersede(after)) == "signing_closed"


@pytest.mark.parametrize("signed_before", range(3))
def test_a_superseded_version_cannot_be_signed_or_refused(signed_before: int) -> None:
    state = Signing(H, SIGNERS)
    for signer in SIGNERS[:signed_before]:
        state, _ = sign(state, signer.id, H)
    void, events = supersede(state)
    assert (void.status, events) == (SigningStatus.VOID, [Event.VOIDED])
    for signer in SIGNERS:
        assert code(lambda: sign(void, signer.id, H)) == "version_superseded"  # noqa: B023
        assert code(lambda: refuse(void, signer.id, "x")) == "version_superseded"  # noqa: B023


def test_a_signature_binds_to_this_versions_hash_and_only_signers_sign() -> None:
    state = Signing(H, SIGNERS)
    with pytest.raises(InvalidInput) as caught:
        sign(state, "worker", "b" * 64)
    assert (caught.value.code, caught.value.field) == ("document_hash_mismatch", "sha256")
    with pytest.raises(Conflict) as refused:
        sign(state, "stranger", H)
    assert refused.value.code == "not_a_signer"
    assert code(lambda: refuse(state, "stranger", "x")) == "not_a_signer"
    assert state.signed == ()


def test_a_signing_needs_distinct_signers_and_one_required() -> None:
    with pytest.raises(ValueError, match="distinct"):
        Signing(H, (Signer("a"), Signer("a")))
    with pytest.raises(ValueError, match="required"):
        Signing(H, (Signer("a", required=False),))
