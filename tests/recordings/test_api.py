"""The recordings API: who sees what, manifests, verification, rendering, Range downloads, audit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from cases.tables import AuditEvent
from recordings.jobs import claim_next_render, run_render
from recordings.service import recording_directory
from recordings.tables import Recording
from tests.conftest import Api
from tests.recordings.test_service import NODE, record_and_seal
from tiaojie.clock import FrozenClock
from web.api.recordings import starts_playing
from web.services import Services

pytestmark = pytest.mark.timeout(120)
Client = TestClient[Any, Any]


async def recorded(services: Services, scene: dict[str, Any], clock: FrozenClock) -> str:
    return await record_and_seal(services.db, scene, clock, services.settings.effective_media_dir)


async def test_court_and_mediator_see_recordings_others_do_not(
    client: Client, api: Api, services: Services, scene: dict[str, Any], clock: FrozenClock
) -> None:
    recording_id = await recorded(services, scene, clock)
    case = scene["case_id"]
    base = f"/cases/{case}/recordings"
    listed = await api.as_("court_a").get(base, expect=200)
    assert [r["id"] for r in listed] == [recording_id]
    assert listed[0]["manifest"] is None
    assert listed[0]["status"] == "complete"
    assert listed[0]["render"]["status"] is None
    one = await api.as_("court_a").get(f"{base}/{recording_id}", expect=200)
    assert one["manifest"]["recording_id"] == recording_id
    assert one["manifest_sha256"]
    # The mediator, logged in to the console (the scene's cookie), sees it too.
    response = await client.get(f"/api/v1{base}/{recording_id}")
    assert response.status == 200
    # The union's administrators see the case but not its recordings; another court not even the case.
    denied = await api.as_("union1").get(base, expect=403)
    assert denied["error"]["code"] == "forbidden"
    await api.as_("court_b").get(base, expect=404)
    await api.as_("court_b").get(f"{base}/{recording_id}", expect=404)
    await api.as_("court_a").get(f"{base}/rec_00000000000000000000000000", expect=404)


async def test_verify_finds_tampering_and_is_audited(
    api: Api, services: Services, scene: dict[str, Any], clock: FrozenClock
) -> None:
    recording_id = await recorded(services, scene, clock)
    path = f"/cases/{scene['case_id']}/recordings/{recording_id}/verify"
    intact = await api.as_("court_a").post(path, expect=200)
    assert intact["intact"] is True
    assert intact["problems"] == []
    async with services.db.read() as session:
        recording = await session.get(Recording, recording_id)
        assert recording is not None
        assert recording.manifest is not None
        first = recording.manifest["tracks"][0]["segments"][0]["file"]
        victim = recording_directory(services.settings.effective_media_dir, recording) / first
    victim.write_bytes(victim.read_bytes()[:-10])
    broken = await api.as_("court_a").post(path, expect=200)
    assert broken["intact"] is False
    assert broken["problems"] == [{"kind": "size_changed", "file": first}]
    async with services.db.read() as session:
        actions = (
            await session.scalars(
                select(AuditEvent.action).where(AuditEvent.subject_id == recording_id).order_by(AuditEvent.id)
            )
        ).all()
    assert actions[-2:] == ["recording_verified", "recording_verified"]


async def test_render_then_stream_with_range_and_download_segments(
    client: Client, api: Api, services: Services, scene: dict[str, Any], clock: FrozenClock, tmp_path: Path
) -> None:
    recording_id = await recorded(services, scene, clock)
    base = f"/cases/{scene['case_id']}/recordings/{recording_id}"
    not_yet = await api.as_("court_a").get(f"{base}/playback", expect=409)
    assert not_yet["error"]["code"] == "render_not_ready"
    queued = await client.post(
        f"/api/v1{base}/render", headers={"X-CSRF-Token": scene["csrf"]}
    )  # the mediator
    assert queued.status == 202
    assert (await queued.json())["render"]["status"] == "queued"
    again = await api.as_("court_a").post(f"{base}/render", expect=202)
    assert again["render"]["status"] == "queued"
    await api.as_("union1").post(f"{base}/render", expect=403)
    assert await claim_next_render(services.db, node=NODE, at=clock.now()) == recording_id
    outcome = await run_render(services.db, services.settings.effective_media_dir, recording_id, clock)
    assert outcome.status.value == "ready", outcome.error
    info = await api.as_("court_a").get(base, expect=200)
    assert info["render"]["status"] == "ready"
    size = info["render"]["bytes"]

    headers = {"Authorization": f"Bearer {api.world.tokens['court_a']}"}
    whole = await client.get(f"/api/v1{base}/playback", headers=headers)
    assert whole.status == 200
    assert whole.headers["Content-Type"] == "video/mp4"
    assert whole.headers["X-Content-SHA256"] == info["render"]["sha256"]
    assert whole.headers["Cache-Control"] == "private, no-store"
    body = await whole.read()
    assert len(body) == size
    part = await client.get(f"/api/v1{base}/playback", headers={**headers, "Range": "bytes=100-199"})
    assert part.status == 206
    assert part.headers["Content-Range"] == f"bytes 100-199/{size}"
    assert await part.read() == body[100:200]

    manifest = info_manifest = (await api.as_("court_a").get(base, expect=200))["manifest"]
    track = manifest["tracks"][0]
    segment = await client.get(f"/api/v1{base}/tracks/{track['id']}?index=0", headers=headers)
    assert segment.status == 200
    assert segment.headers["X-Content-SHA256"] == track["segments"][0]["sha256"]
    assert len(await segment.read()) == track["segments"][0]["bytes"]
    await api.as_("court_a").get(f"{base}/tracks/{track['id']}?index=99", expect=404)
    await api.as_("court_a").get(f"{base}/tracks/{track['id']}?index=-1", expect=422)
    await api.as_("court_a").get(f"{base}/tracks/{track['id']}", expect=200)  # the first segment
    await api.as_("union1").get(f"{base}/tracks/{track['id']}?index=0", expect=403)
    assert info_manifest is manifest
    async with services.db.read() as session:
        actions = (
            await session.scalars(select(AuditEvent.action).where(AuditEvent.subject_id == recording_id))
        ).all()
    assert actions.count("recording_played") == 1  # the Range follow-up is the same viewing
    assert actions.count("recording_downloaded") == 2
    assert actions.count("render_requested") == 1


@pytest.mark.parametrize(
    ("header", "starts"),
    [
        (None, True),
        ("bytes=0-", True),
        ("bytes=0-1023", True),
        ("bytes= 0 -", True),
        ("bytes=100-199", False),
        ("bytes=1000-", False),
        ("bytes=-500", False),
    ],
)
def test_only_a_viewing_from_the_start_is_audited(header: str | None, starts: bool) -> None:
    assert starts_playing(header) is starts
