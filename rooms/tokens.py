"""Join tokens: signed, expiring, bound to one session, one participant and one role.

A token is ``v1.<payload>.<signature>``: the payload is base64url JSON ``{"s": session, "p": participant,
"r": role, "v": version, "exp": unix seconds}``, the signature base64url HMAC-SHA256 over ``v1.<payload>``
with a key derived from the service's secret for this purpose only. Revoking a participant's link bumps
its ``version`` in the database, so every older token stops working; checking that is the caller's job
(:func:`verify` returns the claims).

Pure: the secret and the time are passed in.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime

from tiaojie.errors import Unauthenticated

__all__ = ["JoinClaims", "TokenError", "issue", "verify"]

_VERSION = "v1"
_MAX_LENGTH = 1024


class TokenError(Unauthenticated):
    """A join token that cannot be used; ``code`` says why (malformed, bad_signature, expired, ...)."""


@dataclass(frozen=True, slots=True)
class JoinClaims:
    session_id: str
    participant_id: str
    role: str
    version: int
    expires_at: int  # unix seconds


def _key(secret: str) -> bytes:
    return hmac.new(secret.encode(), b"tiaojie join token v1", hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def issue(claims: JoinClaims, *, secret: str) -> str:
    payload = {
        "s": claims.session_id,
        "p": claims.participant_id,
        "r": claims.role,
        "v": claims.version,
        "exp": claims.expires_at,
    }
    body = f"{_VERSION}.{_b64(json.dumps(payload, separators=(',', ':')).encode())}"
    signature = hmac.new(_key(secret), body.encode(), hashlib.sha256).digest()
    return f"{body}.{_b64(signature)}"


def verify(token: str, *, secret: str, now: datetime) -> JoinClaims:
    """The claims of a genuine, unexpired token; TokenError otherwise. Never reveals which part was wrong
    beyond the code."""
    if not token or len(token) > _MAX_LENGTH or token.count(".") != 2:
        raise TokenError("malformed join link", code="token_malformed")
    version, payload_text, signature_text = token.split(".")
    if version != _VERSION:
        raise TokenError("malformed join link", code="token_malformed")
    try:
        signature = _unb64(signature_text)
        payload_bytes = _unb64(payload_text)
    except (binascii.Error, ValueError):
        raise TokenError("malformed join link", code="token_malformed") from None
    expected = hmac.new(_key(secret), f"{version}.{payload_text}".encode(), hashlib.sha256).digest()
    if not hmac.compare_digest(signature, expected):
        raise TokenError("this join link is not genuine", code="token_invalid")
    try:
        payload = json.loads(payload_bytes)
        claims = JoinClaims(
            session_id=str(payload["s"]),
            participant_id=str(payload["p"]),
            role=str(payload["r"]),
            version=int(payload["v"]),
            expires_at=int(payload["exp"]),
        )
    except (ValueError, KeyError, TypeError):
        raise TokenError("malformed join link", code="token_malformed") from None
    if now.timestamp() >= claims.expires_at:
        raise TokenError("this join link has expired; ask the mediator for a new one", code="token_expired")
    return claims
