"""Rendering console pages: the language, who is looking, the shared page frame, redirects and error pages.

Every page is server-rendered from ``web/templates/console/`` with the application's jinja2 environment
(autoescaping, strict undefined). Pages carry no inline script or style: the strict Content-Security-Policy
only allows what ``/static/`` serves.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from aiohttp import web
from sqlalchemy.orm.exc import StaleDataError
from yarl import URL

from accounts.principal import Principal, PrincipalKind
from accounts.tables import Court, Organisation
from tiaojie.errors import TiaojieError, Unauthenticated
from web.app import JINJA
from web.auth import authenticate_cookie
from web.console import i18n
from web.errors import status_for
from web.services import SERVICES

__all__ = [
    "INBOX",
    "LANG_COOKIE",
    "LOGIN",
    "Viewer",
    "console_errors",
    "error_message",
    "is_console_path",
    "language",
    "login_url",
    "redirect",
    "render",
    "render_error",
    "safe_next",
    "set_language_cookie",
    "setup_static_cache",
    "viewer",
]

log = logging.getLogger(__name__)

LANG_COOKIE = "tj_lang"
_LANG_COOKIE_SECONDS = 365 * 24 * 3600
_STATIC_CACHE: web.AppKey[dict[str, str]] = web.AppKey("console_static_urls", dict)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True, slots=True)
class Viewer:
    """The logged-in console user: the principal, the session's CSRF token and where they work."""

    principal: Principal
    csrf: str
    scope_name: str | None

    @property
    def name(self) -> str:
        return self.principal.label


async def viewer(request: web.Request, *, csrf: str | None = None) -> Viewer:
    """The user behind the session cookie; raises Unauthenticated, or PermissionDenied on a bad CSRF token."""
    services = request.app[SERVICES]
    principal, token = await authenticate_cookie(request, services, csrf=csrf)
    scope_name: str | None = None
    async with services.db.read() as session:
        if principal.kind is PrincipalKind.COURT and principal.court_id:
            court = await session.get(Court, principal.court_id)
            scope_name = court.name if court else None
        elif principal.organisation_id:
            org = await session.get(Organisation, principal.organisation_id)
            scope_name = org.name if org else None
    return Viewer(principal=principal, csrf=token, scope_name=scope_name)


# --- language ------------------------------------------------------------------------------------------


def _query_language(request: web.Request) -> str | None:
    return i18n.normalise_language(request.query.get("lang"))


def language(request: web.Request) -> str:
    """``?lang=`` on this request, else the language cookie, else zh-CN."""
    return (
        _query_language(request)
        or i18n.normalise_language(request.cookies.get(LANG_COOKIE))
        or i18n.DEFAULT_LANGUAGE
    )


def set_language_cookie(response: web.StreamResponse, request: web.Request, lang: str) -> None:
    response.set_cookie(
        LANG_COOKIE,
        lang,
        max_age=_LANG_COOKIE_SECONDS,
        path="/",
        samesite="Lax",
        httponly=True,
        secure=request.app[SERVICES].settings.secure_cookies,
    )


# --- paths -------------------------------------------------------------------------------------------


INBOX = "/console/"
LOGIN = "/console/login"


def is_console_path(path: str) -> bool:
    return path in ("/", "/console") or path.startswith("/console/")


def safe_next(value: str | None) -> str:
    """``value`` if it is a console page on this site, else the inbox: never an open redirect."""
    if not value or len(value) > 2000 or not value.startswith("/") or value.startswith("//"):
        return INBOX
    if "\\" in value or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        return INBOX
    url = URL(value)
    if url.scheme or url.host or url.user:
        return INBOX
    path = url.path
    if not (path == "/console" or path.startswith("/console/")) or path.startswith(
        (LOGIN, "/console/logout")
    ):
        return INBOX
    return value


def login_url(next_path: str | None = None, **params: str) -> str:
    query: dict[str, str] = dict(params)
    if next_path and safe_next(next_path) != INBOX:
        query["next"] = next_path
    return str(URL(LOGIN).with_query(query)) if query else LOGIN


def redirect(location: str) -> web.Response:
    """303 See Other (returned, not raised, so that the security headers apply)."""
    return web.Response(status=303, headers={"Location": location})


# --- rendering -----------------------------------------------------------------------------------------


def _static_url(app: web.Application, filename: str) -> str:
    cache = app.get(_STATIC_CACHE)
    if cache is not None and filename in cache:
        return cache[filename]
    url = f"/static/{filename}"
    for resource in app.router.resources():
        if isinstance(resource, web.StaticResource) and resource.canonical == "/static":
            url = str(resource.url_for(filename=filename, append_version=True))
            break
    if cache is not None:
        cache[filename] = url
    return url


def setup_static_cache(app: web.Application) -> None:
    app[_STATIC_CACHE] = {}


def _language_links(here: str, current: str) -> list[dict[str, Any]]:
    url = URL(here)
    query = {k: v for k, v in url.query.items() if k not in ("lang", "done")}
    return [
        {
            "code": code,
            "label": i18n.translate(code, f"lang.{code}"),
            "href": str(url.with_query({**query, "lang": code})),
            "current": code == current,
        }
        for code in i18n.LANGUAGES
    ]


def render(
    request: web.Request,
    template: str,
    *,
    status: int = 200,
    who: Viewer | None = None,
    here: str | None = None,
    **context: Any,
) -> web.Response:
    """Render ``console/<template>`` in the request's language inside the page frame."""
    lang = language(request)
    if here is None:
        here = request.path_qs if request.method in ("GET", "HEAD") else INBOX
    t = partial(i18n.translate, lang)
    html = (
        request.app[JINJA]
        .get_template(f"console/{template}")
        .render(
            lang=lang,
            t=t,
            vocab=partial(i18n.vocabulary, lang),
            reason_label=partial(i18n.reason_label, lang),
            id_type_label=partial(i18n.id_type_label, lang),
            fmt_date=partial(i18n.format_date, lang),
            fmt_datetime=partial(i18n.format_datetime, lang),
            fmt_amount=partial(i18n.format_amount, lang),
            days_left=partial(i18n.days_left, lang),
            static=partial(_static_url, request.app),
            language_links=_language_links(here, lang),
            who=who,
            kind_label=t(f"kind.{who.principal.kind.value}") if who else "",
            csrf_token=who.csrf if who else "",
            **context,
        )
    )
    response = web.Response(text=html, status=status, content_type="text/html", charset="utf-8")
    response.headers["Cache-Control"] = "no-store"
    chosen = _query_language(request)
    if chosen is not None and chosen != request.cookies.get(LANG_COOKIE):
        set_language_cookie(response, request, chosen)
    return response


def error_message(lang: str, exc: TiaojieError | StaleDataError, *, action: str | None = None) -> str:
    """A sentence for the user about a refused action, in their language."""
    if isinstance(exc, StaleDataError):
        return i18n.translate(lang, "error.concurrent_update")
    code = exc.code
    if code == "csrf_failed":
        return i18n.translate(lang, "error.csrf")
    if code == "illegal_transition":
        state = str(exc.details.get("current_state", ""))
        key = f"state.{state}"
        state_label = i18n.translate(lang, key) if key in i18n.MESSAGES else state
        return i18n.translate(lang, "error.illegal_transition", state=state_label)
    field = exc.details.get("field") or getattr(exc, "field", None)
    if action and field:
        key = f"error.field.{field}.{action}"
        if key in i18n.MESSAGES:
            return i18n.translate(lang, key)
    for key in (f"error.{code}", f"error.{status_for(exc)}"):
        if key in i18n.MESSAGES:
            return i18n.translate(lang, key)
    return i18n.translate(lang, "error.400")


def render_error(
    request: web.Request,
    status: int,
    message: str,
    *,
    code: str | None = None,
    ref: str | None = None,
    who: Viewer | None = None,
) -> web.Response:
    return render(
        request, "error.html", status=status, who=who, message=message, code=code, ref=ref, here=INBOX
    )


@web.middleware
async def console_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Console paths get pages, not JSON: a login redirect, or an error page with the right status."""
    if not is_console_path(request.path):
        return await handler(request)
    lang = language(request)
    try:
        return await handler(request)
    except Unauthenticated:
        if request.method in ("GET", "HEAD"):
            return redirect(login_url(request.path_qs))
        case_id = request.match_info.get("case_id")
        return redirect(login_url(f"/console/cases/{case_id}" if case_id else None))
    except TiaojieError as exc:
        status = status_for(exc)
        return render_error(request, status, error_message(lang, exc), code=exc.code)
    except StaleDataError as exc:
        return render_error(request, 409, error_message(lang, exc), code="concurrent_update")
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        key = "error.404.page" if exc.status == 404 else f"error.{exc.status}"
        message = i18n.translate(lang, key if key in i18n.MESSAGES else "error.400")
        response = render_error(request, exc.status, message)
        if "Allow" in exc.headers:
            response.headers["Allow"] = exc.headers["Allow"]
        return response
    except Exception:
        ref = secrets.token_hex(6)
        log.exception("console error %s on %s %s", ref, request.method, request.path)
        return render_error(request, 500, i18n.translate(lang, "error.500"), ref=ref)
