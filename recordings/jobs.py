"""The playback-rendering jobs: queue, claim, run in a child process, record progress and the result.

A sealed recording can be queued for rendering (by the mediator, or automatically when it is sealed). The
node that holds the recording's files claims its queued jobs one at a time and runs
:mod:`recordings.render_job` as a child process at a lower CPU priority, so rendering never competes with
live media for the server's interpreter. Progress is written to the database about once a second, so the
API and the console can show it. A rendering becomes ``ready`` only when the child decoded the result end to
end and found it as long as the recording (:func:`recordings.render.check_rendering`); otherwise it is
``failed`` with the reason. A node that stopped mid-job puts its ``rendering`` jobs back in the queue on
start.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import json
import logging
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from recordings.locks import machine_lock
from recordings.service import RecordingStatus, recording_directory
from recordings.tables import Recording
from store.database import Database
from tiaojie.clock import Clock
from tiaojie.errors import Conflict

__all__ = [
    "PLAYBACK_FILE",
    "RenderOutcome",
    "RenderStatus",
    "RenderWorker",
    "claim_next_render",
    "claim_render",
    "request_render",
    "requeue_interrupted_renders",
    "run_render",
]

log = logging.getLogger(__name__)

PLAYBACK_FILE = "playback.mp4"
MANIFEST_FILE = "manifest.json"
RENDER_LOG = "render.log"
STALL_SECONDS = 300.0  # a child that reports nothing for this long is stopped
_NICE = 10


class RenderStatus(enum.StrEnum):
    QUEUED = "queued"
    RENDERING = "rendering"
    READY = "ready"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class RenderOutcome:
    recording_id: str
    status: RenderStatus
    error: str | None
    report: dict[str, Any]


async def request_render(session: AsyncSession, recording: Recording, at: datetime) -> bool:
    """Queue a rendering; False when one is already queued, running or ready (nothing to do)."""
    if recording.status not in (RecordingStatus.COMPLETE, RecordingStatus.INTERRUPTED):
        raise Conflict("only a finished recording can be rendered", code="recording_not_sealed")
    if recording.render_status in (RenderStatus.QUEUED, RenderStatus.RENDERING, RenderStatus.READY):
        return False
    recording.render_status = RenderStatus.QUEUED
    recording.render_progress = 0.0
    recording.render_error = None
    recording.render_updated_at = at
    return True


async def requeue_interrupted_renders(db: Database, *, node: str, at: datetime) -> int:
    """Put this node's ``rendering`` jobs back in the queue (its previous process died mid-job)."""
    async with db.session() as session:
        result = await session.execute(
            update(Recording)
            .where(Recording.node == node, Recording.render_status == RenderStatus.RENDERING)
            .values(render_status=RenderStatus.QUEUED, render_progress=0.0, render_updated_at=at)
        )
        return int(getattr(result, "rowcount", 0) or 0)


async def claim_next_render(db: Database, *, node: str, at: datetime) -> str | None:
    """Take the oldest queued job whose files this node holds; None when there is none."""
    async with db.session() as session:
        recording = await session.scalar(
            select(Recording)
            .where(Recording.node == node, Recording.render_status == RenderStatus.QUEUED)
            .order_by(Recording.render_updated_at, Recording.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        if recording is None:
            return None
        recording.render_status = RenderStatus.RENDERING
        recording.render_progress = 0.0
        recording.render_updated_at = at
        return recording.id


async def claim_render(db: Database, recording_id: str, *, at: datetime) -> bool:
    """Take one queued job (the command line renders a given recording); False if it is not queued."""
    async with db.session() as session:
        recording = await session.get(Recording, recording_id, with_for_update=True)
        if recording is None or recording.render_status != RenderStatus.QUEUED:
            return False
        recording.render_status = RenderStatus.RENDERING
        recording.render_progress = 0.0
        recording.render_updated_at = at
        return True


async def _set_progress(db: Database, recording_id: str, fraction: float, at: datetime) -> None:
    async with db.session() as session:
        await session.execute(
            update(Recording)
            .where(Recording.id == recording_id, Recording.render_status == RenderStatus.RENDERING)
            .values(render_progress=fraction, render_updated_at=at)
        )


async def _finish(
    db: Database,
    recording_id: str,
    status: RenderStatus,
    report: dict[str, Any],
    error: str | None,
    at: datetime,
) -> None:
    async with db.session() as session:
        recording = await session.get(Recording, recording_id)
        if recording is None:
            return
        recording.render_status = status
        recording.render_updated_at = at
        recording.render_error = error
        if status is RenderStatus.READY:
            recording.render_progress = 1.0
            recording.render_file = f"{recording.directory}/{PLAYBACK_FILE}"
            recording.render_bytes = int(report["bytes"])
            recording.render_sha256 = str(report["sha256"])


async def run_render(
    db: Database,
    media_root: Path,
    recording_id: str,
    clock: Clock,
    *,
    on_progress: Callable[[float], None] | None = None,
    stall_seconds: float = STALL_SECONDS,
    font: Path | None = None,
) -> RenderOutcome:
    """Render a claimed recording in a child process and record the result; see the module's docstring."""
    async with db.read() as session:
        recording = await session.get(Recording, recording_id)
        if recording is None or recording.manifest is None:
            raise Conflict("the recording is not sealed", code="recording_not_sealed")
        directory = recording_directory(media_root, recording)
        manifest = recording.manifest
    manifest_path = directory / MANIFEST_FILE
    await asyncio.to_thread(_write_manifest, manifest_path, manifest)
    # The child's diagnostics go to a file beside the recording, not to a pipe that could fill and block it.
    with (directory / RENDER_LOG).open("wb") as diagnostics:
        child = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "recordings.render_job",
            str(manifest_path),
            str(directory),
            str(directory / PLAYBACK_FILE),
            *(["--font", str(font)] if font is not None else []),
            stdout=asyncio.subprocess.PIPE,
            stderr=diagnostics,
        )
    with contextlib.suppress(OSError):
        os.setpriority(os.PRIO_PROCESS, child.pid, _NICE)
    report: dict[str, Any] = {}
    last_saved = -1.0
    loop = asyncio.get_running_loop()
    saved_at = loop.time()
    assert child.stdout is not None
    try:
        while True:
            line = await asyncio.wait_for(child.stdout.readline(), stall_seconds)
            if not line:
                break
            text = line.decode("utf-8", "replace").strip()
            if text.startswith("progress "):
                fraction = float(text.split()[1])
                if on_progress is not None:
                    on_progress(fraction)
                if fraction - last_saved >= 0.05 or loop.time() - saved_at >= 1.0:
                    await _set_progress(db, recording_id, fraction, clock.now())
                    last_saved, saved_at = fraction, loop.time()
            elif text.startswith("result "):
                report = json.loads(text.removeprefix("result "))
        await child.wait()
    except (TimeoutError, ValueError) as exc:
        with contextlib.suppress(ProcessLookupError):
            child.kill()
        await child.wait()
        report = {"ok": False, "error": f"the rendering stopped: {type(exc).__name__} {exc}".strip()}
    finally:
        if child.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                child.kill()
            await child.wait()
    ok = bool(report.get("ok")) and child.returncode == 0
    error = None
    if not ok:
        error = str(report.get("error") or f"the rendering process exited with {child.returncode}")
        log.warning("rendering %s failed: %s (details in %s)", recording_id, error, directory / RENDER_LOG)
    status = RenderStatus.READY if ok else RenderStatus.FAILED
    await _finish(db, recording_id, status, report, error, clock.now())
    return RenderOutcome(recording_id, status, error, report)


def _write_manifest(path: Path, manifest: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")


class RenderWorker:
    """Runs this node's queued rendering jobs one after another until stopped; :meth:`wake` after queueing."""

    def __init__(
        self,
        db: Database,
        media_root: Path,
        clock: Clock,
        *,
        node: str,
        poll_seconds: float = 30.0,
        on_done: Callable[[RenderOutcome], None] | None = None,
        font: Path | None = None,
    ) -> None:
        self.db = db
        self.font = font
        self.on_done = on_done
        self.media_root = media_root
        self.clock = clock
        self.node = node
        self.poll_seconds = poll_seconds
        self._wake = asyncio.Event()
        self._stopping = False

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    async def run(self) -> None:
        await requeue_interrupted_renders(self.db, node=self.node, at=self.clock.now())
        lock = self.media_root / "recordings" / ".render.lock"
        while not self._stopping:
            self._wake.clear()  # before looking: a wake-up that comes while we look is kept
            outcome: RenderOutcome | None = None
            with machine_lock(lock) as mine:  # one rendering at a time per machine, whatever the workers
                recording_id = (
                    await claim_next_render(self.db, node=self.node, at=self.clock.now()) if mine else None
                )
                if recording_id is not None:
                    try:
                        outcome = await run_render(
                            self.db, self.media_root, recording_id, self.clock, font=self.font
                        )
                    except Conflict as exc:
                        log.warning("rendering %s skipped: %s", recording_id, exc)
            if outcome is not None:
                log.info("rendering %s: %s", outcome.recording_id, outcome.status.value)
                if self.on_done is not None:
                    self.on_done(outcome)
                continue
            with contextlib.suppress(TimeoutError):  # not wait_for: it can swallow a cancellation (3.11)
                async with asyncio.timeout(self.poll_seconds):
                    await self._wake.wait()
