"""Logging in and out of the console, and the site root."""

from __future__ import annotations

from aiohttp import web
from pydantic import ValidationError

from accounts.service import logout
from tiaojie.errors import Unauthenticated
from web.api.session import LoginIn, clear_session_cookie, do_login, set_session_cookie
from web.auth import SESSION_COOKIE
from web.console import i18n
from web.console.forms import read_form, text
from web.console.login_token import LOGIN_COOKIE, LoginTokens
from web.console.pages import (
    INBOX,
    LANG_COOKIE,
    LOGIN,
    language,
    redirect,
    render,
    safe_next,
    set_language_cookie,
    viewer,
)
from web.services import SERVICES

__all__ = ["LOGIN_TOKENS", "login_form", "login_submit", "logout_submit", "root"]

LOGIN_TOKENS = web.AppKey("console_login_tokens", LoginTokens)


def _now(request: web.Request) -> float:
    return request.app[SERVICES].clock.now().timestamp()


def _login_page(
    request: web.Request,
    *,
    status: int = 200,
    error: str | None = None,
    notice: str | None = None,
    username: str = "",
    next_path: str = INBOX,
) -> web.Response:
    """The login form with a fresh token bound to the pre-session cookie (set here when missing)."""
    tokens = request.app[LOGIN_TOKENS]
    nonce = request.cookies.get(LOGIN_COOKIE)
    fresh = not nonce or len(nonce) > 100
    if fresh:
        nonce = tokens.new_nonce()
    assert nonce is not None
    response = render(
        request,
        "login.html",
        status=status,
        here=str(request.rel_url.with_query({"next": next_path})) if next_path != INBOX else LOGIN,
        login_token=tokens.token(nonce, _now(request)),
        error=error,
        notice=notice,
        username=username,
        next_path=next_path,
    )
    if fresh:
        response.set_cookie(
            LOGIN_COOKIE,
            nonce,
            max_age=tokens.max_age,
            path=LOGIN,
            httponly=True,
            samesite="Strict",
            secure=request.app[SERVICES].settings.secure_cookies,
        )
    return response


async def root(request: web.Request) -> web.StreamResponse:
    if SESSION_COOKIE in request.cookies:
        try:
            await viewer(request)
        except Unauthenticated:
            return redirect(LOGIN)
        return redirect(INBOX)
    return redirect(LOGIN)


async def login_form(request: web.Request) -> web.StreamResponse:
    next_path = safe_next(request.query.get("next"))
    if SESSION_COOKIE in request.cookies:
        try:
            await viewer(request)
        except Unauthenticated:
            pass
        else:
            return redirect(next_path)
    lang = language(request)
    notice = None
    if request.query.get("done") == "logout":
        notice = i18n.translate(lang, "login.logged_out")
    elif "next" in request.query:
        notice = i18n.translate(lang, "login.session_expired")
    return _login_page(request, notice=notice, next_path=next_path)


async def login_submit(request: web.Request) -> web.StreamResponse:
    form = await read_form(request)
    lang = language(request)
    username = text(form, "username", limit=64) or ""
    password = text(form, "password", limit=200, strip=False) or ""
    next_path = safe_next(text(form, "next", limit=2000))
    tokens = request.app[LOGIN_TOKENS]
    if not tokens.valid(
        request.cookies.get(LOGIN_COOKIE), text(form, "csrf_token", limit=200), _now(request)
    ):
        return _login_page(
            request,
            status=403,
            error=i18n.translate(lang, "login.expired"),
            username=username,
            next_path=next_path,
        )
    if not username or not password:
        return _login_page(
            request,
            status=422,
            error=i18n.translate(lang, "login.required"),
            username=username,
            next_path=next_path,
        )
    try:
        credentials = LoginIn(username=username, password=password)
    except ValidationError:  # longer than any username or password can be
        return _login_page(
            request, status=401, error=i18n.translate(lang, "login.invalid"), username="", next_path=next_path
        )
    try:
        token, _csrf, user_language = await do_login(request, credentials)
    except Unauthenticated as exc:
        if exc.code == "account_locked":
            minutes = request.app[SERVICES].settings.login_lockout_minutes
            message = i18n.translate(lang, "login.locked", minutes=minutes)
        else:
            message = i18n.translate(lang, "login.invalid")
        return _login_page(request, status=401, error=message, username=username, next_path=next_path)
    response = redirect(next_path)
    set_session_cookie(response, request.app[SERVICES], token)
    response.del_cookie(
        LOGIN_COOKIE,
        path=LOGIN,
        secure=request.app[SERVICES].settings.secure_cookies,
        httponly=True,
        samesite="Strict",
    )
    chosen = i18n.normalise_language(user_language)
    if request.cookies.get(LANG_COOKIE) is None and chosen is not None:
        set_language_cookie(response, request, chosen)
    return response


async def logout_submit(request: web.Request) -> web.StreamResponse:
    form = await read_form(request)
    if SESSION_COOKIE not in request.cookies:
        return redirect(LOGIN)
    await viewer(request, csrf=text(form, "csrf_token", limit=200))
    services = request.app[SERVICES]
    async with services.db.session() as session:
        await logout(session, request.cookies[SESSION_COOKIE])
    response = redirect(f"{LOGIN}?done=logout")
    clear_session_cookie(response, services)
    return response
