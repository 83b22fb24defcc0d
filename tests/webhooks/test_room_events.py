"""The events that come from the rooms reach the outbox in the change's own transaction: a session started
and ended, a recording sealed, a transcript confirmed by its last reviewer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select

from rooms.tables import MediationSession
from tests.conftest import START
from tests.recordings.test_service import record_and_seal
from tests.signaling.test_room_protocol import Peer, admitted, close_all, scene  # noqa: F401
from tiaojie.clock import FrozenClock
from transcripts import service as transcripts
from transcripts.model import Decision, Reviewer
from web.services import Services
from webhooks.tables import WebhookEvent


async def events(services: Services, case_id: str) -> list[tuple[str, dict[str, Any]]]:
    async with services.db.read() as session:
        rows = await session.scalars(
            select(WebhookEvent).where(WebhookEvent.case_id == case_id).order_by(WebhookEvent.occurred_at)
        )
        return [(row.type, dict(row.payload["data"])) for row in rows]


def of(found: list[tuple[str, dict[str, Any]]], kind: str) -> list[dict[str, Any]]:
    return [data for event_type, data in found if event_type == kind]


async def test_a_session_started_and_ended(scene: dict[str, Any], services: Services) -> None:  # noqa: F811
    peers = await admitted(scene)
    assert of(await events(services, scene["case_id"]), "session.ended") == []
    [started] = of(await events(services, scene["case_id"]), "session.started")
    assert started["session_id"] == scene["session_id"]
    assert (await peers["mediator"].call("end"))["ok"]
    await close_all(peers)
    [ended] = of(await events(services, scene["case_id"]), "session.ended")
    assert (ended["session_id"], ended["end_reason"]) == (scene["session_id"], "ended_by_mediator")


async def test_a_sealed_recording_is_ready(
    scene: dict[str, Any],  # noqa: F811
    services: Services,
    clock: FrozenClock,
    tmp_path: Path,
) -> None:
    recording_id = await record_and_seal(services.db, scene, clock, tmp_path)
    [ready] = of(await events(services, scene["case_id"]), "recording.ready")
    assert ready["recording_id"] == recording_id
    assert ready["manifest_sha256"]
    assert ready["links"]["recording"].endswith(f"/cases/{scene['case_id']}/recordings/{recording_id}")


async def test_a_transcript_confirmed_by_its_last_reviewer(
    scene: dict[str, Any],  # noqa: F811
    services: Services,
) -> None:
    worker, employer = Reviewer("par_w", "张三", "applicant"), Reviewer("par_e", "某某公司", "respondent")
    async with services.db.session() as s:
        ms = await s.get(MediationSession, scene["session_id"])
        assert ms is not None
        await transcripts.add_entry(
            s,
            ms,
            actor="王调解",
            speaker="张三",
            speaker_id=None,
            text="拖欠工资",
            said_at=START,
            undisputed=True,
            now=START,
        )
        await transcripts.save_version(s, ms, actor="王调解", now=START)
        await transcripts.open_review(s, ms, 1, [worker, employer], now=START)
        await transcripts.review(s, ms, 1, worker.id, Decision.CONFIRMED, None, now=START)
    assert of(await events(services, scene["case_id"]), "transcript.confirmed") == []
    async with services.db.session() as s:
        ms = await s.get(MediationSession, scene["session_id"])
        assert ms is not None
        locked = await transcripts.review(s, ms, 1, employer.id, Decision.CONFIRMED, None, now=START)
    [confirmed] = of(await events(services, scene["case_id"]), "transcript.confirmed")
    assert (confirmed["version"], confirmed["sha256"]) == (1, locked.sha256)
