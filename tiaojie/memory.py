"""Giving the heap's free memory back to the system: glibc's ``malloc_trim``, now and then.

Under media load the server's resident size grew by the fragmentation of glibc's heap while the memory in
use stayed flat (+8-10 % in 15 minutes, docs/benchmarks.md). The cause was found and removed where it is:
asyncio's datagram transport reads every datagram into a 256 KiB buffer and shrinks it afterwards, and the
packets kept meanwhile (RTX caches) break the freed space into holes too small for the next buffer
(media/aiortc_hooks.py reads at most 2 kB; uvloop, the default loop, copies each datagram out of one buffer
of its own). This is the safety net for whatever else frees memory in a pattern the heap keeps:
``malloc_trim(0)`` hands whole free pages anywhere in the heap back to the kernel
(``madvise(MADV_DONTNEED)``), about 10 ms for a 100 MB heap, every ``TIAOJIE_MALLOC_TRIM_SECONDS`` (60).
Without glibc (musl, macOS) it does nothing.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import logging
import time
from collections.abc import Callable

__all__ = ["trim", "trim_forever", "trimmer"]

log = logging.getLogger(__name__)


def trimmer() -> Callable[[], bool] | None:
    """glibc's ``malloc_trim(0)`` as a function returning whether memory was released, or None without it."""
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        function = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_size_t]
    function.restype = ctypes.c_int

    def trim_now() -> bool:
        return bool(function(0))

    return trim_now


_TRIM = trimmer()


def trim() -> bool:
    """Release the heap's free pages now; False if nothing was released or glibc is not there."""
    return _TRIM() if _TRIM is not None else False


async def trim_forever(interval: float) -> None:
    """:func:`trim` every ``interval`` seconds until cancelled (0 or no glibc: return at once)."""
    if interval <= 0 or _TRIM is None:
        return
    while True:
        await asyncio.sleep(interval)
        started = time.perf_counter()
        released = trim()
        log.debug(
            "malloc_trim: %s in %.1f ms",
            "released" if released else "nothing",
            (time.perf_counter() - started) * 1000,
        )
