"""The web console for mediators, court and union users (zh-CN first, English second)."""

from __future__ import annotations

from aiohttp import web

__all__ = ["setup_console"]


def setup_console(app: web.Application) -> None:
    from web.console.views import setup

    setup(app)
