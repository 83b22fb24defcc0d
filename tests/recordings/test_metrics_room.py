"""``/metrics`` scraped while a real session runs: aiortc participants through the real server, a recording
made and sealed; the figures of rooms, participants, forwarding and the recorder move, and counters never go
back."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.recordings.test_room_recording import consent_all
from tests.signaling.test_room_media import MediaPeer, loopback_only  # noqa: F401 - fixture
from tests.signaling.test_room_protocol import Peer, admitted, close_all
from tests.test_metrics import TOKEN, scrape, value
from tiaojie.settings import Settings

pytestmark = pytest.mark.timeout(90)

COUNTERS = (
    "tiaojie_rtp_packets_received_total",
    "tiaojie_rtp_packets_forwarded_total",
    "tiaojie_rtp_bytes_forwarded_total",
    "tiaojie_recorder_frames_total",
)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"announced_addresses": ("127.0.0.1",), "metrics_token": TOKEN})


async def test_a_recorded_session_moves_the_figures(
    scene: dict[str, Any], client: TestClient[Any, Any]
) -> None:
    idle = await scrape(client)
    assert value(idle, "tiaojie_rooms_open") == 0
    assert value(idle, "tiaojie_participants") == 0
    assert value(idle, "tiaojie_rtp_packets_forwarded_total") == 0

    peers: dict[str, Peer] = await admitted(scene, "worker", "employer")
    ids = scene["ids"]
    media = {name: MediaPeer(peer) for name, peer in peers.items()}
    try:
        lobby = Peer(scene["base"])  # the employer's agent waits in the lobby
        await lobby.connect(scene["tokens"]["agent"])
        peers["agent"] = lobby
        for peer in media.values():
            await peer.publish()
        worker = media["worker"]
        await worker.until(
            lambda: worker.frames[ids["mediator"]] >= 10 and worker.frames[ids["employer"]] >= 10
        )
        live = await scrape(client)
        assert value(live, "tiaojie_rooms_open", node="main") == 1
        assert value(live, "tiaojie_room_connections") == 4
        assert value(live, "tiaojie_participants", role="mediator", state="present") == 1
        assert value(live, "tiaojie_participants", role="applicant", state="present") == 1
        assert value(live, "tiaojie_participants", role="respondent", state="present") == 1
        assert value(live, "tiaojie_participants", state="lobby") == 1
        assert value(live, "tiaojie_media_published_tracks", kind="video") == 3
        assert value(live, "tiaojie_media_published_tracks", kind="audio") == 3
        # Everyone receives the two others' audio and video: 3 × 2 streams of each kind.
        assert value(live, "tiaojie_media_forwarded_streams", kind="video") == 6
        assert value(live, "tiaojie_media_forwarded_streams", kind="audio") == 6
        assert value(live, "tiaojie_rtp_packets_forwarded_total") > 0
        assert value(live, "tiaojie_rtp_bytes_forwarded_total") > value(
            live, "tiaojie_rtp_packets_forwarded_total"
        )
        assert value(live, "tiaojie_recordings_active") == 0

        await consent_all(peers, "main", "worker", "employer")
        seen = worker.frames[ids["mediator"]]
        await worker.until(
            lambda: worker.frames[ids["mediator"]] >= seen + 90, seconds=30
        )  # past the anchoring second
        recording = await scrape(client)
        assert value(recording, "tiaojie_recordings_active") == 1
        assert value(recording, "tiaojie_recordings", status="recording") == 1
        assert value(recording, "tiaojie_recorder_tracks") == 6
        assert value(recording, "tiaojie_recorder_frames_total") > 0
        assert value(recording, "tiaojie_recorder_backlog_bytes") >= 0
        for name in COUNTERS:
            assert value(recording, name) >= value(live, name), name
        assert (await peers["mediator"].call("stop_recording", {"part": "main"}))["ok"]
        stopped = await scrape(client)
        assert value(stopped, "tiaojie_recordings_active") == 0
        assert value(stopped, "tiaojie_recordings", status="complete") == 1
        assert value(stopped, "tiaojie_recorder_frames_total") >= value(
            recording, "tiaojie_recorder_frames_total"
        )
        assert value(stopped, "tiaojie_recorder_frames_dropped_total") == 0
        assert (await peers["mediator"].call("end"))["ok"]
        ended = await scrape(client)
    finally:
        for peer in media.values():
            await peer.close()
        await close_all(peers)
    assert value(ended, "tiaojie_rooms_open") == 0
    assert value(ended, "tiaojie_media_forwarded_streams") == 0
    # The forwarding counters of a closed room stay in the process's totals.
    for name in COUNTERS:
        assert value(ended, name) >= value(stopped, name) > 0, name
