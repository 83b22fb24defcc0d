"""The transcript service on SQLite and PostgreSQL: entries, chat pulled in, versions, review, lock, hash."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from cases.tables import AuditEvent
from rooms.sessions import record
from rooms.tables import MediationSession
from tests.conftest import START
from tests.signaling.test_room_protocol import scene  # noqa: F401
from tiaojie.errors import Conflict, InvalidInput, NotFound
from transcripts import service
from transcripts.canonical import digest
from transcripts.model import Decision, Reviewer
from web.services import Services

W = Reviewer("par_w", "张三", "applicant")
E = Reviewer("par_e", "某某公司", "respondent")


async def test_a_transcript_from_entries_to_a_locked_hashed_version(
    scene: dict[str, Any],  # noqa: F811
    services: Services,
) -> None:
    sid = scene["session_id"]
    now = START
    async with services.db.session() as s:
        ms = await s.get(MediationSession, sid)
        assert ms is not None
        with pytest.raises(Conflict) as error:
            await service.save_version(s, ms, actor="王调解", now=now)
        assert error.value.code == "transcript_empty"
        first = await service.add_entry(
            s,
            ms,
            actor="王调解",
            speaker="张三（申请人）",
            speaker_id=None,
            text="拖欠工资三个月",
            said_at=now,
            undisputed=False,
            now=now,
        )
        chat = await record(
            s,
            session_id=sid,
            kind="chat",
            actor="某某公司",
            at=now + timedelta(minutes=1),
            participant_id="par_e",
            data={"text": "公司同意分两期支付", "subroom": "main"},
        )
        await s.flush()
        pulled = await service.pull_chat(s, ms, chat.id, actor="王调解", now=now)
        assert (pulled.seq, pulled.speaker, pulled.source) == (2, "某某公司", "chat")
        with pytest.raises(Conflict) as error:
            await service.pull_chat(s, ms, chat.id, actor="王调解", now=now)
        assert error.value.code == "chat_already_pulled"
        with pytest.raises(NotFound):
            await service.pull_chat(s, ms, chat.id + 999, actor="王调解", now=now)
        await service.edit_entry(s, ms, first.id, {"undisputed": True}, now=now)
        with pytest.raises(NotFound):
            await service.edit_entry(s, ms, "tre_nothing", {"text": "x"}, now=now)
        v1 = await service.save_version(s, ms, actor="王调解", now=now)
        assert [e["undisputed"] for e in v1.entries] == [True, False]
        with pytest.raises(Conflict) as error:
            await service.open_review(s, ms, 1, [], now=now)
        assert error.value.code == "no_reviewers"
        await service.open_review(s, ms, 1, [W, E], now=now)
        with pytest.raises(Conflict) as error:
            await service.add_entry(
                s,
                ms,
                actor="王调解",
                speaker="x",
                speaker_id=None,
                text="x",
                said_at=now,
                undisputed=False,
                now=now,
            )
        assert error.value.code == "transcript_in_review"
        with pytest.raises(InvalidInput):
            await service.review(s, ms, 1, W.id, Decision.DISPUTED, None, now=now)
        disputed = await service.review(s, ms, 1, W.id, Decision.DISPUTED, "金额记错了", now=now)
        assert disputed.status == "disputed"
        with pytest.raises(Conflict) as error:
            await service.review(s, ms, 1, E.id, Decision.CONFIRMED, None, now=now)
        assert error.value.code == "not_in_review"
        with pytest.raises(Conflict) as error:
            await service.open_review(s, ms, 1, [W, E], now=now)
        assert error.value.code == "not_reviewable"  # a disputed version is not reviewed again: save anew

        await service.edit_entry(s, ms, pulled.id, {"text": "公司同意分两期支付 6000 元"}, now=now)
        v2 = await service.save_version(s, ms, actor="王调解", now=now)
        with pytest.raises(Conflict) as error:
            await service.open_review(s, ms, 1, [W, E], now=now)
        assert error.value.code == "version_not_latest"
        await service.open_review(s, ms, v2.number, [W, E], now=now)
        with pytest.raises(Conflict) as error:
            await service.review(s, ms, 2, "par_judge", Decision.CONFIRMED, None, now=now)
        assert error.value.code == "not_a_reviewer"
        half = await service.review(s, ms, 2, E.id, Decision.CONFIRMED, None, now=now)
        assert (half.status, half.sha256) == ("in_review", None)
        locked = await service.review(s, ms, 2, W.id, Decision.CONFIRMED, "", now=now + timedelta(minutes=5))
        assert locked.status == "locked"
        assert locked.sha256 == digest(sid, 2, locked.entries)
        assert locked.locked_at == now + timedelta(minutes=5)
        with pytest.raises(Conflict) as error:
            await service.edit_entry(s, ms, first.id, {"text": "改"}, now=now)
        assert error.value.code == "transcript_locked"
        with pytest.raises(Conflict) as error:
            await service.save_version(s, ms, actor="王调解", now=now)
        assert error.value.code == "transcript_locked"

    async with services.db.read() as s:
        out = await service.transcript_out(s, sid)
        assert out.status == "locked"
        assert [(v.number, v.status) for v in out.versions] == [(1, "disputed"), (2, "locked")]
        full = await service.version_out(s, await service.version(s, sid, 2))
        assert [(r.name, r.decision) for r in full.reviews] == [
            ("某某公司", "confirmed"),
            ("张三", "confirmed"),
        ]
        assert full.entries[1].text == "公司同意分两期支付 6000 元"
        audit = (await s.scalars(select(AuditEvent).where(AuditEvent.action == "transcript_locked"))).all()
        assert [a.data["sha256"] for a in audit] == [locked.sha256]

    for statement in (
        "UPDATE transcript_reviews SET decision = 'confirmed'",
        "DELETE FROM transcript_reviews",
    ):
        with pytest.raises(DBAPIError, match="append-only"):
            async with services.db.session() as s:
                await s.execute(text(statement))
