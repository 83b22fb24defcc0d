"""Helpers for the signing tests: a case with a frozen agreement, party callers from the links the notifier
sent, one-time codes from the development notifier, drawings, a sealer that records what it is given, and a
snapshot of everything signing stores."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from yarl import URL

from agreements.evidence import Evidence
from agreements.tables import (
    AgreementSignature,
    AgreementTrailEntry,
    AgreementVersion,
    SigningCode,
    SigningRound,
    SigningSigner,
)
from cases.tables import AuditEvent, Case
from rooms.notify import LogNotifier
from tests.agreements.test_api import content
from tests.apihelp import Actors, Caller, Reply, mediating_case
from webhooks.tables import WebhookEvent

__all__ = [
    "Party",
    "RecordingSealer",
    "drawing",
    "frozen_case",
    "last_code",
    "parties_from_links",
    "signing_snapshot",
]

_LINK = re.compile(r"/sign#([A-Za-z0-9_\-.]+)")
_CODE = re.compile(r"验证码 (\d{6})")


def drawing(points: int = 12, *, strokes: int = 2) -> dict[str, Any]:
    """A plausible signature: ``strokes`` strokes of ``points`` points each, time going forward."""
    out = []
    t = 0
    for s in range(strokes):
        stroke = []
        for p in range(points):
            stroke.append([20 + p * 9 + s * 5, 40 + (p % 5) * 7 + s * 20, t, round(0.4 + (p % 3) / 10, 2)])
            t += 16
        t += 120
        out.append(stroke)
    return {"width": 320, "height": 160, "strokes": out}


@dataclass
class Party:
    """A party talking to ``/sign/api`` with its link's token."""

    caller: Caller
    name: str
    signer_id: str
    token: str

    async def call(self, method: str, path: str, **kwargs: Any) -> Reply:
        return await self.caller.call(method, URL("/sign/api" + path), **kwargs)

    async def expect(self, method: str, path: str, status: int, *, code: str | None = None, **kw: Any) -> Any:
        reply = await self.call(method, path, **kw)
        assert reply.status == status, (self.name, method, path, reply.status, reply.text[:1500])
        if code is not None:
            assert reply.error["code"] == code, reply.body
        return reply.body

    async def view(self) -> tuple[bytes, str]:
        reply = await self.call("GET", "/document")
        assert reply.status == 200, reply.text
        assert isinstance(reply.body, bytes)
        return reply.body, reply.headers["X-Content-SHA256"]


@dataclass
class RecordingSealer:
    """The sealing step as a test sees it: keeps every evidence it is given."""

    received: list[Evidence] = field(default_factory=list)
    fail: int = 0

    async def seal(self, evidence: Evidence) -> None:
        if self.fail:
            self.fail -= 1
            raise RuntimeError("the sealing service is down")
        self.received.append(evidence)


async def frozen_case(actors: Actors, **content_overrides: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """A court-a case in mediation with m1, its agreement drafted and frozen: (case, version)."""
    case = await mediating_case(actors)
    mediator = await actors.user("mediator1")
    base = f"/cases/{case['id']}/agreement"
    draft = await mediator.expect("PUT", base + "/draft", 200, json=content(**content_overrides))
    version = await mediator.post(
        f"{base}/versions/{draft['id']}/freeze", json={"revision": draft["revision"]}
    )
    return case, version


def notifier(actors: Actors) -> LogNotifier:
    sent = actors.services.notifier
    assert isinstance(sent, LogNotifier)
    return sent


def parties_from_links(actors: Actors, round_: dict[str, Any]) -> dict[str, Party]:
    """Each party of the round by role (worker, employer, agent), with the token of its link as the
    notifier sent it by SMS."""
    texts = [m.text for m in notifier(actors).sent if m.purpose == "signing_link"]
    out: dict[str, Party] = {}
    for link in round_["links"] or []:
        sent = [t for t in texts if link["url"] in t]
        assert sent, f"no SMS carried the link of {link['name']}"
        found = _LINK.search(sent[-1])
        assert found is not None
        token = found.group(1)
        caller = Caller(actors.client, {"Authorization": f"Bearer {token}"}, link["name"])
        out[link["role"]] = Party(caller, link["name"], link["signer_id"], token)
    return out


def last_code(actors: Actors) -> str:
    for message in reversed(notifier(actors).sent):
        if message.purpose == "one_time_code":
            found = _CODE.search(message.text)
            assert found is not None
            return found.group(1)
    raise AssertionError("no code was sent")


async def signing_snapshot(actors: Actors) -> dict[str, Any]:
    """Everything signing writes: row counts, each round's and signer's status, codes' tries, the case."""
    out: dict[str, Any] = {}
    async with actors.services.db.read() as session:
        for table in (
            SigningRound,
            SigningSigner,
            SigningCode,
            AgreementSignature,
            AgreementTrailEntry,
            AgreementVersion,
            WebhookEvent,
            AuditEvent,
        ):
            out[table.__tablename__] = await session.scalar(select(func.count()).select_from(table))
        for row in await session.execute(
            select(SigningRound.id, SigningRound.status, SigningRound.closed_at)
        ):
            out[row.id] = (row.status, row.closed_at)
        for signer in await session.execute(
            select(SigningSigner.id, SigningSigner.status, SigningSigner.link_version)
        ):
            out[signer.id] = (signer.status, signer.link_version)
        for code in await session.execute(select(SigningCode.id, SigningCode.attempts, SigningCode.used_at)):
            out[code.id] = (code.attempts, code.used_at)
        for case in await session.execute(select(Case.id, Case.state, Case.version, Case.updated_at)):
            out[case.id] = (case.state, case.version, case.updated_at)
    return out


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


ONE_MINUTE = timedelta(seconds=61)
