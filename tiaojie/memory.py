"""Giving the heap's free memory back to the system: glibc's ``malloc_trim``, now and then.

A media server allocates one ``bytes`` of 1–1.5 kB per RTP packet and copy — above CPython's small-object
limit (512 bytes), so from glibc's heap — while RTX caches keep the last few hundred of each stream alive in
between. The freed chunks are reused, but the heap's pages between the live ones stay resident: over a
30-minute load run the server's RSS grew 9 % while the bytes in use stayed flat, the heap's free part
growing from 2 to 28 MB (docs/benchmarks.md). ``malloc_trim(0)`` hands whole free pages anywhere in the heap
back to the kernel (``madvise(MADV_DONTNEED)``); at about 10 ms for a 100 MB heap, once a minute
(``TIAOJIE_MALLOC_TRIM_SECONDS``) is free. Without glibc (musl, macOS) it does nothing.
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
