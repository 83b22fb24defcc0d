"""The session page: what a personal join link (``/j#<token>``) opens, for a party or for the mediator.

Served at ``GET /j`` as a server-rendered frame (``web/templates/client/party.html``) in Simplified Chinese
(default) or English, with the script bundled from ``web/client/`` into ``web/static/client/`` by
``scripts/lib.sh build_client``. The token stays in the URL fragment: the page reads it from
``location.hash`` and hands it to the room protocol (``docs/protocol.md``); it never reaches this handler.

Every string the page shows, static or shown later by the script, is in :data:`MESSAGES`
(``web/client_messages.py``) in both languages; the script gets those of the page's language as a JSON
data block (not executed, so the strict Content-Security-Policy holds).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Final

from aiohttp import web

from web.client_messages import MESSAGES
from web.console.i18n import DEFAULT_LANGUAGE, EN, LANGUAGES, ZH, normalise_language

__all__ = [
    "BUNDLE",
    "LANG_COOKIE",
    "MESSAGES",
    "page_language",
    "render_party_page",
    "setup_client",
    "static_version",
]

BUNDLE: Final = Path(__file__).with_name("static") / "client" / "party.js"
STYLES: Final = Path(__file__).with_name("static") / "party.css"
LANG_COOKIE: Final = "tj_lang"


def page_language(request: web.Request) -> str:
    """The page's language: ``?lang=``, else the language cookie, else Simplified Chinese."""
    return (
        normalise_language(request.query.get("lang"))
        or normalise_language(request.cookies.get(LANG_COOKIE))
        or DEFAULT_LANGUAGE
    )


def static_version(path: Path) -> str:
    try:
        return str(int(path.stat().st_mtime))
    except OSError:
        return "0"


def render_party_page(
    request: web.Request, template: str, messages: Mapping[str, Mapping[str, str]], **context: object
) -> web.Response:
    """A party page's frame (``web/templates/<template>``) in the request's language: its strings as ``t``
    and, for the script, as a JSON data block (``strings_json``); not cached; a ``?lang=`` choice kept in the
    language cookie."""
    from web.app import JINJA

    lang = page_language(request)
    strings = {key: texts[lang] for key, texts in messages.items()}
    html = (
        request.app[JINJA]
        .get_template(template)
        .render(
            lang=lang,
            other=EN if lang == ZH else ZH,
            t=strings,
            strings_json=json.dumps(strings, ensure_ascii=False).replace("<", "\\u003c"),
            **context,
        )
    )
    response = web.Response(text=html, content_type="text/html")
    response.headers["Cache-Control"] = "no-store"
    if request.query.get("lang") and lang in LANGUAGES:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 24 * 3600, samesite="Lax", path="/")
    return response


async def party_page(request: web.Request) -> web.Response:
    response = render_party_page(
        request,
        "client/party.html",
        MESSAGES,
        script=f"/static/client/party.js?v={static_version(BUNDLE)}",
        styles=f"/static/party.css?v={static_version(STYLES)}",
        bundle_missing=not BUNDLE.is_file(),
    )
    response.headers["Permissions-Policy"] = "camera=(self), microphone=(self), display-capture=(self)"
    return response


def setup_client(app: web.Application) -> None:
    app.router.add_get("/j", party_page, name="party")
