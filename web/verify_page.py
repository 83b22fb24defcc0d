"""The public verify page: what the QR code on a sealed agreement opens (``/verify#<code>``).

A static frame (``web/templates/verify.html``) in Simplified Chinese with English beside it, and a script
(``web/static/verify.js``) that calls the public API (``GET /api/v1/verify/{code}``, ``POST
/api/v1/verify``) without credentials, so the page shows what anyone may see. The code stays in the URL
fragment until the script asks the API. Also sets up the per-address limits of those API routes.
"""

from __future__ import annotations

from aiohttp import web

from web.api.verify import VERIFY_LIMITS, VerifyLimits
from web.services import SERVICES

__all__ = ["setup_verify_page"]


async def verify_page(request: web.Request) -> web.Response:
    from web.app import JINJA

    html = (
        request.app[JINJA]
        .get_template("verify.html")
        .render(styles="/static/party.css", verify_styles="/static/verify.css", script="/static/verify.js")
    )
    return web.Response(text=html, content_type="text/html", headers={"Cache-Control": "no-store"})


def setup_verify_page(app: web.Application) -> None:
    app[VERIFY_LIMITS] = VerifyLimits(app[SERVICES].settings.verify_per_minute)
    app.router.add_get("/verify", verify_page)
