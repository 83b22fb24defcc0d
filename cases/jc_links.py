"""Confirmation links for judicial confirmation: signed, expiring, bound to one application and one party.

A token is ``jc1.<payload>.<signature>``: the payload is base64url JSON ``{"a": application, "p": party,
"exp": unix seconds}``, the signature base64url HMAC-SHA256 over ``jc1.<payload>`` with a key derived from
the service's secret for this purpose only (a join token cannot be replayed here, nor the reverse;
:mod:`tiaojie.signed`). Pure: the
secret and the time are passed in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tiaojie import signed
from tiaojie.errors import Unauthenticated

__all__ = ["JcClaims", "LinkError", "issue", "verify"]

_VERSION = "jc1"


class LinkError(Unauthenticated):
    """A confirmation link that cannot be used; ``code`` says why."""


@dataclass(frozen=True, slots=True)
class JcClaims:
    application_id: str
    party_id: str
    expires_at: int  # unix seconds


_KIND = signed.LinkKind(
    version=_VERSION,
    purpose=b"tiaojie judicial confirmation link v1",
    error=LinkError,
    malformed=("malformed confirmation link", "link_malformed"),
    not_genuine=("this confirmation link is not genuine", "link_invalid"),
    expired=("this confirmation link has expired", "link_expired"),
)


def issue(claims: JcClaims, *, secret: str) -> str:
    payload = {"a": claims.application_id, "p": claims.party_id, "exp": claims.expires_at}
    return signed.seal(payload, version=_KIND.version, purpose=_KIND.purpose, secret=secret)


def verify(token: str, *, secret: str, now: datetime) -> JcClaims:
    """The claims of a genuine, unexpired link; LinkError otherwise."""
    return signed.open_link(
        token,
        _KIND,
        secret=secret,
        now=now,
        claims=lambda p: JcClaims(str(p["a"]), str(p["p"]), int(p["exp"])),
    )
