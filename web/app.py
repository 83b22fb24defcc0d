"""Assembling the aiohttp application from the settings."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import jinja2
import socketio
from aiohttp import web
from sqlalchemy import TextClause, text

from cases.assignment import expire_overdue_assignments
from cluster import topology
from cluster.handover import NODE_HEADER, ROOM_NODE_HEADER, SOCKETIO_PATH, HandOver
from cluster.routing import NodeLoad
from cluster.topology import Topology
from recordings.recorder import RecordableMedia, Recorder, RecorderConfig
from recordings.service import STALE_SECONDS, local_node, purge_expired, recover_interrupted
from signaling.hub import Hub
from signaling.messages import MAX_MESSAGE_BYTES
from signaling.namespace import RoomNamespace
from store.database import Database
from store.migrate import upgrade
from tiaojie.clock import Clock, SystemClock
from tiaojie.memory import trim_forever
from tiaojie.settings import Settings
from web.api import build_router
from web.api.session import setup_session_routes
from web.auth import KEY_CACHE, KeyCache
from web.client_page import setup_client
from web.console import setup_console
from web.errors import error_middleware
from web.http_metrics import HTTP_METRICS, HttpMetrics
from web.jc_page import setup_jc_routes
from web.metrics_endpoint import setup_metrics
from web.metrics_sources import LocalSources
from web.openapi import build_openapi
from web.party_recordings_page import setup_party_recordings
from web.services import SERVICES, Services
from web.sign_api import setup_sign_api
from web.sign_page import setup_sign_page
from web.verify_page import setup_verify_page
from webhooks.worker import deliver_forever

__all__ = ["create_app", "recover_stale_recordings", "sweep_once"]

log = logging.getLogger(__name__)

TEMPLATES = Path(__file__).with_name("templates")
STATIC = Path(__file__).with_name("static")
JINJA = web.AppKey("jinja", jinja2.Environment)
OPENAPI = web.AppKey("openapi", dict)
SIGNALING = web.AppKey("signaling", RoomNamespace)
TOPOLOGY = web.AppKey("topology", Topology)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    response = await handler(request)
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self'; "
        "frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
    )
    if request.path.startswith(("/api/", "/sign/api/")):
        headers.setdefault("Cache-Control", "no-store")
    return response


async def sweep_once(services: Services) -> list[str]:
    """One pass of the deadline sweeper: lapse assignments not accepted in time."""
    async with services.db.session() as session:
        return await expire_overdue_assignments(session, services.cases)


async def _sweeper(services: Services, topo: Topology) -> None:
    interval = services.settings.sweep_interval_seconds
    while True:
        try:
            # Once across all workers and nodes: a lease a little shorter than the interval.
            if await topo.jobs.acquire("deadline_sweep", interval * 0.9):
                expired = await sweep_once(services)
                if expired:
                    log.info("assignments lapsed for %d case(s)", len(expired))
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("deadline sweep failed")
        await asyncio.sleep(interval)


async def _beat(topo: Topology, namespace: RoomNamespace) -> None:
    """Keep this node's rooms routed here, and record its load."""
    hub = namespace.hub
    try:
        await topo.router.heartbeat(set(hub.rooms), NodeLoad(len(hub.rooms), len(hub.connections)))
    except Exception:
        log.exception("routing heartbeat failed")


async def _heartbeat(topo: Topology, namespace: RoomNamespace, interval: float) -> None:
    while True:
        await asyncio.sleep(interval)
        await _beat(topo, namespace)


async def recover_stale_recordings(services: Services, *, stale_seconds: float = STALE_SECONDS) -> list[str]:
    """Seal as interrupted this machine's recordings whose writer stopped (heartbeat older than
    ``stale_seconds``; 0 before a machine's server serves, when every running recording was cut off)."""
    settings = services.settings
    recovered = await recover_interrupted(
        services.db,
        media_root=settings.effective_media_dir,
        node=local_node(),
        clock=services.clock,
        retention_days=settings.recording_retention_days,
        stale_seconds=stale_seconds,
    )
    if recovered:
        log.warning("recovered %d interrupted recording(s): %s", len(recovered), ", ".join(recovered))
    return recovered


async def _recordings_sweeper(services: Services) -> None:
    """Seal recordings whose writer died (a crashed worker), and delete those past their retention period."""
    settings = services.settings
    while True:
        try:
            await recover_stale_recordings(services)
            purged = await purge_expired(
                services.db, media_root=settings.effective_media_dir, node=local_node(), clock=services.clock
            )
            if purged:
                log.info("deleted %d recording(s) past their retention period", len(purged))
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("recovering interrupted recordings failed")
        await asyncio.sleep(STALE_SECONDS)


async def _room_sweeper(namespace: RoomNamespace) -> None:
    while True:
        try:
            await namespace.sweep()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("room sweep failed")
        await asyncio.sleep(2.0)


def create_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    db: Database | None = None,
    migrate: bool = True,
    background: bool = True,
    topo: Topology | None = None,
    recover_recordings: bool = True,
) -> web.Application:
    """The whole service. ``migrate`` brings an empty or old database to the current schema on start;
    ``background`` runs the deadline sweeper (once across nodes) and the room sweeper; ``topo`` is this
    node's place among several (default: alone). ``recover_recordings``: this process is the machine's only
    server process (not one of several workers), so every recording of the machine still marked as running
    was cut off and is recovered before serving."""
    settings = settings.with_secret()
    services = Services.build(settings, clock or SystemClock(), db)
    topo = topo or topology.single()
    assert settings.secret_key is not None
    handover = HandOver(topo.router, settings.secret_key)
    http_metrics = HttpMetrics()  # outermost: counts every answer as it finally went out
    app = web.Application(
        middlewares=[http_metrics.middleware, security_headers, error_middleware, handover.middleware],
        client_max_size=settings.max_upload_bytes + 65536,
    )
    app[SERVICES] = services
    app[HTTP_METRICS] = http_metrics
    app[TOPOLOGY] = topo
    app[KEY_CACHE] = KeyCache()
    app[JINJA] = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, undefined=jinja2.StrictUndefined
    )

    router = build_router()
    router.setup(app)
    app[OPENAPI] = build_openapi(router)

    async def openapi_json(request: web.Request) -> web.Response:
        return web.Response(
            text=json.dumps(request.app[OPENAPI], ensure_ascii=False, indent=1),
            content_type="application/json",
        )

    async def api_docs(request: web.Request) -> web.Response:
        template = request.app[JINJA].get_template("api_docs.html")
        html = template.render(
            spec=request.app[OPENAPI], dumps=lambda v: json.dumps(v, ensure_ascii=False, indent=1)
        )
        return web.Response(text=html, content_type="text/html")

    async def health(request: web.Request) -> web.Response:
        async with request.app[SERVICES].db.read() as session:
            await session.execute(_select_one())
        return web.json_response({"status": "ok"})

    app.router.add_get("/api/v1/openapi.json", openapi_json)
    app.router.add_get("/api/v1/docs", api_docs)
    app.router.add_get("/healthz", health)
    if STATIC.is_dir():
        app.router.add_static("/static/", STATIC, append_version=True)

    setup_session_routes(app)
    setup_console(app)
    setup_client(app)
    setup_jc_routes(app)
    setup_party_recordings(app)
    setup_sign_api(app)
    setup_verify_page(app)
    setup_sign_page(app)

    sio = socketio.AsyncServer(
        async_mode="aiohttp",
        max_http_buffer_size=MAX_MESSAGE_BYTES,
        ping_interval=10,
        ping_timeout=10,
        logger=False,
        engineio_logger=False,
    )

    async def owns(room: str) -> bool:
        return (await topo.router.claim(room)).id == topo.node.id

    hub = Hub(settings.reconnect_grace_seconds)

    def media_for(session_id: str) -> RecordableMedia | None:
        live = hub.rooms.get(session_id)
        return live.media if live is not None else None

    recorder = Recorder(
        services.db,
        services.clock,
        RecorderConfig(
            media_root=settings.effective_media_dir,
            node=local_node(),
            segment_seconds=settings.recording_segment_seconds,
            retention_days=settings.recording_retention_days,
        ),
        media_for,
    )
    namespace = RoomNamespace(services, hub, owns=owns, recording=recorder)
    sio.register_namespace(namespace)
    sio.attach(app, socketio_path="socket.io")
    app[SIGNALING] = namespace
    metrics_sources = LocalSources(hub, recorder, http_metrics, read_cache=services.read_cache)
    setup_metrics(app, metrics_sources, topo)

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        services.settings.effective_media_dir.mkdir(parents=True, exist_ok=True)
        if migrate:
            await upgrade(services.db)
        if background and recover_recordings:
            await recover_stale_recordings(services, stale_seconds=0)
        await _beat(topo, namespace)  # registers this node before it serves a request
        services.evidence.start()  # effective agreements go to the attached sealer after their commit
        tasks = [
            asyncio.create_task(_heartbeat(topo, namespace, settings.room_lease_seconds / 3)),
            asyncio.create_task(trim_forever(settings.malloc_trim_seconds)),
        ]
        if background:
            tasks += [
                asyncio.create_task(_sweeper(services, topo)),
                asyncio.create_task(_room_sweeper(namespace)),
                asyncio.create_task(_recordings_sweeper(services)),
                asyncio.create_task(services.renders.run()),
                asyncio.create_task(
                    deliver_forever(
                        services.db,
                        services.clock,
                        settings,
                        topo.jobs,
                        outcomes=metrics_sources.webhook_outcomes,
                    )
                ),
                asyncio.create_task(services.evidence.run()),
            ]
        yield
        services.renders.stop()
        services.evidence.stop()
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await app[KEY_CACHE].drain()
        await services.evidence.drain()
        await handover.close()
        await topo.close()
        await services.db.dispose()

    async def close_rooms(app: web.Application) -> None:
        # Before aiohttp closes the websockets and cancels their handlers: tell every client, and let the
        # handlers still running finish their database work.
        await namespace.shutdown()
        await recorder.shutdown()

    async def node_headers(request: web.Request, response: web.StreamResponse) -> None:
        # Which node answered, and for a room's connection which node owns the room (also on websockets,
        # whose handlers return only after the headers went out).
        response.headers.setdefault(NODE_HEADER, topo.node.id)
        if request.path.startswith(SOCKETIO_PATH) and request.query.get("session"):
            response.headers.setdefault(ROOM_NODE_HEADER, topo.node.id)

    app.on_response_prepare.append(node_headers)
    app.on_shutdown.append(close_rooms)
    app.cleanup_ctx.append(lifecycle)
    return app


def _select_one() -> TextClause:
    return text("SELECT 1")
