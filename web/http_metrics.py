"""Counting this process's HTTP requests for the metrics: by method, route and status, with a latency
histogram. The route is the matched resource's pattern (``/api/v1/cases/{case_id}``), never the raw path,
so the number of series stays bounded; requests that matched nothing count under ``unmatched``."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from aiohttp import web

from tiaojie.metrics import Counters, Family, Histogram

__all__ = ["HTTP_METRICS", "HttpMetrics"]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# Seconds: an API read takes about a millisecond, a large upload or a slow disk several seconds.
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def _route(request: web.Request) -> str:
    info = request.match_info
    if info.http_exception is not None:
        return "unmatched"
    resource = info.route.resource
    return resource.canonical if resource is not None else "unmatched"


class HttpMetrics:
    def __init__(self) -> None:
        self.requests = Counters(("method", "route", "status"))
        self.latency = Histogram(("method", "route"), BUCKETS)

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        started = time.perf_counter()
        status = 500
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as exc:
            status = exc.status
            raise
        finally:
            route = _route(request)
            self.requests.inc((request.method, route, str(status)))
            if status != 101:  # a websocket's "latency" is the connection's life
                self.latency.observe((request.method, route), time.perf_counter() - started)

    def families(self) -> list[Family]:
        return [
            self.requests.family(
                "tiaojie_http_requests_total", "HTTP requests answered, by route and status."
            ),
            self.latency.family(
                "tiaojie_http_request_duration_seconds",
                "Time to answer an HTTP request (websockets excluded), by route.",
            ),
        ]


HTTP_METRICS = web.AppKey("http_metrics", HttpMetrics)
