"""Signing one frozen version, without I/O: who may sign now, and when the agreement takes effect.

::

    OPEN ─sign (each signer once, on the version's SHA-256)→ OPEN … ─last required signature→ EFFECTIVE
    OPEN ─refuse (with a reason; OMR 25: a refusal ends the mediation)→ REFUSED
    OPEN ─the version is superseded (a new text)→ VOID: its signatures no longer count

Signers sign in any order (``PARALLEL``) or one after another in the listed order (``ORDERED``; optional
signers, such as an agent countersigning, may sign at any time while open). A signer marked ``last`` (the
organisation's seal) signs only once every other required signer has, whatever the order. The agreement
takes effect on the last *required* signature (OMR 19). Every step returns the new state and the events it
caused.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from tiaojie.errors import Conflict, InvalidInput

__all__ = [
    "Event",
    "Order",
    "Refusal",
    "Signer",
    "Signing",
    "SigningStatus",
    "check",
    "refuse",
    "sign",
    "supersede",
]


class Order(StrEnum):
    PARALLEL = "parallel"
    ORDERED = "ordered"


class SigningStatus(StrEnum):
    OPEN = "open"
    EFFECTIVE = "effective"
    REFUSED = "refused"
    VOID = "void"


class Event(StrEnum):
    SIGNED = "signed"
    TOOK_EFFECT = "took_effect"
    REFUSED = "refused"
    VOIDED = "voided"


@dataclass(frozen=True, slots=True)
class Signer:
    id: str
    required: bool = True
    last: bool = False  # signs after every other required signer (the organisation's seal)


@dataclass(frozen=True, slots=True)
class Refusal:
    signer_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class Signing:
    sha256: str
    signers: tuple[Signer, ...]
    order: Order = Order.PARALLEL
    signed: tuple[str, ...] = ()
    refusal: Refusal | None = None
    void: bool = False

    def __post_init__(self) -> None:
        ids = [s.id for s in self.signers]
        if len(set(ids)) != len(ids) or not any(s.required for s in self.signers):
            raise ValueError("signers are distinct and at least one is required")

    @property
    def status(self) -> SigningStatus:
        if self.void:
            return SigningStatus.VOID
        if self.refusal is not None:
            return SigningStatus.REFUSED
        if all(s.id in self.signed for s in self.signers if s.required):
            return SigningStatus.EFFECTIVE
        return SigningStatus.OPEN

    def waiting_for(self) -> tuple[str, ...]:
        """Who may sign now."""
        if self.status is not SigningStatus.OPEN:
            return ()
        pending = [s for s in self.signers if s.id not in self.signed]
        if any(s.required and not s.last for s in pending):
            pending = [s for s in pending if not s.last]
        if self.order is Order.PARALLEL:
            return tuple(s.id for s in pending)
        first_required = next(s.id for s in pending if s.required)
        return tuple(s.id for s in pending if not s.required or s.id == first_required)


def _closed(status: SigningStatus) -> Conflict:
    return Conflict(f"signing is closed ({status.value})", code="signing_closed", current_state=status.value)


def _check_open(state: Signing, signer_id: str, *, turn: bool = True) -> None:
    status = state.status
    if status is SigningStatus.VOID:
        raise Conflict("this version was superseded: sign the current one", code="version_superseded")
    if signer_id not in {s.id for s in state.signers}:
        raise Conflict("you are not a signer of this agreement", code="not_a_signer")
    if signer_id in state.signed:
        raise Conflict("you have signed this version already", code="already_signed")
    if status is not SigningStatus.OPEN:
        raise _closed(status)
    if turn and signer_id not in state.waiting_for():
        raise Conflict("another signer signs first", code="not_your_turn")


def check(state: Signing, signer_id: str) -> None:
    """The errors :func:`sign` would raise for ``signer_id`` now, whatever the document (before sending a
    one-time code, say)."""
    _check_open(state, signer_id)


def sign(state: Signing, signer_id: str, sha256: str) -> tuple[Signing, list[Event]]:
    """``sha256``: the hash of the document the signer saw; it must be this version's."""
    _check_open(state, signer_id)
    if sha256 != state.sha256:
        raise InvalidInput(
            "the signature is for another document", field="sha256", code="document_hash_mismatch"
        )
    after = replace(state, signed=(*state.signed, signer_id))
    events = [Event.SIGNED]
    if after.status is SigningStatus.EFFECTIVE:
        events.append(Event.TOOK_EFFECT)
    return after, events


def refuse(state: Signing, signer_id: str, reason: str) -> tuple[Signing, list[Event]]:
    """A required signer refuses (with a reason); the signing ends. Anyone not yet signed may refuse,
    whatever the order."""
    if not reason.strip():
        raise InvalidInput("give the reason for refusing", field="reason", code="reason_required")
    _check_open(state, signer_id, turn=False)
    return replace(state, refusal=Refusal(signer_id, reason.strip())), [Event.REFUSED]


def supersede(state: Signing) -> tuple[Signing, list[Event]]:
    """A new version replaces this one: an open signing becomes void; a finished one stays as it is."""
    if state.status is not SigningStatus.OPEN:
        raise Conflict(
            f"signing is closed ({state.status.value})",
            code="signing_closed",
            current_state=state.status.value,
        )
    return replace(state, void=True), [Event.VOIDED]
