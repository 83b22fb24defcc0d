"""`kill -9` of the real server in the middle of a recording; the next start recovers it as interrupted."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
from sqlalchemy import select

from recordings.service import RecordingStatus, recording_directory, verify
from recordings.tables import Recording
from store.database import Database
from tests.processes import clean_env, demo, serving
from tests.recordings.media import decode_all
from tests.signaling.test_room_media import MediaPeer, loopback_only  # noqa: F401 - fixture
from tests.signaling.test_room_protocol import Peer

pytestmark = pytest.mark.timeout(120)


def environment(data_dir: Path) -> dict[str, str]:
    return clean_env(data_dir, ANNOUNCED_ADDRESSES="127.0.0.1", RECORDING_SEGMENT_SECONDS="10")


async def test_a_server_killed_while_recording_recovers_the_recording(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    links: dict[str, str] = (await demo(environment(data_dir)))["session"]["links"]
    tokens = {name: url.split("#", 1)[1] for name, url in links.items()}

    async with serving(environment(data_dir)) as served:
        process, base = served.process, served.base
        peers: dict[str, Peer] = {}
        ids: dict[str, str] = {}
        for name in ("mediator", "worker", "employer"):
            peers[name] = Peer(base)
            ids[name] = (await peers[name].connect(tokens[name]))["you"]
        mediator = peers["mediator"]
        for name in ("worker", "employer"):
            assert (await peers[name].call("acknowledge", {"consent": True, "warning": True}))["ok"]
            check = {"participant_id": ids[name], "method": "id_card", "result": "verified"}
            assert (await mediator.call("check_identity", check))["ok"]
            assert (await mediator.call("admit", {"participant_id": ids[name]}))["ok"]
        media = {name: MediaPeer(peer) for name, peer in peers.items()}
        try:
            for media_peer in media.values():
                await media_peer.publish()
            worker = media["worker"]
            await worker.until(lambda: worker.frames[ids["mediator"]] >= 5)
            assert (await mediator.call("propose_recording", {"part": "main"}))["ok"]
            for name in ("worker", "employer"):
                assert (await peers[name].call("answer_recording", {"consent": True}))["ok"]
            seen = worker.frames[ids["mediator"]]
            await worker.until(lambda: worker.frames[ids["mediator"]] >= seen + 100, seconds=30)  # ≈3 s
            process.send_signal(signal.SIGKILL)  # no chance to close anything
            await process.wait()
        finally:
            for media_peer in media.values():
                await media_peer.close()
            for peer in peers.values():
                await peer.close()

    db = Database(f"sqlite+aiosqlite:///{data_dir / 'tiaojie.db'}")
    try:
        async with db.read() as session:
            [cut] = (await session.scalars(select(Recording))).all()
        assert cut.status == RecordingStatus.RECORDING  # as the killed server left it
        async with (
            serving(environment(data_dir)),
            db.read() as session,
        ):  # the next start recovers before it serves
            recording = await session.get(Recording, cut.id)
        assert recording is not None
        assert recording.status == RecordingStatus.INTERRUPTED
        assert recording.note is not None
        assert "stopped while recording" in recording.note
        manifest = recording.manifest
        assert manifest is not None
        assert manifest["interrupted"] is True
        media_root = data_dir / "media"
        directory = recording_directory(media_root, recording)
        people = {t["participant_id"] for t in manifest["tracks"]}
        assert people == set(ids.values())
        for track in manifest["tracks"]:
            # About three seconds were recorded; the kill lost at most the open cluster (≈1 s).
            assert track["duration_ms"] >= 1_500, track
            for segment in track["segments"]:
                frames, _, _ = decode_all(str(directory / segment["file"]))
                assert frames == segment["frames"] > 0
        assert verify(recording, media_root) == []
    finally:
        await db.dispose()
