"""Party links to a case's recordings: signed, expiring, bound to one case, one party and the party's role.

A token is ``pr1.<payload>.<signature>``: the payload is base64url JSON ``{"c": case, "p": party, "r": role,
"s": side, "exp": unix seconds}``, the signature base64url HMAC-SHA256 over ``pr1.<payload>`` with a key
derived from the service's secret for this purpose only (:mod:`tiaojie.signed`): a room's join link or a
judicial-confirmation link is never accepted here, nor the reverse. The role and side are checked again
against the party as stored when the link is used (:mod:`recordings.party_access`), so a party whose role
changed, or who was removed from the case, loses access. Pure: the secret and the time are passed in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tiaojie import signed
from tiaojie.errors import Unauthenticated

__all__ = ["PartyLinkClaims", "PartyLinkError", "issue", "verify"]


class PartyLinkError(Unauthenticated):
    """A recordings link that cannot be used; ``code`` says why (``link_malformed``, ``link_invalid``,
    ``link_expired``, ``link_wrong_party``)."""


@dataclass(frozen=True, slots=True)
class PartyLinkClaims:
    case_id: str
    party_id: str
    role: str  # the party's role in the case: principal, agent, legal_representative
    side: str  # applicant or respondent
    expires_at: int  # unix seconds


_KIND = signed.LinkKind(
    version="pr1",
    purpose=b"tiaojie party recordings link v1",
    error=PartyLinkError,
    malformed=("malformed recordings link", "link_malformed"),
    not_genuine=("this recordings link is not genuine", "link_invalid"),
    expired=("this recordings link has expired", "link_expired"),
)


def issue(claims: PartyLinkClaims, *, secret: str) -> str:
    payload = {
        "c": claims.case_id,
        "p": claims.party_id,
        "r": claims.role,
        "s": claims.side,
        "exp": claims.expires_at,
    }
    return signed.seal(payload, version=_KIND.version, purpose=_KIND.purpose, secret=secret)


def verify(token: str, *, secret: str, now: datetime) -> PartyLinkClaims:
    """The claims of a genuine, unexpired link; PartyLinkError otherwise."""
    return signed.open_link(
        token,
        _KIND,
        secret=secret,
        now=now,
        claims=lambda p: PartyLinkClaims(str(p["c"]), str(p["p"]), str(p["r"]), str(p["s"]), int(p["exp"])),
    )
