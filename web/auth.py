"""Authenticating callers at the edge: bearer API keys for the API, session cookies for the console."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from aiohttp import web

from accounts.principal import Principal
from accounts.service import (
    authenticate_session,
    key_needs_touch,
    principal_for_user,
    touch_api_key,
    verify_api_key,
)
from tiaojie.errors import PermissionDenied, Unauthenticated
from web.services import SERVICES, Services

__all__ = [
    "CSRF_HEADER",
    "SESSION_COOKIE",
    "KeyCache",
    "authenticate",
    "authenticate_bearer",
    "authenticate_cookie",
    "client_ip",
]

SESSION_COOKIE = "tj_session"
CSRF_HEADER = "X-CSRF-Token"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

log = logging.getLogger(__name__)

KEY_CACHE_SECONDS = 30.0


@dataclass(slots=True)
class _Cached:
    principal: Principal
    expires: float
    caller: Principal | None = None  # the principal with the last caller's address and user agent


class KeyCache:
    """Recently verified API keys (by the hash of the whole token), so that a busy court system's every
    request does not go to the database. Concurrent requests with a key not in the cache wait for one
    lookup instead of each doing their own. A revoked key stops working within KEY_CACHE_SECONDS."""

    def __init__(self, ttl: float = KEY_CACHE_SECONDS, max_entries: int = 10_000) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._entries: dict[str, _Cached] = {}
        self._pending: dict[str, asyncio.Future[Principal]] = {}
        self.background: set[asyncio.Task[None]] = set()  # last-use writes; awaited before shutdown

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self.background.add(task)
        task.add_done_callback(self.background.discard)

    async def drain(self) -> None:
        """Wait for the background writes still running (the application is stopping)."""
        if self.background:
            await asyncio.gather(*self.background, return_exceptions=True)

    def get(self, token_hash: str) -> Principal | None:
        entry = self._entries.get(token_hash)
        if entry is None:
            return None
        if entry.expires < time.monotonic():
            del self._entries[token_hash]
            return None
        return entry.principal

    def put(self, token_hash: str, principal: Principal) -> None:
        if len(self._entries) >= self.max_entries:
            self._entries.clear()
        self._entries[token_hash] = _Cached(principal, time.monotonic() + self.ttl)

    async def lookup(self, token_hash: str, verify: Callable[[], Awaitable[Principal]]) -> Principal:
        cached = self.get(token_hash)
        if cached is not None:
            return cached
        pending = self._pending.get(token_hash)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[Principal] = asyncio.get_running_loop().create_future()
        self._pending[token_hash] = future
        try:
            principal = await verify()
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: waiters re-raise it, nobody else needs it
            raise
        else:
            future.set_result(principal)
            self.put(token_hash, principal)
            return principal
        finally:
            del self._pending[token_hash]

    def for_caller(
        self, token_hash: str, principal: Principal, ip: str | None, agent: str | None
    ) -> Principal:
        """``principal`` with the caller's address and user agent (the last such copy is kept with the entry:
        a system's requests come from the same place)."""
        entry = self._entries.get(token_hash)
        if entry is None or entry.principal is not principal:
            return replace(principal, ip=ip, user_agent=agent)
        caller = entry.caller
        if caller is None or caller.ip != ip or caller.user_agent != agent:
            caller = entry.caller = replace(principal, ip=ip, user_agent=agent)
        return caller

    def clear(self) -> None:
        self._entries.clear()


KEY_CACHE = web.AppKey("key_cache", KeyCache)


def client_ip(request: web.Request) -> str | None:
    return request.remote


async def authenticate_bearer(request: web.Request, services: Services | None = None) -> Principal:
    services = services or request.app[SERVICES]
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("send an API key as 'Authorization: Bearer <key>'", code="unauthenticated")
    token = token.strip()
    if len(token) > 200:
        raise Unauthenticated("malformed API key", code="invalid_api_key")
    cache = request.app[KEY_CACHE]
    token_hash = hashlib.sha256(token.encode()).hexdigest()
    principal = await cache.lookup(token_hash, lambda: _verify(services, cache, token))
    user_agent = request.headers.get("User-Agent", "")[:300] or None
    return cache.for_caller(token_hash, principal, client_ip(request), user_agent)


async def _verify(services: Services, cache: KeyCache, token: str) -> Principal:
    """Check a key against the database (a lean read unit); note its use now and then in the background."""
    now = services.clock.now()
    async with services.db.rows() as rows:
        verified = await verify_api_key(rows, token)
    if key_needs_touch(verified.last_used_at, now):
        cache.spawn(_touch(services, verified.principal.id, now))
    return verified.principal


async def _touch(services: Services, key_id: str, now: datetime) -> None:
    try:
        async with services.db.session() as session:
            await touch_api_key(session, key_id, now=now)
    except Exception:
        log.warning("could not record the use of API key %s", key_id, exc_info=True)


async def authenticate_cookie(
    request: web.Request, services: Services | None = None, *, csrf: str | None = None
) -> tuple[Principal, str]:
    """The console user behind the session cookie, and the session's CSRF token.

    For a method that changes something, ``csrf`` (from the X-CSRF-Token header or a form field) must
    equal the session's token.
    """
    services = services or request.app[SERVICES]
    token = request.cookies.get(SESSION_COOKIE)
    if not token or len(token) > 200:
        raise Unauthenticated("log in first", code="unauthenticated")
    user_agent = request.headers.get("User-Agent", "")[:300] or None
    async with services.db.read() as session:
        user, web_session = await authenticate_session(session, token, now=services.clock.now())
        principal = await principal_for_user(session, user, ip=client_ip(request), user_agent=user_agent)
    if request.method not in _SAFE_METHODS and (
        csrf is None or not hmac.compare_digest(csrf.encode(), web_session.csrf_token.encode())
    ):
        raise PermissionDenied("missing or wrong CSRF token", code="csrf_failed")
    return principal, web_session.csrf_token


async def authenticate(request: web.Request, services: Services | None = None) -> Principal:
    """API callers: a bearer key, or a console session cookie with the CSRF header on changes."""
    if "Authorization" in request.headers or SESSION_COOKIE not in request.cookies:
        return await authenticate_bearer(request, services)
    principal, _ = await authenticate_cookie(request, services, csrf=request.headers.get(CSRF_HEADER))
    return principal
