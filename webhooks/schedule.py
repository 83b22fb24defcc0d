"""When to try a delivery again, and what an answer means. Pure: the time and the randomness are passed in.

Attempt 1 is made as soon as the event is committed. After failed attempt ``n`` the next one waits
``5 s × 5^(n-1)``, at most a day, scattered by ±20 % so that many deliveries failing together do not return
together: about 5 s, 25 s, 2 min, 10 min, 52 min, 4.3 h, 21.7 h, 24 h, 24 h — ten attempts over about
3.1 days, then the delivery is given up (it stays in the log and can be redelivered by hand). A
``Retry-After`` answer (seconds or an HTTP date) delays the next attempt further, up to the same one-day cap.

Any 2xx delivers. 410 Gone disables the endpoint (its deliveries wait until it is enabled again). Everything
else — another status, a redirect (never followed), a timeout, a refused connection — is a failure to retry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from enum import StrEnum, unique
from typing import Final

__all__ = [
    "BASE_SECONDS",
    "CAP_SECONDS",
    "MAX_ATTEMPTS",
    "AttemptResult",
    "Verdict",
    "backoff_seconds",
    "jittered",
    "next_attempt_at",
    "parse_retry_after",
    "total_span_seconds",
    "verdict",
]

BASE_SECONDS: Final = 5.0
FACTOR: Final = 5.0
CAP_SECONDS: Final = 24 * 3600.0
MAX_ATTEMPTS: Final = 10
JITTER: Final = 0.2


@unique
class Verdict(StrEnum):
    DELIVERED = "delivered"
    RETRY = "retry"
    GONE = "gone"  # 410: the endpoint asks not to be called again


@dataclass(frozen=True, slots=True)
class AttemptResult:
    """What one HTTP attempt gave: a status, or an error (timeout, connection refused, refused address)."""

    status: int | None
    latency_ms: int
    error: str | None = None
    retry_after: str | None = None  # the raw Retry-After header
    response_excerpt: str | None = None


def verdict(result: AttemptResult) -> Verdict:
    if result.status is not None and 200 <= result.status < 300:
        return Verdict.DELIVERED
    if result.status == 410:
        return Verdict.GONE
    return Verdict.RETRY


def backoff_seconds(failed_attempts: int) -> float:
    """The pause before the next attempt after ``failed_attempts`` (≥ 1) failures, without jitter."""
    if failed_attempts < 1:
        raise ValueError("backoff starts after the first failed attempt")
    return float(min(CAP_SECONDS, BASE_SECONDS * FACTOR ** (failed_attempts - 1)))


def jittered(seconds: float, rand: float) -> float:
    """``seconds`` scattered by ±20 %; ``rand`` is uniform in [0, 1)."""
    return seconds * (1 - JITTER + 2 * JITTER * rand)


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delta-seconds or an HTTP date); None if absent or
    unusable, 0 for a date already past."""
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return float(min(int(text[:12]), 10**9))
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - now).total_seconds())


def next_attempt_at(
    failed_attempts: int, now: datetime, rand: float, retry_after: float | None = None
) -> datetime | None:
    """When to try again after ``failed_attempts`` failures, or None once they are used up."""
    if failed_attempts >= MAX_ATTEMPTS:
        return None
    wait = jittered(backoff_seconds(failed_attempts), rand)
    if retry_after is not None:
        wait = max(wait, min(retry_after, CAP_SECONDS))
    return now + timedelta(seconds=wait)


def total_span_seconds() -> float:
    """From the first attempt to the last one, without jitter (about 3.1 days)."""
    return sum(backoff_seconds(n) for n in range(1, MAX_ATTEMPTS))
