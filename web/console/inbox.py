"""The inbox: the cases the logged-in user must act on, by section, most urgent first.

Sections (each only with what the user may see, by the domain's visibility rules):

- 待指派 (courts only) — new cases, declined or lapsed assignments, pending mediator changes;
- 待接受 — assigned, waiting for acceptance, with the 3-working-day acceptance deadline;
- 进行中 — accepted … awaiting signatures, with the mediation period's last day;
- 近期结案 — closed in the last :data:`RECENT_DAYS` days.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.principal import Principal, PrincipalKind
from cases.context import CaseEnv
from cases.deadlines import local_date
from cases.lifecycle import CLOSED_STATES, CaseState
from cases.queries import list_cases
from cases.schemas import CaseListQuery, CaseSummaryOut
from cases.tables import Case, Mediator
from cases.views import case_summary, parties_by_case
from cases.vocab import PartyRole, Side
from web.console import i18n
from web.console.pages import language, render, viewer
from web.services import SERVICES

__all__ = ["RECENT_DAYS", "InboxRow", "Section", "inbox"]

RECENT_DAYS = 30
_LIMIT = 200
_CLOSED_SHOWN = 20

UNASSIGNED_STATES = (CaseState.CREATED, CaseState.AWAITING_REASSIGNMENT, CaseState.MEDIATOR_CHANGE)
TO_ACCEPT_STATES = (CaseState.ASSIGNED,)
ACTIVE_STATES = (
    CaseState.ACCEPTED,
    CaseState.IN_MEDIATION,
    CaseState.EXTENDED,
    CaseState.SUSPENDED,
    CaseState.AWAITING_SIGNATURES,
)

_URGENCY = {"overdue": 0, "due_today": 1, "due_soon": 2, "on_track": 3, "paused": 4}


@dataclass(frozen=True, slots=True)
class InboxRow:
    summary: CaseSummaryOut
    applicants: list[str]
    respondents: list[str]
    mediator_name: str | None
    due: date | None  # the date that matters in this section
    status: str | None  # DeadlineStatus value, or None
    hint: str  # 剩 3 天 / 今日到期 / 逾期 2 天
    closed_at: datetime | None


@dataclass(frozen=True, slots=True)
class Section:
    key: str  # i18n key of the title
    help: str
    due_label: str | None
    rows: list[InboxRow]
    truncated: bool
    closed: bool = False


async def _mediator_names(session: AsyncSession, ids: set[str]) -> dict[str, str]:
    if not ids:
        return {}
    rows = await session.execute(select(Mediator.id, Mediator.name).where(Mediator.id.in_(sorted(ids))))
    return {row.id: row.name for row in rows}


async def _fetch(
    session: AsyncSession,
    actor: Principal,
    env: CaseEnv,
    states: Sequence[CaseState],
    closed_from: date | None = None,
) -> tuple[list[Case], bool]:
    query = CaseListQuery(state=list(states), limit=_LIMIT, closed_from=closed_from)
    rows = await list_cases(session, actor, env, query)
    return rows[:_LIMIT], len(rows) > _LIMIT


def _row(
    lang: str, case: Case, summary: CaseSummaryOut, mediators: dict[str, str], today: date, due: date | None
) -> InboxRow:
    principals = [p for p in summary.parties if p.role is PartyRole.PRINCIPAL]
    status = summary.deadline_status.value if summary.deadline_status else None
    hint = "" if status in (None, "paused") else i18n.days_left(lang, due, today)
    return InboxRow(
        summary=summary,
        applicants=[p.name for p in principals if p.side is Side.APPLICANT],
        respondents=[p.name for p in principals if p.side is Side.RESPONDENT],
        mediator_name=mediators.get(case.current_mediator_id or ""),
        due=due,
        status=status,
        hint=hint,
        closed_at=case.closed_at,
    )


def _urgency(row: InboxRow) -> tuple[int, date]:
    return _URGENCY.get(row.status or "", 5), row.due or date.max


async def inbox(request: web.Request) -> web.StreamResponse:
    who = await viewer(request)
    lang = language(request)
    services = request.app[SERVICES]
    env = services.cases
    actor = who.principal
    today = env.today()
    is_court = actor.kind is PrincipalKind.COURT
    async with services.db.read() as session:
        unassigned, unassigned_more = (
            await _fetch(session, actor, env, UNASSIGNED_STATES) if is_court else ([], False)
        )
        to_accept, to_accept_more = await _fetch(session, actor, env, TO_ACCEPT_STATES)
        active, active_more = await _fetch(session, actor, env, ACTIVE_STATES)
        since = env.now() - timedelta(days=RECENT_DAYS)
        closed, _ = await _fetch(session, actor, env, sorted(CLOSED_STATES), local_date(since))
        closed = sorted(
            (c for c in closed if c.closed_at is not None and c.closed_at >= since),
            key=lambda c: c.closed_at or since,
            reverse=True,
        )
        closed_more = len(closed) > _CLOSED_SHOWN
        closed = closed[:_CLOSED_SHOWN]
        everything = unassigned + to_accept + active + closed
        parties = await parties_by_case(session, [c.id for c in everything])
        mediators = await _mediator_names(
            session, {c.current_mediator_id for c in everything if c.current_mediator_id}
        )

    def rows(cases: list[Case], due_of: str | None) -> list[InboxRow]:
        out = []
        for case in cases:
            summary = case_summary(case, parties[case.id], actor, env)
            due = getattr(summary, due_of) if due_of else None
            out.append(_row(lang, case, summary, mediators, today, due))
        return out

    to_accept_rows = sorted(rows(to_accept, "acceptance_due"), key=_urgency)
    active_rows = sorted(rows(active, "last_day"), key=_urgency)
    sections: list[Section] = []
    if is_court:
        sections.append(
            Section(
                "inbox.unassigned", "inbox.unassigned.help", None, rows(unassigned, None), unassigned_more
            )
        )
    sections += [
        Section(
            "inbox.to_accept", "inbox.to_accept.help", "col.acceptance_due", to_accept_rows, to_accept_more
        ),
        Section("inbox.active", "inbox.active.help", "col.last_day", active_rows, active_more),
        Section("inbox.closed", "inbox.closed.help", None, rows(closed, None), closed_more, closed=True),
    ]
    urgent = to_accept_rows + active_rows
    counts = {
        status: sum(1 for r in urgent if r.status == status)
        for status in ("overdue", "due_today", "due_soon")
    }
    done = request.query.get("done")
    return render(
        request,
        "inbox.html",
        who=who,
        sections=sections,
        counts=counts,
        recent_days=RECENT_DAYS,
        limit=_LIMIT,
        closed_shown=_CLOSED_SHOWN,
        today=today,
        notice=i18n.translate(lang, f"done.{done}") if done and f"done.{done}" in i18n.MESSAGES else None,
    )
