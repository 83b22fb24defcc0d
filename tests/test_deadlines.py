"""Deadline arithmetic: Shanghai dates, CPL 85 periods, working-day limits, pauses and statuses.

Real dates checked against chinesecalendar 1.11: 2024 National Day (Oct 1-7 off; Sun Sep 29 and Sat Oct 12
make-up workdays), 2025 Spring Festival (Jan 28-Feb 4 off; Sun Jan 26 and Sat Feb 8 make-up workdays),
2026 Labour Day (May 1-5 off; Sat May 9 make-up workday). Sep 22 2024 and Oct 13 2024 are ordinary Sundays.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from cases.calendar import WorkdayCalendar
from cases.deadlines import (
    SHANGHAI,
    DeadlineStatus,
    MediationDeadline,
    Pause,
    Procedure,
    acceptance_due,
    base_period_days,
    deadline_status,
    designation_due,
    jc_application_deadline,
    joint_choice_due,
    local_date,
    mediation_deadline,
    paused_days,
    statutory_last_day,
)
from tiaojie.errors import InvalidInput


def sh(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    """An instant in Shanghai local time."""
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def utc(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def cal() -> WorkdayCalendar:
    return WorkdayCalendar()


# --- local dates ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("instant", "expected"),
    [
        (utc(2024, 9, 30, 15, 59), date(2024, 9, 30)),  # 23:59 in Shanghai
        (utc(2024, 9, 30, 16, 0), date(2024, 10, 1)),  # midnight in Shanghai: already the next day
        (sh(2024, 10, 1, 0, 0), date(2024, 10, 1)),
        (datetime(2024, 10, 1, 0, 30, tzinfo=timezone(timedelta(hours=9))), date(2024, 9, 30)),  # Tokyo
        (datetime(2024, 9, 30, 12, 0, tzinfo=timezone(timedelta(hours=-5))), date(2024, 10, 1)),
    ],
)
def test_local_date(instant: datetime, expected: date) -> None:
    assert local_date(instant) == expected


def test_local_date_refuses_naive_datetimes() -> None:
    with pytest.raises(InvalidInput) as info:
        local_date(datetime(2024, 10, 1, 9, 0))
    assert info.value.code == "naive_datetime"


def test_local_date_refuses_dates() -> None:
    with pytest.raises(InvalidInput):
        local_date(date(2024, 10, 1))  # type: ignore[arg-type]


# --- base periods -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "procedure", "days"),
    [
        ("delegated", Procedure.ORDINARY, 30),
        ("delegated", Procedure.SIMPLE, 30),
        ("entrusted", Procedure.ORDINARY, 15),
        ("entrusted", Procedure.SIMPLE, 7),
        ("entrusted", "simple", 7),
    ],
)
def test_base_period_days(kind: str, procedure: Procedure, days: int) -> None:
    assert base_period_days(kind, procedure) == days


def test_base_period_days_refuses_unknown_values() -> None:
    with pytest.raises(InvalidInput) as info:
        base_period_days("arbitration", Procedure.ORDINARY)
    assert info.value.field == "kind"
    with pytest.raises(InvalidInput) as info:
        base_period_days("entrusted", "summary")  # type: ignore[arg-type]
    assert info.value.field == "procedure"


# --- CPL 85 periods ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        (date(2024, 9, 2), 15, date(2024, 9, 18)),  # ends on Sep 17, Mid-autumn -> Wed Sep 18
        (date(2024, 9, 1), 30, date(2024, 10, 8)),  # ends on Oct 1 -> after Golden Week
        (date(2024, 9, 12), 30, date(2024, 10, 12)),  # ends on a make-up Saturday: stays
        (date(2024, 9, 13), 30, date(2024, 10, 14)),  # ends on an ordinary Sunday -> Monday
        (date(2024, 9, 14), 30, date(2024, 10, 14)),  # ends on Mon Oct 14, a working day
        (date(2025, 1, 14), 15, date(2025, 2, 5)),  # ends on Jan 29, Spring Festival
        (date(2025, 1, 24), 15, date(2025, 2, 8)),  # ends on make-up Sat Feb 8
        (date(2026, 4, 24), 7, date(2026, 5, 6)),  # ends on May 1, Labour Day
        (date(2026, 5, 2), 7, date(2026, 5, 9)),  # ends on make-up Sat May 9
    ],
)
def test_statutory_last_day(cal: WorkdayCalendar, start: date, days: int, expected: date) -> None:
    assert statutory_last_day(start, days, cal) == expected


@pytest.mark.parametrize("days", [0, -3])
def test_statutory_last_day_needs_a_positive_period(cal: WorkdayCalendar, days: int) -> None:
    with pytest.raises(InvalidInput) as info:
        statutory_last_day(date(2024, 9, 1), days, cal)
    assert info.value.field == "days"


# --- working-day limits -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("assigned_at", "expected"),
    [
        (sh(2024, 9, 30, 10), date(2024, 10, 10)),  # Oct 8, 9, 10 after Golden Week
        (sh(2024, 9, 27, 17), date(2024, 10, 8)),  # make-up Sun Sep 29, Mon Sep 30, Tue Oct 8
        (sh(2024, 10, 3, 11), date(2024, 10, 10)),  # assigned during the holiday
        (utc(2024, 9, 29, 15, 59), date(2024, 10, 9)),  # still Sun Sep 29 in Shanghai
        (utc(2024, 9, 29, 16, 0), date(2024, 10, 10)),  # already Mon Sep 30 in Shanghai
        (sh(2024, 10, 10, 9), date(2024, 10, 14)),  # Oct 11, make-up Sat Oct 12, Mon Oct 14
    ],
)
def test_acceptance_due(cal: WorkdayCalendar, assigned_at: datetime, expected: date) -> None:
    assert acceptance_due(assigned_at, cal) == expected


def test_joint_choice_and_designation_across_spring_festival(cal: WorkdayCalendar) -> None:
    # Applied Fri Jan 24 2025: make-up Sun Jan 26 and Mon Jan 27 are the two working days.
    assert joint_choice_due(sh(2025, 1, 24, 15), cal) == date(2025, 1, 27)
    # Joint choice lapsed at the end of Jan 27: designation within Feb 5, 6, 7.
    assert designation_due(sh(2025, 1, 27, 18), cal) == date(2025, 2, 7)


def test_joint_choice_and_designation_around_labour_day_2026(cal: WorkdayCalendar) -> None:
    assert designation_due(sh(2026, 4, 30, 9), cal) == date(2026, 5, 8)  # May 6, 7, 8
    assert joint_choice_due(sh(2026, 5, 7, 9), cal) == date(2026, 5, 9)  # May 8, make-up Sat May 9


def test_working_day_limits_refuse_naive_datetimes(cal: WorkdayCalendar) -> None:
    naive = datetime(2024, 9, 30, 10, 0)
    for due in (acceptance_due, joint_choice_due, designation_due, jc_application_deadline):
        with pytest.raises(InvalidInput):
            due(naive, cal)


# --- pauses -----------------------------------------------------------------------------------------------


def test_pause_validation() -> None:
    with pytest.raises(InvalidInput):
        Pause(start=datetime(2024, 9, 5, 9, 0))
    with pytest.raises(InvalidInput):
        Pause(start=sh(2024, 9, 5), end=datetime(2024, 9, 6, 9, 0))
    with pytest.raises(InvalidInput) as info:
        Pause(start=sh(2024, 9, 5), end=sh(2024, 9, 4))
    assert info.value.code == "invalid_pause"


NOW = sh(2024, 9, 20, 12)


@pytest.mark.parametrize(
    ("pauses", "expected"),
    [
        ([], 0),
        ([Pause(sh(2024, 9, 5), sh(2024, 9, 10))], 5),
        ([Pause(sh(2024, 9, 5, 9), sh(2024, 9, 5, 17))], 0),  # same day: nothing excluded
        ([Pause(sh(2024, 9, 5, 23), sh(2024, 9, 6, 1))], 1),  # crosses midnight
        ([Pause(utc(2024, 9, 4, 16), utc(2024, 9, 5, 15))], 0),  # both on Sep 5 in Shanghai
        ([Pause(sh(2024, 9, 5), sh(2024, 9, 10)), Pause(sh(2024, 9, 8), sh(2024, 9, 12))], 7),  # overlap
        ([Pause(sh(2024, 9, 8), sh(2024, 9, 12)), Pause(sh(2024, 9, 5), sh(2024, 9, 10))], 7),  # any order
        ([Pause(sh(2024, 9, 5), sh(2024, 9, 15)), Pause(sh(2024, 9, 8), sh(2024, 9, 9))], 10),  # nested
        ([Pause(sh(2024, 9, 5), sh(2024, 9, 7)), Pause(sh(2024, 9, 7), sh(2024, 9, 9))], 4),  # touching
        ([Pause(sh(2024, 9, 2), sh(2024, 9, 4)), Pause(sh(2024, 9, 10), sh(2024, 9, 11))], 3),  # disjoint
        ([Pause(sh(2024, 9, 17))], 3),  # open: counted up to today (Sep 20)
        ([Pause(sh(2024, 9, 5), sh(2024, 9, 18)), Pause(sh(2024, 9, 17))], 15),  # open overlaps closed
        ([Pause(sh(2024, 9, 22))], 0),  # open but starting after now
        ([Pause(sh(2024, 9, 22)), Pause(sh(2024, 9, 1), sh(2024, 9, 3))], 2),
    ],
)
def test_paused_days(pauses: list[Pause], expected: int) -> None:
    assert paused_days(pauses, now=NOW) == expected


def test_paused_days_refuses_naive_now() -> None:
    with pytest.raises(InvalidInput):
        paused_days([], now=datetime(2024, 9, 20, 12, 0))


# --- the mediation period ---------------------------------------------------------------------------------


def test_mediation_deadline_without_pauses(cal: WorkdayCalendar) -> None:
    # 委托, simple procedure, accepted Fri Apr 24 2026: day 7 is May 1 (Labour Day) -> Wed May 6.
    result = mediation_deadline(
        accepted_at=sh(2026, 4, 24, 9), base_days=7, extension_days=0, pauses=[], now=sh(2026, 4, 27), cal=cal
    )
    assert result == MediationDeadline(
        base_days=7, extension_days=0, paused_days=0, paused=False, last_day=date(2026, 5, 6)
    )


def test_mediation_deadline_with_extension(cal: WorkdayCalendar) -> None:
    # 7 + 8 days from Apr 24 2026 ends on make-up Sat May 9, a working day.
    result = mediation_deadline(
        accepted_at=sh(2026, 4, 24, 9), base_days=7, extension_days=8, pauses=[], now=sh(2026, 4, 27), cal=cal
    )
    assert result.extension_days == 8
    assert result.last_day == date(2026, 5, 9)


def test_mediation_deadline_counts_acceptance_in_shanghai_time(cal: WorkdayCalendar) -> None:
    # 16:00 UTC on Aug 31 is Sep 1 in Shanghai: 30 days later is Oct 1 -> Oct 8.
    result = mediation_deadline(
        accepted_at=utc(2024, 8, 31, 16), base_days=30, extension_days=0, pauses=[], now=NOW, cal=cal
    )
    assert result.last_day == date(2024, 10, 8)
    # One minute earlier it is still Aug 31 in Shanghai: Sep 30, a Monday.
    result = mediation_deadline(
        accepted_at=utc(2024, 8, 31, 15, 59), base_days=30, extension_days=0, pauses=[], now=NOW, cal=cal
    )
    assert result.last_day == date(2024, 9, 30)


def test_mediation_deadline_excludes_finished_pauses(cal: WorkdayCalendar) -> None:
    # 15 days from Mon Sep 2 2024 plus 5 paused days ends on Sun Sep 22 -> Mon Sep 23.
    pauses = [Pause(sh(2024, 9, 5, 14), sh(2024, 9, 10, 9)), Pause(sh(2024, 9, 6), sh(2024, 9, 8))]
    result = mediation_deadline(
        accepted_at=sh(2024, 9, 2), base_days=15, extension_days=0, pauses=pauses, now=NOW, cal=cal
    )
    assert result == MediationDeadline(
        base_days=15, extension_days=0, paused_days=5, paused=False, last_day=date(2024, 9, 23)
    )


def test_mediation_deadline_while_paused_has_no_last_day(cal: WorkdayCalendar) -> None:
    pauses = [Pause(sh(2024, 9, 5), sh(2024, 9, 10)), Pause(sh(2024, 9, 17, 15))]
    result = mediation_deadline(
        accepted_at=sh(2024, 9, 2), base_days=15, extension_days=2, pauses=pauses, now=NOW, cal=cal
    )
    assert result == MediationDeadline(
        base_days=15, extension_days=2, paused_days=8, paused=True, last_day=None
    )
    assert deadline_status(result.last_day, local_date(NOW)) is DeadlineStatus.PAUSED


def test_mediation_deadline_after_resuming(cal: WorkdayCalendar) -> None:
    # Appraisal from Sep 17 to Oct 9 2024 (22 days): 15 + 22 days from Sep 2 ends on Wed Oct 9.
    pauses = [Pause(sh(2024, 9, 17, 15), sh(2024, 10, 9, 11))]
    result = mediation_deadline(
        accepted_at=sh(2024, 9, 2),
        base_days=15,
        extension_days=0,
        pauses=pauses,
        now=sh(2024, 10, 9, 12),
        cal=cal,
    )
    assert result.paused_days == 22
    assert not result.paused
    assert result.last_day == date(2024, 10, 9)


@pytest.mark.parametrize(
    ("base_days", "extension_days", "field"),
    [(0, 0, "base_days"), (15, -1, "extension_days"), (15, True, "extension_days")],
)
def test_mediation_deadline_validates_counts(
    cal: WorkdayCalendar, base_days: int, extension_days: int, field: str
) -> None:
    with pytest.raises(InvalidInput) as info:
        mediation_deadline(
            accepted_at=sh(2024, 9, 2),
            base_days=base_days,
            extension_days=extension_days,
            pauses=[],
            now=NOW,
            cal=cal,
        )
    assert info.value.field == field


def test_mediation_deadline_refuses_naive_acceptance(cal: WorkdayCalendar) -> None:
    with pytest.raises(InvalidInput):
        mediation_deadline(
            accepted_at=datetime(2024, 9, 2, 10, 0),
            base_days=15,
            extension_days=0,
            pauses=[],
            now=NOW,
            cal=cal,
        )


# --- judicial confirmation --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("effective_at", "expected"),
    [
        (sh(2024, 9, 1, 20), date(2024, 10, 8)),  # day 30 is Oct 1
        (sh(2024, 9, 12), date(2024, 10, 12)),  # day 30 is make-up Sat Oct 12
        (sh(2024, 12, 29), date(2025, 2, 5)),  # day 30 is Jan 28 2025, Spring Festival
        (utc(2024, 9, 11, 16), date(2024, 10, 12)),  # Sep 12 in Shanghai
        (utc(2024, 9, 11, 15, 59), date(2024, 10, 11)),  # still Sep 11 in Shanghai
    ],
)
def test_jc_application_deadline(cal: WorkdayCalendar, effective_at: datetime, expected: date) -> None:
    assert jc_application_deadline(effective_at, cal) == expected


# --- status -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("last_day", "today", "expected"),
    [
        (None, date(2024, 10, 8), DeadlineStatus.PAUSED),
        (date(2024, 10, 8), date(2024, 10, 9), DeadlineStatus.OVERDUE),
        (date(2024, 10, 8), date(2025, 1, 1), DeadlineStatus.OVERDUE),
        (date(2024, 10, 8), date(2024, 10, 8), DeadlineStatus.DUE_TODAY),
        (date(2024, 10, 8), date(2024, 10, 7), DeadlineStatus.DUE_SOON),
        (date(2024, 10, 8), date(2024, 10, 5), DeadlineStatus.DUE_SOON),  # exactly warn_days before
        (date(2024, 10, 8), date(2024, 10, 4), DeadlineStatus.ON_TRACK),
        (date(2024, 10, 8), date(2024, 9, 1), DeadlineStatus.ON_TRACK),
    ],
)
def test_deadline_status(last_day: date | None, today: date, expected: DeadlineStatus) -> None:
    assert deadline_status(last_day, today) is expected


def test_deadline_status_warn_days() -> None:
    assert deadline_status(date(2024, 10, 8), date(2024, 10, 1), warn_days=7) is DeadlineStatus.DUE_SOON
    assert deadline_status(date(2024, 10, 8), date(2024, 10, 7), warn_days=0) is DeadlineStatus.ON_TRACK
    assert deadline_status(date(2024, 10, 8), date(2024, 10, 8), warn_days=0) is DeadlineStatus.DUE_TODAY
    with pytest.raises(InvalidInput):
        deadline_status(date(2024, 10, 8), date(2024, 10, 1), warn_days=-1)


def test_enums_are_strings() -> None:
    assert Procedure("simple") is Procedure.SIMPLE
    assert {s.value for s in DeadlineStatus} == {"on_track", "due_soon", "due_today", "overdue", "paused"}
