"""The console's routes: login and logout, the inbox, the case page with its action forms, materials,
recordings, the court's webhook delivery log, and the statistics page."""

from __future__ import annotations

from aiohttp import web

from web.console.agreement_page import register_agreement_routes
from web.console.case_page import case_page, download_material, register_actions
from web.console.inbox import inbox
from web.console.login import LOGIN_TOKENS, login_form, login_submit, logout_submit, root
from web.console.login_token import LoginTokens
from web.console.pages import console_errors, redirect, setup_static_cache
from web.console.recording_actions import register_recording_routes
from web.console.signing_page import register_signing_routes
from web.console.statistics_page import statistics_page
from web.console.webhooks_page import redeliver_submit, webhooks_page
from web.services import SERVICES

__all__ = ["setup"]


async def _console_bare(request: web.Request) -> web.StreamResponse:
    return redirect("/console/" + (f"?{request.query_string}" if request.query_string else ""))


def setup(app: web.Application) -> None:
    secret = app[SERVICES].settings.secret_key
    assert secret, "create_app gives the settings a secret key"
    app[LOGIN_TOKENS] = LoginTokens(secret)
    setup_static_cache(app)
    # Innermost, so that console paths get HTML pages before the API's JSON error middleware sees anything.
    app.middlewares.append(console_errors)

    app.router.add_get("/", root)
    app.router.add_get("/console", _console_bare)
    app.router.add_get("/console/", inbox)
    app.router.add_get("/console/login", login_form)
    app.router.add_post("/console/login", login_submit)
    app.router.add_post("/console/logout", logout_submit)
    app.router.add_get("/console/cases/{case_id}", case_page)
    app.router.add_get("/console/cases/{case_id}/materials/{material_id}", download_material)
    register_actions(app)
    register_recording_routes(app)
    app.router.add_get("/console/statistics", statistics_page)
    register_agreement_routes(app)
    register_signing_routes(app)
    app.router.add_get("/console/webhooks", webhooks_page)
    app.router.add_post(
        "/console/webhooks/{endpoint_id}/deliveries/{delivery_id}/redeliver", redeliver_submit
    )
