"""Join tokens: signed, expiring, bound to one session, one participant and one role.

A token is ``v1.<payload>.<signature>``: the payload is base64url JSON ``{"s": session, "p": participant,
"r": role, "v": version, "exp": unix seconds}``, the signature base64url HMAC-SHA256 over ``v1.<payload>``
with a key derived from the service's secret for this purpose only (:mod:`tiaojie.signed`). Revoking a
participant's link bumps its ``version`` in the database, so every older token stops working; checking that
is the caller's job (:func:`verify` returns the claims).

Pure: the secret and the time are passed in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tiaojie import signed
from tiaojie.errors import Unauthenticated

__all__ = ["JoinClaims", "TokenError", "issue", "verify"]

_VERSION = "v1"


class TokenError(Unauthenticated):
    """A join token that cannot be used; ``code`` says why (malformed, bad_signature, expired, ...)."""


@dataclass(frozen=True, slots=True)
class JoinClaims:
    session_id: str
    participant_id: str
    role: str
    version: int
    expires_at: int  # unix seconds


_PURPOSE = b"tiaojie join token v1"


def issue(claims: JoinClaims, *, secret: str) -> str:
    payload = {
        "s": claims.session_id,
        "p": claims.participant_id,
        "r": claims.role,
        "v": claims.version,
        "exp": claims.expires_at,
    }
    return signed.seal(payload, version=_VERSION, purpose=_PURPOSE, secret=secret)


def verify(token: str, *, secret: str, now: datetime) -> JoinClaims:
    """The claims of a genuine, unexpired token; TokenError otherwise. Never reveals which part was wrong
    beyond the code."""
    malformed = TokenError("malformed join link", code="token_malformed")
    try:
        payload = signed.unseal(token, version=_VERSION, purpose=_PURPOSE, secret=secret)
    except signed.Malformed:
        raise malformed from None
    except signed.NotGenuine:
        raise TokenError("this join link is not genuine", code="token_invalid") from None
    try:
        claims = JoinClaims(
            session_id=str(payload["s"]),
            participant_id=str(payload["p"]),
            role=str(payload["r"]),
            version=int(payload["v"]),
            expires_at=int(payload["exp"]),
        )
    except (ValueError, KeyError, TypeError):
        raise malformed from None
    if now.timestamp() >= claims.expires_at:
        raise TokenError("this join link has expired; ask the mediator for a new one", code="token_expired")
    return claims
