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


_KIND = signed.LinkKind(
    version=_VERSION,
    purpose=b"tiaojie join token v1",
    error=TokenError,
    malformed=("malformed join link", "token_malformed"),
    not_genuine=("this join link is not genuine", "token_invalid"),
    expired=("this join link has expired; ask the mediator for a new one", "token_expired"),
)


def issue(claims: JoinClaims, *, secret: str) -> str:
    payload = {
        "s": claims.session_id,
        "p": claims.participant_id,
        "r": claims.role,
        "v": claims.version,
        "exp": claims.expires_at,
    }
    return signed.seal(payload, version=_KIND.version, purpose=_KIND.purpose, secret=secret)


def verify(token: str, *, secret: str, now: datetime) -> JoinClaims:
    """The claims of a genuine, unexpired token; TokenError otherwise. Never reveals which part was wrong
    beyond the code."""
    return signed.open_link(
        token,
        _KIND,
        secret=secret,
        now=now,
        claims=lambda p: JoinClaims(
            session_id=str(p["s"]),
            participant_id=str(p["p"]),
            role=str(p["r"]),
            version=int(p["v"]),
            expires_at=int(p["exp"]),
        ),
    )
