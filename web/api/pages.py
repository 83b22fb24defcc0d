"""Cursor pages for list endpoints."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from cases.schemas import Page

__all__ = ["json_page", "page"]

T = TypeVar("T")


def page(rows: Sequence[Any], limit: int, view: Callable[[Any], T], key: Callable[[Any], str]) -> Page[T]:
    """``rows`` holds up to ``limit + 1`` rows; the extra one means there is a next page."""
    more = len(rows) > limit
    kept = list(rows[:limit])
    return Page[T](items=[view(r) for r in kept], next_cursor=key(kept[-1]) if more and kept else None)


def json_page(
    rows: Sequence[Any], limit: int, view: Callable[[Any], dict[str, Any]], key: Callable[[Any], str]
) -> dict[str, Any]:
    """``page`` as JSON values (``Page``'s shape), for views that are already JSON values."""
    more = len(rows) > limit
    kept = rows[:limit]
    return {"items": [view(r) for r in kept], "next_cursor": key(kept[-1]) if more and kept else None}
