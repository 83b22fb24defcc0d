"""The working-day calendar: which dates are working days in mainland China.

Three sources, asked in this order for a date:

1. the deployment's override file (:class:`CalendarOverrides`): explicit ``holidays`` and ``workdays``;
2. the ``chinesecalendar`` package: official public holidays and 调休 make-up workdays as published each
   year by the State Council General Office;
3. Monday to Friday, for every date neither of the above decides.

An override's ``years`` only marks years as covered; for a year the package also has, the package still
decides the dates the override does not list.

The package only knows the years it was released with. When the State Council publishes the next year's
schedule (usually in November) before the package is updated, operators add that year to an override file
and list it in ``years``, which marks it as covered. A year that nobody covers still works (weekdays only)
but logs one warning per calendar, since statutory holidays would then be counted as working days.

Only :meth:`CalendarOverrides.load` touches the file system; everything else is pure.
"""

from __future__ import annotations

import logging
import tomllib
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import chinese_calendar

from tiaojie.errors import InvalidInput

__all__ = ["CalendarOverrides", "WorkdayCalendar"]

logger = logging.getLogger(__name__)

_OVERRIDE_CODE = "invalid_calendar_override"
_OVERRIDE_KEYS = frozenset({"years", "holidays", "workdays"})
_ONE_DAY = timedelta(days=1)


def _invalid_override(message: str, field: str | None = None) -> InvalidInput:
    return InvalidInput(message, field=field, code=_OVERRIDE_CODE)


def _as_list(document: dict[str, Any], key: str) -> list[Any]:
    value = document.get(key, [])
    if not isinstance(value, list):
        raise _invalid_override(f"calendar override {key!r} must be an array", field=key)
    return value


def _parse_years(values: list[Any]) -> frozenset[int]:
    years: set[int] = set()
    for value in values:
        # bool is an int subclass; `years = [true]` is a mistake, not the year 1.
        if (
            isinstance(value, bool)
            or not isinstance(value, int)
            or not date.min.year <= value <= date.max.year
        ):
            raise _invalid_override(f"calendar override year {value!r} is not a year", field="years")
        years.add(value)
    return frozenset(years)


def _parse_dates(values: list[Any], key: str) -> frozenset[date]:
    dates: set[date] = set()
    for value in values:
        # TOML date-times load as datetime, a date subclass that never equals a date: reject them.
        if not isinstance(value, date) or isinstance(value, datetime):
            raise _invalid_override(
                f"calendar override {key!r} entry {value!r} is not a TOML date (write it as YYYY-MM-DD)",
                field=key,
            )
        dates.add(value)
    return frozenset(dates)


def _check_date(d: date) -> None:
    if isinstance(d, datetime):
        raise TypeError(
            "WorkdayCalendar takes dates, not datetimes; convert instants with deadlines.local_date"
        )


@dataclass(frozen=True)
class CalendarOverrides:
    """Local corrections to the official calendar, loaded from a TOML file.

    ``holidays`` are days off and ``workdays`` are working days whatever the package or the weekday says;
    ``years`` are the years the file fully covers (their official schedule is entirely listed here).
    """

    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()
    years: frozenset[int] = frozenset()

    def __post_init__(self) -> None:
        both = self.holidays & self.workdays
        if both:
            listed = ", ".join(d.isoformat() for d in sorted(both))
            raise _invalid_override(f"calendar override lists {listed} as both holiday and workday")

    @classmethod
    def from_toml(cls, text: str) -> CalendarOverrides:
        """Parse ``years = [2027]``, ``holidays = [2027-01-01, ...]``, ``workdays = [...]`` (all optional)."""
        try:
            document = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise _invalid_override(f"calendar override is not valid TOML: {exc}") from exc
        unknown = sorted(set(document) - _OVERRIDE_KEYS)
        if unknown:
            raise _invalid_override(
                f"calendar override has unknown key(s) {', '.join(unknown)}; "
                "expected years, holidays, workdays",
                field=unknown[0],
            )
        return cls(
            holidays=_parse_dates(_as_list(document, "holidays"), "holidays"),
            workdays=_parse_dates(_as_list(document, "workdays"), "workdays"),
            years=_parse_years(_as_list(document, "years")),
        )

    @classmethod
    def load(cls, path: Path) -> CalendarOverrides:
        """Read and parse an override file (UTF-8). A missing file raises the usual ``OSError``."""
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise _invalid_override(f"calendar override {path} is not UTF-8 text") from exc
        try:
            return cls.from_toml(text)
        except InvalidInput as exc:
            raise InvalidInput(f"{path}: {exc.message}", field=exc.field, code=exc.code) from exc


class WorkdayCalendar:
    """Answers "is this a working day?" and counts working days; see the module docstring for the sources."""

    def __init__(self, overrides: CalendarOverrides | None = None) -> None:
        self._overrides = overrides if overrides is not None else CalendarOverrides()
        self._package_years: dict[int, bool] = {}
        self._warned_years: set[int] = set()
        self._cache: dict[date, bool] = {}

    @property
    def overrides(self) -> CalendarOverrides:
        return self._overrides

    def is_covered(self, year: int) -> bool:
        """Whether the official schedule of ``year`` is known (package data or an override's ``years``)."""
        return year in self._overrides.years or self._package_covers(year)

    def is_working_day(self, d: date) -> bool:
        """Override first, then the package (holidays and make-up workdays), else Monday to Friday."""
        _check_date(d)
        cached = self._cache.get(d)
        if cached is None:
            cached = self._cache[d] = self._compute(d)
        return cached

    def next_working_day(self, d: date) -> date:
        """``d`` itself if it is a working day, otherwise the first working day after it."""
        _check_date(d)
        while not self.is_working_day(d):
            d += _ONE_DAY
        return d

    def add_working_days(self, start: date, n: int) -> date:
        """The ``n``-th working day after ``start``; ``start`` itself is never counted (``n >= 1``)."""
        _check_date(start)
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise InvalidInput(f"working days to add must be an integer >= 1, got {n!r}", field="n")
        d = start
        for _ in range(n):
            d = self.next_working_day(d + _ONE_DAY)
        return d

    def working_days_between(self, start: date, end: date) -> int:
        """The number of working days in ``(start, end]``; 0 when ``end <= start``."""
        _check_date(start)
        _check_date(end)
        span = (end - start).days
        return sum(1 for offset in range(1, span + 1) if self.is_working_day(start + timedelta(days=offset)))

    def _compute(self, d: date) -> bool:
        if d in self._overrides.holidays:
            return False
        if d in self._overrides.workdays:
            return True
        try:
            return bool(chinese_calendar.is_workday(d))
        except NotImplementedError:  # the package raises this for years outside its data
            pass
        if d.year not in self._overrides.years and d.year not in self._warned_years:
            self._warned_years.add(d.year)
            logger.warning(
                "no official holiday schedule for %d (package or override file); "
                "counting Monday to Friday as working days",
                d.year,
            )
        return d.weekday() < 5

    def _package_covers(self, year: int) -> bool:
        known = self._package_years.get(year)
        if known is None:
            known = False
            if date.min.year <= year <= date.max.year:
                try:
                    chinese_calendar.is_workday(date(year, 1, 1))
                    known = True
                except NotImplementedError:
                    known = False
            self._package_years[year] = known
        return known
