"""Who is calling, and the scope that bounds everything they may see or do."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

__all__ = ["AuthMethod", "Principal", "PrincipalKind", "Role"]


class Role(StrEnum):
    """Console user roles."""

    SYSADMIN = "sysadmin"  # operates the service; creates courts and organisations
    COURT_ADMIN = "court_admin"  # a court's case-filing division or civil division III
    UNION_ADMIN = "union_admin"  # a trade union's legal department
    MEDIATOR = "mediator"  # a roster mediator


class PrincipalKind(StrEnum):
    COURT = "court"  # a court's system or a court user
    UNION = "union"  # a union's system or a union user (an organisation and everything under it)
    MEDIATOR = "mediator"
    OPERATOR = "operator"  # a sysadmin in the console: runs the service, sees no case or roster data
    SYSTEM = "system"  # the service itself (deadline sweeper) or an operator on the command line
    PARTY = "party"  # a party acting through a personal signing link: sees no case through the API


class AuthMethod(StrEnum):
    API_KEY = "api_key"
    PASSWORD_SESSION = "password_session"  # noqa: S105 - a method name, not a password
    SYSTEM = "system"
    SIGNING_LINK = "signing_link"  # a party's signed, expiring agreement-signing link
    PARTY_LINK = "party_link"  # a party's other signed links (judicial confirmation, recordings)


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller.

    ``organisation_ids`` is the organisation a union principal is bound to plus every organisation under it;
    a mediator principal carries its own organisation for reading the roster.
    """

    kind: PrincipalKind
    id: str  # user id, API key id, or "system"
    label: str  # human-readable, for audit entries
    auth_method: AuthMethod
    court_id: str | None = None
    organisation_id: str | None = None
    organisation_ids: frozenset[str] = field(default_factory=frozenset)
    mediator_id: str | None = None
    user_id: str | None = None
    ip: str | None = None
    user_agent: str | None = None

    @property
    def visibility_key(self) -> tuple[object, ...]:
        """Everything about the caller that decides what an answer shows (not where the request came from)."""
        return (
            self.kind,
            self.id,
            self.auth_method,
            self.court_id,
            self.organisation_id,
            self.organisation_ids,
            self.mediator_id,
            self.user_id,
        )

    @property
    def audit_key(self) -> str:
        """Stable owner key for idempotency records and rate limits."""
        return f"{self.auth_method}:{self.id}"

    @classmethod
    def system(cls, label: str = "system") -> Principal:
        return cls(kind=PrincipalKind.SYSTEM, id="system", label=label, auth_method=AuthMethod.SYSTEM)

    @classmethod
    def party(cls, party_id: str, name: str, *, ip: str | None, user_agent: str | None) -> Principal:
        """A party of a case acting through a signed link (a party has no account: the link is the
        credential); the actor of the audit entries of what they do."""
        return cls(
            kind=PrincipalKind.PARTY,
            id=party_id,
            label=f"当事人 {name}",
            auth_method=AuthMethod.PARTY_LINK,
            ip=ip,
            user_agent=user_agent,
        )
