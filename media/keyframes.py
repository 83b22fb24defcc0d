"""Keyframe-request relay: subscribers' PLI/FIR and joins → rate-limited PLIs to one publisher stream.

One :class:`KeyframeRelay` per forwarded video stream. Every reason to want a keyframe — a subscriber's PLI
or FIR, a subscriber joining or resuming (its rewriter reports ``Drop.NEED_KEYFRAME``), a NACK that the
retransmission cache cannot answer, a recording starting — is a :meth:`~KeyframeRelay.request`.

At most one PLI goes upstream per ``interval`` (default 300 ms): a browser answers each PLI with a costly
keyframe, and five viewers joining together must not cause five. But a request inside the window is
**merged, never dropped**: it is remembered and causes exactly one more PLI when the window ends, unless a
keyframe from the publisher arrived after it (:meth:`~KeyframeRelay.keyframe_seen`), which is what the
requester wanted. Dropping instead left viewers who asked just after someone else without video until the
publisher's next periodic keyframe.

The relay is a pure state machine: the caller passes ``now`` (monotonic seconds), sends the PLI when a
method returns True, and arms a timer for :meth:`~KeyframeRelay.next_deadline` to call
:meth:`~KeyframeRelay.poll`.
"""

from __future__ import annotations

import math

__all__ = ["KeyframeRelay"]


class KeyframeRelay:
    """Rate-limits and merges keyframe requests for one publisher stream."""

    __slots__ = ("_last_sent", "_pending", "interval", "last_keyframe", "merged", "requests", "sent")

    def __init__(self, interval: float = 0.3) -> None:
        if interval <= 0:
            raise ValueError(f"interval must be positive, not {interval}")
        self.interval = interval
        """Least time between two PLIs, in seconds."""
        self._last_sent = -math.inf
        self._pending = False
        self.requests = 0
        """Requests received."""
        self.sent = 0
        """PLIs the caller was told to send."""
        self.merged = 0
        """Requests that found a deferred PLI already pending and were folded into it."""
        self.last_keyframe: float | None = None
        """When the publisher's last keyframe arrived."""

    @property
    def pending(self) -> bool:
        """Whether a request waits for the window to end."""
        return self._pending

    def request(self, now: float) -> bool:
        """Someone wants a keyframe. True: send a PLI now. False: it is merged into one due at
        :meth:`next_deadline`."""
        self.requests += 1
        if now >= self._last_sent + self.interval:
            return self._send(now)
        if not self._pending:
            self._pending = True
        else:
            self.merged += 1
        return False

    def poll(self, now: float) -> bool:
        """True when a merged request is due: send a PLI now."""
        if self._pending and now >= self._last_sent + self.interval:
            return self._send(now)
        return False

    def keyframe_seen(self, now: float) -> None:
        """A keyframe from the publisher arrived: it answers every request made so far."""
        self._pending = False
        self.last_keyframe = now

    def next_deadline(self) -> float | None:
        """When :meth:`poll` will next return True, or None if nothing is pending."""
        return self._last_sent + self.interval if self._pending else None

    def _send(self, now: float) -> bool:
        self._last_sent = now
        self._pending = False
        self.sent += 1
        return True
