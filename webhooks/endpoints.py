"""Court systems' webhook endpoints: registration, changes, secret rotation, the delivery log, redelivery,
and the catch-up list of events. Every function is scoped to the calling court."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.principal import Principal, PrincipalKind
from cases import audit
from tiaojie.at_rest import SecretBox
from tiaojie.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from tiaojie.ids import is_id, new_id
from tiaojie.jsonvalue import instant
from webhooks.addresses import IpNetwork, address_allowed, literal_address, parse_url
from webhooks.events import EventType
from webhooks.schemas import (
    AttemptOut,
    DeliveryOut,
    DeliveryQuery,
    EndpointIn,
    EndpointOut,
    EndpointPatch,
    EventOut,
    EventPage,
    EventQuery,
    SecretOut,
)
from webhooks.signing import new_secret, seal_secret
from webhooks.tables import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent

__all__ = [
    "Resolve",
    "check_url",
    "court_of",
    "deliveries",
    "endpoint_out",
    "events_since",
    "list_endpoints",
    "load_endpoint",
    "redeliver",
    "register",
    "remove",
    "rotate",
    "update",
]

Resolve = Callable[[str, int], Awaitable[list[str]]]
MAX_ENDPOINTS = 20


def court_of(actor: Principal) -> str:
    """The caller's court; only court systems and court users have webhooks."""
    if actor.kind is not PrincipalKind.COURT or not actor.court_id:
        raise PermissionDenied("only a court registers and reads webhooks", code="court_only")
    return actor.court_id


async def check_url(url: str, allowed: Sequence[IpNetwork], resolve: Resolve) -> str:
    """``url`` if the service may call it: a valid URL whose every address is allowed."""
    parsed = parse_url(url)
    literal = literal_address(parsed.host)
    if literal is not None:
        addresses = [literal]
    else:
        try:
            found = await resolve(parsed.host, parsed.port)
        except (OSError, TimeoutError):
            raise InvalidInput(
                "the URL's host name does not resolve", field="url", code="unresolvable_host"
            ) from None
        addresses = [a for a in (literal_address(text.split("%", 1)[0]) for text in found) if a is not None]
        if not addresses:
            raise InvalidInput("the URL's host name does not resolve", field="url", code="unresolvable_host")
    for address in addresses:
        if not address_allowed(address, allowed):
            raise InvalidInput(
                "the URL points to a private, loopback or reserved address; only public addresses are "
                "accepted unless the operator allowed the network",
                field="url",
                code="address_not_allowed",
            )
    return url


def endpoint_out(endpoint: WebhookEndpoint) -> EndpointOut:
    return EndpointOut(
        id=endpoint.id,
        url=endpoint.url,
        description=endpoint.description,
        event_types=list(endpoint.event_types),
        status="active" if endpoint.status == "active" else "disabled",
        disabled_reason=endpoint.disabled_reason,
        created_at=endpoint.created_at,
        updated_at=endpoint.updated_at,
        previous_secret_expiry=[
            datetime.fromisoformat(str(p["expires_at"])) for p in endpoint.previous_secrets
        ],
    )


def _types(values: Sequence[EventType]) -> list[str]:
    return sorted({v.value for v in values})


async def register(
    session: AsyncSession,
    actor: Principal,
    data: EndpointIn,
    *,
    now: datetime,
    url: str,
    box: SecretBox,
) -> tuple[WebhookEndpoint, str]:
    """A new endpoint and its secret (returned once). ``url``: ``data.url`` as :func:`check_url` passed it
    (checked before the transaction opens: resolving a host name may take seconds)."""
    court_id = court_of(actor)
    existing = (
        await session.scalars(select(WebhookEndpoint.id).where(WebhookEndpoint.court_id == court_id))
    ).all()
    if len(existing) >= MAX_ENDPOINTS:
        raise Conflict(f"a court has at most {MAX_ENDPOINTS} webhook endpoints", code="too_many_endpoints")
    secret = new_secret()
    endpoint_id = new_id("whe")
    endpoint = WebhookEndpoint(
        id=endpoint_id,
        court_id=court_id,
        url=url,
        description=data.description,
        event_types=_types(data.event_types),
        status="active",
        disabled_reason=None,
        secret=seal_secret(box, secret, endpoint_id),
        previous_secrets=[],
        created_at=now,
        updated_at=now,
        created_by=actor.label,
    )
    session.add(endpoint)
    await _audit(session, actor, now, endpoint, "webhook_endpoint_registered", {"url": url})
    return endpoint, secret


async def list_endpoints(session: AsyncSession, actor: Principal) -> list[WebhookEndpoint]:
    court_id = court_of(actor)
    rows = await session.scalars(
        select(WebhookEndpoint).where(WebhookEndpoint.court_id == court_id).order_by(WebhookEndpoint.id)
    )
    return list(rows.all())


async def load_endpoint(session: AsyncSession, actor: Principal, endpoint_id: str) -> WebhookEndpoint:
    court_id = court_of(actor)
    endpoint = await session.get(WebhookEndpoint, endpoint_id) if is_id(endpoint_id, "whe") else None
    if endpoint is None or endpoint.court_id != court_id:
        raise NotFound("webhook endpoint not found", resource="webhook_endpoint")
    return endpoint


async def update(
    session: AsyncSession,
    actor: Principal,
    endpoint: WebhookEndpoint,
    data: EndpointPatch,
    *,
    now: datetime,
    url: str | None,
) -> WebhookEndpoint:
    """``url``: ``data.url`` as :func:`check_url` passed it (None when the change has none)."""
    changed: dict[str, object] = {}
    if url is not None and url != endpoint.url:
        endpoint.url = url
        changed["url"] = endpoint.url
    if data.event_types is not None:
        endpoint.event_types = _types(data.event_types)
        changed["event_types"] = endpoint.event_types
    if "description" in data.model_fields_set:
        endpoint.description = data.description
    if data.enabled is True and endpoint.status != "active":
        endpoint.status = "active"
        endpoint.disabled_reason = None
        changed["enabled"] = True
    elif data.enabled is False and endpoint.status == "active":
        endpoint.status = "disabled"
        endpoint.disabled_reason = "disabled by the court"
        changed["enabled"] = False
    endpoint.updated_at = now
    await _audit(session, actor, now, endpoint, "webhook_endpoint_changed", changed)
    return endpoint


async def remove(
    session: AsyncSession, actor: Principal, endpoint: WebhookEndpoint, *, now: datetime
) -> None:
    """Delete the endpoint with its deliveries and their log; the events stay for catch-up."""
    await _audit(session, actor, now, endpoint, "webhook_endpoint_deleted", {"url": endpoint.url})
    await session.delete(endpoint)


async def rotate(
    session: AsyncSession,
    actor: Principal,
    endpoint: WebhookEndpoint,
    overlap_hours: int,
    *,
    now: datetime,
    box: SecretBox,
) -> SecretOut:
    """A new secret; the current one keeps signing beside it for ``overlap_hours``."""
    until = now + timedelta(hours=overlap_hours)
    kept = [p for p in endpoint.previous_secrets if datetime.fromisoformat(str(p["expires_at"])) > now]
    if overlap_hours > 0:
        kept.append({"secret": endpoint.secret, "expires_at": instant(until)})
    endpoint.previous_secrets = kept[-5:]
    secret = new_secret()
    endpoint.secret = seal_secret(box, secret, endpoint.id)
    endpoint.updated_at = now
    await _audit(session, actor, now, endpoint, "webhook_secret_rotated", {"overlap_hours": overlap_hours})
    return SecretOut(
        endpoint_id=endpoint.id, secret=secret, previous_valid_until=until if overlap_hours else None
    )


async def deliveries(
    session: AsyncSession, endpoint: WebhookEndpoint, query: DeliveryQuery
) -> tuple[list[DeliveryOut], str | None]:
    """The endpoint's deliveries, newest first, each with its attempts."""
    statement = (
        select(WebhookDelivery, WebhookEvent.type)
        .join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id)
        .where(WebhookDelivery.endpoint_id == endpoint.id)
        .order_by(WebhookDelivery.id.desc())
        .limit(query.limit + 1)
    )
    if query.status is not None:
        statement = statement.where(WebhookDelivery.status == query.status)
    if query.cursor is not None:
        if not is_id(query.cursor, "whd"):
            raise InvalidInput("not a cursor of this list", field="cursor", code="invalid_cursor")
        statement = statement.where(WebhookDelivery.id < query.cursor)
    rows = (await session.execute(statement)).all()
    more = len(rows) > query.limit
    rows = rows[: query.limit]
    ids = [delivery.id for delivery, _ in rows]
    log: dict[str, list[AttemptOut]] = {i: [] for i in ids}
    if ids:
        attempts = await session.scalars(
            select(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(ids)).order_by(WebhookAttempt.id)
        )
        for attempt in attempts:
            log[attempt.delivery_id].append(AttemptOut.model_validate(attempt))
    out = [
        DeliveryOut(
            id=d.id,
            event_id=d.event_id,
            event_type=event_type,
            case_id=d.case_id,
            seq=d.seq,
            status="pending"
            if d.status == "pending"
            else "delivered"
            if d.status == "delivered"
            else "failed",
            attempts=d.attempts,
            next_attempt_at=d.next_attempt_at if d.status == "pending" else None,
            last_status=d.last_status,
            last_error=d.last_error,
            created_at=d.created_at,
            delivered_at=d.delivered_at,
            log=log[d.id],
        )
        for d, event_type in rows
    ]
    return out, (ids[-1] if more and ids else None)


async def redeliver(
    session: AsyncSession, actor: Principal, endpoint: WebhookEndpoint, delivery_id: str, *, now: datetime
) -> WebhookDelivery:
    """Send a delivery again now (delivered, given up, or waiting for its next retry), with the same
    webhook-id; a new round of retries starts."""
    delivery = await session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.endpoint_id != endpoint.id:
        raise NotFound("delivery not found", resource="delivery")
    delivery.status = "pending"
    delivery.attempts = 0
    delivery.next_attempt_at = now
    delivery.delivered_at = None
    await _audit(session, actor, now, endpoint, "webhook_redelivery", {"delivery_id": delivery.id})
    return delivery


async def events_since(session: AsyncSession, actor: Principal, query: EventQuery) -> EventPage:
    """The court's events after ``query.after``, in order: how a court catches up after an outage."""
    court_id = court_of(actor)
    statement = (
        select(WebhookEvent)
        .where(WebhookEvent.court_id == court_id, WebhookEvent.seq > query.after)
        .order_by(WebhookEvent.seq)
        .limit(query.limit + 1)
    )
    if query.type:
        statement = statement.where(WebhookEvent.type.in_(sorted({t.value for t in query.type})))
    rows = list((await session.scalars(statement)).all())
    more = len(rows) > query.limit
    rows = rows[: query.limit]
    items = [
        EventOut(
            seq=int(row.seq or 0),
            id=row.id,
            type=row.type,
            timestamp=str(row.payload.get("timestamp")),
            case_id=row.case_id,
            data=dict(row.payload.get("data") or {}),
        )
        for row in rows
    ]
    return EventPage(items=items, cursor=items[-1].seq if items else query.after, more=more)


async def _audit(
    session: AsyncSession,
    actor: Principal,
    now: datetime,
    endpoint: WebhookEndpoint,
    action: str,
    data: dict[str, object],
) -> None:
    await audit.record(
        session,
        actor=actor,
        at=now,
        subject_type="webhook_endpoint",
        subject_id=endpoint.id,
        action=action,
        data=dict(data),
    )
