"""Scheduling mediation sessions, inviting participants, and their personal join links.

The mediator handling a case schedules a session (OMR 16: everyone at once, or each party at its own
time), invites the parties and agents and optional observers, and gets one personal link per person. A link
carries a signed token bound to the session, the person and the role (:mod:`rooms.tokens`); it expires a
configured time after the session's scheduled end, and revoking or re-issuing it invalidates every earlier
link of that person. The token travels in the URL's fragment (``/j#…``), which browsers never send to a
server, so it stays out of access logs and referrers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.principal import Principal, PrincipalKind
from cases import audit
from cases.deadlines import SHANGHAI
from cases.lifecycle import CaseState
from cases.tables import Case, Mediator, Party
from cases.vocab import Side
from rooms.notify import Message, Notifier, Outcomes
from rooms.room import Role
from rooms.schemas import Invitation, LinkOut, ParticipantOut, SessionCreate, SessionOut
from rooms.tables import MediationSession, SessionParticipant, SessionRecord
from rooms.tokens import JoinClaims, TokenError, issue, verify
from tiaojie.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from tiaojie.ids import new_id

__all__ = [
    "JoinContext",
    "LinkPolicy",
    "cancel_session",
    "join_token",
    "list_sessions",
    "note_invitations",
    "record",
    "record_invitations",
    "reissue_link",
    "resolve_join",
    "revoke_link",
    "schedule_session",
    "session_out",
]

# Session records of a join link sent by SMS after the change that sent it was stored (record_invitations).
INVITATION_SENT = "invitation_sent"
INVITATION_NOT_DELIVERED = "invitation_not_delivered"

SCHEDULABLE = frozenset(
    {CaseState.ACCEPTED, CaseState.IN_MEDIATION, CaseState.EXTENDED, CaseState.AWAITING_SIGNATURES}
)


@dataclass(frozen=True, slots=True)
class LinkPolicy:
    secret: str
    base_url: str
    hours_after_end: int


def _require_mediator(actor: Principal, case: Case) -> None:
    if actor.kind is not PrincipalKind.MEDIATOR or case.current_mediator_id != actor.mediator_id:
        raise PermissionDenied(
            "only the mediator handling the case manages its sessions", code="not_case_mediator"
        )


def join_token(participant: SessionParticipant, session: MediationSession, *, secret: str) -> str:
    """The participant's current join token (what their latest link carries after ``/j#``)."""
    return issue(
        JoinClaims(
            session_id=session.id,
            participant_id=participant.id,
            role=participant.role,
            version=participant.token_version,
            expires_at=int(participant.link_expires_at.timestamp()),
        ),
        secret=secret,
    )


def _link(participant: SessionParticipant, session: MediationSession, policy: LinkPolicy) -> LinkOut:
    token = join_token(participant, session, secret=policy.secret)
    return LinkOut(
        participant_id=participant.id,
        url=f"{policy.base_url}/j#{token}",
        expires_at=participant.link_expires_at,
    )


async def record(
    session: AsyncSession,
    *,
    session_id: str,
    kind: str,
    actor: str,
    at: datetime,
    participant_id: str | None = None,
    data: dict[str, object] | None = None,
    note: str | None = None,
) -> SessionRecord:
    row = SessionRecord(
        session_id=session_id,
        participant_id=participant_id,
        kind=kind,
        actor=actor,
        data=data or {},
        note=note,
        at=at,
    )
    session.add(row)
    return row


def _check_times(data: SessionCreate, now: datetime) -> None:
    for name in ("scheduled_start", "scheduled_end"):
        if getattr(data, name).tzinfo is None:
            raise InvalidInput("give the time with its UTC offset", field=name, code="naive_datetime")
    if data.scheduled_end <= data.scheduled_start:
        raise InvalidInput(
            "the session must end after it starts", field="scheduled_end", code="invalid_period"
        )
    if data.scheduled_end - data.scheduled_start > timedelta(hours=12):
        raise InvalidInput("a session lasts at most 12 hours", field="scheduled_end", code="invalid_period")
    if data.scheduled_end <= now:
        raise InvalidInput("the session would already be over", field="scheduled_end", code="in_the_past")


async def schedule_session(
    session: AsyncSession,
    actor: Principal,
    case: Case,
    data: SessionCreate,
    *,
    now: datetime,
    policy: LinkPolicy,
    notifier: Notifier | None = None,
) -> SessionOut:
    _require_mediator(actor, case)
    if CaseState(case.state) not in SCHEDULABLE:
        raise Conflict(
            "sessions are scheduled once the case is accepted and until it closes",
            code="illegal_transition",
            current_state=case.state,
            event="schedule_session",
        )
    _check_times(data, now)
    parties = list(
        (await session.scalars(select(Party).where(Party.case_id == case.id).order_by(Party.id))).all()
    )
    by_id = {p.id: p for p in parties}
    invited_ids = data.party_ids if data.party_ids is not None else [p.id for p in parties]
    for index, party_id in enumerate(invited_ids):
        if party_id not in by_id:
            raise InvalidInput("no such party on this case", field=f"party_ids.{index}", code="unknown_party")
    if len(set(invited_ids)) != len(invited_ids):
        raise InvalidInput("a party is invited once", field="party_ids", code="duplicate_party")
    slots = {}
    for index, slot in enumerate(data.slots):
        if data.mode != "separate":
            raise InvalidInput("time slots are for the separate mode", field=f"slots.{index}")
        if slot.party_id not in invited_ids:
            raise InvalidInput(
                "the slot's party is not invited", field=f"slots.{index}.party_id", code="unknown_party"
            )
        if (
            slot.start.tzinfo is None
            or slot.end.tzinfo is None
            or not (data.scheduled_start <= slot.start < slot.end <= data.scheduled_end)
        ):
            raise InvalidInput(
                "a slot lies inside the session's time", field=f"slots.{index}", code="invalid_period"
            )
        slots[slot.party_id] = (slot.start, slot.end)
    mediator = await session.get(Mediator, case.current_mediator_id)
    assert mediator is not None
    expires = data.scheduled_end + timedelta(hours=policy.hours_after_end)
    ms = MediationSession(
        id=new_id("ses"),
        case_id=case.id,
        mode=data.mode,
        status="scheduled",
        scheduled_start=data.scheduled_start,
        scheduled_end=data.scheduled_end,
        title=data.title,
        created_by=actor.label,
        created_at=now,
    )
    session.add(ms)
    await session.flush()
    seats = [
        SessionParticipant(
            id=new_id("par"),
            session_id=ms.id,
            role=Role.MEDIATOR.value,
            mediator_id=mediator.id,
            display_name=mediator.name,
            phone=mediator.phone,
            link_expires_at=expires,
            token_version=1,
            created_at=now,
        )
    ]
    for party_id in invited_ids:
        party = by_id[party_id]
        role = Role.APPLICANT if party.side == Side.APPLICANT else Role.RESPONDENT
        start, end = slots.get(party_id, (None, None))
        seats.append(
            SessionParticipant(
                id=new_id("par"),
                session_id=ms.id,
                role=role.value,
                party_id=party.id,
                display_name=party.name,
                phone=party.phone,
                slot_start=start,
                slot_end=end,
                link_expires_at=expires,
                token_version=1,
                created_at=now,
            )
        )
    for observer in data.observers:
        seats.append(
            SessionParticipant(
                id=new_id("par"),
                session_id=ms.id,
                role=observer.role,
                display_name=observer.name,
                phone=observer.phone,
                link_expires_at=expires,
                token_version=1,
                created_at=now,
            )
        )
    session.add_all(seats)
    await session.flush()
    await audit.record(
        session,
        actor=actor,
        at=now,
        subject_type="session",
        subject_id=ms.id,
        case_id=case.id,
        action="schedule_session",
        data={"mode": data.mode, "participants": len(seats)},
    )
    links = [_link(seat, ms, policy) for seat in seats]
    sending: dict[str, Invitation] = {}
    if data.notify and notifier is not None:
        for seat, link in zip(seats, links, strict=True):
            if seat.phone and seat.role != Role.MEDIATOR:
                await notifier.send(_invitation_message(seat, ms, link))
                sending[seat.id] = "sending"
    return await _answer(session, ms, seats, links, sending)


def _invitation_message(seat: SessionParticipant, ms: MediationSession, link: LinkOut) -> Message:
    assert seat.phone is not None
    text = _invitation(ms, link.url)
    return Message(seat.phone, text, "join_link", recipient=seat.id, link_version=seat.token_version)


def _invitation(ms: MediationSession, url: str) -> str:
    start = ms.scheduled_start.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
    return (
        f"【劳动争议在线调解】您的调解视频会议定于 {start}（北京时间）开始。"
        f"请用手机或电脑浏览器打开：{url} 。链接仅限本人使用，请勿转发。"
    )


def session_out(
    ms: MediationSession,
    seats: list[SessionParticipant],
    links: list[LinkOut] | None = None,
    invitations: dict[str, Invitation] | None = None,
) -> SessionOut:
    return SessionOut(
        id=ms.id,
        case_id=ms.case_id,
        title=ms.title,
        mode=ms.mode,
        status=ms.status,
        scheduled_start=ms.scheduled_start,
        scheduled_end=ms.scheduled_end,
        started_at=ms.started_at,
        ended_at=ms.ended_at,
        participants=[
            ParticipantOut.model_validate(s).model_copy(update={"invitation": (invitations or {}).get(s.id)})
            for s in seats
        ],
        links=links or [],
    )


async def _seats(session: AsyncSession, session_id: str) -> list[SessionParticipant]:
    rows = await session.scalars(
        select(SessionParticipant)
        .where(SessionParticipant.session_id == session_id)
        .order_by(SessionParticipant.id)
    )
    return list(rows.all())


async def list_sessions(session: AsyncSession, case: Case) -> list[SessionOut]:
    rows = await session.scalars(
        select(MediationSession)
        .where(MediationSession.case_id == case.id)
        .order_by(MediationSession.scheduled_start)
    )
    return [await _answer(session, ms, await _seats(session, ms.id)) for ms in rows.all()]


async def _answer(
    session: AsyncSession,
    ms: MediationSession,
    seats: list[SessionParticipant],
    links: list[LinkOut] | None = None,
    sending: dict[str, Invitation] | None = None,
) -> SessionOut:
    """The session as answered: ``session_out`` with each participant's invitation (``sending`` for the
    links this call sends, else what became of the one sent for their current link)."""
    return session_out(ms, seats, links, {**await _invitations(session, ms.id, seats), **(sending or {})})


async def _invitations(
    session: AsyncSession, session_id: str, seats: list[SessionParticipant]
) -> dict[str, Invitation]:
    """What became of the SMS that carried each participant's current link (its token version): ``sent`` or
    ``not_delivered``, by participant id; nobody whose current link was not sent by SMS."""
    current = {seat.id: seat.token_version for seat in seats}
    rows = await session.execute(
        select(SessionRecord.participant_id, SessionRecord.kind, SessionRecord.data)
        .where(
            SessionRecord.session_id == session_id,
            SessionRecord.kind.in_((INVITATION_SENT, INVITATION_NOT_DELIVERED)),
        )
        .order_by(SessionRecord.id)
    )
    outcome: dict[str, Invitation] = {INVITATION_SENT: "sent", INVITATION_NOT_DELIVERED: "not_delivered"}
    return {
        participant: outcome[kind]
        for participant, kind, data in rows
        if participant in current and data.get("link_version") == current[participant]
    }


def note_invitations(answer: SessionOut, outcomes: Outcomes) -> None:
    """Put what became of the invitations just sent into the answer that sent them."""
    by_recipient: dict[str | None, Invitation] = {
        m.recipient: "sent" if failure is None else "not_delivered" for m, failure in outcomes
    }
    for participant in answer.participants:
        if participant.id in by_recipient:
            participant.invitation = by_recipient[participant.id]


async def record_invitations(
    session: AsyncSession,
    outcomes: Outcomes,
    *,
    actor: str,
    at: datetime,
) -> None:
    """Note in the session's record whether each join link sent by SMS reached the gateway (after the change
    that sent them was stored: see ``rooms.notify.AfterCommit``)."""
    for message, failure in outcomes:
        seat = await session.get(SessionParticipant, message.recipient) if message.recipient else None
        if seat is None:
            continue  # not a participant's message, or the session is gone
        data: dict[str, object] = {"purpose": message.purpose, "link_version": message.link_version}
        if failure is not None:
            data["error"] = {"code": failure.code, "message": failure.message, **failure.details}
        await record(
            session,
            session_id=seat.session_id,
            participant_id=seat.id,
            kind=INVITATION_SENT if failure is None else INVITATION_NOT_DELIVERED,
            actor=actor,
            at=at,
            data=data,
        )


async def _session_of(session: AsyncSession, case: Case, session_id: str) -> MediationSession:
    ms = await session.get(MediationSession, session_id)
    if ms is None or ms.case_id != case.id:
        raise NotFound("session not found", resource="session")
    return ms


async def _seat_of(session: AsyncSession, ms: MediationSession, participant_id: str) -> SessionParticipant:
    seat = await session.get(SessionParticipant, participant_id)
    if seat is None or seat.session_id != ms.id:
        raise NotFound("participant not found", resource="participant")
    return seat


async def revoke_link(
    session: AsyncSession,
    actor: Principal,
    case: Case,
    session_id: str,
    participant_id: str,
    *,
    now: datetime,
) -> SessionOut:
    _require_mediator(actor, case)
    ms = await _session_of(session, case, session_id)
    seat = await _seat_of(session, ms, participant_id)
    seat.token_version += 1
    seat.revoked_at = now
    await record(
        session, session_id=ms.id, participant_id=seat.id, kind="link_revoked", actor=actor.label, at=now
    )
    return await _answer(session, ms, await _seats(session, ms.id))


async def reissue_link(
    session: AsyncSession,
    actor: Principal,
    case: Case,
    session_id: str,
    participant_id: str,
    *,
    now: datetime,
    policy: LinkPolicy,
    notifier: Notifier | None = None,
) -> SessionOut:
    _require_mediator(actor, case)
    ms = await _session_of(session, case, session_id)
    if ms.status in ("ended", "cancelled"):
        raise Conflict("the session is over", code="session_over", current_state=ms.status)
    seat = await _seat_of(session, ms, participant_id)
    seat.token_version += 1
    seat.revoked_at = None
    seat.link_expires_at = max(
        seat.link_expires_at, ms.scheduled_end + timedelta(hours=policy.hours_after_end)
    )
    await record(
        session, session_id=ms.id, participant_id=seat.id, kind="link_reissued", actor=actor.label, at=now
    )
    link = _link(seat, ms, policy)
    sending: dict[str, Invitation] = {}
    if notifier is not None and seat.phone:
        await notifier.send(_invitation_message(seat, ms, link))
        sending[seat.id] = "sending"
    return await _answer(session, ms, await _seats(session, ms.id), [link], sending)


async def cancel_session(
    session: AsyncSession, actor: Principal, case: Case, session_id: str, *, now: datetime
) -> SessionOut:
    _require_mediator(actor, case)
    ms = await _session_of(session, case, session_id)
    if ms.status != "scheduled":
        raise Conflict(
            "only a session that has not started can be cancelled",
            code="illegal_transition",
            current_state=ms.status,
            event="cancel",
        )
    ms.status = "cancelled"
    ms.ended_at = now
    await audit.record(
        session,
        actor=actor,
        at=now,
        subject_type="session",
        subject_id=ms.id,
        case_id=case.id,
        action="cancel_session",
    )
    return await _answer(session, ms, await _seats(session, ms.id))


@dataclass(frozen=True, slots=True)
class JoinContext:
    session: MediationSession
    participant: SessionParticipant
    case: Case
    role: Role


async def resolve_join(session: AsyncSession, token: str, *, secret: str, now: datetime) -> JoinContext:
    """The seat a join token opens, checked against the database: not revoked, session not over, and for
    the separate mode inside the party's own time window (opening 15 minutes early)."""
    claims = verify(token, secret=secret, now=now)
    seat = await session.get(SessionParticipant, claims.participant_id)
    if seat is None or seat.session_id != claims.session_id or seat.role != claims.role:
        raise TokenError("this join link is not genuine", code="token_invalid")
    if seat.token_version != claims.version:
        raise TokenError(
            "this join link was replaced or revoked; ask the mediator for a new one", code="token_revoked"
        )
    ms = await session.get(MediationSession, seat.session_id)
    case = await session.get(Case, ms.case_id) if ms else None
    if ms is None or case is None:
        raise TokenError("this join link is not genuine", code="token_invalid")
    if ms.status in ("ended", "cancelled"):
        raise Conflict("this session is over", code="session_over", current_state=ms.status)
    if (
        seat.slot_start is not None
        and seat.slot_end is not None
        and not (seat.slot_start - timedelta(minutes=15) <= now <= seat.slot_end)
    ):
        raise Conflict(
            "this is not your time slot",
            code="outside_slot",
            slot_start=seat.slot_start.isoformat(),
            slot_end=seat.slot_end.isoformat(),
        )
    return JoinContext(session=ms, participant=seat, case=case, role=Role(seat.role))
