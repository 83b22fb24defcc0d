"""API documents of agreement signing: requesting signatures, signing, sealing, refusing, one-time codes, the
signing rounds as the console and a party see them, and the audit trail."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from agreements.signing import Order, SigningStatus
from agreements.strokes import MAX_POINTS, MAX_SIDE, MAX_STROKES, MAX_TIME_MS, MIN_SIDE
from agreements.text import Settlement

__all__ = [
    "CodeSentOut",
    "LinkOut",
    "MediatorSignatureIn",
    "PartyRoundOut",
    "PartySignatureIn",
    "RefusalIn",
    "RefusalOut",
    "ReissueLinksIn",
    "RequestSignaturesIn",
    "RoundOut",
    "SealIn",
    "SignerOut",
    "SigningOut",
    "TrailEntryOut",
    "TrailOut",
    "TrailProblemOut",
    "VerificationOut",
]

Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$", description="Hex SHA-256 of the frozen PDF.")]

_POINT = {
    "type": "array",
    "prefixItems": [
        {"type": "number", "minimum": 0, "description": "x, CSS pixels from the left"},
        {"type": "number", "minimum": 0, "description": "y, CSS pixels from the top"},
        {"type": "number", "minimum": 0, "maximum": MAX_TIME_MS, "description": "t, ms; never goes back"},
        {"type": "number", "minimum": 0, "maximum": 1, "description": "pressure (optional)"},
    ],
    "minItems": 3,
    "maxItems": 4,
}
Drawing = Annotated[
    Any,  # checked by agreements.strokes.parse, so that every fault gets malformed_signature
    WithJsonSchema(
        {
            "type": "object",
            "description": "The drawn signature: the canvas size and the strokes in drawing order, each a "
            f"list of points [x, y, t_ms] or [x, y, t_ms, pressure]; at most {MAX_STROKES} strokes and "
            f"{MAX_POINTS} points, points on the canvas, times in ms that never go back. Anything else is "
            "refused with 422 malformed_signature; over 256 KiB with 413 payload_too_large.",
            "required": ["width", "height", "strokes"],
            "additionalProperties": False,
            "properties": {
                "width": {"type": "integer", "minimum": MIN_SIDE, "maximum": MAX_SIDE},
                "height": {"type": "integer", "minimum": MIN_SIDE, "maximum": MAX_SIDE},
                "strokes": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": MAX_STROKES,
                    "items": {"type": "array", "minItems": 1, "items": _POINT},
                },
            },
        }
    ),
]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RequestSignaturesIn(_In):
    order: Order = Field(
        Order.PARALLEL,
        description="`parallel`: everyone signs in any order; `ordered`: one after another (see `sequence`).",
    )
    sequence: list[Annotated[str, Field(max_length=32)]] | None = Field(
        None,
        max_length=20,
        description="For `ordered`: the ids of the principal parties and of the mediator in signing order; "
        "default applicant(s), respondent(s), mediator. Agents countersign at any time; the seal is last.",
    )
    seal: bool = Field(True, description="Whether the organisation's electronic seal is required (last).")
    outcome: Settlement | None = Field(
        None,
        description="For an uploaded agreement: whether it settles all claims (`full`) or part (`partial`). "
        "A template agreement's outcome is its own `settlement`.",
    )
    notify: bool = Field(True, description="Send each party its signing link by SMS (the notifier).")


class ReissueLinksIn(_In):
    signer_ids: list[Annotated[str, Field(max_length=32)]] | None = Field(
        None, max_length=20, description="The parties whose links to reissue; default every party not done."
    )
    notify: bool = True


class AuthIn(_In):
    method: Literal["one_time_code", "in_session"] = Field(
        description="`one_time_code`: the code sent by `POST /sign/api/code`; `in_session`: the mediator "
        "checked your identity in the live video session of this case."
    )
    code: Annotated[str, Field(pattern=r"^[0-9]{6}$")] | None = None


class PartySignatureIn(_In):
    document_sha256: Sha256
    auth: AuthIn
    signature: Drawing


class MediatorSignatureIn(_In):
    document_sha256: Sha256
    signature: Drawing


class SealIn(_In):
    document_sha256: Sha256


class RefusalIn(_In):
    reason: Annotated[str, Field(min_length=1, max_length=2000)] = Field(
        description="Why you refuse to sign; it ends the mediation (OMR 25: refused to sign)."
    )


class LinkOut(BaseModel):
    signer_id: str
    name: str
    role: str
    url: str = Field(description="The personal signing link: `<base>/sign#<token>`; do not share it.")
    expires_at: datetime
    notified: bool = Field(description="Whether the SMS went out (false: no phone, or the gateway failed).")


class SignerOut(BaseModel):
    id: str = Field(description="The signer's row in this round.")
    signer_id: str = Field(description="The party id, the mediator id, or the organisation id (seal).")
    kind: Literal["party", "mediator", "organisation"]
    role: str = Field(description="worker, employer, agent, mediator or organisation_seal")
    name: str
    position: int
    required: bool
    last: bool = Field(description="Signs only after every other required signer (the seal).")
    status: Literal["pending", "signed", "refused"]
    may_sign_now: bool
    signed_at: datetime | None
    auth_method: str | None
    signature_id: str | None
    image_sha256: str | None


class RefusalOut(BaseModel):
    signer_id: str
    reason: str


class RoundOut(BaseModel):
    id: str
    case_id: str
    version_id: str
    version_number: int
    document_sha256: str
    order: Order
    seal_required: bool
    outcome: Settlement
    status: SigningStatus
    requested_by: str
    requested_at: datetime
    closed_at: datetime | None
    effective_at: datetime | None
    refusal: RefusalOut | None
    waiting_for: list[str] = Field(description="`signer_id`s that may sign now.")
    signers: list[SignerOut]
    evidence_status: Literal["pending", "delivered"] | None = Field(
        description="After the agreement took effect: whether the sealing step has taken the evidence."
    )
    links: list[LinkOut] | None = Field(
        None, description="Only in the answer that issued them (request, reissue)."
    )


class SigningOut(BaseModel):
    case_id: str
    current: RoundOut | None = Field(description="The latest round, unless there is none.")
    rounds: list[RoundOut]


class CodeSentOut(BaseModel):
    sent_to: str = Field(description="The phone number, masked.")
    expires_at: datetime
    attempts_allowed: int
    next_code_after: datetime = Field(description="No other code is sent before this time.")


class PartyRoundOut(BaseModel):
    """What a party's signing link shows: the document to sign, where the round stands, and the party."""

    round_id: str
    case_number: str
    court_name: str
    organisation_name: str
    version_number: int
    document_sha256: str
    document_size: int
    order: Order
    status: SigningStatus
    me: SignerOut
    phone_masked: str | None
    auth_methods: list[Literal["one_time_code", "in_session"]] = Field(
        description="How you can re-confirm your identity now."
    )
    viewed: bool = Field(description="Whether you fetched the document (needed before signing).")
    signers: list[SignerOut]
    sealed: bool = Field(
        False,
        description="Whether the sealed agreement (signatures, completion certificate, the service's seal) "
        "is ready: `GET /sign/api/sealed`.",
    )


class TrailEntryOut(BaseModel):
    seq: int
    at: datetime
    round_id: str | None
    version_id: str | None
    actor_kind: str
    actor_id: str
    actor: str
    action: str
    signer_id: str | None
    auth_method: str | None
    ip: str | None
    user_agent: str | None
    document_sha256: str | None
    details: dict[str, Any]
    prev_hash: str
    entry_hash: str


class TrailProblemOut(BaseModel):
    seq: int
    code: Literal["altered", "broken_link", "out_of_sequence", "head_mismatch"]


class VerificationOut(BaseModel):
    intact: bool
    entries: int
    head: str = Field(description="The last entry's hash (64 zeros for an empty trail).")
    problems: list[TrailProblemOut]


class TrailOut(BaseModel):
    case_id: str
    entries: list[TrailEntryOut]
    verification: VerificationOut
