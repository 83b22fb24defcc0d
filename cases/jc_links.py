"""Confirmation links for judicial confirmation: signed, expiring, bound to one application and one party.

A token is ``jc1.<payload>.<signature>``: the payload is base64url JSON ``{"a": application, "p": party,
"exp": unix seconds}``, the signature base64url HMAC-SHA256 over ``jc1.<payload>`` with a key derived from
the service's secret for this purpose only (a join token cannot be replayed here, nor the reverse). Pure: the
secret and the time are passed in.
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

__all__ = ["JcClaims", "LinkError", "issue", "verify"]

_VERSION = "jc1"
_MAX_LENGTH = 1024


class LinkError(Unauthenticated):
    """A confirmation link that cannot be used; ``code`` says why."""


@dataclass(frozen=True, slots=True)
class JcClaims:
    application_id: str
    party_id: str
    expires_at: int  # unix seconds


def _key(secret: str) -> bytes:
    return hmac.new(secret.encode(), b"tiaojie judicial confirmation link v1", hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def issue(claims: JcClaims, *, secret: str) -> str:
    payload = {"a": claims.application_id, "p": claims.party_id, "exp": claims.expires_at}
    body = f"{_VERSION}.{_b64(json.dumps(payload, separators=(',', ':')).encode())}"
    return f"{body}.{_b64(hmac.new(_key(secret), body.encode(), hashlib.sha256).digest())}"


def verify(token: str, *, secret: str, now: datetime) -> JcClaims:
    """The claims of a genuine, unexpired link; LinkError otherwise."""
    malformed = LinkError("malformed confirmation link", code="link_malformed")
    if not token or len(token) > _MAX_LENGTH or token.count(".") != 2:
        raise malformed
    version, payload_text, signature_text = token.split(".")
    if version != _VERSION:
        raise malformed
    try:
        signature = base64.urlsafe_b64decode(signature_text + "=" * (-len(signature_text) % 4))
        payload = json.loads(base64.urlsafe_b64decode(payload_text + "=" * (-len(payload_text) % 4)))
    except (binascii.Error, ValueError):
        raise malformed from None
    expected = hmac.new(_key(secret), f"{version}.{payload_text}".encode(), hashlib.sha256).digest()
    if not hmac.compare_digest(signature, expected):
        raise LinkError("this confirmation link is not genuine", code="link_invalid")
    try:
        claims = JcClaims(str(payload["a"]), str(payload["p"]), int(payload["exp"]))
    except (KeyError, TypeError, ValueError):
        raise malformed from None
    if now.timestamp() >= claims.expires_at:
        raise LinkError("this confirmation link has expired", code="link_expired")
    return claims
