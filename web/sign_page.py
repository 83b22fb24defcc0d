"""The party's signing page: what a signing link (``<base>/sign#<token>``) opens.

A party has no account: the signed token in the URL fragment is the credential; the browser never sends a
fragment to a server, so it stays out of logs and ``Referer`` headers. The page's script
(``web/static/sign.js``, with the signature pad ``web/static/signature_pad.js``) reads it and calls the party
API under ``/sign/api`` (:mod:`web.sign_api`) with ``Authorization: Bearer <token>``: the round, the exact PDF
(shown by the browser's own PDF viewer from a ``blob:`` URL, with its SHA-256 checked in the browser), a
one-time code, the drawn signature, or a refusal with a reason.

Simplified Chinese (default) or English (``?lang=en``, or the language cookie), from 360 px wide. Every
string is in :data:`web.sign_messages.MESSAGES`; the script gets those of the page's language as a JSON data
block. The Content-Security-Policy is the site's, plus ``blob:`` frames and objects for the PDF.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from aiohttp import web

from web.client_page import render_party_page, static_version
from web.sign_messages import MESSAGES

__all__ = ["CSP", "setup_sign_page"]

_STATIC: Final = Path(__file__).with_name("static")
SCRIPT: Final = _STATIC / "sign.js"
PAD: Final = _STATIC / "signature_pad.js"
STYLES: Final = _STATIC / "party.css"
EXTRA_STYLES: Final = _STATIC / "sign.css"

CSP: Final = (
    "default-src 'self'; img-src 'self' data: blob:; frame-src 'self' blob:; object-src 'self' blob:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)
"""The site's policy, plus the PDF from a ``blob:`` URL in a frame (Chromium's viewer counts as a plugin)."""


def _versioned(path: Path) -> str:
    return f"/static/{path.name}?v={static_version(path)}"


async def page(request: web.Request) -> web.Response:
    response = render_party_page(
        request,
        "client/sign.html",
        MESSAGES,
        pad=_versioned(PAD),
        script=_versioned(SCRIPT),
        styles=_versioned(STYLES),
        extra_styles=_versioned(EXTRA_STYLES),
    )
    response.headers["Content-Security-Policy"] = CSP
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def setup_sign_page(app: web.Application) -> None:
    app.router.add_get("/sign", page)
