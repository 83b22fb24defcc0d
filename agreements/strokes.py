"""A drawn signature as the browser sends it, parsed strictly and without I/O.

The signature pad sends ``{"width", "height", "strokes"}``: the canvas size in CSS pixels, and the strokes
in the order they were drawn, each a list of points ``[x, y, t_ms]`` or ``[x, y, t_ms, pressure]``. ``t_ms``
is milliseconds since the first point of the signature and never goes back, within a stroke or from one
stroke to the next (the timing is part of the evidence of a hand-drawn signature). Coordinates lie on the
canvas; ``pressure`` (pointer events' 0–1) is optional per point.

:func:`parse` refuses anything else with :class:`~tiaojie.errors.InvalidInput` ``malformed_signature``
(naming the offending place, never echoing the value) or, past :data:`MAX_BYTES` of canonical JSON,
:class:`~tiaojie.errors.PayloadTooLarge`. :func:`canonical` is the bytes kept in the file store.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from tiaojie.errors import InvalidInput, PayloadTooLarge

__all__ = [
    "MAX_BYTES",
    "MAX_POINTS",
    "MAX_SIDE",
    "MAX_STROKES",
    "MAX_TIME_MS",
    "MIN_SIDE",
    "Drawing",
    "Point",
    "canonical",
    "parse",
]

MIN_SIDE = 50
MAX_SIDE = 4096
MAX_STROKES = 200
MAX_POINTS = 8000  # over all strokes
MAX_TIME_MS = 10 * 60 * 1000
MAX_BYTES = 256 * 1024  # canonical JSON of the whole signature

_KEYS = frozenset({"width", "height", "strokes"})


@dataclass(frozen=True, slots=True)
class Point:
    x: float
    y: float
    t_ms: float
    pressure: float | None = None


@dataclass(frozen=True, slots=True)
class Drawing:
    width: int
    height: int
    strokes: tuple[tuple[Point, ...], ...]

    @property
    def points(self) -> int:
        return sum(len(stroke) for stroke in self.strokes)

    @property
    def duration_ms(self) -> float:
        return self.strokes[-1][-1].t_ms - self.strokes[0][0].t_ms


def _bad(field: str, message: str) -> InvalidInput:
    return InvalidInput(
        message, field=f"signature.{field}" if field else "signature", code="malformed_signature"
    )


def _number(value: Any, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _bad(field, "a number is expected")
    number = float(value)
    if not math.isfinite(number):
        raise _bad(field, "a finite number is expected")
    return number


def _side(document: dict[str, Any], name: str) -> int:
    value = document.get(name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise _bad(name, "the canvas size is a whole number of pixels")
    if not MIN_SIDE <= value <= MAX_SIDE:
        raise _bad(name, f"the canvas side is {MIN_SIDE}–{MAX_SIDE} pixels")
    return value


def canonical(document: Any) -> bytes:
    """Sorted keys, no spaces, UTF-8: the bytes hashed and stored."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def parse(document: Any) -> Drawing:
    """The drawing in ``document`` (the decoded JSON of the ``signature`` field)."""
    if not isinstance(document, dict):
        raise _bad("", "the signature is an object with width, height and strokes")
    if len(canonical(document)) > MAX_BYTES:
        raise PayloadTooLarge(f"a signature is limited to {MAX_BYTES} bytes", limit=MAX_BYTES)
    unknown = sorted(set(document) - _KEYS)
    if unknown:
        raise _bad(unknown[0][:40], "unknown field")
    width, height = _side(document, "width"), _side(document, "height")
    strokes = document.get("strokes")
    if not isinstance(strokes, list) or not strokes:
        raise _bad("strokes", "at least one stroke is needed")
    if len(strokes) > MAX_STROKES:
        raise _bad("strokes", f"at most {MAX_STROKES} strokes")
    total = 0
    last_t = 0.0
    parsed: list[tuple[Point, ...]] = []
    for s, stroke in enumerate(strokes):
        where = f"strokes.{s}"
        if not isinstance(stroke, list) or not stroke:
            raise _bad(where, "a stroke is a non-empty list of points")
        total += len(stroke)
        if total > MAX_POINTS:
            raise _bad(where, f"at most {MAX_POINTS} points in all")
        points: list[Point] = []
        for p, raw in enumerate(stroke):
            at = f"{where}.{p}"
            if not isinstance(raw, list) or len(raw) not in (3, 4):
                raise _bad(at, "a point is [x, y, t_ms] or [x, y, t_ms, pressure]")
            x, y, t = (_number(raw[i], f"{at}.{i}") for i in range(3))
            if not 0 <= x <= width or not 0 <= y <= height:
                raise _bad(at, "the point is off the canvas")
            if not 0 <= t <= MAX_TIME_MS:
                raise _bad(f"{at}.2", f"times are 0–{MAX_TIME_MS} ms")
            if t < last_t:
                raise _bad(f"{at}.2", "time goes back")
            last_t = t
            pressure = None
            if len(raw) == 4:
                pressure = _number(raw[3], f"{at}.3")
                if not 0 <= pressure <= 1:
                    raise _bad(f"{at}.3", "pressure is 0–1")
            points.append(Point(x, y, t, pressure))
        parsed.append(tuple(points))
    if total < 2:
        raise _bad("strokes", "a signature has at least two points")
    return Drawing(width, height, tuple(parsed))
