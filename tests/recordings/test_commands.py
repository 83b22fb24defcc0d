"""`tiaojie recording list|verify|render` as real subprocesses, and deletion after the retention period."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from cases.tables import AuditEvent
from recordings.service import RecordingStatus, purge_expired, recording_directory
from recordings.tables import Recording
from store.database import Database
from tests.recordings.test_service import NODE, record_and_seal
from tiaojie.clock import FrozenClock

pytestmark = [pytest.mark.timeout(240), pytest.mark.parametrize("backend", ["sqlite"], indirect=True)]


async def tiaojie(database_url: str, media: Path, *args: str) -> tuple[int, str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIAOJIE_")}
    env.update(
        TIAOJIE_DATABASE_URL=database_url, TIAOJIE_MEDIA_DIR=str(media), TIAOJIE_DATA_DIR=str(media.parent)
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tiaojie",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 100)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_list_verify_and_render_from_the_command_line(
    db: Database, database_url: str, scene: dict[str, Any], clock: FrozenClock, tmp_path: Path
) -> None:
    media = tmp_path / "media"
    recording_id = await record_and_seal(db, scene, clock, media)
    code, out, _ = await tiaojie(database_url, media, "recording", "list", "--json")
    assert code == 0
    assert [r["id"] for r in json.loads(out)["recordings"]] == [recording_id]
    code, out, _ = await tiaojie(database_url, media, "recording", "verify", recording_id, "--json")
    assert (code, json.loads(out)["intact"]) == (0, True)

    code, out, err = await tiaojie(database_url, media, "recording", "render", recording_id, "--json")
    assert code == 0, err
    assert json.loads(out)["status"] == "ready"
    assert "100%" in err  # the progress bar, one line per tenth when not on a terminal
    code, _, err = await tiaojie(database_url, media, "recording", "render", recording_id)
    assert code == 2
    assert "already rendered" in err  # --again renders once more

    async with db.read() as session:
        recording = await session.get(Recording, recording_id)
        assert recording is not None
        assert recording.manifest is not None
        victim = (
            recording_directory(media, recording) / recording.manifest["tracks"][1]["segments"][0]["file"]
        )
    victim.unlink()
    code, out, _ = await tiaojie(database_url, media, "recording", "verify", recording_id)
    assert code == 1
    assert "file_missing" in out
    code, _, err = await tiaojie(database_url, media, "recording", "verify", "rec_nope")
    assert code == 2
    assert "no recording" in err


async def test_recordings_past_retention_are_deleted_and_audited(
    db: Database, scene: dict[str, Any], clock: FrozenClock, tmp_path: Path
) -> None:
    recording_id = await record_and_seal(db, scene, clock, tmp_path)
    directory = tmp_path / "recordings" / recording_id
    assert any(directory.iterdir())
    clock.advance(timedelta(days=30))
    assert (
        await purge_expired(db, media_root=tmp_path, node=NODE, clock=clock) == []
    )  # the last day still counts
    clock.advance(timedelta(days=1))
    assert await purge_expired(db, media_root=tmp_path, node="elsewhere", clock=clock) == []
    assert await purge_expired(db, media_root=tmp_path, node=NODE, clock=clock) == [recording_id]
    assert not directory.exists()
    async with db.read() as session:
        recording = await session.get(Recording, recording_id)
        assert recording is not None
        assert recording.status == RecordingStatus.DELETED
        assert recording.manifest_sha256  # what was deleted stays on record
        event = (
            await session.scalars(
                select(AuditEvent).where(AuditEvent.subject_id == recording_id).order_by(AuditEvent.id.desc())
            )
        ).first()
        assert event is not None
        assert event.action == "recording_deleted"
        assert event.actor_kind == "system"
    assert await purge_expired(db, media_root=tmp_path, node=NODE, clock=clock) == []
