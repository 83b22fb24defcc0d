"""The event loop every long-running command runs on: uvloop where it is installed, else asyncio's own.

The media server wakes up for every RTP packet that arrives. On the 2-core machines measured
(docs/benchmarks.md) one wake-up of asyncio's selector loop for one UDP datagram costs ≈90–110 µs of CPU,
uvloop's ≈35–45 µs: for a published track (≈145 packets a second) that is most of what receiving it costs.
Everything the server uses (aiohttp, python-socketio, aiortc/aioice's UDP endpoints, asyncpg, aiosqlite,
redis, subprocesses, signal handlers) runs on either; ``TIAOJIE_EVENT_LOOP=asyncio`` chooses the standard
loop.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Callable, Coroutine
from typing import Any, Literal, TypeVar

from tiaojie.errors import InvalidInput

__all__ = ["EventLoopChoice", "loop_factory", "loop_name", "run"]

T = TypeVar("T")

EventLoopChoice = Literal["auto", "uvloop", "asyncio"]


def loop_factory(choice: EventLoopChoice) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """What makes the loop for ``choice``: uvloop's ``new_event_loop``, or None for asyncio's default.

    ``auto`` takes uvloop if it can be imported; ``uvloop`` requires it (InvalidInput otherwise).
    """
    if choice == "asyncio":
        return None
    try:
        uvloop = importlib.import_module("uvloop")
    except ImportError as exc:
        if choice == "uvloop":
            raise InvalidInput(
                "TIAOJIE_EVENT_LOOP=uvloop but uvloop is not installed", code="invalid_config"
            ) from exc
        return None
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory


def loop_name(choice: EventLoopChoice) -> str:
    """Which loop ``choice`` gives here: ``uvloop`` or ``asyncio``."""
    return "asyncio" if loop_factory(choice) is None else "uvloop"


def run(main: Coroutine[Any, Any, T], choice: EventLoopChoice) -> T:
    """``asyncio.run(main)`` on the chosen loop."""
    factory = loop_factory(choice)
    if factory is None:
        return asyncio.run(main)
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(main)
