"""Creating courts, organisations, users and keys; authenticating API keys, passwords and sessions."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.principal import AuthMethod, Principal, PrincipalKind, Role
from accounts.tables import ApiKey, Court, Organisation, User, WebSession
from store.rows import AsyncRows, Rows
from tiaojie.errors import Conflict, InvalidInput, NotFound, Unauthenticated
from tiaojie.ids import is_id, new_id

__all__ = [
    "CourtLevel",
    "IssuedKey",
    "LoginResult",
    "OrganisationKind",
    "VerifiedKey",
    "authenticate_session",
    "create_api_key",
    "create_court",
    "create_organisation",
    "create_user",
    "hash_password",
    "key_needs_touch",
    "login",
    "logout",
    "organisation_subtree",
    "principal_for_user",
    "revoke_api_key",
    "touch_api_key",
    "verify_api_key",
    "verify_password",
]

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("not-a-real-password")


class CourtLevel:
    BASIC = "basic"
    INTERMEDIATE = "intermediate"
    HIGH = "high"
    ALL = (BASIC, INTERMEDIATE, HIGH)


class OrganisationKind:
    UNION = "union"  # 工会 (city or county legal department)
    MEDIATION_ORG = "mediation_org"  # 调解组织
    ALL = (UNION, MEDIATION_ORG)


def hash_password(password: str) -> str:
    if len(password) < 10:
        raise InvalidInput(
            "password must have at least 10 characters", field="password", code="weak_password"
        )
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


async def create_court(
    session: AsyncSession, *, name: str, code: str, level: str, now: datetime, region: str | None = None
) -> Court:
    if level not in CourtLevel.ALL:
        raise InvalidInput(f"court level must be one of {', '.join(CourtLevel.ALL)}", field="level")
    if await session.scalar(select(Court.id).where(Court.code == code)):
        raise Conflict(f"a court with code {code} exists", code="duplicate")
    court = Court(id=new_id("crt"), name=name, code=code, level=level, region=region, created_at=now)
    session.add(court)
    await session.flush()
    return court


async def create_organisation(
    session: AsyncSession,
    *,
    name: str,
    kind: str,
    now: datetime,
    parent_id: str | None = None,
    credit_code: str | None = None,
    address: str | None = None,
    contact_name: str | None = None,
    contact_phone: str | None = None,
    profile: str | None = None,
) -> Organisation:
    if kind not in OrganisationKind.ALL:
        raise InvalidInput(
            f"organisation kind must be one of {', '.join(OrganisationKind.ALL)}", field="kind"
        )
    if parent_id is not None and await session.get(Organisation, parent_id) is None:
        raise NotFound("parent organisation not found", field="parent_id")
    org = Organisation(
        id=new_id("org"),
        name=name,
        kind=kind,
        parent_id=parent_id,
        credit_code=credit_code,
        address=address,
        contact_name=contact_name,
        contact_phone=contact_phone,
        profile=profile,
        created_at=now,
        updated_at=now,
    )
    session.add(org)
    await session.flush()
    return org


_ORGANISATIONS = Organisation.__table__
_CHILDREN = select(_ORGANISATIONS.c.id).where(
    _ORGANISATIONS.c.parent_id.in_(bindparam("parents", expanding=True))
)


async def organisation_subtree(rows: Rows, root_id: str) -> frozenset[str]:
    """``root_id`` and every organisation below it."""
    found = {root_id}
    frontier = [root_id]
    while frontier:
        children = [row[0] for row in await rows.all(_CHILDREN, {"parents": frontier})]
        frontier = [child for child in children if child not in found]
        found.update(frontier)
    return frozenset(found)


async def create_user(
    session: AsyncSession,
    *,
    username: str,
    display_name: str,
    password: str,
    role: Role,
    now: datetime,
    court_id: str | None = None,
    organisation_id: str | None = None,
    mediator_id: str | None = None,
    language: str = "zh-CN",
) -> User:
    if role is Role.COURT_ADMIN and (court_id is None or organisation_id is not None):
        raise InvalidInput("a court admin belongs to exactly one court", field="court_id")
    if role is Role.UNION_ADMIN and (organisation_id is None or court_id is not None):
        raise InvalidInput("a union admin belongs to exactly one organisation", field="organisation_id")
    if role is Role.MEDIATOR and mediator_id is None:
        raise InvalidInput("a mediator user needs a mediator profile", field="mediator_id")
    if await session.scalar(select(User.id).where(User.username == username)):
        raise Conflict(f"user {username} exists", code="duplicate")
    user = User(
        id=new_id("usr"),
        username=username,
        display_name=display_name,
        password_hash=hash_password(password),
        role=role.value,
        court_id=court_id,
        organisation_id=organisation_id,
        mediator_id=mediator_id,
        language=language,
        is_active=True,
        failed_logins=0,
        created_at=now,
    )
    session.add(user)
    await session.flush()
    return user


@dataclass(frozen=True, slots=True)
class IssuedKey:
    key: ApiKey
    token: str  # shown once; only its hash is stored


async def create_api_key(
    session: AsyncSession,
    *,
    name: str,
    now: datetime,
    court_id: str | None = None,
    organisation_id: str | None = None,
    created_by: str | None = None,
) -> IssuedKey:
    if (court_id is None) == (organisation_id is None):
        raise InvalidInput("an API key is bound to exactly one court or one organisation", field="scope")
    if court_id is not None and await session.get(Court, court_id) is None:
        raise NotFound("court not found", field="court_id")
    if organisation_id is not None and await session.get(Organisation, organisation_id) is None:
        raise NotFound("organisation not found", field="organisation_id")
    secret = secrets.token_urlsafe(32)
    key = ApiKey(
        id=new_id("key"),
        name=name,
        secret_hash=_sha256(secret),
        court_id=court_id,
        organisation_id=organisation_id,
        created_at=now,
        created_by=created_by,
    )
    session.add(key)
    await session.flush()
    return IssuedKey(key=key, token=f"{key.id}.{secret}")


async def revoke_api_key(session: AsyncSession, key_id: str, *, now: datetime) -> None:
    key = await session.get(ApiKey, key_id)
    if key is None:
        raise NotFound("API key not found")
    key.revoked_at = now


@dataclass(frozen=True, slots=True)
class VerifiedKey:
    principal: Principal
    last_used_at: datetime | None


_KEYS = ApiKey.__table__
_KEY = select(
    _KEYS.c.id,
    _KEYS.c.name,
    _KEYS.c.secret_hash,
    _KEYS.c.court_id,
    _KEYS.c.organisation_id,
    _KEYS.c.revoked_at,
    _KEYS.c.last_used_at,
).where(_KEYS.c.id == bindparam("key_id"))


async def verify_api_key(rows: Rows, token: str) -> VerifiedKey:
    """The principal of a valid, unrevoked key (without the caller's address), and when it was last used."""
    key_id, _, secret = token.partition(".")
    if not secret or not is_id(key_id, "key"):
        raise Unauthenticated("malformed API key", code="invalid_api_key")
    found = await rows.all(_KEY, {"key_id": key_id})
    if not found:
        raise Unauthenticated("unknown or revoked API key", code="invalid_api_key")
    _, name, secret_hash, court_id, organisation_id, revoked_at, last_used_at = found[0]
    if revoked_at is not None or not hmac.compare_digest(secret_hash, _sha256(secret)):
        raise Unauthenticated("unknown or revoked API key", code="invalid_api_key")
    scope: dict[str, Any] = {"kind": PrincipalKind.COURT, "court_id": court_id}
    if court_id is None:
        assert organisation_id is not None
        subtree = await organisation_subtree(rows, organisation_id)
        scope = {"kind": PrincipalKind.UNION, "organisation_id": organisation_id, "organisation_ids": subtree}
    principal = Principal(id=key_id, label=f"api-key:{name}", auth_method=AuthMethod.API_KEY, **scope)
    return VerifiedKey(principal, last_used_at)


def key_needs_touch(key_last_used: datetime | None, now: datetime) -> bool:
    """``last_used_at`` is kept to within five minutes, so a busy key does not write on every request."""
    return key_last_used is None or now - key_last_used > timedelta(minutes=5)


async def touch_api_key(session: AsyncSession, key_id: str, *, now: datetime) -> None:
    await session.execute(update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=now))


async def principal_for_user(
    session: AsyncSession, user: User, *, ip: str | None = None, user_agent: str | None = None
) -> Principal:
    role = Role(user.role)
    base = Principal(
        kind=PrincipalKind.OPERATOR,
        id=user.id,
        label=f"{user.display_name} ({user.username})",
        auth_method=AuthMethod.PASSWORD_SESSION,
        user_id=user.id,
        ip=ip,
        user_agent=user_agent,
    )
    if role is Role.COURT_ADMIN:
        return replace(base, kind=PrincipalKind.COURT, court_id=user.court_id)
    if role is Role.UNION_ADMIN:
        assert user.organisation_id is not None
        subtree = await organisation_subtree(AsyncRows(session), user.organisation_id)
        return replace(
            base, kind=PrincipalKind.UNION, organisation_id=user.organisation_id, organisation_ids=subtree
        )
    if role is Role.MEDIATOR:
        from cases.tables import Mediator

        mediator = await session.get(Mediator, user.mediator_id)
        org_id = mediator.organisation_id if mediator else None
        return replace(
            base,
            kind=PrincipalKind.MEDIATOR,
            mediator_id=user.mediator_id,
            organisation_id=org_id,
            organisation_ids=frozenset({org_id}) if org_id else frozenset(),
        )
    return base


@dataclass(frozen=True, slots=True)
class LoginResult:
    user: User
    token: str  # the cookie value
    csrf_token: str
    expires_at: datetime


async def login(
    session: AsyncSession,
    *,
    username: str,
    password: str,
    now: datetime,
    ttl: timedelta,
    max_failures: int,
    lockout: timedelta,
    ip: str | None = None,
    user_agent: str | None = None,
) -> LoginResult | Unauthenticated:
    """A new console session, or the refusal to raise *after* the caller commits (a wrong password is
    counted, and the count must survive the refusal)."""
    user = await session.scalar(select(User).where(User.username == username))
    if user is None:
        verify_password(_DUMMY_HASH, password)  # same cost whether or not the user exists
        return Unauthenticated("wrong username or password", code="invalid_credentials")
    if not user.is_active:
        return Unauthenticated("wrong username or password", code="invalid_credentials")
    if user.locked_until is not None and user.locked_until > now:
        return Unauthenticated("too many failed logins; try again later", code="account_locked")
    if not verify_password(user.password_hash, password):
        user.failed_logins += 1
        if user.failed_logins >= max_failures:
            user.locked_until = now + lockout
            user.failed_logins = 0
            return Unauthenticated("too many failed logins; try again later", code="account_locked")
        return Unauthenticated("wrong username or password", code="invalid_credentials")
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    expires = now + ttl
    session.add(
        WebSession(
            token_hash=_sha256(token),
            user_id=user.id,
            csrf_token=csrf,
            created_at=now,
            expires_at=expires,
            ip=ip,
            user_agent=(user_agent or "")[:300] or None,
        )
    )
    await session.flush()
    return LoginResult(user=user, token=token, csrf_token=csrf, expires_at=expires)


async def authenticate_session(
    session: AsyncSession, token: str, *, now: datetime
) -> tuple[User, WebSession]:
    web_session = await session.get(WebSession, _sha256(token))
    if web_session is None or web_session.expires_at <= now:
        raise Unauthenticated("session expired; please log in again", code="session_expired")
    user = await session.get(User, web_session.user_id)
    if user is None or not user.is_active:
        raise Unauthenticated("session expired; please log in again", code="session_expired")
    return user, web_session


async def logout(session: AsyncSession, token: str) -> None:
    web_session = await session.get(WebSession, _sha256(token))
    if web_session is not None:
        await session.delete(web_session)
