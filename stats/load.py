"""Reading the rows the figures need: a few SQLAlchemy Core statements, on SQLite and PostgreSQL alike.

One statement per kind of row, each restricted to the scope and the period in SQL: the cases created,
accepted or closed within the period (with whether an audio/video session took place, as a correlated
EXISTS), the pauses of the cases closed within it, the assignments of the cases accepted within it, and the
applications for judicial confirmation made or decided within it. Then the names of the units shown.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.tables import Court, Organisation
from cases.deadlines import SHANGHAI, Pause
from cases.outcome_tables import JcApplication
from cases.roster import RosterStatus
from cases.tables import Assignment, Case, CasePause, Mediator, RosterEntry
from rooms.tables import MediationSession
from stats.figures import CaseRow, GroupBy, Holder, JcRow, accepted_assignment_time
from stats.periods import Period
from stats.scope import Scope

__all__ = ["Names", "Rows", "load_names", "load_rows", "natural_units"]

_C = Case.__table__.c
_P = CasePause.__table__.c
_A = Assignment.__table__.c
_J = JcApplication.__table__.c
_S = MediationSession.__table__.c
_M = Mediator.__table__.c
_O = Organisation.__table__.c
_CT = Court.__table__.c
_R = RosterEntry.__table__.c


@dataclass(frozen=True, slots=True)
class Rows:
    cases: list[CaseRow] = field(default_factory=list)
    jcs: list[JcRow] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Names:
    """Display names by id, and each mediator's organisation."""

    courts: dict[str, str] = field(default_factory=dict)
    organisations: dict[str, str] = field(default_factory=dict)
    mediators: dict[str, str] = field(default_factory=dict)
    mediator_orgs: dict[str, str] = field(default_factory=dict)

    def of(self, by: GroupBy, key: str | None) -> str | None:
        if key is None:
            return None
        table = {GroupBy.COURT: self.courts, GroupBy.ORGANISATION: self.organisations}.get(by, self.mediators)
        return table.get(key)


def _bounds(period: Period) -> tuple[datetime, datetime]:
    start = datetime.combine(period.start, time(0), tzinfo=SHANGHAI)
    end = datetime.combine(period.end + timedelta(days=1), time(0), tzinfo=SHANGHAI)
    return start, end


def _within(column: Any, bounds: tuple[datetime, datetime]) -> ColumnElement[bool]:
    return and_(column >= bounds[0], column < bounds[1])


def _in_scope(scope: Scope) -> ColumnElement[bool]:
    conditions: list[ColumnElement[bool]] = []
    if scope.court_ids is not None:
        conditions.append(_C.court_id.in_(sorted(scope.court_ids)))
    if scope.organisation_ids is not None:
        conditions.append(_C.current_organisation_id.in_(sorted(scope.organisation_ids)))
    if scope.mediator_ids is not None:
        conditions.append(_C.current_mediator_id.in_(sorted(scope.mediator_ids)))
    return and_(true(), *conditions)


def _holder(court_id: str, organisation_id: str | None, mediator_id: str | None) -> Holder:
    return Holder(court_id, organisation_id, mediator_id)


async def load_rows(session: AsyncSession, scope: Scope, period: Period) -> Rows:
    """Every row that can count within ``period`` (for several periods, pass the span of them all)."""
    bounds = _bounds(period)
    mediated = and_(_in_scope(scope), _C.offline_agreement.is_(False))
    video = exists().where(_S.case_id == _C.id, _S.started_at.is_not(None)).label("video")
    case_records = (
        await session.execute(
            select(
                _C.id,
                _C.court_id,
                _C.current_organisation_id,
                _C.current_mediator_id,
                _C.created_at,
                _C.accepted_at,
                _C.closed_at,
                _C.outcome,
                _C.termination_reason,
                _C.last_day,
                _C.extension_days,
                video,
            ).where(
                mediated,
                or_(
                    _within(_C.created_at, bounds),
                    _within(_C.accepted_at, bounds),
                    _within(_C.closed_at, bounds),
                ),
            )
        )
    ).all()
    pauses: defaultdict[str, list[Pause]] = defaultdict(list)
    for case_id, started_at, ended_at in await session.execute(
        select(_P.case_id, _P.started_at, _P.ended_at)
        .select_from(CasePause.__table__.join(Case.__table__, _C.id == _P.case_id))
        .where(mediated, _within(_C.closed_at, bounds))
    ):
        pauses[case_id].append(Pause(start=started_at, end=ended_at))
    assigned: defaultdict[str, list[datetime]] = defaultdict(list)
    for case_id, assigned_at in await session.execute(
        select(_A.case_id, _A.assigned_at)
        .select_from(Assignment.__table__.join(Case.__table__, _C.id == _A.case_id))
        .where(mediated, _within(_C.accepted_at, bounds))
    ):
        assigned[case_id].append(assigned_at)
    cases = [
        CaseRow(
            case_id=r.id,
            holder=_holder(r.court_id, r.current_organisation_id, r.current_mediator_id),
            created_at=r.created_at,
            accepted_at=r.accepted_at,
            assigned_at=accepted_assignment_time(assigned.get(r.id, ()), r.accepted_at)
            if r.accepted_at is not None
            else None,
            closed_at=r.closed_at,
            outcome=r.outcome,
            reason=r.termination_reason,
            last_day=r.last_day,
            extension_days=r.extension_days or 0,
            pauses=tuple(pauses.get(r.id, ())),
            video=bool(r.video),
        )
        for r in case_records
    ]
    jc_records = await session.execute(
        select(
            _J.case_id,
            _J.status,
            _J.applied_at,
            _J.result_at,
            _C.court_id,
            _C.current_organisation_id,
            _C.current_mediator_id,
        )
        .select_from(JcApplication.__table__.join(Case.__table__, _C.id == _J.case_id))
        .where(_in_scope(scope), or_(_within(_J.applied_at, bounds), _within(_J.result_at, bounds)))
    )
    jcs = [
        JcRow(
            case_id=r.case_id,
            holder=_holder(r.court_id, r.current_organisation_id, r.current_mediator_id),
            status=r.status,
            applied_at=r.applied_at,
            result_at=r.result_at,
        )
        for r in jc_records
    ]
    return Rows(cases, jcs)


async def natural_units(session: AsyncSession, scope: Scope, by: GroupBy) -> set[str]:
    """The units a scope is made of, shown even without a single case: its mediators (of its organisations,
    or on its courts' rosters), their organisations, its courts."""
    if by is GroupBy.COURT:
        return set(scope.court_ids or ())
    column, roster_column = (
        (_M.id, _R.mediator_id) if by is GroupBy.MEDIATOR else (_M.organisation_id, _R.organisation_id)
    )
    query = select(column).where(_M.active.is_(True)).distinct()
    if scope.mediator_ids is not None:
        query = query.where(_M.id.in_(sorted(scope.mediator_ids)))
    if scope.organisation_ids is not None:
        query = query.where(_M.organisation_id.in_(sorted(scope.organisation_ids)))
    if scope.court_ids is not None:
        on_roster = select(roster_column).where(
            _R.status == RosterStatus.CONFIRMED.value, _R.court_id.in_(sorted(scope.court_ids))
        )
        query = query.where(column.in_(on_roster))
    return {row[0] for row in await session.execute(query)}


async def load_names(
    session: AsyncSession, courts: Iterable[str], organisations: Iterable[str], mediators: Iterable[str]
) -> Names:
    names = Names()
    mediator_ids = sorted(set(mediators))
    if mediator_ids:
        for mediator_id, name, org_id in await session.execute(
            select(_M.id, _M.name, _M.organisation_id).where(_M.id.in_(mediator_ids))
        ):
            names.mediators[mediator_id] = name
            names.mediator_orgs[mediator_id] = org_id
    org_ids = sorted(set(organisations) | set(names.mediator_orgs.values()))
    if org_ids:
        for org_id, name in await session.execute(select(_O.id, _O.name).where(_O.id.in_(org_ids))):
            names.organisations[org_id] = name
    court_ids = sorted(set(courts))
    if court_ids:
        for court_id, name in await session.execute(select(_CT.id, _CT.name).where(_CT.id.in_(court_ids))):
            names.courts[court_id] = name
    return names
