"""A participant whose connection loses ICE consent (their network went away without a word) is reported
through ``on_failed``, as a failed connection is: the room asks them to reconnect or lets them go."""

from __future__ import annotations

import pytest

from media.engine import MediaConfig, RoomMedia
from tests.media_engine.clients import Harness
from tests.media_engine.conftest import Groups
from tests.media_hooks.peers import delay_stun, shorten_consent


@pytest.fixture(autouse=True)
def _quick(monkeypatch: pytest.MonkeyPatch) -> None:
    shorten_consent(monkeypatch)


@pytest.mark.timeout(30)
async def test_a_silent_participant_is_reported_failed_and_the_others_are_not() -> None:
    failed: list[str] = []
    groups = Groups(alice="main", bob="main")

    def engine(harness: Harness) -> RoomMedia:
        return RoomMedia(
            "session-1",
            groups,
            MediaConfig(announced_addresses=("127.0.0.1",)),
            on_renegotiate=harness.on_renegotiate,
            on_failed=failed.append,
        )

    harness = Harness(engine)
    try:
        alice = await harness.join("alice", microphone=False)
        bob = await harness.join("bob", microphone=False)
        await harness.until(lambda: alice.seen("bob") >= 3 and bob.seen("alice") >= 3)
        delay_stun(alice.publish_pc, None)  # her side stops answering the server's consent checks
        await harness.until(lambda: "alice" in failed, seconds=15)
        assert "bob" not in failed
        mark = bob.seen("alice")
        assert alice.publish_pc.connectionState == "connected" or mark >= 3
        assert "alice" in harness.engine.participants  # the room decides: remove, then add on reconnect
    finally:
        await harness.close()
