"""This process's forwarding counters since it started: every room's counters summed, including those of
rooms that have closed since.

Rooms keep their own counters (:attr:`media.engine.RoomMedia.counters`, incremented by the forwarder); nothing
here runs per packet. :meth:`ForwardingTotals.snapshot` adds them up when the metrics are read, and a room
gone (closed, or dropped by its hub) has its last values folded into the retired total, so the sums never
go down while the process lives.
"""

from __future__ import annotations

import weakref
from dataclasses import fields

from media.engine import RoomMedia
from media.forwarder import MediaStats

__all__ = ["ForwardingTotals"]


def _add(into: MediaStats, other: MediaStats) -> None:
    for field in fields(MediaStats):
        setattr(into, field.name, getattr(into, field.name) + getattr(other, field.name))


class ForwardingTotals:
    def __init__(self) -> None:
        self._retired = MediaStats()
        self._rooms: list[tuple[weakref.ref[RoomMedia], MediaStats]] = []

    def watch(self, media: RoomMedia) -> None:
        """Count ``media``'s forwarding from now on (and after it is gone)."""
        self._fold()
        self._rooms.append((weakref.ref(media), media.counters))

    def _fold(self) -> None:
        live = []
        for ref, counters in self._rooms:
            media = ref()
            if media is None or media.closed:
                _add(self._retired, counters)
            else:
                live.append((ref, counters))
        self._rooms = live

    def snapshot(self) -> MediaStats:
        """The sum over every room this process had."""
        self._fold()
        total = self._retired.copy()
        for _, counters in self._rooms:
            _add(total, counters)
        return total
