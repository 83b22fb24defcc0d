"""Bandwidth feedback for one published video track: the publisher's uplink and its viewers → one REMB.

Without simulcast every viewer gets the publisher's one encoding, so the publisher should send no faster than
its own uplink carries *and* no faster than its slowest viewer can receive. The server therefore answers a
browser publisher with one REMB (receiver estimated maximum bitrate) that is the minimum of

- the **uplink** estimate: aiortc's remote bitrate estimator running on the publisher's packets (as the
  server receives them), and
- each **viewer**'s estimate for this track: the REMB the viewer sent about the server's stream, divided by
  the number of video streams that REMB names (a browser estimates its whole connection's downlink and
  lists every stream on it; an equal share each is the simple policy without simulcast).

A viewer's estimate counts for ``stale`` seconds after it arrived (browsers repeat theirs about once a
second); a viewer that leaves is forgotten at once (:meth:`RembRelay.forget`). Until anything is known the
relay stays silent and the publisher follows its own loss-based control.

Sending is rate-limited and merged like keyframe requests (:mod:`media.keyframes`): at most one REMB per
``interval`` (0.5 s, libwebrtc's own pace), except that a *decrease* goes out after ``min_gap`` (0.1 s) —
congestion should be reported quickly, growth can wait. An input inside the window is never dropped: it
leaves the relay *pending*, and :meth:`RembRelay.poll` at :meth:`RembRelay.next_deadline` sends the value
current then. Pure: the caller passes ``now`` (monotonic seconds), sends what the methods return, and arms a
timer for the deadline.
"""

from __future__ import annotations

import math
from collections.abc import Hashable

__all__ = ["RembRelay"]

_TOLERANCE = 1e-3  # an event loop's timer may fire up to its clock resolution early


class RembRelay:
    """Combines an uplink estimate and viewers' REMBs into rate-limited REMBs for one publisher track."""

    __slots__ = (
        "_deadline",
        "_last_sent",
        "_pending",
        "_uplink",
        "_viewers",
        "interval",
        "last",
        "min_gap",
        "sent",
        "stale",
    )

    def __init__(self, interval: float = 0.5, min_gap: float = 0.1, stale: float = 5.0) -> None:
        if not 0 < min_gap <= interval:
            raise ValueError(f"need 0 < min_gap <= interval, not {min_gap} and {interval}")
        if stale <= 0:
            raise ValueError(f"stale must be positive, not {stale}")
        self.interval = interval
        self.min_gap = min_gap
        self.stale = stale
        self.last: int | None = None
        """The last bitrate sent (bits/s), or None before the first."""
        self.sent = 0
        """REMBs sent so far."""
        self._last_sent = -math.inf
        self._pending = False
        self._deadline = 0.0
        self._uplink: int | None = None
        self._viewers: dict[Hashable, tuple[int, float]] = {}

    @property
    def pending(self) -> bool:
        """Something changed inside the window: :meth:`poll` at :meth:`next_deadline` sends it."""
        return self._pending

    def target(self, now: float) -> int | None:
        """What the publisher should send at most now: min(uplink, fresh viewer estimates), or None."""
        values = [] if self._uplink is None else [self._uplink]
        stale = [key for key, (_, at) in self._viewers.items() if now - at > self.stale]
        for key in stale:
            del self._viewers[key]
        values += (bitrate for bitrate, _ in self._viewers.values())
        return min(values) if values else None

    def uplink(self, bitrate: int, now: float) -> int | None:
        """The estimate of the publisher's uplink changed; returns a bitrate to send now, or None."""
        self._uplink = max(0, bitrate)
        return self._offer(now)

    def viewer(self, key: Hashable, bitrate: int, streams: int, now: float) -> int | None:
        """A viewer's REMB: ``bitrate`` for its whole connection, shared by ``streams`` video streams."""
        self._viewers[key] = (max(0, bitrate) // max(1, streams), now)
        return self._offer(now)

    def forget(self, key: Hashable, now: float) -> int | None:
        """The viewer no longer receives this track."""
        if self._viewers.pop(key, None) is None:
            return None
        return self._offer(now)

    def poll(self, now: float) -> int | None:
        """The timer fired: send what is pending, if its window has ended."""
        if not self._pending:
            return None
        return self._offer(now)

    def next_deadline(self) -> float | None:
        """When :meth:`poll` should run, or None if nothing is pending."""
        return self._deadline if self._pending else None

    def _offer(self, now: float) -> int | None:
        target = self.target(now)
        if target is None:
            self._pending = False
            return None
        waited = now - self._last_sent + _TOLERANCE
        decrease = self.last is not None and target < self.last
        if waited >= self.interval or (decrease and waited >= self.min_gap):
            self._pending = False
            self._last_sent = now
            self.last = target
            self.sent += 1
            return target
        self._pending = True
        self._deadline = self._last_sent + (self.min_gap if decrease else self.interval)
        return None
