"""Reporting periods: a quarter (``2026Q3``) or any range of Asia/Shanghai dates, both ends included."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from cases.deadlines import local_date
from tiaojie.errors import InvalidInput

__all__ = ["MAX_DAYS", "Period", "asked_period", "parse_quarter", "quarter_of", "quarters_back"]

MAX_DAYS = 3660  # about ten years: longer ranges are refused rather than read
_QUARTER = re.compile(r"^(\d{4})[-_ ]?[Qq]([1-4])$")


@dataclass(frozen=True, slots=True)
class Period:
    """Local dates ``start`` … ``end`` (inclusive); ``quarter`` names it when it is exactly a quarter."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise InvalidInput("the period ends before it starts", field="to", code="invalid_period")
        if (self.end - self.start).days >= MAX_DAYS:
            raise InvalidInput(
                f"a period is at most {MAX_DAYS} days long", field="to", code="period_too_long"
            )

    def contains(self, instant: datetime | None) -> bool:
        """Whether an aware instant falls on one of the period's local dates (None never does)."""
        return instant is not None and self.start <= local_date(instant) <= self.end

    @property
    def quarter(self) -> str | None:
        """``2026Q3`` if the period is exactly one calendar quarter, else None."""
        q = quarter_of(self.start)
        return q if Period.of_quarter(q) == self else None

    @property
    def label(self) -> str:
        return self.quarter or f"{self.start.isoformat()}–{self.end.isoformat()}"

    @classmethod
    def of_quarter(cls, name: str) -> Period:
        year, number = parse_quarter(name)
        start = date(year, 3 * number - 2, 1)
        after = date(year + 1, 1, 1) if number == 4 else date(year, 3 * number + 1, 1)
        return cls(start, after - timedelta(days=1))


def parse_quarter(name: str) -> tuple[int, int]:
    """``2026Q3`` (also ``2026-Q3``, ``2026q3``) → (2026, 3); anything else raises ``invalid_quarter``."""
    match = _QUARTER.match(name.strip())
    if match is None or not 1990 <= int(match.group(1)) <= 2200:
        raise InvalidInput(
            f"not a quarter: {name!r} (write it like 2026Q3)", field="quarter", code="invalid_quarter"
        )
    return int(match.group(1)), int(match.group(2))


def quarter_of(day: date) -> str:
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


def quarters_back(last: str, count: int) -> list[Period]:
    """``count`` consecutive quarters ending with ``last``, oldest first."""
    year, number = parse_quarter(last)
    index = year * 4 + number - 1
    return [Period.of_quarter(f"{i // 4}Q{i % 4 + 1}") for i in range(index - count + 1, index + 1)]


def asked_period(quarter: str | None, start: date | None, end: date | None, today: date) -> Period:
    """The period a request names: a quarter, or ``from`` and ``to`` together; neither: today's quarter."""
    if quarter is not None and (start is not None or end is not None):
        raise InvalidInput("give a quarter, or from and to, not both", field="quarter", code="invalid_period")
    if start is not None or end is not None:
        if start is None or end is None:
            raise InvalidInput(
                "give both from and to", field="from" if start is None else "to", code="invalid_period"
            )
        return Period(start, end)
    return Period.of_quarter(quarter or quarter_of(today))
