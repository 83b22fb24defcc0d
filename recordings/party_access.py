"""The parties' own access to a case's recordings (OMR 22; SIM 2 and OMR 29 keep them confidential).

The mediator of the case or its court gives a party a link (:mod:`recordings.party_links`, sent by SMS
through the notifier). With it the party sees the case's sealed recordings they are entitled to, and plays
or downloads their playback renderings; every look is in the case's audit trail.

**Who is entitled to which recording** (:func:`entitled`): a party sees what they could hear in the session,
and never what the other side said to the mediator in private.

- the main room of a session held jointly (all parties at once): every party of the case;
- a caucus sub-room (背对背), recorded as its own part: the sides that had someone recorded in it (the party
  itself, its agent or its representative) — a caucus held with the worker's side alone is never shown to
  the employer's side;
- any part of a session held in the separate mode (each party at its own time): only a side that was
  recorded in it, and only when no one of the other side was (a recording spanning both sides' times is
  shown to neither; the court and the mediator still have it).

Only sealed recordings (complete, or interrupted and repaired) are listed; deleted ones never are. A party
watches the playback rendering, not the original segments.
"""

from __future__ import annotations

import contextlib
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.principal import Principal, PrincipalKind
from cases import audit
from cases.deadlines import SHANGHAI
from cases.tables import Case, Party
from cases.vocab import Side
from recordings.jobs import RenderStatus, request_render
from recordings.party_links import PartyLinkClaims, PartyLinkError, issue, verify
from recordings.service import RecordingStatus
from recordings.tables import Recording
from rooms.notify import Message, Notifier, NotifyFailed
from rooms.room import MAIN
from rooms.tables import MediationSession, SessionParticipant
from tiaojie.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from tiaojie.ids import is_id

__all__ = [
    "IssuedLink",
    "PartyGrant",
    "as_principal",
    "entitled",
    "entitled_recordings",
    "issue_links",
    "party_of",
]

SEALED = (RecordingStatus.COMPLETE, RecordingStatus.INTERRUPTED)
_SIDES = frozenset(s.value for s in Side)


def entitled(*, part: str, mode: str, recorded_sides: Collection[str], side: str) -> bool:
    """Whether a party of ``side`` may see a recording of ``part`` of a session held in ``mode``, whose
    recorded people included the sides ``recorded_sides``; see the module's docstring."""
    if mode == "joint" and part == MAIN:
        return True
    if side not in recorded_sides:
        return False
    return mode == "joint" or set(recorded_sides) == {side}


@dataclass(frozen=True, slots=True)
class PartyGrant:
    """A verified link: the case and the party it was given to."""

    case: Case
    party: Party
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class IssuedLink:
    party: Party
    url: str
    expires_at: datetime
    recordings: tuple[str, ...]
    notified: bool


def as_principal(party: Party, ip: str | None, user_agent: str | None) -> Principal:
    """The party as the actor of audit entries (a party has no account: the link is the credential)."""
    return Principal.party(party.id, party.name, ip=ip, user_agent=user_agent)


async def party_of(session: AsyncSession, token: str, *, secret: str, now: datetime) -> PartyGrant:
    """The case and party of a genuine, unexpired link whose party is still that party of that case, in the
    role and on the side the link was given for; PartyLinkError otherwise."""
    claims = verify(token, secret=secret, now=now)
    party = await session.get(Party, claims.party_id) if is_id(claims.party_id, "pty") else None
    case = await session.get(Case, claims.case_id) if is_id(claims.case_id, "cas") else None
    if (
        party is None
        or case is None
        or party.case_id != case.id
        or party.role != claims.role
        or party.side != claims.side
    ):
        raise PartyLinkError(
            "this recordings link is no longer valid for this party", code="link_wrong_party"
        )
    return PartyGrant(case, party, datetime.fromtimestamp(claims.expires_at, tz=now.tzinfo))


async def _sealed(session: AsyncSession, case: Case) -> list[tuple[Recording, MediationSession]]:
    rows = await session.execute(
        select(Recording, MediationSession)
        .join(MediationSession, MediationSession.id == Recording.session_id)
        .where(Recording.case_id == case.id, Recording.status.in_(SEALED))
        .order_by(Recording.started_at, Recording.id)
    )
    return [(recording, mediation) for recording, mediation in rows]


async def _recorded_sides(session: AsyncSession, recordings: Iterable[Recording]) -> dict[str, set[str]]:
    """For each recording, the sides of the parties whose tracks it holds (the manifest names the people)."""
    people = {
        recording.id: {str(t["participant_id"]) for t in (recording.manifest or {}).get("tracks", [])}
        for recording in recordings
    }
    everyone = set().union(*people.values()) if people else set()
    roles: dict[str, str] = {}
    if everyone:
        rows = await session.execute(
            select(SessionParticipant.id, SessionParticipant.role).where(SessionParticipant.id.in_(everyone))
        )
        roles = {str(pid): str(role) for pid, role in rows}
    return {rid: {roles[p] for p in pids if roles.get(p) in _SIDES} for rid, pids in people.items()}


async def entitled_recordings(session: AsyncSession, case: Case, party: Party) -> list[Recording]:
    """The case's sealed recordings that ``party`` is entitled to, oldest first."""
    sealed = await _sealed(session, case)
    sides = await _recorded_sides(session, (r for r, _ in sealed))
    return [
        recording
        for recording, mediation in sealed
        if entitled(
            part=recording.part, mode=mediation.mode, recorded_sides=sides[recording.id], side=party.side
        )
    ]


async def entitled_recording(session: AsyncSession, grant: PartyGrant, recording_id: str) -> Recording:
    """One recording the party is entitled to; 404 for any other (of another case, not theirs, deleted)."""
    for recording in await entitled_recordings(session, grant.case, grant.party):
        if recording.id == recording_id:
            return recording
    raise NotFound("recording not found", resource="recording")


async def issue_links(
    session: AsyncSession,
    actor: Principal,
    case: Case,
    *,
    party_ids: Sequence[str] | None,
    valid_days: int,
    notify: bool,
    notifier: Notifier | None,
    secret: str,
    base_url: str,
    now: datetime,
) -> list[IssuedLink]:
    """Links for the given parties of the case (default: all of them), audited; the playback renderings of
    the recordings they will see are queued when not made yet. Only the mediator of the case or its court."""
    mediator = actor.kind is PrincipalKind.MEDIATOR and actor.mediator_id == case.current_mediator_id
    court = actor.kind is PrincipalKind.COURT and actor.court_id == case.court_id
    if not (mediator or court):
        raise PermissionDenied(
            "the mediator of the case or its court gives parties access to recordings",
            code="not_case_mediator",
        )
    parties = list(
        (
            await session.scalars(
                select(Party).where(Party.case_id == case.id).order_by(Party.side, Party.id)
            )
        ).all()
    )
    if party_ids is not None:
        known = {p.id: p for p in parties}
        unknown = [pid for pid in party_ids if pid not in known]
        if unknown:
            raise InvalidInput("not a party of this case", field="party_ids", code="unknown_party")
        parties = [known[pid] for pid in dict.fromkeys(party_ids)]
    if not await _sealed(session, case):
        raise Conflict("the case has no finished recording yet", code="no_sealed_recordings")
    expires = now + timedelta(days=valid_days)
    issued: list[IssuedLink] = []
    to_render: dict[str, Recording] = {}
    for party in parties:
        recordings = await entitled_recordings(session, case, party)
        to_render.update({r.id: r for r in recordings})
        claims = PartyLinkClaims(case.id, party.id, party.role, party.side, int(expires.timestamp()))
        url = f"{base_url}/pr#{issue(claims, secret=secret)}"
        notified = False
        if notify and notifier is not None and party.phone:
            until = f"{expires.astimezone(SHANGHAI):%Y-%m-%d %H:%M}"  # Beijing time, as people read it
            text = (
                f"【劳动争议在线调解】案件 {case.case_number} 的调解录像可在 {until} 前"
                f"在浏览器中打开 {url} 查看。录像内容保密，仅限本人查看，请勿转发、录制或传播。"
            )
            with contextlib.suppress(NotifyFailed):  # the link is in the answer: the mediator can pass it on
                await notifier.send(Message(party.phone, text, "recording_link"))
                notified = True
        await audit.record(
            session,
            actor=actor,
            at=now,
            subject_type="party",
            subject_id=party.id,
            case_id=case.id,
            action="recording_link_issued",
            data={
                "expires_at": expires.isoformat(),
                "recordings": [r.id for r in recordings],
                "notified": notified,
            },
        )
        issued.append(IssuedLink(party, url, expires, tuple(r.id for r in recordings), notified))
    for recording in to_render.values():
        if recording.render_status in (None, RenderStatus.FAILED) and await request_render(
            session, recording, now
        ):
            await audit.record(
                session,
                actor=actor,
                at=now,
                subject_type="recording",
                subject_id=recording.id,
                case_id=case.id,
                action="render_requested",
                data={"for": "party_link"},
            )
    return issued
