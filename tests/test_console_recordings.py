"""The console's recordings on the case page: listing by session and part, verification, the playback
rendering with its progress, playback with HTTP Range and segment downloads; who may see what; audit."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select, update

from accounts.principal import Role
from accounts.service import create_user
from cases.tables import AuditEvent
from recordings.jobs import claim_next_render, run_render
from recordings.service import RecordingStatus, recording_directory
from recordings.tables import Recording
from tests.conftest import Api
from tests.factories import PASSWORD, World
from tests.recordings.test_service import NODE, begin, record_and_seal
from tests.signaling.test_room_protocol import scene  # noqa: F401 - fixture
from tests.test_console import case_page, csrf_of, login, logout_locally, post_action
from tiaojie.clock import FrozenClock
from web.console.recording_list import format_duration, format_size
from web.services import Services

pytestmark = pytest.mark.timeout(120)
Client = TestClient[Any, Any]


async def recorded(services: Services, scene: dict[str, Any], clock: FrozenClock) -> str:  # noqa: F811
    return await record_and_seal(services.db, scene, clock, services.settings.effective_media_dir)


async def as_user(client: Client, username: str) -> None:
    logout_locally(client)
    await login(client, username)


async def audit_actions(services: Services, recording_id: str) -> list[tuple[str, str]]:
    async with services.db.read() as session:
        rows = await session.execute(
            select(AuditEvent.action, AuditEvent.actor_label)
            .where(AuditEvent.subject_id == recording_id)
            .order_by(AuditEvent.id)
        )
        return [(action, actor.partition(" ")[0]) for action, actor in rows]  # "name (username)"


async def sealed_row(services: Services, recording_id: str) -> Recording:
    async with services.db.read() as session:
        recording = await session.get(Recording, recording_id)
        assert recording is not None
        return recording


def recording_block(html: str, recording_id: str) -> str:
    """The page's list item of one recording."""
    start = html.index(f'id="recording-{recording_id}"')
    end = html.find('<li class="rec" id="recording-', start + 1)
    return html[start : end if end > 0 else len(html)]


# --- pure formatting -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ms", "text"),
    [(None, None), (0, "0:00"), (3_040, "0:03"), (754_999, "12:34"), (3_723_000, "1:02:03"), (-5, "0:00")],
)
def test_durations(ms: int | None, text: str | None) -> None:
    assert format_duration(ms) == text


@pytest.mark.parametrize(
    ("size", "text"),
    [(None, None), (980, "980 B"), (12_595, "12.3 KB"), (4_718_592, "4.5 MB"), (1_288_490_189, "1.20 GB")],
)
def test_sizes(size: int | None, text: str | None) -> None:
    assert format_size(size) == text


# --- listing and who sees it ---------------------------------------------------------------------------


async def test_case_page_lists_recordings_for_court_and_mediator_only(
    client: Client,
    api: Api,
    world: World,
    services: Services,
    scene: dict[str, Any],  # noqa: F811
    clock: FrozenClock,
) -> None:
    recording_id = await recorded(services, scene, clock)
    row = await sealed_row(services, recording_id)
    assert row.manifest is not None
    assert row.manifest_sha256 is not None
    case_id = scene["case_id"]
    track = row.manifest["tracks"][0]
    segment_link = f"/console/cases/{case_id}/recordings/{recording_id}/tracks/{track['id']}?index=0"
    for username in ("clerk_a", "mediator1"):
        await as_user(client, username)
        status, html = await case_page(client, case_id)
        assert status == 200
        block = recording_block(html, recording_id)
        assert "主会场" in block
        assert "已完成" in block
        assert row.manifest_sha256 in block
        assert format_duration(row.duration_ms) == "0:03"
        assert ">0:03<" in block
        assert f">{format_size(row.bytes)}<" in block
        assert f'action="/console/cases/{case_id}/recordings/{recording_id}/verify"' in block
        assert f'action="/console/cases/{case_id}/recordings/{recording_id}/render"' in block
        assert unescape(segment_link) in unescape(block)
        files = sum(len(t["segments"]) for t in row.manifest["tracks"])
        assert files > len(row.manifest["tracks"]) == 2  # 2-second segments: more than one per track
        assert f"原始录制文件（{files} 个）" in block
        assert "摄像头" in block
        assert "麦克风" in block
        assert 'class="rec-player" hidden' in block  # nothing to play before the rendering
        assert f'data-poll="/api/v1/cases/{case_id}/recordings"' in html
    # The union's administrators see the case, not its recordings; another court's user not even the case.
    await as_user(client, "union_admin1")
    status, html = await case_page(client, case_id)
    assert status == 200
    assert "录音录像仅限承办法院和承办调解员查看" in html
    assert recording_id not in html
    assert row.manifest_sha256 not in html
    assert "data-poll" not in html
    async with services.db.session() as session:
        await create_user(
            session,
            username="clerk_b",
            display_name="clerk_b",
            password=PASSWORD,
            role=Role.COURT_ADMIN,
            now=clock.now(),
            court_id=world.courts["b"],
        )
    await as_user(client, "clerk_b")
    status, html = await case_page(client, case_id)
    assert status == 404
    assert recording_id not in html
    assert (await client.get(segment_link)).status == 404
    await as_user(client, "mediator3")
    assert (await case_page(client, case_id))[0] == 404
    assert (await client.get(segment_link)).status == 404


async def test_statuses_notes_and_english(
    client: Client,
    api: Api,
    services: Services,
    scene: dict[str, Any],  # noqa: F811
    clock: FrozenClock,
) -> None:
    first = await recorded(services, scene, clock)
    second = await recorded(services, scene, clock)
    note = "the server stopped while recording; recovered on 2026-03-02T10:00:00+08:00"
    async with services.db.session() as session:
        await session.execute(
            update(Recording)
            .where(Recording.id == first)
            .values(status=RecordingStatus.INTERRUPTED, note=note, label="与申请人背对背", part="c1")
        )
        await session.execute(
            update(Recording)
            .where(Recording.id == second)
            .values(status=RecordingStatus.DELETED, deleted_at=clock.now() + timedelta(days=200))
        )
    live, _ = await begin(services.db, scene, clock)  # a third part, still being recorded
    async with services.db.session() as session:  # and the first's playback rendering failed
        await session.execute(
            update(Recording)
            .where(Recording.id == first)
            .values(render_status="failed", render_error="the rendering process exited with 1")
        )
    await as_user(client, "mediator1")
    _, html = await case_page(client, scene["case_id"])
    interrupted = recording_block(html, first)
    assert "录制中断" in interrupted
    assert note in interrupted
    assert "与申请人背对背" in interrupted
    assert "背对背</span>" in interrupted
    assert "/verify" in interrupted  # what was recovered can be checked and played
    assert "回放文件生成失败：the rendering process exited with 1" in interrupted
    assert "重新生成回放文件" in interrupted
    deleted = recording_block(html, second)
    assert "已删除" in deleted
    assert "文件已删除" in deleted
    assert str((await sealed_row(services, second)).manifest_sha256) in deleted  # the digest stays
    assert "/verify" not in deleted
    assert "/tracks/" not in deleted
    running = recording_block(html, live)
    assert "正在录制" in running
    assert "/verify" not in running
    assert "/render" not in running
    # The recording's own entries in the case's audit trail, with its states.
    assert "开始录音录像" in html
    assert "正在录制 → 已完成" in html
    response = await post_action(client, scene["case_id"], f"recordings/{first}/render")
    assert response.status == 303  # a failed rendering is tried again
    assert (await sealed_row(services, first)).render_status == "queued"
    # A deleted recording's files are gone: nothing to fetch.
    response = await post_action(client, scene["case_id"], f"recordings/{second}/verify")
    assert response.status == 404
    # Verifying a part still being recorded is refused with the reason, on the case page.
    response = await post_action(client, scene["case_id"], f"recordings/{live}/verify")
    assert response.status == 409
    assert "录制尚未结束" in await response.text()

    _, html = await case_page(client, scene["case_id"] + "?lang=en")
    assert "Recordings" in html
    assert "Interrupted" in recording_block(html, first)
    assert "Caucus" in recording_block(html, first)
    assert "Deleted" in recording_block(html, second)
    assert "Recording" in recording_block(html, live)
    assert "Waiting to make the playback file" in recording_block(html, first)


# --- verification --------------------------------------------------------------------------------------


async def test_verify_shows_intact_then_the_problems_and_is_audited(
    client: Client,
    api: Api,
    services: Services,
    scene: dict[str, Any],  # noqa: F811
    clock: FrozenClock,
) -> None:
    recording_id = await recorded(services, scene, clock)
    case_id = scene["case_id"]
    await as_user(client, "clerk_a")
    response = await post_action(client, case_id, f"recordings/{recording_id}/verify")
    assert response.status == 200
    block = recording_block(await response.text(), recording_id)
    assert 'data-intact="true"' in block
    assert "文件完整" in block

    row = await sealed_row(services, recording_id)
    assert row.manifest is not None
    first = row.manifest["tracks"][0]["segments"][0]["file"]
    victim = recording_directory(services.settings.effective_media_dir, row) / first
    victim.write_bytes(victim.read_bytes()[:-10])
    (victim.parent / "extra.webm").write_bytes(b"not listed")
    await as_user(client, "mediator1")
    response = await post_action(client, case_id, f"recordings/{recording_id}/verify")
    assert response.status == 200
    block = recording_block(await response.text(), recording_id)
    assert 'data-intact="false"' in block
    assert "发现 2 处问题" in block
    assert re.search(r'data-kind="size_changed">文件大小不符：<span class="mono">' + re.escape(first), block)
    assert 'data-kind="unlisted_file"' in block
    assert "extra.webm" in block

    # No CSRF token, the union, another court's case: refused, and nothing audited.
    before = await audit_actions(services, recording_id)
    assert (await post_action(client, case_id, f"recordings/{recording_id}/verify", csrf=None)).status == 403
    await as_user(client, "union_admin1")
    response = await post_action(client, case_id, f"recordings/{recording_id}/verify")
    assert response.status == 403
    assert "您无权执行此操作" in await response.text()
    await as_user(client, "mediator3")
    _, html = await case_page(client, "cas_x")
    response = await post_action(client, case_id, f"recordings/{recording_id}/verify", csrf=csrf_of(html))
    assert response.status == 404
    await as_user(client, "clerk_a")
    response = await post_action(client, case_id, "recordings/rec_00000000000000000000000000/verify")
    assert response.status == 404
    assert await audit_actions(services, recording_id) == before
    verified = [actor for action, actor in before if action == "recording_verified"]
    assert verified == ["clerk_a", "mediator1"]


# --- rendering, playback, downloads --------------------------------------------------------------------


async def test_render_with_progress_then_play_with_range_and_download(
    client: Client,
    api: Api,
    services: Services,
    scene: dict[str, Any],  # noqa: F811
    clock: FrozenClock,
    tmp_path: Path,
) -> None:
    recording_id = await recorded(services, scene, clock)
    case_id = scene["case_id"]
    base = f"/console/cases/{case_id}/recordings/{recording_id}"
    await as_user(client, "mediator1")
    assert (await client.get(f"{base}/playback")).status == 409  # not rendered yet
    response = await post_action(client, case_id, f"recordings/{recording_id}/render")
    assert response.status == 303
    assert response.headers["Location"] == f"/console/cases/{case_id}?done=render#recording-{recording_id}"
    html = await (await client.get(response.headers["Location"])).text()
    assert "已提交生成回放文件" in html
    block = recording_block(html, recording_id)
    assert 'data-render-status="queued"' in block
    assert '<progress max="100" value="0"' in block
    assert "排队等待生成回放文件" in block
    assert "/render" not in block.split("rec-render")[0]  # no second request while it is queued
    # What console.js polls: the API, with the console's session cookie.
    listed = await (await client.get(f"/api/v1/cases/{case_id}/recordings")).json()
    assert listed[0]["render"]["status"] == "queued"

    # Half-way, as the job reports it.
    assert await claim_next_render(services.db, node=NODE, at=clock.now()) == recording_id
    async with services.db.session() as session:
        await session.execute(
            update(Recording).where(Recording.id == recording_id).values(render_progress=0.42)
        )
    block = recording_block((await case_page(client, case_id))[1], recording_id)
    assert 'data-render-status="rendering"' in block
    assert "正在生成回放文件：42%" in block
    assert '<progress max="100" value="42"' in block

    outcome = await run_render(services.db, services.settings.effective_media_dir, recording_id, clock)
    assert outcome.status.value == "ready", outcome.error
    row = await sealed_row(services, recording_id)
    block = recording_block((await case_page(client, case_id))[1], recording_id)
    assert 'class="rec-progress" hidden' in block
    assert 'class="rec-player">' in block
    assert f'<video controls preload="none" playsinline src="{base}/playback"' in block
    assert f'<span class="muted">{format_size(row.render_bytes)}</span>' in block
    html = (await case_page(client, case_id))[1]
    assert " style=" not in html  # the strict Content-Security-Policy: no inline style or script
    assert not re.search(r"<script(?![^>]*\ssrc=)", html)
    assert not re.search(r"\son[a-z]+=", html)

    whole = await client.get(f"{base}/playback")
    assert whole.status == 200
    assert whole.headers["Content-Type"] == "video/mp4"
    assert whole.headers["Accept-Ranges"] == "bytes"
    assert whole.headers["X-Content-SHA256"] == row.render_sha256
    body = await whole.read()
    assert len(body) == row.render_bytes
    part = await client.get(f"{base}/playback", headers={"Range": "bytes=100-199"})
    assert part.status == 206
    assert part.headers["Content-Range"] == f"bytes 100-199/{len(body)}"
    assert await part.read() == body[100:200]

    assert row.manifest is not None
    track = row.manifest["tracks"][0]
    segment = await client.get(f"{base}/tracks/{track['id']}?index=0")
    assert segment.status == 200
    assert segment.headers["Content-Disposition"].startswith("attachment;")
    assert segment.headers["X-Content-SHA256"] == track["segments"][0]["sha256"]
    assert len(await segment.read()) == track["segments"][0]["bytes"]
    assert (await client.get(f"{base}/tracks/{track['id']}?index=99")).status == 404
    assert (await client.get(f"{base}/tracks/trk_nothing?index=0")).status == 404
    for bad in ("-1", "x", "0&other=1"):
        response = await client.get(f"{base}/tracks/{track['id']}?index={bad}")
        assert response.status == 422, bad
        assert "text/html" in response.headers["Content-Type"]

    # The union may neither play nor download; another mediator does not see the case.
    for username, status in (("union_admin1", 403), ("mediator3", 404)):
        await as_user(client, username)
        assert (await client.get(f"{base}/playback")).status == status
        assert (await client.get(f"{base}/tracks/{track['id']}?index=0")).status == status
        csrf = csrf_of(await (await client.get("/console/")).text())
        refused = await post_action(client, case_id, f"recordings/{recording_id}/render", csrf=csrf)
        assert refused.status == status
    logout_locally(client)
    response = await client.get(f"{base}/playback", allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"].startswith("/console/login?next=")

    actions = await audit_actions(services, recording_id)
    assert actions.count(("render_requested", "mediator1")) == 1
    assert actions.count(("recording_played", "mediator1")) == 1  # the Range follow-up is the same viewing
    assert actions.count(("recording_downloaded", "mediator1")) == 1
    assert not [a for a in actions if a[1] in ("union_admin1", "mediator3")]
