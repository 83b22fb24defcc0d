"""Routes: a court's webhook endpoints, their delivery log, redelivery, and catching up on events."""

from __future__ import annotations

from cases.schemas import Page
from web.router import ApiCall, ApiRouter
from webhooks import endpoints as service
from webhooks.addresses import IpNetwork, parse_networks
from webhooks.schemas import (
    DeliveryOut,
    DeliveryQuery,
    EndpointCreatedOut,
    EndpointIn,
    EndpointOut,
    EndpointPatch,
    EventPage,
    EventQuery,
    RotateIn,
    SecretOut,
)
from webhooks.sender import resolve_host

__all__ = ["register"]


def _allowed(call: ApiCall) -> tuple[IpNetwork, ...]:
    return parse_networks(call.services.settings.webhook_allowed_networks)


async def _checked_url(call: ApiCall) -> str | None:
    """The body's URL, checked (its host resolved) before the write transaction opens."""
    url: str | None = getattr(call.body, "url", None)
    if url is None:
        return None
    service.court_of(call.principal)  # who may not register learns it before any lookup
    return await service.check_url(url, _allowed(call), resolve_host)


def register(api: ApiRouter) -> None:
    tags = ["webhooks"]

    @api.route(
        "POST",
        "/webhooks/endpoints",
        summary="Register a webhook endpoint",
        tags=tags,
        body=EndpointIn,
        response=EndpointCreatedOut,
        status=201,
        idempotent=True,
        errors=(403, 409, 422),
        prepare=_checked_url,
    )
    async def create_webhook_endpoint(call: ApiCall) -> EndpointCreatedOut:
        """The court's system receives its cases' events there, signed as the Standard Webhooks
        specification says with the returned `whsec_` secret (shown only in this response). The URL must
        resolve to public addresses unless the operator allowed its network."""
        endpoint, secret = await service.register(
            call.session,
            call.principal,
            call.body_as(EndpointIn),
            now=call.services.clock.now(),
            url=call.prepared,
            box=call.services.secret_box,
        )
        return EndpointCreatedOut(**service.endpoint_out(endpoint).model_dump(), secret=secret)

    @api.route(
        "GET",
        "/webhooks/endpoints",
        summary="List webhook endpoints",
        tags=tags,
        response=list[EndpointOut],
        errors=(403,),
    )
    async def list_webhook_endpoints(call: ApiCall) -> list[EndpointOut]:
        return [service.endpoint_out(e) for e in await service.list_endpoints(call.session, call.principal)]

    @api.route(
        "GET",
        "/webhooks/endpoints/{endpoint_id}",
        summary="Get a webhook endpoint",
        tags=tags,
        response=EndpointOut,
        errors=(403, 404),
    )
    async def get_webhook_endpoint(call: ApiCall) -> EndpointOut:
        endpoint = await service.load_endpoint(call.session, call.principal, call.path["endpoint_id"])
        return service.endpoint_out(endpoint)

    @api.route(
        "PATCH",
        "/webhooks/endpoints/{endpoint_id}",
        summary="Change, pause or resume a webhook endpoint",
        tags=tags,
        body=EndpointPatch,
        response=EndpointOut,
        errors=(403, 404, 422),
        prepare=_checked_url,
    )
    async def update_webhook_endpoint(call: ApiCall) -> EndpointOut:
        """`enabled: true` resumes an endpoint paused by the court or disabled after a 410 answer; the
        deliveries that waited are sent in order."""
        endpoint = await service.load_endpoint(call.session, call.principal, call.path["endpoint_id"])
        await service.update(
            call.session,
            call.principal,
            endpoint,
            call.body_as(EndpointPatch),
            now=call.services.clock.now(),
            url=call.prepared,
        )
        return service.endpoint_out(endpoint)

    @api.route(
        "DELETE",
        "/webhooks/endpoints/{endpoint_id}",
        summary="Delete a webhook endpoint",
        tags=tags,
        errors=(403, 404),
    )
    async def delete_webhook_endpoint(call: ApiCall) -> None:
        """With its deliveries and their log; the events stay available through `GET /webhooks/events`."""
        endpoint = await service.load_endpoint(call.session, call.principal, call.path["endpoint_id"])
        await service.remove(call.session, call.principal, endpoint, now=call.services.clock.now())

    @api.route(
        "POST",
        "/webhooks/endpoints/{endpoint_id}/rotate-secret",
        summary="Rotate the signing secret",
        tags=tags,
        body=RotateIn,
        response=SecretOut,
        errors=(403, 404, 422),
    )
    async def rotate_webhook_secret(call: ApiCall) -> SecretOut:
        """A new `whsec_` secret (shown only now). During the overlap every delivery carries two
        signatures in `webhook-signature`, one per secret, so the receiver can switch at any moment."""
        endpoint = await service.load_endpoint(call.session, call.principal, call.path["endpoint_id"])
        return await service.rotate(
            call.session,
            call.principal,
            endpoint,
            call.body_as(RotateIn).overlap_hours,
            now=call.services.clock.now(),
            box=call.services.secret_box,
        )

    @api.route(
        "GET",
        "/webhooks/endpoints/{endpoint_id}/deliveries",
        summary="The delivery log of an endpoint",
        tags=tags,
        query=DeliveryQuery,
        response=Page[DeliveryOut],
        errors=(403, 404, 422),
    )
    async def list_webhook_deliveries(call: ApiCall) -> Page[DeliveryOut]:
        """Newest first: each delivery with its status and every attempt (time, HTTP status, latency,
        error, when the next one is due)."""
        endpoint = await service.load_endpoint(call.session, call.principal, call.path["endpoint_id"])
        items, cursor = await service.deliveries(call.session, endpoint, call.query_as(DeliveryQuery))
        return Page[DeliveryOut](items=items, next_cursor=cursor)

    @api.route(
        "POST",
        "/webhooks/endpoints/{endpoint_id}/deliveries/{delivery_id}/redeliver",
        summary="Send a delivery again",
        tags=tags,
        errors=(403, 404),
    )
    async def redeliver_webhook(call: ApiCall) -> None:
        """Now, with the same `webhook-id` (the receiver deduplicates), and a new round of retries."""
        endpoint = await service.load_endpoint(call.session, call.principal, call.path["endpoint_id"])
        await service.redeliver(
            call.session, call.principal, endpoint, call.path["delivery_id"], now=call.services.clock.now()
        )

    @api.route(
        "GET",
        "/webhooks/events",
        summary="The court's events after a cursor (catch-up)",
        tags=tags,
        query=EventQuery,
        response=EventPage,
        errors=(403, 422),
    )
    async def list_webhook_events(call: ApiCall) -> EventPage:
        """Every event of the court's cases in commit order, numbered without gaps (`seq`), whether or not
        an endpoint received it: after an outage, pass the last `seq` processed as `after` until `more` is
        false. The same documents as the deliveries' bodies."""
        return await service.events_since(call.session, call.principal, call.query_as(EventQuery))
