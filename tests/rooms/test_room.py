from __future__ import annotations

from collections.abc import Callable

import pytest

from rooms.room import MAIN, Role, Room
from tiaojie.errors import Conflict, NotFound, PermissionDenied


def ready_room() -> Room:
    room = Room("ses_1", grace_seconds=30)
    room.join("med", Role.MEDIATOR, "王调解", now=0)
    for pid, role in (("w", Role.APPLICANT), ("e", Role.RESPONDENT)):
        room.join(pid, role, pid, now=0)
        room.acknowledge(pid, consent=True, warning=True)
        room.check_identity("med", pid, method="id_card", result="verified")
        room.admit("med", pid)
    return room


def test_mediator_enters_directly_parties_wait_in_the_lobby() -> None:
    room = Room("ses_1")
    room.join("med", Role.MEDIATOR, "m", now=0)
    events = room.join("w", Role.APPLICANT, "w", now=0)
    assert events[0].kind == "lobby_joined"
    assert events[0].to == frozenset({"med"})
    assert room.seat("w").state.value == "lobby"
    assert room.audience("med") == frozenset()


def test_admission_needs_consent_warning_and_identity() -> None:
    room = Room("ses_1")
    room.join("med", Role.MEDIATOR, "m", now=0)
    room.join("w", Role.APPLICANT, "w", now=0)
    with pytest.raises(Conflict, match="consented"):
        room.admit("med", "w")
    room.acknowledge("w", consent=True, warning=False)
    with pytest.raises(Conflict):
        room.admit("med", "w")
    room.acknowledge("w", consent=False, warning=True)
    with pytest.raises(Conflict) as error:
        room.admit("med", "w")
    assert error.value.code == "identity_not_verified"
    room.check_identity("med", "w", method="id_card", result="failed")
    with pytest.raises(Conflict):
        room.admit("med", "w")
    room.check_identity("med", "w", method="id_card", result="verified")
    room.admit("med", "w")
    assert room.audience("w") == frozenset({"med"})


def test_only_the_host_controls() -> None:
    room = ready_room()
    calls: list[Callable[[], object]] = [
        lambda: room.admit("w", "e"),
        lambda: room.lock("w", True),
        lambda: room.mute("w", "e", True),
        lambda: room.open_subroom("w", "x", "x"),
        lambda: room.end("e"),
    ]
    for call in calls:
        with pytest.raises(PermissionDenied):
            call()


def test_caucus_isolates_media_and_everyone_returns() -> None:
    room = ready_room()
    room.open_subroom("med", "c1", "与申请人单独沟通")
    room.move("med", "w", "c1")
    room.move("med", "med", "c1")
    assert room.audience("w") == frozenset({"med"})
    assert room.audience("e") == frozenset()
    assert room.snapshot("e")["subrooms"] == {MAIN: "main"}
    subrooms = room.snapshot("med")["subrooms"]
    assert isinstance(subrooms, dict)
    assert set(subrooms) == {MAIN, "c1"}
    room.close_subrooms("med")
    assert room.audience("e") == frozenset({"med", "w"})


def test_lock_refuses_newcomers_but_not_returning_participants() -> None:
    room = ready_room()
    room.lock("med", True)
    with pytest.raises(Conflict) as error:
        room.join("agent", Role.RESPONDENT, "a", now=1)
    assert error.value.code == "room_locked"
    room.disconnected("w", now=5)
    room.join("w", Role.APPLICANT, "w", now=6)
    assert room.seat("w").state.value == "present"


def test_reconnect_within_grace_keeps_the_seat_and_expiry_gives_it_up() -> None:
    room = ready_room()
    room.open_subroom("med", "c1", "c1")
    room.move("med", "w", "c1")
    room.disconnected("w", now=10)
    assert room.seat("w").state.value == "reconnecting"
    assert room.expire(now=39) == []
    room.join("w", Role.APPLICANT, "w", now=39)
    assert room.seat("w").location == "c1"
    room.disconnected("e", now=40)
    closed = room.expire(now=70)
    assert [e.data["reason"] for e in closed] == ["grace_expired"]
    with pytest.raises(NotFound):
        room.seat("e")


def test_remove_deny_end() -> None:
    room = ready_room()
    room.join("late", Role.RESPONDENT, "l", now=1)
    events = room.deny("med", "late", "身份不符")
    assert events[0].data["reason"] == "denied"
    events = room.remove("med", "e", "扰乱秩序")
    assert events[0].data["reason"] == "removed"
    with pytest.raises(Conflict):
        room.remove("med", "med", "x")
    room.end("med")
    with pytest.raises(Conflict):
        room.join("w2", Role.APPLICANT, "w2", now=2)


def test_someone_left_in_the_main_room_learns_only_that_a_caucus_is_on() -> None:
    room = ready_room()
    assert room.snapshot("e")["caucus"] is False
    room.open_subroom("med", "c1", "与申请人背对背")
    for pid in ("w", "med"):
        room.move("med", pid, "c1")
    view = room.snapshot("e")
    assert view["caucus"] is True
    assert view["subrooms"] == {MAIN: "main"}
    assert [p["id"] for p in view["participants"]] == ["e"]  # type: ignore[attr-defined]
    assert room.snapshot("w")["caucus"] is True
    assert room.snapshot("med")["subrooms"] == {MAIN: "main", "c1": "与申请人背对背"}
    room.close_subrooms("med")
    assert room.snapshot("e")["caucus"] is False
    assert room.snapshot("e")["recording"] is False
