"""What the real-browser session test checks of its recording: media that reached the recorder from Chromium
decodes end to end, and the console shows, verifies, renders and plays the recording in a real page.

Used by ``test_mediator_session.py``; see ``harness.py`` for how the browser tests run.
"""

from __future__ import annotations

import asyncio
import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from recordings.service import RecordingStatus, recording_directory
from recordings.tables import Recording
from tests.browser.harness import DESKTOP, shoot
from tests.factories import PASSWORD
from tests.recordings.media import decode_all
from web.services import Services

__all__ = [
    "DecodedTrack",
    "console_recording",
    "decode_recording",
    "frames_grow",
    "recordings_of",
    "until_recordings",
]

# True once each named publisher's camera tile has decoded ``more`` frames beyond ``base``.
_FRAMES_GROW = """([ids, base, more]) => ids.every((id) => {
  const video = document.querySelector(`.tile.remote:not(.screen)[data-publisher="${id}"] video`);
  return video && video.getVideoPlaybackQuality().totalVideoFrames >= (base[id] || 0) + more;
})"""
_FRAMES_NOW = """(ids) => Object.fromEntries(ids.map((id) => {
  const video = document.querySelector(`.tile.remote:not(.screen)[data-publisher="${id}"] video`);
  return [id, video ? video.getVideoPlaybackQuality().totalVideoFrames : 0];
}))"""


async def frames_grow(page: Any, ids: list[str], more: int) -> None:
    """Wait until the page decoded ``more`` further camera frames of each of ``ids`` (media time passed)."""
    base = await page.evaluate(_FRAMES_NOW, ids)
    await page.wait_for_function(_FRAMES_GROW, arg=[ids, base, more], polling=250, timeout=20_000)


async def recordings_of(services: Services, session_id: str) -> list[Recording]:
    async with services.db.read() as session:
        return list(
            await session.scalars(
                select(Recording).where(Recording.session_id == session_id).order_by(Recording.started_at)
            )
        )


async def until_recordings(
    services: Services, session_id: str, status: str, *, seconds: float = 15.0
) -> list[Recording]:
    """The session's recordings once there are some and all have ``status``, or, for any status other than
    ``recording``, all have left ``recording`` (the room tells the pages before the recorder has started or
    sealed: it runs right after)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while True:
        rows = await recordings_of(services, session_id)
        if rows and all(
            r.status == status
            or (status != RecordingStatus.RECORDING and r.status != RecordingStatus.RECORDING)
            for r in rows
        ):
            return rows
        assert loop.time() < deadline, [(r.id, r.status) for r in rows]
        await asyncio.sleep(0.1)


@dataclass(frozen=True, slots=True)
class DecodedTrack:
    participant_id: str
    kind: str
    codec: str
    frames: int
    seconds: float
    size: tuple[int, int] | None


def decode_recording(recording: Recording, media_root: Path) -> list[DecodedTrack]:
    """Decode every segment of every track with PyAV; each must give exactly the frames its manifest lists.
    Reads files: run it off the loop."""
    assert recording.manifest is not None
    directory = recording_directory(media_root, recording)
    out = []
    for track in recording.manifest["tracks"]:
        frames, seconds, size = 0, 0.0, None
        for segment in track["segments"]:
            got, end, dims = decode_all(str(directory / segment["file"]))
            assert got == segment["frames"] > 0, (track["id"], segment["file"], got, segment["frames"])
            frames += got
            seconds += end
            size = dims or size
        out.append(
            DecodedTrack(track["participant_id"], track["kind"], track["codec"], frames, seconds, size)
        )
    return out


async def console_recording(
    browser: Any, base: str, case_id: str, recording_id: str, services: Services, timings: dict[str, float]
) -> None:
    """The mediator in the console: the case's recording, verified intact, its playback file made (the
    progress bar follows the render worker) and played in the page's ``<video>`` from the console route."""
    expect = importlib.import_module("playwright.async_api").expect
    loop = asyncio.get_running_loop()
    context = await browser.new_context(viewport=DESKTOP)
    page = await context.new_page()
    worker: asyncio.Task[None] | None = None
    try:
        started = loop.time()
        await page.goto(f"{base}/console/login?next=/console/cases/{case_id}")
        await page.fill("#username", "mediator1")
        await page.fill("#password", PASSWORD)
        await page.click("button[type=submit]")
        item = page.locator(f"#recording-{recording_id}")
        await expect(item).to_contain_text("已完成", timeout=10_000)
        await expect(item.locator(".rec-digest")).to_have_text(
            (await _row(services, recording_id)).manifest_sha256 or "?"
        )
        await item.get_by_role("button", name="校验完整性").click()
        await expect(item.locator(".rec-verified")).to_contain_text("文件完整", timeout=10_000)
        await item.scroll_into_view_if_needed()
        await shoot(page, "console-recordings")

        await item.get_by_role("button", name="生成回放文件").click()
        progress = item.locator(".rec-progress")
        await expect(progress).to_be_visible(timeout=10_000)
        await expect(progress).to_contain_text("排队等待生成回放文件")
        await shoot(page, "console-recording-queued")
        # The app under test runs without its background tasks: start this node's render worker now.
        worker = asyncio.create_task(services.renders.run())
        render_started = loop.time()
        player = item.locator(".rec-player")
        await expect(player).to_be_visible(timeout=60_000)  # console.js saw it ready
        await expect(progress).to_be_hidden()
        timings["console: render until the player shows"] = loop.time() - render_started
        video = player.locator("video")
        await video.evaluate("(v) => { v.muted = true; return v.play(); }")
        await page.wait_for_function(
            "(v) => v.videoWidth > 0 && v.currentTime > 0.5 && !v.paused",
            arg=await video.element_handle(),
            polling=100,
            timeout=20_000,
        )
        width, height, duration = await video.evaluate("(v) => [v.videoWidth, v.videoHeight, v.duration]")
        assert width >= 320, width
        assert height >= 240, height
        assert duration > 2, duration
        await video.evaluate("(v) => v.pause()")
        await shoot(page, "console-recording-playback")
        timings["console: login to playback"] = loop.time() - started
    finally:
        if worker is not None:
            services.renders.stop()
            await worker
        await context.close()
    row = await _row(services, recording_id)
    assert row.render_status == "ready", row.render_error


async def _row(services: Services, recording_id: str) -> Recording:
    async with services.db.read() as session:
        row = await session.get(Recording, recording_id)
        assert row is not None
        return row
