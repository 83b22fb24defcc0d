"""Metrics in the Prometheus text exposition format (version 0.0.4); pure, no I/O.

A :class:`Family` is one metric (name, type, help) with its samples; :func:`render` writes families as the
text format, :func:`merge` joins the families of several processes (their samples told apart by a label),
and :class:`Histogram` / :class:`Counters` are the two mutable holders the service updates on its hot paths
(a dict increment, a bisect). Families travel between worker processes as JSON (:meth:`Family.to_json`).

Names and label names follow ``[a-zA-Z_:][a-zA-Z0-9_:]*``; label values and help texts are escaped as the
format says (backslash, double quote, line feed).
"""

from __future__ import annotations

import bisect
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "CONTENT_TYPE",
    "Counters",
    "Family",
    "Histogram",
    "Kind",
    "Sample",
    "merge",
    "render",
    "with_label",
]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

Kind = Literal["counter", "gauge", "histogram", "untyped"]
Labels = tuple[tuple[str, str], ...]

_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
_LABEL = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
_SUFFIXES = {"counter": ("",), "gauge": ("",), "untyped": ("",), "histogram": ("_bucket", "_sum", "_count")}


@dataclass(frozen=True, slots=True)
class Sample:
    """One line: ``<family name><suffix>{labels} value`` (suffix ``_bucket``, ``_sum``, ``_count`` for
    histograms, empty otherwise)."""

    labels: Labels
    value: float
    suffix: str = ""


@dataclass(slots=True)
class Family:
    name: str
    kind: Kind
    help: str
    samples: list[Sample] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ValueError(f"not a metric name: {self.name!r}")

    def add(self, value: float, labels: Mapping[str, str] | None = None, *, suffix: str = "") -> Family:
        if suffix not in _SUFFIXES[self.kind]:
            raise ValueError(f"a {self.kind} has no samples named {self.name}{suffix}")
        items = tuple(sorted((labels or {}).items()))
        for key, _ in items:
            if not _LABEL.match(key) or key.startswith("__"):
                raise ValueError(f"not a label name: {key!r}")
        self.samples.append(Sample(items, float(value), suffix))
        return self

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "help": self.help,
            "samples": [
                [s.suffix, [list(pair) for pair in s.labels], _json_value(s.value)] for s in self.samples
            ],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Family:
        """A family sent by another process; ValueError when it is not one."""
        try:
            kind = str(data["kind"])
            if kind not in _SUFFIXES:
                raise ValueError(f"unknown metric type {kind!r}")
            family = cls(str(data["name"]), kind, str(data["help"]))  # type: ignore[arg-type]
            for suffix, labels, value in data["samples"]:
                family.add(_from_json_value(value), {str(k): str(v) for k, v in labels}, suffix=str(suffix))
        except (KeyError, TypeError) as exc:
            raise ValueError(f"not a metric family: {exc}") from None
        return family


def _json_value(value: float) -> float | str:
    return value if math.isfinite(value) else _format(value)


def _from_json_value(value: float | str) -> float:
    if isinstance(value, str):
        return {"+Inf": math.inf, "-Inf": -math.inf, "NaN": math.nan}[value]
    return float(value)


def with_label(families: Iterable[Family], name: str, value: str) -> list[Family]:
    """The same families with one more label on every sample (which process they came from)."""
    return [
        Family(
            f.name,
            f.kind,
            f.help,
            [Sample(tuple(sorted((*s.labels, (name, value)))), s.value, s.suffix) for s in f.samples],
        )
        for f in families
    ]


def merge(*groups: Iterable[Family]) -> list[Family]:
    """The families of several sources, one per name in order of first appearance, samples concatenated;
    ValueError when two sources disagree on a family's type."""
    merged: dict[str, Family] = {}
    for group in groups:
        for family in group:
            known = merged.get(family.name)
            if known is None:
                merged[family.name] = Family(family.name, family.kind, family.help, list(family.samples))
            elif known.kind != family.kind:
                raise ValueError(f"metric {family.name} is a {known.kind} and a {family.kind}")
            else:
                known.samples.extend(family.samples)
    return list(merged.values())


def _format(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == int(value) and abs(value) < 2**63:
        return str(int(value))
    return repr(value)


def _bound(value: float) -> str:
    """A bucket's ``le`` as Prometheus clients write it: ``0.5``, ``1.0``, ``+Inf``."""
    return "+Inf" if math.isinf(value) else repr(float(value))


def _escape_label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def render(families: Iterable[Family]) -> str:
    """The text exposition of ``families`` (each name once, its samples together)."""
    lines: list[str] = []
    for family in families:
        lines.append(f"# HELP {family.name} {_escape_help(family.help)}")
        lines.append(f"# TYPE {family.name} {family.kind}")
        for sample in family.samples:
            labels = ",".join(f'{k}="{_escape_label(v)}"' for k, v in sample.labels)
            shown = f"{{{labels}}}" if labels else ""
            lines.append(f"{family.name}{sample.suffix}{shown} {_format(sample.value)}")
    return "\n".join(lines) + "\n" if lines else ""


class Counters:
    """Monotonic counts by a tuple of label values (``label_names`` in that order)."""

    def __init__(self, label_names: Sequence[str]) -> None:
        self.label_names = tuple(label_names)
        self.values: dict[tuple[str, ...], float] = {}

    def inc(self, key: tuple[str, ...], amount: float = 1.0) -> None:
        self.values[key] = self.values.get(key, 0.0) + amount

    def family(self, name: str, help_text: str) -> Family:
        family = Family(name, "counter", help_text)
        for key, value in sorted(self.values.items()):
            family.add(value, dict(zip(self.label_names, key, strict=True)))
        return family


class Histogram:
    """Observations by a tuple of label values, counted in cumulative buckets (upper bounds, +Inf added)."""

    def __init__(self, label_names: Sequence[str], buckets: Sequence[float]) -> None:
        if list(buckets) != sorted(set(buckets)):
            raise ValueError("buckets must increase")
        self.label_names = tuple(label_names)
        self.bounds = tuple(float(b) for b in buckets)
        self._series: dict[tuple[str, ...], tuple[list[int], list[float]]] = {}  # counts per bucket, [sum]

    def observe(self, key: tuple[str, ...], value: float) -> None:
        series = self._series.get(key)
        if series is None:
            series = self._series[key] = ([0] * (len(self.bounds) + 1), [0.0])
        series[0][bisect.bisect_left(self.bounds, value)] += 1
        series[1][0] += value

    def family(self, name: str, help_text: str) -> Family:
        family = Family(name, "histogram", help_text)
        for key, (counts, total) in sorted(self._series.items()):
            labels = dict(zip(self.label_names, key, strict=True))
            running = 0
            for bound, count in zip((*self.bounds, math.inf), counts, strict=True):
                running += count
                family.add(running, {**labels, "le": _bound(bound)}, suffix="_bucket")
            family.add(total[0], labels, suffix="_sum")
            family.add(running, labels, suffix="_count")
        return family
