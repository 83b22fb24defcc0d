"""Running the application on its listeners until told to stop: shared by ``tiaojie serve`` (one process) and
each worker process."""

from __future__ import annotations

import asyncio
import gc
import signal
import socket
import ssl
from collections.abc import Awaitable, Callable

from aiohttp import web

from cluster.tasks import first_of
from tiaojie.settings import Settings
from web.http_errors import MAX_FIELD_BYTES, MAX_URL_BYTES, json_parse_errors

__all__ = ["ssl_context", "start", "wait_for_stop"]


def ssl_context(settings: Settings) -> ssl.SSLContext | None:
    if not settings.tls_cert:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(settings.tls_cert, settings.tls_key)
    return context


async def start(
    app: web.Application,
    *,
    public: socket.socket | tuple[str, int],
    internal: socket.socket | None,
    tls: ssl.SSLContext | None,
) -> tuple[web.AppRunner, int]:
    """Start serving ``app`` on the public listener (a socket, or host and port to bind) and on the internal
    one (connections handed over by other nodes, never TLS); returns the runner and the public port."""
    runner = web.AppRunner(app, access_log=None, max_line_size=MAX_URL_BYTES, max_field_size=MAX_FIELD_BYTES)
    await runner.setup()
    json_parse_errors(runner)  # an over-long URL or header is answered in JSON with a code too
    site: web.BaseSite
    if isinstance(public, socket.socket):
        site = web.SockSite(runner, public, ssl_context=tls)
    else:
        site = web.TCPSite(runner, public[0], public[1], ssl_context=tls)
    await site.start()
    if internal is not None:
        await web.SockSite(runner, internal).start()
    # Everything imported and built so far lives as long as the process: keep it out of the garbage
    # collector's full passes, which otherwise pause every request (measured in docs/benchmarks.md).
    gc.collect()
    gc.freeze()
    address = runner.addresses[0] if runner.addresses else None
    return runner, int(address[1]) if isinstance(address, tuple) else 0


async def wait_for_stop(
    signals: tuple[signal.Signals, ...] = (signal.SIGINT, signal.SIGTERM),
    also: Callable[[], Awaitable[object]] | None = None,
) -> None:
    """Until one of ``signals`` arrives (or ``also`` returns)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in signals:
        loop.add_signal_handler(sig, stop.set)
    try:
        await first_of(stop.wait(), *([also()] if also is not None else []))
    finally:
        for sig in signals:
            loop.remove_signal_handler(sig)
