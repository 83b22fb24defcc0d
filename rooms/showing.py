"""The agreement shown in a session room, without I/O: which version the mediator shows in which part of
the room (the main room or one caucus sub-room), who sees it, and who may comment on it. ::

    (nothing) ─show{part, version}→ SHOWN(show id) ─show{same version}→ SHOWN(same id, seq + 1: refreshed)
    SHOWN ─show{another version}→ SHOWN(new id)    SHOWN ─hide→ (nothing)    its sub-room closed → (nothing)

Only the mediator shows and hides. Like chat and media, a showing never crosses a sub-room's boundary: the
people present in its part see it (and the mediator wherever they are); the parties and agents among them
may comment, on the version shown. Each showing has its own id, so comments are read back only by the
people of that showing, even when a closed sub-room's id is used again later.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from rooms.room import PARTY_ROLES, Capability, ParticipantState, Room, Seat
from tiaojie.errors import Conflict, NotFound, PermissionDenied

__all__ = ["Showing", "Stage"]


@dataclass(frozen=True, slots=True)
class Showing:
    show_id: str
    part: str
    version_id: str
    number: int
    shown_by: str
    seq: int = 1  # goes up when the mediator shows the same version again (its text may have changed)

    def summary(self) -> dict[str, object]:
        return {
            "show_id": self.show_id,
            "seq": self.seq,
            "part": self.part,
            "version_id": self.version_id,
            "number": self.number,
        }


def _host(room: Room, actor_id: str) -> Seat:
    if room.ended:
        raise Conflict("the session has ended", code="room_ended")
    seat = room.seat(actor_id)
    if Capability.HOST not in seat.caps or seat.state is not ParticipantState.PRESENT:
        raise PermissionDenied("only the mediator may do this", code="not_host")
    return seat


@dataclass(slots=True)
class Stage:
    """What is shown where in one room."""

    shows: dict[str, Showing] = field(default_factory=dict)  # part -> its showing

    def show(
        self, room: Room, actor_id: str, part: str, *, version_id: str, number: int, show_id: str
    ) -> Showing:
        """The mediator shows ``version_id`` in ``part``; ``show_id`` names a new showing (unused when the
        same version is shown there already: that showing is refreshed)."""
        _host(room, actor_id)
        if part not in room.subrooms:
            raise NotFound("no such sub-room", code="unknown_subroom")
        current = self.shows.get(part)
        if current is not None and current.version_id == version_id:
            shown = replace(current, seq=current.seq + 1, shown_by=actor_id)
        else:
            shown = Showing(show_id, part, version_id, number, actor_id)
        self.shows[part] = shown
        return shown

    def hide(self, room: Room, actor_id: str, part: str) -> Showing:
        _host(room, actor_id)
        self.prune(room)
        shown = self.shows.pop(part, None)
        if shown is None:
            raise Conflict("no agreement is shown there", code="agreement_not_shown")
        return shown

    def prune(self, room: Room) -> None:
        """Forget the showings of sub-rooms that were closed, and everything once the room ended."""
        for part in [p for p in self.shows if room.ended or p not in room.subrooms]:
            del self.shows[part]

    def visible_to(self, room: Room, participant_id: str, part: str | None = None) -> Showing | None:
        """What ``participant_id`` sees: the showing of their part (the mediator may name another)."""
        seat = room.seat(participant_id)
        if seat.state is not ParticipantState.PRESENT:
            return None
        if part is not None and part != seat.location and Capability.HOST not in seat.caps:
            raise PermissionDenied("you see only your own part of the room", code="not_host")
        self.prune(room)
        return self.shows.get(part or seat.location)

    def commenting(self, room: Room, participant_id: str, version_id: str) -> Showing:
        """The showing a comment by ``participant_id`` on ``version_id`` belongs to, or why it is refused."""
        if room.ended:
            raise Conflict("the session has ended", code="room_ended")
        seat = room.seat(participant_id)
        if seat.state is not ParticipantState.PRESENT:
            raise Conflict("you can comment once admitted", code="not_admitted")
        if seat.role not in PARTY_ROLES:
            raise PermissionDenied(
                "the parties and their agents comment on the agreement", code="not_allowed"
            )
        shown = self.visible_to(room, participant_id)
        if shown is None:
            raise Conflict("no agreement is shown to you", code="agreement_not_shown")
        if shown.version_id != version_id:
            raise Conflict("that version is not the one shown", code="version_not_shown")
        return shown

    def audience(self, room: Room, shown: Showing) -> frozenset[str]:
        """Who reads the comments on ``shown``: the people admitted to its part — present, or reconnecting
        (they read them on their return) — and the mediator."""
        return room.admitted_in(shown.part) | room.hosts()

    def view(self, room: Room, participant_id: str) -> dict[str, object]:
        """The part of ``participant_id``'s room view about the agreement: ``agreement`` (what they see, or
        null) and, for the mediator, ``agreements`` (every part's showing)."""
        shown = self.visible_to(room, participant_id)
        out: dict[str, object] = {"agreement": shown.summary() if shown else None}
        if Capability.HOST in room.seat(participant_id).caps:
            out["agreements"] = {part: s.summary() for part, s in self.shows.items()}
        return out
