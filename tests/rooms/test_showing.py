"""The agreement shown in the room (pure): who shows, who sees, who comments, caucus isolation."""

from __future__ import annotations

import pytest

from rooms.room import MAIN, Role
from rooms.showing import Stage
from tests.rooms.test_room import ready_room
from tiaojie.errors import Conflict, NotFound, PermissionDenied, TiaojieError


def code(error: pytest.ExceptionInfo[TiaojieError]) -> str:
    return error.value.code


def test_the_mediator_shows_everyone_in_the_main_room_and_parties_comment() -> None:
    room, stage = ready_room(), Stage()
    assert stage.view(room, "w") == {"agreement": None}
    shown = stage.show(room, "med", MAIN, version_id="agv_1", number=1, show_id="shw_a")
    for pid in ("w", "e"):
        assert stage.view(room, pid) == {"agreement": shown.summary()}
    assert stage.view(room, "med")["agreements"] == {MAIN: shown.summary()}
    assert stage.commenting(room, "w", "agv_1") is shown
    assert stage.audience(room, shown) == frozenset({"med", "w", "e"})
    # Shown again: the same showing, refreshed; another version: a new showing.
    again = stage.show(room, "med", MAIN, version_id="agv_1", number=1, show_id="shw_b")
    assert (again.show_id, again.seq) == ("shw_a", 2)
    other = stage.show(room, "med", MAIN, version_id="agv_2", number=2, show_id="shw_c")
    assert (other.show_id, other.seq) == ("shw_c", 1)
    with pytest.raises(Conflict) as error:
        stage.commenting(room, "w", "agv_1")
    assert code(error) == "version_not_shown"
    assert stage.hide(room, "med", MAIN) == other
    assert stage.view(room, "e") == {"agreement": None}
    with pytest.raises(Conflict) as error:
        stage.commenting(room, "e", "agv_2")
    assert code(error) == "agreement_not_shown"
    with pytest.raises(Conflict) as error:
        stage.hide(room, "med", MAIN)
    assert code(error) == "agreement_not_shown"


def test_comments_reach_whoever_is_reconnecting_in_that_part() -> None:
    room, stage = ready_room(), Stage()
    room.open_subroom("med", "c1", "与申请人背对背")
    room.move("med", "w", "c1")
    shown = stage.show(room, "med", "c1", version_id="agv_1", number=1, show_id="shw_a")
    room.disconnected("w", now=0.0)
    room.disconnected("e", now=0.0)
    # w dropped out of the caucus but keeps their seat there: the comments are stored for them too; e was
    # in the main room and still is not part of the caucus's audience.
    assert stage.audience(room, shown) == frozenset({"med", "w"})


def test_a_caucus_showing_stays_in_the_caucus() -> None:
    room, stage = ready_room(), Stage()
    room.open_subroom("med", "c1", "与申请人背对背")
    room.move("med", "w", "c1")
    room.move("med", "med", "c1")
    shown = stage.show(room, "med", "c1", version_id="agv_1", number=1, show_id="shw_a")
    assert stage.view(room, "w")["agreement"] == shown.summary()
    assert stage.view(room, "e") == {"agreement": None}  # left in the main room: nothing, not even that
    assert stage.audience(room, shown) == frozenset({"med", "w"})
    with pytest.raises(Conflict) as error:
        stage.commenting(room, "e", "agv_1")
    assert code(error) == "agreement_not_shown"
    with pytest.raises(PermissionDenied) as denied:
        stage.visible_to(room, "e", "c1")  # a party cannot ask for another part's showing
    assert code(denied) == "not_host"
    # Back to the main room: the caucus showing is gone, also if a sub-room of that id opens again.
    room.close_subrooms("med")
    assert stage.view(room, "w") == {"agreement": None}
    room.open_subroom("med", "c1", "与被申请人背对背")
    room.move("med", "e", "c1")
    assert stage.view(room, "e") == {"agreement": None}


def test_only_the_mediator_shows_and_only_parties_present_comment() -> None:
    room, stage = ready_room(), Stage()
    with pytest.raises(PermissionDenied) as denied:
        stage.show(room, "w", MAIN, version_id="agv_1", number=1, show_id="shw_a")
    assert code(denied) == "not_host"
    with pytest.raises(NotFound) as missing:
        stage.show(room, "med", "nowhere", version_id="agv_1", number=1, show_id="shw_a")
    assert code(missing) == "unknown_subroom"
    stage.show(room, "med", MAIN, version_id="agv_1", number=1, show_id="shw_a")
    room.join("judge", Role.JUDGE, "法官", now=0)
    with pytest.raises(Conflict) as error:
        stage.commenting(room, "judge", "agv_1")
    assert code(error) == "not_admitted"
    assert stage.view(room, "judge") == {"agreement": None}  # the lobby sees nothing
    room.check_identity("med", "judge", method="id_card", result="verified")
    room.admit("med", "judge")
    with pytest.raises(PermissionDenied) as denied:
        stage.commenting(room, "judge", "agv_1")
    assert code(denied) == "not_allowed"
    with pytest.raises(PermissionDenied):
        stage.commenting(room, "med", "agv_1")
    room.end("med")
    with pytest.raises(Conflict) as error:
        stage.commenting(room, "w", "agv_1")
    assert code(error) == "room_ended"
