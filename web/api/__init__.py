"""The REST API (``/api/v1``) for court and union systems."""

from __future__ import annotations

from web.api import (
    agreements,
    cases,
    meta,
    outcomes,
    recordings,
    roster,
    sessions,
    signing,
    statistics,
    transcripts,
    verify,
    webhooks,
)
from web.router import ApiRouter

__all__ = ["build_router"]


def build_router() -> ApiRouter:
    router = ApiRouter("/api/v1")
    for module in (
        meta,
        roster,
        cases,
        outcomes,
        sessions,
        recordings,
        transcripts,
        agreements,
        signing,
        verify,
        webhooks,
        statistics,
    ):
        module.register(router)
    return router
