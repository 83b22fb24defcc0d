"""Small helpers for the tasks the cluster code runs side by side."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Sequence
from typing import Any

__all__ = ["first_of"]


async def first_of(*work: Awaitable[Any]) -> None:
    """Run ``work`` side by side until the first one ends; cancel the others and wait for them to end."""
    tasks: Sequence[asyncio.Future[Any]] = [asyncio.ensure_future(w) for w in work]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
