"""recordings.jobs: queue, claim, render in a child process, progress and result in the database."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

import pytest

from recordings.jobs import (
    PLAYBACK_FILE,
    RenderOutcome,
    RenderStatus,
    RenderWorker,
    claim_next_render,
    request_render,
    requeue_interrupted_renders,
    run_render,
)
from recordings.segments import file_sha256
from recordings.tables import Recording
from store.database import Database
from tests.recordings.test_service import NODE, record_and_seal
from tiaojie.clock import FrozenClock
from tiaojie.errors import Conflict

pytestmark = pytest.mark.timeout(120)


async def sealed_recording(db: Database, scene: dict[str, Any], clock: FrozenClock, root: Path) -> str:
    recording_id = await record_and_seal(db, scene, clock, root)
    async with db.session() as session:
        recording = await session.get(Recording, recording_id)
        assert recording is not None
        recording.status = "recording"  # not sealed yet, as far as rendering can tell
        with pytest.raises(Conflict, match="finished"):
            await request_render(session, recording, clock.now())
        recording.status = "complete"
    return recording_id


async def test_a_rendering_is_queued_claimed_run_and_checked(
    db: Database, scene: dict[str, Any], clock: FrozenClock, tmp_path: Path
) -> None:
    recording_id = await sealed_recording(db, scene, clock, tmp_path)
    async with db.session() as session:
        recording = await session.get(Recording, recording_id)
        assert recording is not None
        assert await request_render(session, recording, clock.now()) is True
        assert await request_render(session, recording, clock.now()) is False
    assert await claim_next_render(db, node="elsewhere", at=clock.now()) is None
    assert await claim_next_render(db, node=NODE, at=clock.now()) == recording_id
    assert await claim_next_render(db, node=NODE, at=clock.now()) is None
    seen: list[float] = []
    outcome = await run_render(db, tmp_path, recording_id, clock, on_progress=seen.append)
    assert outcome.status is RenderStatus.READY, outcome.error
    assert seen[-1] == 1.0
    async with db.read() as session:
        stored = await session.get(Recording, recording_id)
        assert stored is not None
        assert stored.render_status == RenderStatus.READY
        assert stored.render_progress == 1.0
        assert stored.render_file == f"recordings/{recording_id}/{PLAYBACK_FILE}"
        playback = tmp_path / stored.render_file
        assert stored.render_sha256 == file_sha256(playback)
        assert stored.render_bytes == playback.stat().st_size
    assert outcome.report["duration_ms"] == pytest.approx(3000, abs=120)


async def test_a_rendering_that_cannot_be_written_fails_with_a_reason(
    db: Database, scene: dict[str, Any], clock: FrozenClock, tmp_path: Path
) -> None:
    recording_id = await sealed_recording(db, scene, clock, tmp_path)
    (tmp_path / "recordings" / recording_id / PLAYBACK_FILE).mkdir()  # a directory where the file must go
    async with db.session() as session:
        recording = await session.get(Recording, recording_id)
        assert recording is not None
        await request_render(session, recording, clock.now())
    assert await claim_next_render(db, node=NODE, at=clock.now()) == recording_id
    outcome = await run_render(db, tmp_path, recording_id, clock)
    assert outcome.status is RenderStatus.FAILED
    async with db.read() as session:
        stored = await session.get(Recording, recording_id)
        assert stored is not None
        assert stored.render_status == RenderStatus.FAILED
        assert stored.render_error
        assert stored.render_file is None
    # A failed rendering can be asked for again, and a job cut off by a restart goes back in the queue.
    async with db.session() as session:
        recording = await session.get(Recording, recording_id)
        assert recording is not None
        assert await request_render(session, recording, clock.now()) is True
    assert await claim_next_render(db, node=NODE, at=clock.now()) == recording_id
    assert await requeue_interrupted_renders(db, node=NODE, at=clock.now()) == 1
    assert await claim_next_render(db, node=NODE, at=clock.now()) == recording_id


async def test_the_worker_renders_what_is_queued(
    db: Database, scene: dict[str, Any], clock: FrozenClock, tmp_path: Path
) -> None:
    recording_id = await sealed_recording(db, scene, clock, tmp_path)
    done: asyncio.Future[RenderOutcome] = asyncio.get_running_loop().create_future()
    worker = RenderWorker(db, tmp_path, clock, node=NODE, on_done=done.set_result)
    task = asyncio.create_task(worker.run())
    try:
        async with db.session() as session:
            recording = await session.get(Recording, recording_id)
            assert recording is not None
            await request_render(session, recording, clock.now())
        worker.wake()
        outcome = await asyncio.wait_for(done, 90)
        assert (outcome.recording_id, outcome.status) == (recording_id, RenderStatus.READY)
    finally:
        worker.stop()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 10)
