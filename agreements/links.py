"""Signing links: signed, expiring, bound to one signer of one signing round and to the signer's role.

A token is ``sg1.<payload>.<signature>`` (:mod:`tiaojie.signed`, with a purpose of its own: a join or
confirmation token is never accepted here, nor the reverse). The payload is ``{"g": signer row, "r": round,
"ro": role, "v": link version, "exp": unix seconds}``; reissuing a signer's links bumps the version, which
revokes the older ones. Pure: the secret and the time are passed in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tiaojie import signed
from tiaojie.errors import Unauthenticated

__all__ = ["LinkError", "SignerClaims", "issue", "verify"]

_VERSION = "sg1"
_PURPOSE = b"tiaojie agreement signing link v1"


class LinkError(Unauthenticated):
    """A signing link that cannot be used; ``code`` says why."""


@dataclass(frozen=True, slots=True)
class SignerClaims:
    signer_row_id: str
    round_id: str
    role: str
    link_version: int
    expires_at: int  # unix seconds


def issue(claims: SignerClaims, *, secret: str) -> str:
    payload = {
        "g": claims.signer_row_id,
        "r": claims.round_id,
        "ro": claims.role,
        "v": claims.link_version,
        "exp": claims.expires_at,
    }
    return signed.seal(payload, version=_VERSION, purpose=_PURPOSE, secret=secret)


def verify(token: str, *, secret: str, now: datetime) -> SignerClaims:
    """The claims of a genuine, unexpired link; LinkError otherwise (revocation is checked by the caller)."""
    malformed = LinkError("malformed signing link", code="link_malformed")
    try:
        payload = signed.unseal(token, version=_VERSION, purpose=_PURPOSE, secret=secret)
    except signed.Malformed:
        raise malformed from None
    except signed.NotGenuine:
        raise LinkError("this signing link is not genuine", code="link_invalid") from None
    try:
        claims = SignerClaims(
            str(payload["g"]), str(payload["r"]), str(payload["ro"]), int(payload["v"]), int(payload["exp"])
        )
    except (KeyError, TypeError, ValueError):
        raise malformed from None
    if now.timestamp() >= claims.expires_at:
        raise LinkError("this signing link has expired", code="link_expired")
    return claims
