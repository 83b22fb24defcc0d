"""Identifiers: a type prefix and a time-ordered random part, e.g. ``cas_01JD9W3W2QK8Y4V6T7Z5R3M2N1``."""

from __future__ import annotations

import re
import secrets
import time

__all__ = ["ID_PATTERN", "is_id", "new_id"]

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
ID_PATTERN = re.compile(r"^[a-z]{2,4}_[0-9A-HJKMNP-TV-Z]{26}$")


def _encode(value: int, length: int) -> str:
    chars = []
    for _ in range(length):
        chars.append(_CROCKFORD[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def new_id(prefix: str) -> str:
    """A new identifier: 48 bits of milliseconds then 80 random bits, Crockford base32 (26 characters)."""
    millis = time.time_ns() // 1_000_000
    return f"{prefix}_{_encode(millis, 10)}{_encode(secrets.randbits(80), 16)}"


def is_id(value: str, prefix: str | None = None) -> bool:
    if not ID_PATTERN.match(value):
        return False
    return prefix is None or value.startswith(prefix + "_")
