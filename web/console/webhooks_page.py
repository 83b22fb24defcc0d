"""The court's webhook delivery log in the console: each endpoint, its latest deliveries with every attempt,
and manual redelivery."""

from __future__ import annotations

from aiohttp import web

from accounts.principal import PrincipalKind
from tiaojie.errors import NotFound, PermissionDenied
from tiaojie.ids import is_id
from web.console import i18n
from web.console.forms import read_form, text
from web.console.pages import language, redirect, render, render_error, viewer
from web.services import SERVICES
from webhooks import endpoints as service
from webhooks.schemas import DeliveryQuery

__all__ = ["redeliver_submit", "webhooks_page"]

PAGE = "/console/webhooks"
_SHOWN = 25


async def webhooks_page(request: web.Request) -> web.Response:
    who = await viewer(request)
    if who.principal.kind is not PrincipalKind.COURT:
        raise PermissionDenied("only a court has webhooks", code="court_only")
    services = request.app[SERVICES]
    shown = []
    async with services.db.read() as session:
        for endpoint in await service.list_endpoints(session, who.principal):
            deliveries, _ = await service.deliveries(session, endpoint, DeliveryQuery(limit=_SHOWN))
            shown.append({"endpoint": endpoint, "deliveries": deliveries})
    notice = None
    if request.query.get("done") == "redeliver":
        notice = i18n.translate(language(request), "webhooks.redelivered")
    return render(request, "webhooks.html", who=who, endpoints=shown, notice=notice)


async def redeliver_submit(request: web.Request) -> web.StreamResponse:
    form = await read_form(request)
    who = await viewer(request, csrf=text(form, "csrf_token", limit=200))
    endpoint_id = request.match_info["endpoint_id"]
    delivery_id = request.match_info["delivery_id"]
    services = request.app[SERVICES]
    try:
        if not is_id(delivery_id, "whd"):
            raise NotFound("delivery not found", resource="delivery")
        async with services.db.session() as session:
            endpoint = await service.load_endpoint(session, who.principal, endpoint_id)
            await service.redeliver(session, who.principal, endpoint, delivery_id, now=services.clock.now())
    except NotFound:
        lang = language(request)
        return render_error(request, 404, i18n.translate(lang, "error.404"), code="not_found", who=who)
    return redirect(f"{PAGE}?done=redeliver#endpoint-{endpoint_id}")
