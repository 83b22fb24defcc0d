"""Joint application for judicial confirmation of a mediation agreement (CPL 205; CPL-I 351–358; OMR 20).

The mediator of an agreed 委派 case (or the court, for an agreement reached offline and uploaded) starts an
application to the court that invited the mediator; each principal party receives a signed link (by SMS
through the notifier) to a page where they confirm in the browser that they apply, with their contact
details. The application is made — ``apply_jc``, a webhook to the court — only once every principal party
confirmed, and only within 30 days of the agreement taking effect (CPL 85 counting). A party that declines
makes the application one-sided: it is refused with that reason. After the last day nobody can confirm
(the application lapses). The court records its result: confirmed, rejected with a reason, or withdrawn.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.principal import Principal, PrincipalKind
from accounts.tables import Court
from cases import audit
from cases.context import CaseEnv
from cases.deadlines import SHANGHAI, jc_application_deadline
from cases.jc_links import JcClaims, issue, verify
from cases.lifecycle import CaseEvent
from cases.lifecycle import apply as apply_rule
from cases.outcome_schemas import (
    JcAnswerIn,
    JcApplicationOut,
    JcConfirmationOut,
    JcPartyView,
    JcResultIn,
    JcStartIn,
)
from cases.outcome_tables import JcApplication, JcConfirmation
from cases.outcomes import agreement_material, report_of, require_case_court
from cases.tables import Case, Party
from cases.vocab import PartyRole
from cases.workflow import apply_event, facts_for
from rooms.notify import Message, Notifier, NotifyFailed
from tiaojie.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from tiaojie.ids import new_id

__all__ = [
    "LinkPolicy",
    "answer",
    "application_out",
    "current_application",
    "party_view",
    "record_result",
    "start",
]

_OPEN = ("awaiting_parties", "applied")
_RESULT_EVENTS = {
    "confirmed": CaseEvent.CONFIRM_JC,
    "rejected": CaseEvent.REJECT_JC,
    "withdrawn": CaseEvent.WITHDRAW_JC,
}
Status = Literal["awaiting_parties", "applied", "refused", "lapsed", "confirmed", "rejected", "withdrawn"]


@dataclass(frozen=True, slots=True)
class LinkPolicy:
    secret: str
    base_url: str


def _status(application: JcApplication, env: CaseEnv) -> Status:
    """The stored status, with an application still waiting after its last day shown as lapsed."""
    if application.status == "awaiting_parties" and env.today() > application.last_day:
        return "lapsed"
    for status in ("awaiting_parties", "applied", "refused", "lapsed", "confirmed", "rejected", "withdrawn"):
        if application.status == status:
            return status
    raise ValueError(f"unknown application status {application.status!r}")


def _link_expiry(application: JcApplication) -> int:
    end = datetime.combine(application.last_day + timedelta(days=1), time(0), tzinfo=SHANGHAI)
    return int(end.timestamp())


def _link(application: JcApplication, party_id: str, policy: LinkPolicy) -> str:
    token = issue(JcClaims(application.id, party_id, _link_expiry(application)), secret=policy.secret)
    return f"{policy.base_url}/jc#{token}"


async def current_application(session: AsyncSession, case: Case) -> JcApplication | None:
    found: JcApplication | None = await session.scalar(
        select(JcApplication)
        .where(JcApplication.case_id == case.id)
        .order_by(JcApplication.started_at.desc(), JcApplication.id.desc())
        .limit(1)
    )
    return found


async def _principals(session: AsyncSession, case: Case) -> list[Party]:
    rows = await session.scalars(
        select(Party)
        .where(Party.case_id == case.id, Party.role == PartyRole.PRINCIPAL.value)
        .order_by(Party.side, Party.id)
    )
    return list(rows.all())


async def start(
    session: AsyncSession,
    env: CaseEnv,
    actor: Principal,
    case: Case,
    data: JcStartIn,
    *,
    policy: LinkPolicy,
    notifier: Notifier | None,
) -> JcApplicationOut:
    """Open a joint application and give each principal party its confirmation link."""
    mediator = actor.kind is PrincipalKind.MEDIATOR and actor.mediator_id == case.current_mediator_id
    court = actor.kind is PrincipalKind.COURT and actor.court_id == case.court_id
    if not (mediator or court):
        raise PermissionDenied(
            "the mediator of the case or its court starts the application", code="not_case_mediator"
        )
    # The same rules as the application itself: an agreed 委派 case or an uploaded offline agreement, within
    # the 30 days (raises IllegalTransition or InvalidInput jc_period_expired, changing nothing).
    apply_rule(facts_for(case, env), CaseEvent.APPLY_JC)
    assert case.agreement_effective_at is not None  # the guard needs it, and every agreement has it
    previous = await current_application(session, case)
    if previous is not None and _status(previous, env) in _OPEN:
        raise Conflict("an application for judicial confirmation is already open", code="jc_already_open")
    material_id = data.agreement_material_id
    if material_id is None:
        report = await report_of(session, case)
        material_id = report.agreement_material_id if report is not None else None
    if material_id is None:
        raise InvalidInput(
            "give the signed agreement (a material of the case)",
            field="agreement_material_id",
            code="required",
        )
    await agreement_material(session, case, material_id, "agreement_material_id")
    parties = await _principals(session, case)
    if len({p.side for p in parties}) < 2:
        raise Conflict("a joint application needs a principal party on each side", code="jc_parties_missing")
    now = env.now()
    application = JcApplication(
        id=new_id("jca"),
        case_id=case.id,
        status="awaiting_parties",
        agreement_material_id=material_id,
        last_day=jc_application_deadline(case.agreement_effective_at, env.calendar),
        started_at=now,
        started_by=actor.label,
    )
    session.add(application)
    confirmations = [
        JcConfirmation(id=new_id("jcc"), application_id=application.id, party_id=p.id) for p in parties
    ]
    session.add_all(confirmations)
    await _audit(
        session,
        actor,
        now,
        application,
        case,
        "jc_application_started",
        {"parties": [p.id for p in parties], "last_day": application.last_day.isoformat()},
    )
    links = {p.id: _link(application, p.id, policy) for p in parties}
    if data.notify and notifier is not None:
        for party in parties:
            if party.phone:
                text = (
                    f"【劳动争议在线调解】案件 {case.case_number} 的调解协议可共同申请司法确认，"
                    f"请于 {application.last_day.isoformat()} 前在浏览器中打开 {links[party.id]} 确认申请。"
                    "链接仅限本人使用。"
                )
                # A failed SMS is not fatal: the links are in the answer, and the mediator can pass them on.
                with contextlib.suppress(NotifyFailed):
                    await notifier.send(Message(party.phone, text, "jc_confirmation"))
    return await application_out(session, env, case, application, links=links)


async def _claims(
    session: AsyncSession, env: CaseEnv, token: str, policy: LinkPolicy
) -> tuple[JcApplication, JcConfirmation, Case]:
    claims = verify(token, secret=policy.secret, now=env.now())
    application = await session.get(JcApplication, claims.application_id)
    confirmation = await session.scalar(
        select(JcConfirmation).where(
            JcConfirmation.application_id == claims.application_id, JcConfirmation.party_id == claims.party_id
        )
    )
    case = await session.get(Case, application.case_id) if application is not None else None
    if application is None or confirmation is None or case is None:
        raise NotFound("this application no longer exists", resource="jc_application")
    return application, confirmation, case


async def party_view(session: AsyncSession, env: CaseEnv, token: str, policy: LinkPolicy) -> JcPartyView:
    application, confirmation, case = await _claims(session, env, token, policy)
    parties = {p.id: p for p in await _principals(session, case)}
    court = await session.get(Court, case.court_id)
    me = parties[confirmation.party_id]
    return JcPartyView(
        case_number=case.case_number,
        court_name=court.name if court is not None else "",
        party_name=me.name,
        other_parties=[p.name for pid, p in parties.items() if pid != me.id],
        agreement_effective_at=case.agreement_effective_at,
        last_day=application.last_day,
        status=_status(application, env),
        answer=confirmation.answer,
        phone=confirmation.phone or me.phone,
        service_address=confirmation.service_address or me.service_address,
    )


async def answer(
    session: AsyncSession,
    env: CaseEnv,
    data: JcAnswerIn,
    policy: LinkPolicy,
    *,
    ip: str | None,
    user_agent: str | None,
) -> JcPartyView:
    """A party confirms the joint application (or declines it, which refuses it as one-sided)."""
    application, confirmation, case = await _claims(session, env, data.token, policy)
    status = _status(application, env)
    if status == "lapsed":
        raise InvalidInput(
            f"the period to apply for judicial confirmation ended on {application.last_day.isoformat()} "
            "(30 days after the agreement took effect, CPL 205)",
            field="token",
            code="jc_period_expired",
        )
    if status != "awaiting_parties":
        raise Conflict(f"this application is {status}", code="jc_not_open", application_status=status)
    if confirmation.answer is not None:
        raise Conflict("you have already answered", code="already_answered")
    party = await session.get(Party, confirmation.party_id)
    assert party is not None
    now = env.now()
    confirmation.answered_at = now
    confirmation.ip = ip
    confirmation.user_agent = user_agent
    confirmation.phone = data.phone or party.phone
    confirmation.service_address = data.service_address or party.service_address
    system = Principal.party(party.id, party.name, ip=ip, user_agent=user_agent)
    if not data.confirm:
        confirmation.answer = "declined"
        confirmation.decline_reason = data.reason
        application.status = "refused"
        application.closed_reason = (
            f"{party.name} 不同意共同申请：司法确认须由双方当事人共同申请（CPL 205）"
            + (f"；理由：{data.reason}" if data.reason else "")
        )
        await _audit(session, system, now, application, case, "jc_declined", {"party_id": party.id})
        return await party_view(session, env, data.token, policy)
    confirmation.answer = "confirmed"
    await _audit(session, system, now, application, case, "jc_confirmed", {"party_id": party.id})
    await session.flush()
    answers = (
        await session.scalars(
            select(JcConfirmation.answer).where(JcConfirmation.application_id == application.id)
        )
    ).all()
    if all(a == "confirmed" for a in answers):
        await apply_event(
            session,
            env,
            system,
            case,
            CaseEvent.APPLY_JC,
            data={
                "application_id": application.id,
                "agreement_material_id": application.agreement_material_id,
                "parties": sorted(
                    (
                        await session.scalars(
                            select(JcConfirmation.party_id).where(
                                JcConfirmation.application_id == application.id
                            )
                        )
                    ).all()
                ),
                "links": {"application": f"/api/v1/cases/{case.id}/judicial-confirmation"},
            },
        )
        application.status = "applied"
        application.applied_at = now
    return await party_view(session, env, data.token, policy)


async def record_result(
    session: AsyncSession, env: CaseEnv, actor: Principal, case: Case, data: JcResultIn
) -> JcApplicationOut:
    """The court's decision on an application it received."""
    require_case_court(actor, case)
    application = await current_application(session, case)
    if application is None or application.status != "applied":
        raise Conflict("there is no application for judicial confirmation to decide", code="jc_not_applied")
    if data.result == "rejected" and not data.reason:
        raise InvalidInput("give the reason for rejecting", field="reason", code="required")
    await apply_event(
        session,
        env,
        actor,
        case,
        _RESULT_EVENTS[data.result],
        note=data.reason,
        data={"application_id": application.id},
    )
    application.status = data.result
    application.result_at = env.now()
    application.result_by = actor.label
    application.closed_reason = data.reason
    return await application_out(session, env, case, application)


async def application_out(
    session: AsyncSession,
    env: CaseEnv,
    case: Case,
    application: JcApplication,
    *,
    links: dict[str, str] | None = None,
) -> JcApplicationOut:
    rows = await session.execute(
        select(JcConfirmation, Party)
        .join(Party, Party.id == JcConfirmation.party_id)
        .where(JcConfirmation.application_id == application.id)
        .order_by(Party.side, Party.id)
    )
    parties = [
        JcConfirmationOut(
            party_id=party.id,
            name=party.name,
            side=party.side,
            id_type=party.id_type,
            id_number=party.id_number,
            phone=confirmation.phone or party.phone,
            service_address=confirmation.service_address or party.service_address,
            answer="confirmed"
            if confirmation.answer == "confirmed"
            else "declined"
            if confirmation.answer == "declined"
            else None,
            answered_at=confirmation.answered_at,
            decline_reason=confirmation.decline_reason,
            link=(links or {}).get(party.id),
        )
        for confirmation, party in rows.all()
    ]
    return JcApplicationOut(
        id=application.id,
        case_id=case.id,
        case_number=case.case_number,
        status=_status(application, env),
        agreement_material_id=application.agreement_material_id,
        agreement_effective_at=case.agreement_effective_at,
        last_day=application.last_day,
        started_at=application.started_at,
        applied_at=application.applied_at,
        closed_reason=application.closed_reason,
        result_at=application.result_at,
        parties=parties,
    )


async def _audit(
    session: AsyncSession,
    actor: Principal,
    now: datetime,
    application: JcApplication,
    case: Case,
    action: str,
    data: dict[str, object],
) -> None:
    await audit.record(
        session,
        actor=actor,
        at=now,
        subject_type="jc_application",
        subject_id=application.id,
        case_id=case.id,
        action=action,
        data=dict(data),
    )
