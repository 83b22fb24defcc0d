"""Recording consent in the pure room: proposals, answers in every order, refusals, joiners, caucus parts."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from rooms.room import MAIN, Role, Room
from tiaojie.errors import Conflict, NotFound, PermissionDenied

PEOPLE = (("w", Role.APPLICANT), ("e", Role.RESPONDENT), ("j", Role.JUDGE))


def admit(room: Room, pid: str, role: Role) -> None:
    room.join(pid, role, pid, now=0)
    room.acknowledge(pid, consent=True, warning=True)
    room.check_identity("med", pid, method="id_card", result="verified")
    room.admit("med", pid)


def ready_room(people: tuple[tuple[str, Role], ...] = PEOPLE) -> Room:
    room = Room("ses_1", grace_seconds=30)
    room.join("med", Role.MEDIATOR, "王调解", now=0)
    for pid, role in people:
        admit(room, pid, role)
    return room


def kinds(events: list[Any]) -> list[str]:
    return [e.kind for e in events if e.kind.startswith("recording_")]


def consent_of(room: Room, pid: str) -> dict[str, Any]:
    view = room.snapshot(pid)["recording_consent"]
    assert isinstance(view, dict)
    return view


@pytest.mark.parametrize("order", list(itertools.permutations([pid for pid, _ in PEOPLE])))
def test_recording_starts_only_after_the_last_consent_in_any_order(order: tuple[str, ...]) -> None:
    room = ready_room()
    assert kinds(room.propose_recording("med", MAIN)) == ["recording_proposed"]
    assert room.recording_plan() == {}
    for pid in order:
        assert consent_of(room, pid)["answer"] == "pending"
    for index, pid in enumerate(order):
        events = room.answer_recording(pid, consent=True)
        last = index == len(order) - 1
        assert kinds(events) == ["recording_answered", *(["recording_started"] if last else [])]
        assert (room.recording_plan() != {}) is last
        assert room.snapshot(pid)["recording"] is last
    assert room.recording_plan() == {MAIN: frozenset({"med", "w", "e", "j"})}
    assert room.recording_labels() == {MAIN: "main"}
    assert all(room.snapshot(pid)["recording"] for pid in ("med", "w", "e", "j"))


@pytest.mark.parametrize("refuser", [pid for pid, _ in PEOPLE])
@pytest.mark.parametrize("consent_first", [False, True])
def test_a_refusal_by_anyone_present_cancels_the_proposal(refuser: str, consent_first: bool) -> None:
    room = ready_room()
    room.propose_recording("med", MAIN)
    others = [pid for pid, _ in PEOPLE if pid != refuser]
    if consent_first:
        for pid in others:
            room.answer_recording(pid, consent=True)
    events = room.answer_recording(refuser, consent=False)
    assert kinds(events) == ["recording_answered", "recording_cancelled"]
    assert room.recording_plan() == {}
    panel = room.snapshot("med")["recordings"]
    assert panel == {
        MAIN: {
            "label": "main",
            "state": "refused",
            "proposed_by": "med",
            "answers": {
                pid: ("refused" if pid == refuser else "consented" if consent_first else "pending")
                for pid, _ in PEOPLE
            },
            "refused_by": [refuser],
            "recorded": [],
        }
    }
    if not consent_first:
        with pytest.raises(Conflict) as error:
            room.answer_recording(others[0], consent=True)
        assert error.value.code == "no_recording_proposal"
    # A new round asks everyone again.
    room.propose_recording("med", MAIN)
    assert {consent_of(room, pid)["answer"] for pid, _ in PEOPLE} == {"pending"}


def test_a_joiner_during_recording_is_asked_and_excluded_until_they_consent() -> None:
    room = ready_room(PEOPLE[:2])
    room.propose_recording("med", MAIN)
    for pid in ("w", "e"):
        room.answer_recording(pid, consent=True)
    assert room.recording_plan() == {MAIN: frozenset({"med", "w", "e"})}
    room.join("agent", Role.RESPONDENT, "代理人", now=1)
    assert room.snapshot("agent")["recording"] is False  # the lobby is not recorded, nor told
    room.acknowledge("agent", consent=True, warning=True)
    room.check_identity("med", "agent", method="id_card", result="verified")
    room.admit("med", "agent")
    view = room.snapshot("agent")
    assert view["recording"] is True  # the indicator shows: the part is being recorded
    assert view["recording_consent"] == {
        "part": MAIN,
        "state": "recording",
        "answer": "pending",
        "recorded": False,
    }
    assert "agent" not in room.recording_plan()[MAIN]
    events = room.answer_recording("agent", consent=True)
    assert kinds(events) == ["recording_answered"]
    assert room.recording_plan() == {MAIN: frozenset({"med", "w", "e", "agent"})}
    assert consent_of(room, "agent")["recorded"] is True


def test_a_joiner_who_refuses_stays_excluded_and_the_mediator_sees_it() -> None:
    room = ready_room(PEOPLE[:1])
    room.propose_recording("med", MAIN)
    room.answer_recording("w", consent=True)
    admit(room, "e", Role.RESPONDENT)
    events = room.answer_recording("e", consent=False)
    assert kinds(events) == ["recording_answered"]  # the recording goes on without them
    assert room.recording_plan() == {MAIN: frozenset({"med", "w"})}
    assert consent_of(room, "e") == {
        "part": MAIN,
        "state": "recording",
        "answer": "refused",
        "recorded": False,
    }
    panel: Any = room.snapshot("med")["recordings"]
    assert panel[MAIN]["answers"]["e"] == "refused"
    assert panel[MAIN]["recorded"] == ["med", "w"]
    with pytest.raises(Conflict) as error:
        room.answer_recording("e", consent=True)
    assert error.value.code == "already_answered"


def test_someone_moving_into_a_proposed_part_must_answer_before_it_starts() -> None:
    room = ready_room()
    room.open_subroom("med", "c1", "与申请人背对背")
    room.move("med", "w", "c1")
    room.propose_recording("med", "c1")
    room.move("med", "e", "c1")
    room.answer_recording("w", consent=True)
    assert room.recording_plan() == {}  # e, who came in, has not answered
    room.answer_recording("e", consent=True)
    assert room.recording_plan() == {"c1": frozenset({"w", "e"})}  # the mediator is still in main


def test_a_pending_person_leaving_lets_the_others_start_and_a_reconnecting_one_blocks() -> None:
    room = ready_room()
    room.propose_recording("med", MAIN)
    room.answer_recording("w", consent=True)
    room.answer_recording("e", consent=True)
    room.disconnected("j", now=5)
    assert room.recording_plan() == {}  # j is reconnecting, still in the part, and has not answered
    events = room.expire(now=40)
    assert kinds(events) == ["recording_started"]
    assert room.recording_plan() == {MAIN: frozenset({"med", "w", "e"})}
    room.disconnected("e", now=50)
    assert room.recording_plan() == {MAIN: frozenset({"med", "w"})}  # only present people are recorded
    room.join("e", Role.RESPONDENT, "e", now=51)
    assert room.recording_plan() == {MAIN: frozenset({"med", "w", "e"})}  # their consent still holds


def test_caucus_parts_are_recorded_separately_and_labelled() -> None:
    room = ready_room()
    room.propose_recording("med", MAIN)
    for pid in ("w", "e", "j"):
        room.answer_recording(pid, consent=True)
    room.open_subroom("med", "c1", "与申请人背对背")
    room.move("med", "w", "c1")
    room.move("med", "med", "c1")
    assert room.recording_plan() == {MAIN: frozenset({"e", "j"})}  # main goes on; w left it
    assert room.snapshot("w")["recording"] is False  # c1 is not recorded: nobody proposed it
    room.propose_recording("med", "c1")
    assert consent_of(room, "w") == {
        "part": "c1",
        "state": "proposed",
        "answer": "pending",
        "recorded": False,
    }
    room.answer_recording("w", consent=True)
    assert room.recording_plan() == {MAIN: frozenset({"e", "j"}), "c1": frozenset({"med", "w"})}
    assert room.recording_labels() == {MAIN: "main", "c1": "与申请人背对背"}
    assert room.snapshot("e")["recording"] is True
    # Closing the sub-rooms stops c1's recording; everyone back in main keeps their main consent.
    events = room.close_subrooms("med")
    assert [e.data["part"] for e in events if e.kind == "recording_stopped"] == ["c1"]
    assert room.recording_plan() == {MAIN: frozenset({"med", "w", "e", "j"})}


def test_the_mediator_stops_recording_or_withdraws_a_proposal() -> None:
    room = ready_room(PEOPLE[:1])
    room.propose_recording("med", MAIN)
    events = room.stop_recording("med", MAIN)
    assert events[0].data == {"part": MAIN, "reason": "stopped_by_mediator", "was": "proposed"}
    room.propose_recording("med", MAIN)
    room.answer_recording("w", consent=True)
    assert room.recording_plan() == {MAIN: frozenset({"med", "w"})}
    room.stop_recording("med", MAIN)
    assert room.recording_plan() == {}
    assert room.snapshot("w")["recording"] is False
    assert consent_of(room, "w")["state"] == "stopped"
    with pytest.raises(Conflict) as error:
        room.stop_recording("med", MAIN)
    assert error.value.code == "not_recording"


def test_alone_the_mediator_records_at_once_and_ending_stops_everything() -> None:
    room = ready_room(())
    assert kinds(room.propose_recording("med", MAIN)) == ["recording_proposed", "recording_started"]
    assert room.recording_plan() == {MAIN: frozenset({"med"})}
    events = room.end("med")
    assert kinds(events) == ["recording_stopped"]
    assert room.recording_plan() == {}


def test_out_of_order_and_unauthorised_recording_commands() -> None:
    room = ready_room()
    with pytest.raises(PermissionDenied):
        room.propose_recording("w", MAIN)
    with pytest.raises(NotFound):
        room.propose_recording("med", "nowhere")
    with pytest.raises(Conflict) as error:
        room.answer_recording("w", consent=True)
    assert error.value.code == "no_recording_proposal"
    room.propose_recording("med", MAIN)
    with pytest.raises(Conflict) as error:
        room.propose_recording("med", MAIN)
    assert error.value.code == "recording_active"
    with pytest.raises(Conflict) as error:
        room.answer_recording("med", consent=True)
    assert error.value.code == "not_asked"
    with pytest.raises(PermissionDenied):
        room.stop_recording("w", MAIN)
    room.join("late", Role.RESPONDENT, "late", now=1)
    with pytest.raises(Conflict) as error:
        room.answer_recording("late", consent=True)
    assert error.value.code == "not_admitted"
    assert "recordings" not in room.snapshot("w")  # only the mediator sees everyone's answers
