"""The canonical encoding of a transcript version, and its SHA-256 (what a locked version's hash covers).

The encoding is UTF-8 JSON without insignificant whitespace, keys sorted, non-ASCII characters as
themselves (not ``\\u`` escapes), of::

    {"format": "tiaojie-transcript/1", "session_id": …, "version": <number>,
     "entries": [{"seq": …, "speaker": …, "text": …, "at": "YYYY-MM-DDTHH:MM:SSZ", "undisputed": …}, …]}

with the entries in ``seq`` order and times in UTC to the second. Anyone holding the version (the API's
``GET …/transcript/locked``) can recompute the hash: ``sha256(json.dumps(doc, ensure_ascii=False,
sort_keys=True, separators=(",", ":")).encode())``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

__all__ = ["FORMAT", "canonical_bytes", "digest", "utc_text"]

FORMAT = "tiaojie-transcript/1"
_ENTRY_KEYS = ("seq", "speaker", "text", "at", "undisputed")


def utc_text(at: datetime) -> str:
    """An instant as the encoding writes it: UTC, to the second, with ``Z``."""
    if at.tzinfo is None:
        raise ValueError("naive datetime")
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def canonical_bytes(session_id: str, number: int, entries: Sequence[Mapping[str, Any]]) -> bytes:
    """``entries`` as stored in a version (``at`` already in :func:`utc_text` form)."""
    doc = {
        "format": FORMAT,
        "session_id": session_id,
        "version": number,
        "entries": [
            {key: entry[key] for key in _ENTRY_KEYS} for entry in sorted(entries, key=lambda e: e["seq"])
        ],
    }
    return json.dumps(doc, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def digest(session_id: str, number: int, entries: Sequence[Mapping[str, Any]]) -> str:
    return hashlib.sha256(canonical_bytes(session_id, number, entries)).hexdigest()
