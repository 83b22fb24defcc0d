"""The figures of mediator evaluation, computed in one place from plain rows (no I/O, no clock).

A case is attributed to its *holder*: its court, and the organisation and mediator that hold it (its
current assignment; for a closed case, the one that closed it). Which case counts in which period
(``docs/statistics.md`` says the same in words; every date is the Asia/Shanghai date of the instant):

- ``received`` — the case was created (委派 or 委托 by the court) within the period;
- ``accepted`` — its mediation period started (the first acceptance) within the period;
  ``acceptance_median_hours`` is over these cases, from the assignment accepted to the acceptance;
- ``closed`` — it closed within the period (agreement signed or terminated). Every figure below is over the
  cases closed within the period:
  ``agreed_full`` / ``agreed_partial`` / ``terminated`` and ``terminated_<reason>`` (OMR 25);
  ``success_rate`` = agreed ÷ closed; ``av_cases`` (at least one audio/video session took place) and
  ``av_rate`` = av_cases ÷ closed;
  ``duration_*`` — calendar days from the acceptance date to the closing date minus the days the clock was
  paused (suspensions and mediator changes, counted as :func:`cases.deadlines.paused_days` counts them),
  over the closed cases that were accepted: median, mean and the number in each bucket;
  ``within_period`` / ``overdue`` — closed on or before / after the last day of the mediation period
  (extensions and pauses included); ``extended`` — at least one extension was granted;
  ``compliance_rate`` = within_period ÷ (within_period + overdue);
- ``jc_applied`` — a joint application for judicial confirmation was made (every party confirmed) within
  the period; ``jc_confirmed`` / ``jc_rejected`` — the court's result was recorded within the period.

Rates are None when their denominator is zero.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, fields
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Final

from cases.deadlines import Pause, local_date, paused_days
from cases.lifecycle import Outcome, TerminationReason
from stats.periods import Period

__all__ = [
    "DURATION_BUCKETS",
    "FAILURE_REASONS",
    "FIELDS",
    "CaseRow",
    "Figures",
    "GroupBy",
    "Holder",
    "JcRow",
    "accepted_assignment_time",
    "compute",
    "duration_days",
    "group",
]

FAILURE_REASONS: Final = tuple(r for r in TerminationReason if r is not TerminationReason.AGREEMENT_REACHED)
"""The OMR 25 reasons a case can end without agreement, in the rule's order."""

DURATION_BUCKETS: Final = ((0, 7), (8, 15), (16, 30), (31, 60), (61, None))
"""Duration buckets in days, both ends included (7, 15 and 30 are the periods of OMR 24 and 26)."""


class GroupBy(StrEnum):
    MEDIATOR = "mediator"
    ORGANISATION = "organisation"
    COURT = "court"


@dataclass(frozen=True, slots=True)
class Holder:
    """Who a case is attributed to; the organisation and mediator are None while no one holds it."""

    court_id: str
    organisation_id: str | None = None
    mediator_id: str | None = None

    def key(self, by: GroupBy) -> str | None:
        if by is GroupBy.COURT:
            return self.court_id
        if by is GroupBy.ORGANISATION:
            return self.organisation_id
        return self.mediator_id


@dataclass(frozen=True, slots=True)
class CaseRow:
    """What the figures need of one case."""

    case_id: str
    holder: Holder
    created_at: datetime
    accepted_at: datetime | None = None  # the first acceptance: the mediation period's start
    assigned_at: datetime | None = None  # when the assignment accepted then was made
    closed_at: datetime | None = None
    outcome: str | None = None  # full | partial | failed
    reason: str | None = None  # the OMR 25 code
    last_day: date | None = None  # the last day of the mediation period
    extension_days: int = 0
    pauses: tuple[Pause, ...] = ()  # every pause of the clock, all ended once the case is closed
    video: bool = False  # at least one audio/video session took place


@dataclass(frozen=True, slots=True)
class JcRow:
    """One application for judicial confirmation, with the holder of its case."""

    case_id: str
    holder: Holder
    status: str  # awaiting_parties | applied | refused | lapsed | confirmed | rejected | withdrawn
    applied_at: datetime | None = None
    result_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Figures:
    """The figures of one unit (mediator, organisation, court, or a whole scope) over one period; the
    field order is the column order of the CSV files."""

    received: int = 0
    accepted: int = 0
    closed: int = 0
    agreed: int = 0
    agreed_full: int = 0
    agreed_partial: int = 0
    terminated: int = 0
    terminated_settled_withdrawn: int = 0
    terminated_party_unreachable: int = 0
    terminated_party_refuses: int = 0
    terminated_positions_too_far: int = 0
    terminated_period_expired: int = 0
    terminated_refused_to_sign: int = 0
    terminated_other: int = 0
    success_rate: float | None = None
    av_cases: int = 0
    av_rate: float | None = None
    duration_cases: int = 0
    duration_median_days: float | None = None
    duration_mean_days: float | None = None
    duration_0_7: int = 0
    duration_8_15: int = 0
    duration_16_30: int = 0
    duration_31_60: int = 0
    duration_61_plus: int = 0
    acceptance_cases: int = 0
    acceptance_median_hours: float | None = None
    within_period: int = 0
    overdue: int = 0
    extended: int = 0
    compliance_rate: float | None = None
    jc_applied: int = 0
    jc_confirmed: int = 0
    jc_rejected: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def terminated_by_reason(self) -> dict[TerminationReason, int]:
        return {r: int(getattr(self, f"terminated_{r.value}")) for r in FAILURE_REASONS}

    def duration_buckets(self) -> list[tuple[str, int]]:
        return [(_bucket_label(b), int(getattr(self, _bucket_field(b)))) for b in DURATION_BUCKETS]


def _bucket_field(bucket: tuple[int, int | None]) -> str:
    low, high = bucket
    return f"duration_{low}_{high}" if high is not None else f"duration_{low}_plus"


def _bucket_label(bucket: tuple[int, int | None]) -> str:
    low, high = bucket
    return f"{low}–{high}" if high is not None else f"≥{low}"


FIELDS: Final = tuple(f.name for f in fields(Figures))


def duration_days(accepted_at: datetime, closed_at: datetime, pauses: Sequence[Pause]) -> int:
    """Calendar days from the acceptance date to the closing date, minus the paused days."""
    days = (local_date(closed_at) - local_date(accepted_at)).days - paused_days(pauses, now=closed_at)
    return max(days, 0)


def accepted_assignment_time(assigned: Iterable[datetime], accepted_at: datetime) -> datetime | None:
    """When the assignment accepted at ``accepted_at`` was made: the case's latest assignment before it."""
    before = [at for at in assigned if at <= accepted_at]
    return max(before) if before else None


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _one_decimal(values: list[float], how: Callable[[list[float]], float]) -> float | None:
    return round(how(values), 1) if values else None


def compute(cases: Iterable[CaseRow], jcs: Iterable[JcRow], period: Period) -> Figures:
    """The figures of these rows over ``period`` (rows of other periods are simply not counted)."""
    received = accepted = closed = full = partial = av = within = overdue = extended = 0
    reasons: Counter[str] = Counter()
    durations: list[float] = []
    delays: list[float] = []
    for case in cases:
        if period.contains(case.created_at):
            received += 1
        if case.accepted_at is not None and period.contains(case.accepted_at):
            accepted += 1
            if case.assigned_at is not None:
                delays.append((case.accepted_at - case.assigned_at).total_seconds() / 3600)
        if case.closed_at is None or not period.contains(case.closed_at):
            continue
        closed += 1
        if case.outcome == Outcome.FULL:
            full += 1
        elif case.outcome == Outcome.PARTIAL:
            partial += 1
        else:
            known = case.reason in {r.value for r in FAILURE_REASONS}
            reasons[case.reason if known and case.reason else TerminationReason.OTHER.value] += 1
        av += case.video
        extended += case.extension_days > 0
        if case.accepted_at is not None:
            durations.append(duration_days(case.accepted_at, case.closed_at, case.pauses))
        if case.last_day is not None:
            if local_date(case.closed_at) <= case.last_day:
                within += 1
            else:
                overdue += 1
    applied = confirmed = rejected = 0
    for jc in jcs:
        applied += jc.applied_at is not None and period.contains(jc.applied_at)
        if jc.result_at is not None and period.contains(jc.result_at):
            confirmed += jc.status == "confirmed"
            rejected += jc.status == "rejected"
    buckets = {
        _bucket_field(b): sum(1 for d in durations if b[0] <= d and (b[1] is None or d <= b[1]))
        for b in DURATION_BUCKETS
    }
    return Figures(
        received=received,
        accepted=accepted,
        closed=closed,
        agreed=full + partial,
        agreed_full=full,
        agreed_partial=partial,
        terminated=sum(reasons.values()),
        **{f"terminated_{r.value}": reasons[r.value] for r in FAILURE_REASONS},
        success_rate=_ratio(full + partial, closed),
        av_cases=av,
        av_rate=_ratio(av, closed),
        duration_cases=len(durations),
        duration_median_days=_one_decimal(durations, statistics.median),
        duration_mean_days=_one_decimal(durations, statistics.fmean),
        **buckets,
        acceptance_cases=len(delays),
        acceptance_median_hours=_one_decimal(delays, statistics.median),
        within_period=within,
        overdue=overdue,
        extended=extended,
        compliance_rate=_ratio(within, within + overdue),
        jc_applied=applied,
        jc_confirmed=confirmed,
        jc_rejected=rejected,
    )


def group(
    cases: Iterable[CaseRow], jcs: Iterable[JcRow], period: Period, by: GroupBy
) -> dict[str | None, Figures]:
    """The figures of each holder (by mediator, organisation or court; None: held by no one) that has any
    row; units without rows are the caller's to add (with empty :class:`Figures`)."""
    case_groups: defaultdict[str | None, list[CaseRow]] = defaultdict(list)
    jc_groups: defaultdict[str | None, list[JcRow]] = defaultdict(list)
    for case in cases:
        case_groups[case.holder.key(by)].append(case)
    for jc in jcs:
        jc_groups[jc.holder.key(by)].append(jc)
    return {
        key: compute(case_groups.get(key, ()), jc_groups.get(key, ()), period)
        for key in case_groups.keys() | jc_groups.keys()
    }
