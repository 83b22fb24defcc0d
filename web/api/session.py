"""Console sessions as JSON, for the browser client: log in, who am I, log out."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from aiohttp import web
from pydantic import AfterValidator, BaseModel, Field, ValidationError

from accounts.service import login, logout
from tiaojie.errors import InvalidInput, Unauthenticated
from web.auth import SESSION_COOKIE, authenticate_cookie, client_ip
from web.services import SERVICES, Services

__all__ = ["LoginIn", "do_login", "set_session_cookie", "setup_session_routes"]


def _storable(value: str) -> str:
    """NUL cannot be looked up in PostgreSQL, and an unpaired surrogate cannot be encoded for hashing."""
    if "\x00" in value or any("\ud800" <= char <= "\udfff" for char in value):
        raise ValueError("must not contain NUL characters or unpaired surrogates")
    return value


class LoginIn(BaseModel):
    username: Annotated[str, Field(min_length=1, max_length=64), AfterValidator(_storable)]
    password: Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_storable)]


def set_session_cookie(response: web.StreamResponse, services: Services, token: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=services.settings.session_ttl_hours * 3600,
        httponly=True,
        secure=services.settings.secure_cookies,
        samesite="Lax",
        path="/",
    )


def clear_session_cookie(response: web.StreamResponse, services: Services) -> None:
    """Deletes the session cookie with the attributes it was set with (a Secure cookie stays Secure)."""
    response.del_cookie(
        SESSION_COOKIE, path="/", secure=services.settings.secure_cookies, httponly=True, samesite="Lax"
    )


async def do_login(request: web.Request, data: LoginIn) -> tuple[str, str, str]:
    """Returns (cookie token, CSRF token, user's language)."""
    services = request.app[SERVICES]
    settings = services.settings
    async with services.db.session() as session:
        result = await login(
            session,
            username=data.username,
            password=data.password,
            now=services.clock.now(),
            ttl=timedelta(hours=settings.session_ttl_hours),
            max_failures=settings.login_max_failures,
            lockout=timedelta(minutes=settings.login_lockout_minutes),
            ip=client_ip(request),
            user_agent=request.headers.get("User-Agent"),
        )
    if isinstance(result, Unauthenticated):
        raise result
    return result.token, result.csrf_token, result.user.language


async def session_login(request: web.Request) -> web.Response:
    if request.content_type != "application/json":
        raise web.HTTPUnsupportedMediaType(reason="send application/json")
    try:
        data = LoginIn.model_validate_json(await request.read())
    except ValidationError:
        raise InvalidInput("username and password are required", code="validation_failed") from None
    token, csrf, language = await do_login(request, data)
    response = web.json_response({"csrf_token": csrf, "language": language})
    set_session_cookie(response, request.app[SERVICES], token)
    return response


async def session_logout(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    await authenticate_cookie(request, services, csrf=request.headers.get("X-CSRF-Token"))
    async with services.db.session() as session:
        await logout(session, request.cookies[SESSION_COOKIE])
    response = web.Response(status=204)
    clear_session_cookie(response, services)
    return response


def setup_session_routes(app: web.Application) -> None:
    app.router.add_post("/api/v1/session", session_login)
    app.router.add_delete("/api/v1/session", session_logout)
