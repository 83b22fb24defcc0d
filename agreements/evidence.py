"""What a completed signing hands to the sealing step: the evidence around each signature, without I/O.

The signing side (signature records, one-time codes, the hash-chained audit trail) builds an
:class:`Evidence` when the last required signature lands; the sealing side turns it into one PDF (the
agreement, the signatures and a completion certificate) sealed with the service's PAdES signature. This
module is the contract between the two; it owns no storage.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

__all__ = ["AuthMethod", "Evidence", "SignatureEvidence", "TrailEntry"]


class AuthMethod(StrEnum):
    """How a signer re-confirmed their identity at the moment of signing."""

    ONE_TIME_CODE = "one_time_code"  # a code sent through the notifier to the signer's phone
    IN_SESSION = "in_session"  # the mediator checked the signer's identity in the live session
    ACCOUNT = "account"  # a console user (the mediator, a union user sealing) signed in with a password


@dataclass(frozen=True, slots=True)
class SignatureEvidence:
    """One signature (or the organisation's seal) on the version hashed in ``Evidence.document_sha256``."""

    signer_id: str  # the party id, or the user id for the mediator and the seal
    name: str
    role: str  # worker, employer, agent, mediator, organisation_seal
    signed_at: datetime  # aware, UTC
    auth_method: AuthMethod
    image_png: bytes  # the drawn signature (or the seal image), as shown on the sealed document
    ip: str
    user_agent: str


@dataclass(frozen=True, slots=True)
class TrailEntry:
    """One line of the agreement's audit trail, in order; ``entry_hash`` chains to the entry before."""

    seq: int
    at: datetime
    actor: str
    action: str
    auth_method: str | None
    ip: str | None
    user_agent: str | None
    document_sha256: str | None
    entry_hash: str


@dataclass(frozen=True, slots=True)
class Evidence:
    case_id: str
    case_number: str
    court_name: str
    organisation_name: str
    version_id: str
    version_number: int
    document_pdf: bytes  # the frozen version's PDF: its SHA-256 is ``document_sha256``
    document_sha256: str
    effective_at: datetime  # when the last required signature landed
    signatures: tuple[SignatureEvidence, ...]
    trail: tuple[TrailEntry, ...]
