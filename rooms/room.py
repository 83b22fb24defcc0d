"""The room of one mediation session as a pure state machine: lobby, admission, sub-rooms, controls.

No I/O and no clock: the adapter (``signaling/``) feeds commands with ``now`` and broadcasts the returned
events; media routing asks :meth:`Room.audience` who may receive whose media. ::

    participant:  (absent) ─join→ LOBBY ─admit→ PRESENT ─disconnect→ RECONNECTING ─join→ PRESENT
                  LOBBY ─deny→ gone        PRESENT ─remove / leave→ gone   RECONNECTING ─grace expired→ gone
    the mediator (host) enters PRESENT directly; so does anyone admitted before who rejoins
    room:         OPEN ─lock⇄unlock─ OPEN ─end→ ENDED

Parties must consent to online mediation and acknowledge the warning about false mediation (OMR 4, 17)
before the mediator may admit them, and the mediator records an identity check for each (method, result).
Caucus (背对背调解): the mediator opens private sub-rooms and moves people between them; media and chat never
cross a sub-room's boundary (:meth:`Room.audience`).

Recording (OMR 18) is proposed by the mediator per part (``main`` or a sub-room id) and starts only when
everyone in that part has consented; a refusal cancels the proposal; a newcomer to a recording part is asked
and stays unrecorded until they consent (:mod:`rooms.recording`). :meth:`Room.recording_plan` says, for
every part being recorded, whose media may be recorded; the adapter reconciles the recorder with it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from rooms.recording import Answer, PartRecording, RecordingState
from tiaojie.errors import Conflict, InvalidInput, NotFound, PermissionDenied

__all__ = [
    "MAIN",
    "PARTY_ROLES",
    "Capability",
    "CloseReason",
    "Event",
    "ParticipantState",
    "Role",
    "Room",
    "Seat",
    "capabilities",
]

MAIN = "main"


class Role(StrEnum):
    MEDIATOR = "mediator"
    APPLICANT = "applicant"  # the worker's side (申请人)
    RESPONDENT = "respondent"  # the employer's side (被申请人)
    JUDGE = "judge"  # assisting judge (observer)
    INTERPRETER = "interpreter"
    CLERK = "clerk"


class Capability(StrEnum):
    AUDIO = "audio"
    VIDEO = "video"
    SCREEN = "screen"
    CHAT = "chat"
    HOST = "host"  # admit, remove, mute, lock, caucus, end


_CAPS: dict[Role, frozenset[Capability]] = {
    Role.MEDIATOR: frozenset(Capability),
    Role.APPLICANT: frozenset({Capability.AUDIO, Capability.VIDEO, Capability.SCREEN, Capability.CHAT}),
    Role.RESPONDENT: frozenset({Capability.AUDIO, Capability.VIDEO, Capability.SCREEN, Capability.CHAT}),
    Role.JUDGE: frozenset({Capability.AUDIO, Capability.VIDEO, Capability.CHAT}),
    Role.INTERPRETER: frozenset({Capability.AUDIO, Capability.CHAT}),
    Role.CLERK: frozenset({Capability.CHAT}),
}
_PARTY_ROLES = frozenset({Role.APPLICANT, Role.RESPONDENT})
PARTY_ROLES = _PARTY_ROLES  # the parties and their agents


def capabilities(role: Role) -> frozenset[Capability]:
    return _CAPS[role]


class ParticipantState(StrEnum):
    LOBBY = "lobby"
    PRESENT = "present"
    RECONNECTING = "reconnecting"


class CloseReason(StrEnum):
    """Why a participant's connection ends; the client shows a message for each."""

    LEFT = "left"
    DENIED = "denied"
    REMOVED = "removed"
    ROOM_ENDED = "room_ended"
    ROOM_LOCKED = "room_locked"
    REPLACED = "replaced"  # the same link was opened on another device
    LINK_REVOKED = "link_revoked"
    GRACE_EXPIRED = "grace_expired"
    PROTOCOL_ERROR = "protocol_error"
    RATE_LIMITED = "rate_limited"
    SERVER_SHUTDOWN = "server_shutdown"


@dataclass(frozen=True, slots=True)
class Event:
    """Something every connected client may need to know; ``to`` None means everyone in the room."""

    kind: str
    participant_id: str | None = None
    data: dict[str, object] = field(default_factory=dict)
    to: frozenset[str] | None = None


@dataclass(slots=True)
class Seat:
    participant_id: str
    role: Role
    name: str
    state: ParticipantState
    location: str = MAIN
    consented: bool = False
    warned: bool = False
    identity: dict[str, str] | None = None
    admitted_once: bool = False
    muted_by_host: bool = False
    disconnected_at: float | None = None

    @property
    def caps(self) -> frozenset[Capability]:
        return _CAPS[self.role]


@dataclass(slots=True)
class Room:
    session_id: str
    grace_seconds: float = 60.0
    seats: dict[str, Seat] = field(default_factory=dict)
    subrooms: dict[str, str] = field(default_factory=lambda: {MAIN: "main"})  # id -> label
    locked: bool = False
    ended: bool = False
    recordings: dict[str, PartRecording] = field(default_factory=dict)  # part -> its consent round

    # --- queries ------------------------------------------------------------------------------------

    def seat(self, participant_id: str) -> Seat:
        seat = self.seats.get(participant_id)
        if seat is None:
            raise NotFound("not in this room", code="not_in_room")
        return seat

    def present(self) -> list[Seat]:
        return [s for s in self.seats.values() if s.state is ParticipantState.PRESENT]

    def audience(self, publisher_id: str) -> frozenset[str]:
        """Who receives ``publisher_id``'s media and chat: present participants in the same sub-room."""
        source = self.seats.get(publisher_id)
        if source is None or source.state is not ParticipantState.PRESENT:
            return frozenset()
        return frozenset(
            s.participant_id
            for s in self.present()
            if s.location == source.location and s.participant_id != publisher_id
        )

    def hosts(self) -> frozenset[str]:
        return frozenset(s.participant_id for s in self.present() if Capability.HOST in s.caps)

    def admitted_in(self, part: str) -> frozenset[str]:
        """Everyone admitted who is in ``part`` (a sub-room or the main room), present or reconnecting."""
        return frozenset(s.participant_id for s in self._in_part(part))

    def _in_part(self, part: str) -> list[Seat]:
        """Everyone admitted who is in ``part``, present or reconnecting."""
        return [
            s for s in self.seats.values() if s.state is not ParticipantState.LOBBY and s.location == part
        ]

    def _present_in(self, part: str) -> list[str]:
        return [s.participant_id for s in self._in_part(part) if s.state is ParticipantState.PRESENT]

    def _asked(self, part: str) -> list[str]:
        """Whose consent recording ``part`` needs: everyone in it but the mediator."""
        return [s.participant_id for s in self._in_part(part) if Capability.HOST not in s.caps]

    def recording_plan(self) -> dict[str, frozenset[str]]:
        """For every part that should be recording now, whose media may be recorded (present, in that
        part, consented — the mediator's consent is implied by proposing)."""
        if self.ended:
            return {}
        return {
            part: rec.recorded(self._present_in(part), self.hosts())
            for part, rec in self.recordings.items()
            if rec.state is RecordingState.RECORDING
        }

    def recording_labels(self) -> dict[str, str]:
        """The label of every part in :meth:`recording_plan` (recordings of sub-rooms are labelled parts)."""
        return {part: self.subrooms[part] for part in self.recording_plan()}

    def _recording_view(self, viewer: Seat, host: bool) -> dict[str, object]:
        rec = self.recordings.get(viewer.location) if viewer.state is not ParticipantState.LOBBY else None
        view: dict[str, object] = {"recording": rec is not None and rec.state is RecordingState.RECORDING}
        consent = None
        if rec is not None:
            recorded = rec.recorded(self._present_in(viewer.location), self.hosts())
            answer = None if host else rec.answers.get(viewer.participant_id)
            consent = {
                "part": viewer.location,
                "state": rec.state.value,
                "answer": answer.value if answer else None,
                "recorded": viewer.participant_id in recorded,
            }
        view["recording_consent"] = consent
        if host:
            view["recordings"] = {
                part: rec.view(self.subrooms[part], self._present_in(part), self.hosts())
                for part, rec in self.recordings.items()
            }
        return view

    def snapshot(self, viewer_id: str) -> dict[str, object]:
        """What ``viewer_id`` may see: the host sees everyone and where they are; others see the people in
        their own sub-room, and only their own sub-room's name."""
        viewer = self.seat(viewer_id)
        host = Capability.HOST in viewer.caps
        if viewer.state is ParticipantState.LOBBY:
            visible = [viewer]  # someone waiting sees only that they wait
        else:
            visible = [
                s
                for s in self.seats.values()
                if host or (s.state is not ParticipantState.LOBBY and s.location == viewer.location)
            ]
        return {
            "session_id": self.session_id,
            "locked": self.locked,
            **self._recording_view(viewer, host),
            # Whether private sub-rooms are open: someone left in the main room sees that the mediator is
            # away in a caucus, not that the mediator left (neither who nor where).
            "caucus": len(self.subrooms) > 1,
            "you": viewer_id,
            "location": viewer.location,
            "subrooms": dict(self.subrooms) if host else {viewer.location: self.subrooms[viewer.location]},
            "participants": [
                {
                    "id": s.participant_id,
                    "role": s.role.value,
                    "name": s.name,
                    "state": s.state.value,
                    "location": s.location,
                    "muted_by_host": s.muted_by_host,
                    **(
                        {"consented": s.consented, "warned": s.warned, "identity": s.identity} if host else {}
                    ),
                }
                for s in visible
            ],
        }

    # --- commands -----------------------------------------------------------------------------------

    def _require_open(self) -> None:
        if self.ended:
            raise Conflict("the session has ended", code="room_ended")

    def _require_host(self, actor_id: str) -> Seat:
        actor = self.seat(actor_id)
        if Capability.HOST not in actor.caps or actor.state is not ParticipantState.PRESENT:
            raise PermissionDenied("only the mediator may do this", code="not_host")
        return actor

    def _to_hosts(self) -> frozenset[str]:
        return self.hosts()

    def join(self, participant_id: str, role: Role, name: str, *, now: float) -> list[Event]:
        """A participant connects with a valid link (a rejoin within the grace period keeps the seat)."""
        self._require_open()
        seat = self.seats.get(participant_id)
        events: list[Event] = []
        if seat is not None and seat.state is not ParticipantState.LOBBY:
            # Rejoin (reconnect, or the same link opened again: the adapter closes the old connection).
            seat.state = ParticipantState.PRESENT
            seat.disconnected_at = None
            return [
                Event("participant_present", participant_id, {"rejoined": True}),
                *self._settle_recordings(),
            ]
        if self.locked and (seat is None or not seat.admitted_once) and role is not Role.MEDIATOR:
            raise Conflict("the mediator has locked the session", code="room_locked")
        if seat is None:
            seat = Seat(participant_id, role, name, ParticipantState.LOBBY)
            self.seats[participant_id] = seat
        if role is Role.MEDIATOR:
            seat.state = ParticipantState.PRESENT
            seat.admitted_once = True
            events.append(Event("participant_present", participant_id, {"role": role.value}))
            events.extend(self._settle_recordings())
        else:
            events.append(
                Event("lobby_joined", participant_id, {"role": role.value, "name": name}, self._to_hosts())
            )
        return events

    def acknowledge(self, participant_id: str, *, consent: bool, warning: bool) -> list[Event]:
        """A waiting party consents to online mediation and acknowledges the false-mediation warning."""
        self._require_open()
        seat = self.seat(participant_id)
        if seat.state is not ParticipantState.LOBBY:
            raise Conflict("only people in the lobby give these", code="not_in_lobby")
        seat.consented = seat.consented or consent
        seat.warned = seat.warned or warning
        data: dict[str, object] = {"consented": seat.consented, "warned": seat.warned}
        return [Event("lobby_updated", participant_id, data, self._to_hosts())]

    def check_identity(self, actor_id: str, participant_id: str, *, method: str, result: str) -> list[Event]:
        """The mediator records how a participant's identity was checked and the result (OMR 17)."""
        self._require_open()
        self._require_host(actor_id)
        seat = self.seat(participant_id)
        if result not in ("verified", "failed"):
            raise InvalidInput("result is verified or failed", field="result")
        seat.identity = {"method": method, "result": result}
        return [Event("lobby_updated", participant_id, {"identity": seat.identity}, self._to_hosts())]

    def admit(self, actor_id: str, participant_id: str) -> list[Event]:
        self._require_open()
        self._require_host(actor_id)
        seat = self.seat(participant_id)
        if seat.state is not ParticipantState.LOBBY:
            raise Conflict("this participant is not waiting", code="not_in_lobby")
        if seat.role in _PARTY_ROLES and not (seat.consented and seat.warned):
            raise Conflict(
                "the party has not consented and acknowledged the warning yet", code="consent_missing"
            )
        if seat.identity is None or seat.identity["result"] != "verified":
            raise Conflict("check the participant's identity first", code="identity_not_verified")
        seat.state = ParticipantState.PRESENT
        seat.admitted_once = True
        seat.location = MAIN
        return [
            Event("participant_present", participant_id, {"role": seat.role.value, "name": seat.name}),
            *self._settle_recordings(),
        ]

    def deny(self, actor_id: str, participant_id: str, reason: str) -> list[Event]:
        self._require_host(actor_id)
        seat = self.seat(participant_id)
        if seat.state is not ParticipantState.LOBBY:
            raise Conflict("this participant is not waiting", code="not_in_lobby")
        del self.seats[participant_id]
        return [
            Event(
                "closed",
                participant_id,
                {"reason": CloseReason.DENIED.value, "note": reason},
                frozenset({participant_id}) | self._to_hosts(),
            )
        ]

    def remove(self, actor_id: str, participant_id: str, reason: str) -> list[Event]:
        self._require_host(actor_id)
        if participant_id == actor_id:
            raise Conflict("use end to close the session", code="cannot_remove_self")
        self.seat(participant_id)
        del self.seats[participant_id]
        return [
            Event("closed", participant_id, {"reason": CloseReason.REMOVED.value, "note": reason}),
            *self._settle_recordings(),
        ]

    def mute(self, actor_id: str, participant_id: str, muted: bool) -> list[Event]:
        self._require_host(actor_id)
        seat = self.seat(participant_id)
        seat.muted_by_host = muted
        return [Event("muted", participant_id, {"muted": muted})]

    def lock(self, actor_id: str, locked: bool) -> list[Event]:
        self._require_open()
        self._require_host(actor_id)
        self.locked = locked
        return [Event("locked", None, {"locked": locked})]

    def open_subroom(self, actor_id: str, subroom_id: str, label: str) -> list[Event]:
        self._require_open()
        self._require_host(actor_id)
        if subroom_id in self.subrooms:
            raise Conflict("a sub-room with this id exists", code="subroom_exists")
        self.subrooms[subroom_id] = label
        return [Event("subroom_opened", None, {"subroom": subroom_id, "label": label}, self._to_hosts())]

    def move(self, actor_id: str, participant_id: str, subroom_id: str) -> list[Event]:
        self._require_open()
        self._require_host(actor_id)
        if subroom_id not in self.subrooms:
            raise NotFound("no such sub-room", code="unknown_subroom")
        seat = self.seat(participant_id)
        if seat.state is ParticipantState.LOBBY:
            raise Conflict("admit the participant first", code="not_admitted")
        before = seat.location
        seat.location = subroom_id
        return [
            Event(
                "moved",
                participant_id,
                {"from": before, "to": subroom_id, "label": self.subrooms[subroom_id]},
            ),
            *self._settle_recordings(),
        ]

    def close_subrooms(self, actor_id: str) -> list[Event]:
        """Bring everyone back to the main room."""
        self._require_open()
        self._require_host(actor_id)
        events = [
            event
            for s in list(self.seats.values())
            if s.location != MAIN
            for event in self.move(actor_id, s.participant_id, MAIN)
        ]
        self.subrooms = {MAIN: self.subrooms[MAIN]}
        return [*events, Event("subrooms_closed", None, {}), *self._settle_recordings()]

    def disconnected(self, participant_id: str, *, now: float) -> list[Event]:
        """The connection dropped without a goodbye: keep the seat for the grace period."""
        seat = self.seats.get(participant_id)
        if seat is None:
            return []
        if seat.state is ParticipantState.LOBBY:
            del self.seats[participant_id]
            return [Event("lobby_left", participant_id, {}, self._to_hosts())]
        seat.state = ParticipantState.RECONNECTING
        seat.disconnected_at = now
        return [Event("participant_reconnecting", participant_id, {})]

    def leave(self, participant_id: str) -> list[Event]:
        if self.seats.pop(participant_id, None) is None:
            return []
        return [
            Event("closed", participant_id, {"reason": CloseReason.LEFT.value}),
            *self._settle_recordings(),
        ]

    def expire(self, *, now: float) -> list[Event]:
        """Seats whose grace period ran out are given up."""
        events = []
        for seat in list(self.seats.values()):
            if (
                seat.state is ParticipantState.RECONNECTING
                and seat.disconnected_at is not None
                and now - seat.disconnected_at >= self.grace_seconds
            ):
                del self.seats[seat.participant_id]
                events.append(
                    Event("closed", seat.participant_id, {"reason": CloseReason.GRACE_EXPIRED.value})
                )
        return [*events, *self._settle_recordings()] if events else events

    def end(self, actor_id: str) -> list[Event]:
        self._require_open()
        self._require_host(actor_id)
        self.ended = True
        stopped = [self._stop(rec, None, "room_ended") for rec in self.recordings.values() if rec.active]
        return [*stopped, Event("ended", None, {"reason": CloseReason.ROOM_ENDED.value})]

    # --- recording consent (OMR 18) -----------------------------------------------------------------

    def propose_recording(self, actor_id: str, part: str) -> list[Event]:
        """The mediator proposes recording ``part``; everyone in it is asked."""
        self._require_open()
        self._require_host(actor_id)
        if part not in self.subrooms:
            raise NotFound("no such sub-room", code="unknown_subroom")
        current = self.recordings.get(part)
        if current is not None and current.active:
            raise Conflict("recording of this part is already proposed or running", code="recording_active")
        self.recordings[part] = PartRecording(part, proposed_by=actor_id)
        proposed = Event("recording_proposed", actor_id, {"part": part, "label": self.subrooms[part]})
        return [proposed, *self._settle_recordings()]

    def answer_recording(self, participant_id: str, *, consent: bool) -> list[Event]:
        """Someone asked about recording their part consents or refuses. Before recording starts, a refusal
        cancels the proposal; once it runs, a refusal keeps only the one who refused out of it."""
        self._require_open()
        seat = self.seat(participant_id)
        if seat.state is ParticipantState.LOBBY:
            raise Conflict("admit the participant first", code="not_admitted")
        if Capability.HOST in seat.caps:
            raise Conflict("the mediator's consent is given by proposing", code="not_asked")
        rec = self.recordings.get(seat.location)
        if rec is None or not rec.active:
            raise Conflict("no recording is proposed here", code="no_recording_proposal")
        if rec.answers.get(participant_id, Answer.PENDING) is not Answer.PENDING:
            raise Conflict("you have answered already", code="already_answered")
        answer = Answer.CONSENTED if consent else Answer.REFUSED
        rec.answers[participant_id] = answer
        part = seat.location
        events = [Event("recording_answered", participant_id, {"part": part, "answer": answer.value})]
        if not consent and rec.state is RecordingState.PROPOSED:
            rec.state = RecordingState.REFUSED
            rec.refused_by = [participant_id]
            events.append(
                Event("recording_cancelled", participant_id, {"part": part, "refused_by": [participant_id]})
            )
        return [*events, *self._settle_recordings()]

    def stop_recording(self, actor_id: str, part: str) -> list[Event]:
        """The mediator stops recording ``part``, or withdraws a proposal still waiting for answers."""
        self._require_open()
        self._require_host(actor_id)
        rec = self.recordings.get(part)
        if rec is None or not rec.active:
            raise Conflict("this part is not being recorded", code="not_recording")
        return [self._stop(rec, actor_id, "stopped_by_mediator")]

    def _stop(self, rec: PartRecording, by: str | None, reason: str) -> Event:
        was = rec.state
        rec.state = RecordingState.STOPPED
        rec.stopped_by = by
        return Event("recording_stopped", by, {"part": rec.part, "reason": reason, "was": was.value})

    def _settle_recordings(self) -> list[Event]:
        """After any change of who is where: ask newcomers, start a part whose people all consented, stop
        the recording of a closed sub-room, forget the answers of people who left the room."""
        events: list[Event] = []
        for part, rec in list(self.recordings.items()):
            if part not in self.subrooms:
                if rec.active:
                    events.append(self._stop(rec, None, "subroom_closed"))
                del self.recordings[part]
                continue
            for pid in [pid for pid in rec.answers if pid not in self.seats]:
                del rec.answers[pid]
            if not rec.active:
                continue
            asked = self._asked(part)
            rec.ask(asked)
            if rec.state is RecordingState.PROPOSED and rec.all_consented(asked):
                rec.state = RecordingState.RECORDING
                recorded = sorted(rec.recorded(self._present_in(part), self.hosts()))
                data: dict[str, object] = {
                    "part": part,
                    "label": self.subrooms[part],
                    "participants": recorded,
                }
                events.append(Event("recording_started", None, data))
        return events
