"""Console pages (work in progress by the console engineer)."""

from __future__ import annotations

from aiohttp import web


def setup(app: web.Application) -> None:
    async def root(request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound("/api/v1/docs")

    app.router.add_get("/", root)
