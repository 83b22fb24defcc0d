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


class LinkError(Unauthenticated):
    """A signing link that cannot be used; ``code`` says why."""


@dataclass(frozen=True, slots=True)
class SignerClaims:
    signer_row_id: str
    round_id: str
    role: str
    link_version: int
    expires_at: int  # unix seconds


_KIND = signed.LinkKind(
    version="sg1",
    purpose=b"tiaojie agreement signing link v1",
    error=LinkError,
    malformed=("malformed signing link", "link_malformed"),
    not_genuine=("this signing link is not genuine", "link_invalid"),
    expired=("this signing link has expired", "link_expired"),
)


def issue(claims: SignerClaims, *, secret: str) -> str:
    payload = {
        "g": claims.signer_row_id,
        "r": claims.round_id,
        "ro": claims.role,
        "v": claims.link_version,
        "exp": claims.expires_at,
    }
    return signed.seal(payload, version=_KIND.version, purpose=_KIND.purpose, secret=secret)


def verify(token: str, *, secret: str, now: datetime) -> SignerClaims:
    """The claims of a genuine, unexpired link; LinkError otherwise (revocation is checked by the caller)."""
    return signed.open_link(
        token,
        _KIND,
        secret=secret,
        now=now,
        claims=lambda p: SignerClaims(str(p["g"]), str(p["r"]), str(p["ro"]), int(p["v"]), int(p["exp"])),
    )
