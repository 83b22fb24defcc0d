"""The incoming bitrate over a sliding window, for aiortc's REMB estimator.

aiortc's ``RemoteBitrateEstimator`` counts every received video packet in a ``RateCounter`` of one-millisecond
buckets and asks it for the rate once or twice per packet. Both calls first step the window's origin forward
one millisecond at a time, clearing a bucket each step: with packets ≈ 10 ms apart that is a Python loop of
ten steps per call, the largest part of the estimator's work per packet (``docs/media-design.md``).
:class:`WindowRate` gives the same answers from a queue of the packets inside the window, so that moving the
window costs one comparison plus one step per packet that leaves it.
"""

from __future__ import annotations

from collections import deque

__all__ = ["WindowRate"]


class WindowRate:
    """Values added over the last ``window_ms`` milliseconds, as a rate (``scale`` × value per millisecond).

    The interface and results of aiortc's ``RateCounter``: :meth:`rate` is None until something was added
    and the window spans more than one millisecond, and the window starts at the first :meth:`add` until
    it is ``window_ms`` long. Times are whole milliseconds; the answers are aiortc's while they do not go
    backwards (a packet added with an earlier time than the last leaves the window with the packets added
    before it).
    """

    __slots__ = ("_count", "_entries", "_origin_ms", "_scale", "_total", "_window_ms")

    def __init__(self, window_ms: int, scale: int = 8000) -> None:
        if window_ms < 1:
            raise ValueError(f"the window must be at least 1 ms, not {window_ms}")
        self._window_ms = window_ms
        self._scale = scale
        self._entries: deque[tuple[int, int]] = deque()
        self._origin_ms: int | None = None
        self._count = 0
        self._total = 0

    def add(self, value: int, now_ms: int) -> None:
        """Count ``value`` at ``now_ms``."""
        origin_ms = self._origin_ms
        self._origin_ms = now_ms if origin_ms is None else self._erase_old(origin_ms, now_ms)
        self._entries.append((now_ms, value))
        self._count += 1
        self._total += value

    def rate(self, now_ms: int) -> int | None:
        """The rate over the window ending at ``now_ms``; None while there is none."""
        origin_ms = self._origin_ms
        if origin_ms is None:
            return None
        self._origin_ms = origin_ms = self._erase_old(origin_ms, now_ms)
        active_ms = now_ms - origin_ms + 1
        if self._count > 0 and active_ms > 1:
            return round(self._scale * self._total / active_ms)
        return None

    def reset(self) -> None:
        """Forget everything; the next :meth:`add` starts a new window."""
        self._entries.clear()
        self._origin_ms = None
        self._count = 0
        self._total = 0

    def _erase_old(self, origin_ms: int, now_ms: int) -> int:
        """Drop what fell out of the window ending at ``now_ms``; returns the window's new origin."""
        new_origin_ms = now_ms - self._window_ms + 1
        if origin_ms >= new_origin_ms:
            return origin_ms
        entries = self._entries
        while entries and entries[0][0] < new_origin_ms:
            self._total -= entries.popleft()[1]
            self._count -= 1
        return new_origin_ms
