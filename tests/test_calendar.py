"""The working-day calendar: package data, overrides, fallback, counting.

Every real date asserted here was checked against the official schedules encoded in chinesecalendar 1.11:
2024 National Day (Oct 1-7 off; Sun Sep 29 and Sat Oct 12 make-up workdays), 2025 Spring Festival
(Jan 28-Feb 4 off; Sun Jan 26 and Sat Feb 8 make-up workdays), 2026 Labour Day (May 1-5 off; Sat May 9
make-up workday). Years 2031 and 2099 only ever appear with fictional, test-only data.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from cases.calendar import CalendarOverrides, WorkdayCalendar
from tiaojie.errors import InvalidInput

EXAMPLE_OVERRIDES = Path(__file__).resolve().parent.parent / "cases" / "calendar_overrides.example.toml"

# Fictional, test-only schedule for 2031 (NOT the real one, which is unpublished).
FICTIONAL_2031 = """
years = [2031]
holidays = [2031-01-01, 2031-01-02]  # Wed, Thu
workdays = [2031-01-04]              # Sat
"""


@pytest.fixture
def cal() -> WorkdayCalendar:
    return WorkdayCalendar()


# --- package data -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "working"),
    [
        # 2024 National Day
        (date(2024, 9, 27), True),  # Fri
        (date(2024, 9, 28), False),  # Sat, ordinary rest day
        (date(2024, 9, 29), True),  # Sun, make-up workday
        (date(2024, 9, 30), True),  # Mon
        *((date(2024, 10, d), False) for d in range(1, 8)),  # Oct 1-7 off, weekdays included
        (date(2024, 10, 8), True),  # Tue
        (date(2024, 10, 12), True),  # Sat, make-up workday
        (date(2024, 10, 13), False),  # Sun
        # 2025 Spring Festival
        (date(2025, 1, 25), False),  # Sat
        (date(2025, 1, 26), True),  # Sun, make-up workday
        (date(2025, 1, 27), True),  # Mon
        *((date(2025, 1, d), False) for d in range(28, 32)),
        *((date(2025, 2, d), False) for d in range(1, 5)),
        (date(2025, 2, 5), True),  # Wed
        (date(2025, 2, 8), True),  # Sat, make-up workday
        (date(2025, 2, 9), False),  # Sun
        # 2026 Labour Day
        (date(2026, 4, 30), True),  # Thu
        *((date(2026, 5, d), False) for d in range(1, 6)),  # May 1-5 off (Fri-Tue)
        (date(2026, 5, 6), True),  # Wed
        (date(2026, 5, 9), True),  # Sat, make-up workday
        (date(2026, 5, 10), False),  # Sun
    ],
)
def test_official_schedule(cal: WorkdayCalendar, day: date, working: bool) -> None:
    assert cal.is_working_day(day) is working


def test_package_years_are_covered(cal: WorkdayCalendar) -> None:
    assert cal.is_covered(2004)
    assert cal.is_covered(2024)
    assert cal.is_covered(2026)
    assert not cal.is_covered(2003)
    assert not cal.is_covered(2099)
    assert not cal.is_covered(0)
    assert not cal.is_covered(10_000)


def test_covered_years_log_nothing(cal: WorkdayCalendar, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="cases.calendar"):
        cal.working_days_between(date(2024, 1, 1), date(2026, 12, 31))
    assert caplog.records == []


# --- counting ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2024, 9, 30), date(2024, 9, 30)),  # a working day is its own next working day
        (date(2024, 9, 28), date(2024, 9, 29)),  # Sat -> make-up Sun
        (date(2024, 10, 1), date(2024, 10, 8)),
        (date(2024, 10, 12), date(2024, 10, 12)),  # make-up Sat
        (date(2024, 10, 13), date(2024, 10, 14)),
        (date(2025, 1, 28), date(2025, 2, 5)),
        (date(2026, 5, 1), date(2026, 5, 6)),
    ],
)
def test_next_working_day(cal: WorkdayCalendar, day: date, expected: date) -> None:
    assert cal.next_working_day(day) == expected


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        (date(2024, 9, 27), 1, date(2024, 9, 29)),  # Fri -> make-up Sun
        (date(2024, 9, 27), 2, date(2024, 9, 30)),
        (date(2024, 9, 27), 3, date(2024, 10, 8)),  # across Golden Week
        (date(2024, 9, 30), 3, date(2024, 10, 10)),
        (date(2024, 10, 3), 1, date(2024, 10, 8)),  # starting on a holiday
        (date(2024, 10, 8), 1, date(2024, 10, 9)),  # start itself never counted
        (date(2024, 10, 10), 2, date(2024, 10, 12)),  # make-up Sat counts
        (date(2024, 10, 11), 2, date(2024, 10, 14)),
        (date(2025, 1, 24), 1, date(2025, 1, 26)),
        (date(2025, 1, 27), 1, date(2025, 2, 5)),  # across Spring Festival
        (date(2025, 2, 7), 1, date(2025, 2, 8)),
        (date(2026, 4, 30), 3, date(2026, 5, 8)),
        (date(2026, 5, 7), 2, date(2026, 5, 9)),
    ],
)
def test_add_working_days(cal: WorkdayCalendar, start: date, n: int, expected: date) -> None:
    assert cal.add_working_days(start, n) == expected


@pytest.mark.parametrize("n", [0, -1, True])
def test_add_working_days_needs_a_positive_count(cal: WorkdayCalendar, n: int) -> None:
    with pytest.raises(InvalidInput) as info:
        cal.add_working_days(date(2024, 9, 30), n)
    assert info.value.field == "n"


def test_working_days_between(cal: WorkdayCalendar) -> None:
    # (Sep 27, Oct 12]: Sep 29, Sep 30, Oct 8, 9, 10, 11, 12
    assert cal.working_days_between(date(2024, 9, 27), date(2024, 10, 12)) == 7
    assert cal.working_days_between(date(2024, 9, 30), date(2024, 10, 7)) == 0
    assert cal.working_days_between(date(2024, 10, 7), date(2024, 10, 8)) == 1
    assert cal.working_days_between(date(2024, 10, 8), date(2024, 10, 8)) == 0
    assert cal.working_days_between(date(2024, 10, 8), date(2024, 9, 1)) == 0


def test_working_days_between_inverts_add_working_days(cal: WorkdayCalendar) -> None:
    for offset in range(0, 60, 3):
        start = date(2024, 9, 15) + timedelta(days=offset)
        for n in (1, 2, 3, 10):
            assert cal.working_days_between(start, cal.add_working_days(start, n)) == n


def test_datetimes_are_refused(cal: WorkdayCalendar) -> None:
    # datetime is a date subclass that never equals a date; refusing it avoids silent misses.
    with pytest.raises(TypeError):
        cal.is_working_day(datetime(2024, 10, 1, 9, 0))
    with pytest.raises(TypeError):
        cal.add_working_days(datetime(2024, 10, 1, 9, 0), 1)


# --- uncovered years --------------------------------------------------------------------------------------


def test_uncovered_year_falls_back_to_monday_to_friday(
    cal: WorkdayCalendar, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="cases.calendar"):
        assert cal.is_working_day(date(2099, 1, 1))  # Thu
        assert not cal.is_working_day(date(2099, 1, 3))  # Sat
        assert cal.add_working_days(date(2099, 1, 2), 1) == date(2099, 1, 5)  # Fri -> Mon
        assert cal.is_working_day(date(2003, 1, 1))  # before the package's first year: Wed
        assert not cal.is_working_day(date(2003, 1, 4))  # Sat
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2  # one per uncovered year, not per date
    assert "2099" in warnings[0].getMessage()
    assert "2003" in warnings[1].getMessage()


def test_warning_is_per_calendar(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="cases.calendar"):
        WorkdayCalendar().is_working_day(date(2099, 1, 1))
        WorkdayCalendar().is_working_day(date(2099, 1, 2))
    assert len(caplog.records) == 2


# --- overrides --------------------------------------------------------------------------------------------


def test_override_adds_a_year(caplog: pytest.LogCaptureFixture) -> None:
    overrides = CalendarOverrides.from_toml(FICTIONAL_2031)
    assert overrides.years == frozenset({2031})
    assert overrides.holidays == frozenset({date(2031, 1, 1), date(2031, 1, 2)})
    assert overrides.workdays == frozenset({date(2031, 1, 4)})
    cal = WorkdayCalendar(overrides)
    with caplog.at_level(logging.WARNING, logger="cases.calendar"):
        assert cal.is_covered(2031)
        assert not cal.is_working_day(date(2031, 1, 1))
        assert cal.is_working_day(date(2031, 1, 4))  # Sat made a workday
        assert not cal.is_working_day(date(2031, 1, 11))  # unlisted Sat: Mon-Fri rule
        assert cal.add_working_days(date(2031, 1, 1), 1) == date(2031, 1, 3)
        assert cal.add_working_days(date(2031, 1, 1), 2) == date(2031, 1, 4)
        assert cal.add_working_days(date(2031, 1, 1), 3) == date(2031, 1, 6)
    assert caplog.records == []  # a year the override covers is not "uncovered"


def test_override_turns_a_package_holiday_into_a_workday() -> None:
    cal = WorkdayCalendar(CalendarOverrides(workdays=frozenset({date(2024, 10, 7)})))
    assert cal.is_working_day(date(2024, 10, 7))
    assert cal.next_working_day(date(2024, 10, 5)) == date(2024, 10, 7)
    assert cal.add_working_days(date(2024, 9, 30), 1) == date(2024, 10, 7)
    assert not cal.is_working_day(date(2024, 10, 6))  # the rest of the package data still applies


def test_override_turns_a_package_workday_into_a_holiday() -> None:
    cal = WorkdayCalendar(CalendarOverrides(holidays=frozenset({date(2024, 10, 8)})))
    assert not cal.is_working_day(date(2024, 10, 8))
    assert cal.add_working_days(date(2024, 9, 30), 3) == date(2024, 10, 11)


def test_override_years_do_not_hide_package_data() -> None:
    cal = WorkdayCalendar(CalendarOverrides(years=frozenset({2024})))
    assert not cal.is_working_day(date(2024, 10, 1))
    assert cal.is_working_day(date(2024, 10, 12))


def test_empty_override_text() -> None:
    assert CalendarOverrides.from_toml("") == CalendarOverrides()
    assert WorkdayCalendar(CalendarOverrides()).is_working_day(date(2024, 10, 12))


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("holidays = [2031-01-01]\nworkdays = [2031-01-01]", None),
        ('holidays = ["2031-01-01"]', "holidays"),
        ("workdays = [2031-01-04T09:00:00]", "workdays"),
        ("workdays = [2031-01-04T09:00:00+08:00]", "workdays"),
        ("holidays = [09:00:00]", "holidays"),
        ("holidays = [20310101]", "holidays"),
        ("holidays = 2031-01-01", "holidays"),
        ('years = ["2031"]', "years"),
        ("years = [true]", "years"),
        ("years = [20310]", "years"),
        ("years = 2031", "years"),
        ("holiday = [2031-01-01]", "holiday"),
        ("[2031]\nholidays = [2031-01-01]", "2031"),
        ("holidays = [2031-01-01", None),
        ("holidays = [2031-02-30]", None),
    ],
)
def test_invalid_override(text: str, field: str | None) -> None:
    with pytest.raises(InvalidInput) as info:
        CalendarOverrides.from_toml(text)
    assert info.value.code == "invalid_calendar_override"
    assert info.value.field == field


def test_override_dataclass_refuses_a_date_in_both_sets() -> None:
    with pytest.raises(InvalidInput) as info:
        CalendarOverrides(holidays=frozenset({date(2031, 1, 1)}), workdays=frozenset({date(2031, 1, 1)}))
    assert info.value.code == "invalid_calendar_override"
    assert "2031-01-01" in info.value.message


def test_load(tmp_path: Path) -> None:
    path = tmp_path / "calendar.toml"
    path.write_text(FICTIONAL_2031, encoding="utf-8")
    assert CalendarOverrides.load(path) == CalendarOverrides.from_toml(FICTIONAL_2031)


def test_load_names_the_file_in_errors(tmp_path: Path) -> None:
    path = tmp_path / "calendar.toml"
    path.write_text("holidays = [2031-01-01]\nbogus = 1\n", encoding="utf-8")
    with pytest.raises(InvalidInput) as info:
        CalendarOverrides.load(path)
    assert info.value.code == "invalid_calendar_override"
    assert info.value.field == "bogus"
    assert str(path) in info.value.message


def test_load_refuses_non_utf8(tmp_path: Path) -> None:
    path = tmp_path / "calendar.toml"
    path.write_bytes("# 节假日\n".encode("gb18030"))
    with pytest.raises(InvalidInput) as info:
        CalendarOverrides.load(path)
    assert info.value.code == "invalid_calendar_override"


def test_load_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        CalendarOverrides.load(tmp_path / "absent.toml")


def test_example_file_is_valid_and_empty() -> None:
    assert CalendarOverrides.load(EXAMPLE_OVERRIDES) == CalendarOverrides()


def test_example_file_illustration_parses_when_uncommented() -> None:
    lines = EXAMPLE_OVERRIDES.read_text(encoding="utf-8").splitlines()
    keys = ("# years =", "# holidays =", "# workdays =")
    uncommented = "\n".join(line.removeprefix("# ") for line in lines if line.startswith(keys))
    overrides = CalendarOverrides.from_toml(uncommented)
    assert overrides.years == frozenset({2099})  # the illustration stays in an obviously fictional year
    assert {d.year for d in overrides.holidays | overrides.workdays} == {2099}
