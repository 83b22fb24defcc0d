"""A real session recorded end to end: aiortc participants through the real server, consent in the room,
the recorder tapping the forwarded packets, sealed segments that decode, caucus parts recorded apart."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import select

from recordings import writer as writer_module
from recordings.recorder import Recorder
from recordings.service import RecordingStatus, recording_directory, verify
from recordings.tables import Recording
from tests.recordings.media import decode_all
from tests.signaling.test_room_media import MediaPeer, loopback_only, settings  # noqa: F401 - fixtures
from tests.signaling.test_room_protocol import Client, Peer, admitted, close_all
from web.app import SIGNALING
from web.services import Services

pytestmark = pytest.mark.timeout(90)


async def recordings_of(services: Services, session_id: str) -> list[Recording]:
    async with services.db.read() as session:
        rows = await session.scalars(
            select(Recording).where(Recording.session_id == session_id).order_by(Recording.started_at)
        )
        return list(rows)


async def consent_all(peers: dict[str, Peer], part: str, *names: str) -> None:
    assert (await peers["mediator"].call("propose_recording", {"part": part}))["ok"]
    for name in names:
        reply = await peers[name].call("answer_recording", {"consent": True})
        assert reply["ok"], reply


async def test_a_consented_session_is_recorded_and_every_track_decodes(
    scene: dict[str, Any], services: Services, client: Client
) -> None:
    loop = asyncio.get_running_loop()
    recorder = client.app[SIGNALING].recording
    assert isinstance(recorder, Recorder)
    assert recorder.load().recordings == 0
    peers = await admitted(scene, "worker", "employer")
    ids, sid = scene["ids"], scene["session_id"]
    media = {name: MediaPeer(peer) for name, peer in peers.items()}
    try:
        for peer in media.values():
            await peer.publish()
        worker = media["worker"]
        await worker.until(
            lambda: worker.frames[ids["mediator"]] >= 5 and worker.frames[ids["employer"]] >= 5
        )

        assert (await peers["mediator"].call("propose_recording", {"part": "main"}))["ok"]
        assert (await peers["worker"].call("answer_recording", {"consent": True}))["ok"]
        assert await recordings_of(services, sid) == []  # not before everyone present agreed
        started = loop.time()  # the last consent is sent: the recording starts while it is answered
        assert (await peers["employer"].call("answer_recording", {"consent": True}))["ok"]
        [recording] = await recordings_of(services, sid)
        assert recording.status == RecordingStatus.RECORDING
        assert recorder.load().recordings == 1

        seen = worker.frames[ids["mediator"]]
        await worker.until(lambda: worker.frames[ids["mediator"]] >= seen + 120, seconds=30)  # ≈4 s
        wall_ms = (loop.time() - started) * 1000  # until the stop is sent (its answer waits for the sealing)
        assert (await peers["mediator"].call("stop_recording", {"part": "main"}))["ok"]
    finally:
        for peer in media.values():
            await peer.close()
        await close_all(peers)

    [recording] = await recordings_of(services, sid)
    assert recording.status == RecordingStatus.COMPLETE
    manifest = recording.manifest
    assert manifest is not None
    directory = recording_directory(services.settings.effective_media_dir, recording)
    by_person: dict[str, dict[str, dict[str, Any]]] = {}
    for track in manifest["tracks"]:
        by_person.setdefault(track["participant_id"], {})[track["kind"]] = track
        assert track["segments"], track
        for segment in track["segments"]:
            frames, _, _ = decode_all(str(directory / segment["file"]))
            assert frames == segment["frames"] > 0
    assert set(by_person) == {ids["mediator"], ids["worker"], ids["employer"]}
    # The recorded media span as long as the recording ran: within 2 %, plus 500 ms for the test's own view of
    # that time (from sending the last consent to sending the stop, on a loaded 2-core machine where the
    # server may take a while to act on either; the server's clock is frozen in tests). The exact check is
    # per track below: an audio track lasts as long as the 20 ms frames it holds.
    span = max(t["start_ms"] + t["duration_ms"] for t in manifest["tracks"]) - min(
        t["start_ms"] for t in manifest["tracks"]
    )
    assert span == pytest.approx(wall_ms, rel=0.02, abs=500), [
        (t["kind"], t["start_ms"], t["start_ms"] + t["duration_ms"], [s["frames"] for s in t["segments"]])
        for t in manifest["tracks"]
    ]
    for person, tracks in by_person.items():
        assert set(tracks) == {"audio", "video"}, person
        audio, video = tracks["audio"], tracks["video"]
        audio_frames = sum(segment["frames"] for segment in audio["segments"])
        assert audio["duration_ms"] == pytest.approx(audio_frames * 20, rel=0.02)
        # Video can only start at a keyframe: the one the recorder asks for when it taps the track.
        assert -100 < video["start_ms"] - audio["start_ms"] < 400, (
            person,
            audio["start_ms"],
            video["start_ms"],
        )
        # One timeline: a person's audio and video end together (within 100 ms).
        audio_end = audio["start_ms"] + audio["duration_ms"]
        video_end = video["start_ms"] + video["duration_ms"]
        assert abs(audio_end - video_end) < 100, (person, audio_end, video_end)
    assert await asyncio.to_thread(verify, recording, services.settings.effective_media_dir) == []
    # What /metrics reads: nothing in progress, every frame written counted, none dropped.
    load = recorder.load()
    assert (load.recordings, load.tracks, load.backlog_bytes, load.frames_dropped) == (0, 0, 0, 0)
    assert load.frames == sum(s["frames"] for t in manifest["tracks"] for s in t["segments"])


async def test_a_caucus_is_recorded_as_its_own_part(scene: dict[str, Any], services: Services) -> None:
    peers = await admitted(scene, "worker", "employer")
    ids, sid = scene["ids"], scene["session_id"]
    media = {name: MediaPeer(peer) for name, peer in peers.items()}
    mediator = peers["mediator"]
    try:
        for peer in media.values():
            await peer.publish()
        worker = media["worker"]
        await worker.until(lambda: worker.frames[ids["mediator"]] >= 5)
        assert (await mediator.call("open_subroom", {"subroom": "c1", "label": "与申请人"}))["ok"]
        for pid in (ids["worker"], ids["mediator"]):
            assert (await mediator.call("move", {"participant_id": pid, "subroom": "c1"}))["ok"]
        await consent_all(peers, "c1", "worker")
        [caucus] = await recordings_of(services, sid)
        assert (caucus.part, caucus.label) == ("c1", "与申请人")
        seen = worker.frames[ids["mediator"]]
        await worker.until(lambda: worker.frames[ids["mediator"]] >= seen + 45, seconds=30)
        assert (await mediator.call("close_subrooms"))["ok"]  # closing the sub-rooms ends their recording
    finally:
        for peer in media.values():
            await peer.close()
        await close_all(peers)
    [caucus] = await recordings_of(services, sid)
    assert caucus.status == RecordingStatus.COMPLETE
    assert caucus.manifest is not None
    recorded = {t["participant_id"] for t in caucus.manifest["tracks"] if t["segments"]}
    assert recorded == {ids["worker"], ids["mediator"]}  # never the employer, who stayed in the main room


async def test_frames_the_disk_could_not_take_are_named_in_the_note(
    scene: dict[str, Any], services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(writer_module, "MAX_BACKLOG_BYTES", 1)  # the disk never keeps up
    peers = await admitted(scene, "worker")
    ids, sid = scene["ids"], scene["session_id"]
    media = {name: MediaPeer(peer) for name, peer in peers.items()}
    try:
        for peer in media.values():
            await peer.publish()
        worker = media["worker"]
        await worker.until(lambda: worker.frames[ids["mediator"]] >= 5)
        await consent_all(peers, "main", "worker")
        seen = worker.frames[ids["mediator"]]
        await worker.until(lambda: worker.frames[ids["mediator"]] >= seen + 30, seconds=30)
        assert (await peers["mediator"].call("stop_recording", {"part": "main"}))["ok"]
    finally:
        for peer in media.values():
            await peer.close()
        await close_all(peers)
    [recording] = await recordings_of(services, sid)
    assert recording.status == RecordingStatus.COMPLETE
    assert recording.note is not None
    assert "dropped, the disk was too slow" in recording.note
