"""Deadline arithmetic for mediation cases: pure functions of instants, dates and a working-day calendar.

Two ways of counting, both starting the day after the triggering event (the first day is not counted):

- **working days** for the short intake limits: joint choice of a mediator within 2 (OMR 10), court
  designation within 3 (OMR 11), acceptance by the organisation or mediator within 3 (OMR 12);
- **calendar days, CPL 85** for periods: the mediation period (OMR 24, 26) and the joint application for
  judicial confirmation (CPL 205). The period ends ``days`` after the start date; if that last day is a
  statutory holiday or rest day it moves to the next working day (a 调休 make-up Saturday is a working day).

Every instant is converted to its date in Asia/Shanghai (the courts' local time) before counting; naive
datetimes are refused. Time spent suspended (appraisal, suspected false mediation) or changing mediator is
excluded from the mediation period in whole calendar days, see :func:`paused_days`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from cases.calendar import WorkdayCalendar
from tiaojie.errors import InvalidInput

__all__ = [
    "ACCEPTANCE_WORKING_DAYS",
    "DESIGNATION_WORKING_DAYS",
    "JC_APPLICATION_DAYS",
    "JOINT_CHOICE_WORKING_DAYS",
    "SHANGHAI",
    "DeadlineStatus",
    "MediationDeadline",
    "Pause",
    "Procedure",
    "acceptance_due",
    "base_period_days",
    "deadline_status",
    "designation_due",
    "jc_application_deadline",
    "joint_choice_due",
    "local_date",
    "mediation_deadline",
    "paused_days",
    "statutory_last_day",
]

SHANGHAI = ZoneInfo("Asia/Shanghai")

JOINT_CHOICE_WORKING_DAYS = 2  # OMR 10
DESIGNATION_WORKING_DAYS = 3  # OMR 11
ACCEPTANCE_WORKING_DAYS = 3  # OMR 12
JC_APPLICATION_DAYS = 30  # CPL 205

_DELEGATED_DAYS = 30  # OMR 24: 委派 (pre-filing)
_ENTRUSTED_DAYS = {"ordinary": 15, "simple": 7}  # OMR 26: 委托 (post-filing; second instance is ordinary)


class Procedure(StrEnum):
    """The trial procedure of a filed case; decides the 委托 mediation period."""

    ORDINARY = "ordinary"
    SIMPLE = "simple"


class DeadlineStatus(StrEnum):
    ON_TRACK = "on_track"
    DUE_SOON = "due_soon"
    DUE_TODAY = "due_today"
    OVERDUE = "overdue"
    PAUSED = "paused"


def local_date(instant: datetime) -> date:
    """The Asia/Shanghai calendar date of an aware instant; a naive datetime raises ``InvalidInput``."""
    if not isinstance(instant, datetime):
        raise InvalidInput(f"expected a datetime, got {type(instant).__name__}", code="invalid_datetime")
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise InvalidInput(
            f"datetime {instant.isoformat()} has no time zone; deadlines need an aware instant",
            code="naive_datetime",
        )
    return instant.astimezone(SHANGHAI).date()


def base_period_days(kind: str, procedure: Procedure) -> int:
    """The mediation period in days: 委派 ``"delegated"`` 30; 委托 ``"entrusted"`` 15 ordinary, 7 simple."""
    try:
        procedure = Procedure(procedure)
    except ValueError:
        raise InvalidInput(
            f"unknown procedure {procedure!r}; expected ordinary or simple",
            field="procedure",
            code="invalid_procedure",
        ) from None
    if kind == "delegated":
        return _DELEGATED_DAYS
    if kind == "entrusted":
        return _ENTRUSTED_DAYS[procedure.value]
    raise InvalidInput(
        f"unknown mediation kind {kind!r}; expected delegated or entrusted",
        field="kind",
        code="invalid_case_kind",
    )


def _require_count(value: int, name: str, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InvalidInput(f"{name} must be an integer >= {minimum}, got {value!r}", field=name)


def statutory_last_day(start: date, days: int, cal: WorkdayCalendar) -> date:
    """CPL 85: the last day of a ``days``-day period starting on ``start`` (which is not counted).

    That is ``start + days``, moved to the next working day if it falls on a holiday or rest day.
    """
    _require_count(days, "days", 1)
    return cal.next_working_day(start + timedelta(days=days))


def acceptance_due(assigned_at: datetime, cal: WorkdayCalendar) -> date:
    """Last day for the organisation or mediator to accept or decline in writing (OMR 12)."""
    return cal.add_working_days(local_date(assigned_at), ACCEPTANCE_WORKING_DAYS)


def joint_choice_due(applied_at: datetime, cal: WorkdayCalendar) -> date:
    """Last day for the parties to choose a roster mediator jointly, counted from the application (OMR 10)."""
    return cal.add_working_days(local_date(applied_at), JOINT_CHOICE_WORKING_DAYS)


def designation_due(from_at: datetime, cal: WorkdayCalendar) -> date:
    """Last day for the court to designate a mediator, counted from ``from_at`` (OMR 11).

    ``from_at`` is when designation became the court's task (the joint choice failed or lapsed).
    """
    return cal.add_working_days(local_date(from_at), DESIGNATION_WORKING_DAYS)


@dataclass(frozen=True)
class Pause:
    """The mediation clock stopped: a suspension or a mediator change; ``end=None`` while ongoing."""

    start: datetime
    end: datetime | None = None

    def __post_init__(self) -> None:
        local_date(self.start)
        if self.end is not None:
            local_date(self.end)
            if self.end < self.start:
                raise InvalidInput(
                    f"pause ends ({self.end.isoformat()}) before it starts ({self.start.isoformat()})",
                    field="end",
                    code="invalid_pause",
                )


def paused_days(pauses: Sequence[Pause], *, now: datetime) -> int:
    """Whole calendar days excluded from the period.

    Each pause covers the local dates from its start date up to its end date (``now`` while ongoing) and
    excludes their difference in days; overlapping pauses are merged first, so no day is excluded twice.
    """
    today = local_date(now)
    spans = sorted((local_date(p.start), local_date(p.end) if p.end is not None else today) for p in pauses)
    total = 0
    current: tuple[date, date] | None = None
    for first, last in spans:
        last = max(first, last)  # an ongoing pause that starts after `now` excludes nothing yet
        if current is not None and first <= current[1]:
            current = (current[0], max(current[1], last))
            continue
        if current is not None:
            total += (current[1] - current[0]).days
        current = (first, last)
    if current is not None:
        total += (current[1] - current[0]).days
    return total


@dataclass(frozen=True)
class MediationDeadline:
    """The mediation period's state; ``last_day`` is None while paused (show "paused", not a date)."""

    base_days: int
    extension_days: int
    paused_days: int
    paused: bool
    last_day: date | None


def mediation_deadline(
    *,
    accepted_at: datetime,
    base_days: int,
    extension_days: int,
    pauses: Sequence[Pause],
    now: datetime,
    cal: WorkdayCalendar,
) -> MediationDeadline:
    """The mediation period from acceptance (OMR 24, 26), plus extensions and pauses, CPL 85 counting."""
    _require_count(base_days, "base_days", 1)
    _require_count(extension_days, "extension_days", 0)
    start = local_date(accepted_at)
    excluded = paused_days(pauses, now=now)
    paused = any(p.end is None for p in pauses)
    last_day = None if paused else statutory_last_day(start, base_days + extension_days + excluded, cal)
    return MediationDeadline(
        base_days=base_days,
        extension_days=extension_days,
        paused_days=excluded,
        paused=paused,
        last_day=last_day,
    )


def jc_application_deadline(agreement_effective_at: datetime, cal: WorkdayCalendar) -> date:
    """Last day for the joint application for judicial confirmation: 30 days, CPL 85 counting (CPL 205)."""
    return statutory_last_day(local_date(agreement_effective_at), JC_APPLICATION_DAYS, cal)


def deadline_status(last_day: date | None, today: date, *, warn_days: int = 3) -> DeadlineStatus:
    """Traffic light: paused (no date), overdue, due today, due within ``warn_days`` days, on track."""
    _require_count(warn_days, "warn_days", 0)
    if last_day is None:
        return DeadlineStatus.PAUSED
    if today > last_day:
        return DeadlineStatus.OVERDUE
    if today == last_day:
        return DeadlineStatus.DUE_TODAY
    if (last_day - today).days <= warn_days:
        return DeadlineStatus.DUE_SOON
    return DeadlineStatus.ON_TRACK
