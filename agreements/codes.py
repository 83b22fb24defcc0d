"""One-time codes that re-confirm a signer's identity at the moment of signing, without I/O.

A code is six digits, sent to the signer's phone through the notifier. Only an HMAC of it is stored (keyed
from the service's secret and the code's own id, so a leaked table does not give the codes away even though
there are only a million of them). A code works once, until it expires, and for a limited number of wrong
tries; sending is rate-limited per signer (a minimum interval, and a maximum per rolling hour).
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

__all__ = ["CodePolicy", "Verdict", "code_hash", "judge", "new_code", "retry_after"]

_PURPOSE = b"tiaojie signing one-time code v1"


@dataclass(frozen=True, slots=True)
class CodePolicy:
    ttl: timedelta = timedelta(minutes=5)
    max_attempts: int = 5
    min_interval: timedelta = timedelta(seconds=60)
    per_hour: int = 5


class Verdict(StrEnum):
    OK = "ok"
    WRONG = "otp_wrong"
    EXPIRED = "otp_expired"
    EXHAUSTED = "otp_attempts_exhausted"
    USED = "otp_used"


def new_code() -> str:
    return f"{secrets.randbelow(10**6):06d}"


def code_hash(secret: str, code_id: str, code: str) -> str:
    key = hmac.new(secret.encode(), _PURPOSE, hashlib.sha256).digest()
    return hmac.new(key, f"{code_id}:{code}".encode(), hashlib.sha256).hexdigest()


def retry_after(sent: Sequence[datetime], now: datetime, policy: CodePolicy) -> int | None:
    """Seconds until another code may be sent to this signer (None: now), given when earlier ones were."""
    waits: list[timedelta] = []
    if sent:
        latest = max(sent)
        if now - latest < policy.min_interval:
            waits.append(latest + policy.min_interval - now)
    in_hour = sorted(t for t in sent if now - t < timedelta(hours=1))
    if len(in_hour) >= policy.per_hour:
        waits.append(in_hour[len(in_hour) - policy.per_hour] + timedelta(hours=1) - now)
    if not waits:
        return None
    return max(1, math.ceil(max(waits).total_seconds()))


def judge(
    *,
    stored_hash: str,
    given: str,
    code_id: str,
    secret: str,
    expires_at: datetime,
    attempts: int,
    used: bool,
    now: datetime,
    policy: CodePolicy,
) -> Verdict:
    """What a try with ``given`` means. A WRONG try counts as an attempt; nothing else does."""
    if used:
        return Verdict.USED
    if now >= expires_at:
        return Verdict.EXPIRED
    if attempts >= policy.max_attempts:
        return Verdict.EXHAUSTED
    if hmac.compare_digest(code_hash(secret, code_id, given), stored_hash):
        return Verdict.OK
    return Verdict.WRONG
