"""Helpers for the API tests: callers (API keys, console sessions), case set-ups, stored-data snapshots.

Import the fixtures a test module uses (cheap Argon2 for the test users comes from ``tests/conftest.py``)::

    from tests.apihelp import actors  # noqa: F401
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiohttp import FormData
from aiohttp.test_utils import TestClient
from multidict import CIMultiDictProxy
from sqlalchemy import func, select
from yarl import URL

from accounts.tables import ApiKey, Organisation
from cases.tables import (
    Assignment,
    AuditEvent,
    Case,
    CasePause,
    ChangeRequest,
    Disclosure,
    Extension,
    IdempotencyRecord,
    Material,
    Mediator,
    Party,
    RosterEntry,
)
from tests.factories import PASSWORD, World, case_payload
from tiaojie.clock import FrozenClock
from web.services import Services

__all__ = [
    "API",
    "NO_SUCH_IDS",
    "PDF",
    "SHANGHAI",
    "Actors",
    "Caller",
    "Reply",
    "accepted_case",
    "actors",
    "assigned_case",
    "at_local",
    "days",
    "mediating_case",
    "new_case",
    "no_such_id",
    "principal_consents",
    "rich_case",
    "snapshot",
    "upload_form",
    "valid_body",
]

API = "/api/v1"
SHANGHAI = ZoneInfo("Asia/Shanghai")
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"


@dataclass(slots=True)
class Reply:
    status: int
    headers: CIMultiDictProxy[str]
    body: Any
    text: str

    @property
    def error(self) -> dict[str, Any]:
        assert isinstance(self.body, dict), (self.status, self.text)
        error = self.body.get("error")
        assert isinstance(error, dict), (self.status, self.text)
        return error


class Caller:
    """One principal talking to the API: a bearer key, a console session (cookie + CSRF), or nobody."""

    def __init__(self, client: TestClient[Any, Any], headers: dict[str, str], label: str) -> None:
        self.client = client
        self.headers = headers
        self.label = label

    def __repr__(self) -> str:
        return f"<Caller {self.label}>"

    async def call(
        self, method: str, path: str | URL, *, headers: dict[str, str] | None = None, **kwargs: Any
    ) -> Reply:
        """``path`` is under /api/v1; a :class:`yarl.URL` is sent as it is (for hand-encoded paths)."""
        url = path if isinstance(path, URL) or path.startswith(API) else API + path
        response = await self.client.request(
            method, url, headers={**self.headers, **(headers or {})}, **kwargs
        )
        raw = await response.read()
        text = raw.decode("utf-8", "replace")
        body: Any = raw
        if response.content_type == "application/json" and raw:
            body = json.loads(raw)
        return Reply(response.status, response.headers, body, text)

    async def expect(
        self, method: str, path: str | URL, status: int, *, code: str | None = None, **kwargs: Any
    ) -> Any:
        reply = await self.call(method, path, **kwargs)
        assert reply.status == status, (self.label, method, path, reply.status, reply.text[:2000])
        if code is not None:
            assert reply.error["code"] == code, reply.body
        return reply.body

    async def get(self, path: str, status: int = 200, **kwargs: Any) -> Any:
        return await self.expect("GET", path, status, **kwargs)

    async def post(self, path: str, status: int = 200, **kwargs: Any) -> Any:
        return await self.expect("POST", path, status, **kwargs)

    async def patch(self, path: str, status: int = 200, **kwargs: Any) -> Any:
        return await self.expect("PATCH", path, status, **kwargs)


@dataclass
class Actors:
    """The world's principals as callers: ``actors.key("court_a")``, ``await actors.user("mediator1")``."""

    client: TestClient[Any, Any]
    world: World
    services: Services
    _users: dict[str, tuple[Caller, datetime]] = field(default_factory=dict)

    def key(self, name: str) -> Caller:
        return Caller(self.client, {"Authorization": f"Bearer {self.world.tokens[name]}"}, name)

    @property
    def court_a(self) -> Caller:
        return self.key("court_a")

    @property
    def court_b(self) -> Caller:
        return self.key("court_b")

    @property
    def union1(self) -> Caller:
        return self.key("union1")

    @property
    def union2(self) -> Caller:
        return self.key("union2")

    @property
    def org1(self) -> Caller:
        return self.key("org1")

    @property
    def nobody(self) -> Caller:
        return Caller(self.client, {}, "nobody")

    async def user(self, username: str) -> Caller:
        """A console user's session: the cookie and the CSRF header on every request (the shared cookie jar
        is emptied, so that several users can take turns). Logs in again once the clock has moved on, as
        sessions last hours and tests move the clock by days."""
        now = self.services.clock.now()
        cached = self._users.get(username)
        if cached is None or now - cached[1] > timedelta(hours=1) or now < cached[1]:
            response = await self.client.post(
                API + "/session", json={"username": username, "password": PASSWORD}
            )
            assert response.status == 200, await response.text()
            csrf = (await response.json())["csrf_token"]
            token = response.cookies["tj_session"].value
            self.client.session.cookie_jar.clear()
            caller = Caller(self.client, {"Cookie": f"tj_session={token}", "X-CSRF-Token": csrf}, username)
            self._users[username] = cached = (caller, now)
        return cached[0]

    def mediator_id(self, name: str) -> str:
        return self.world.mediators[name]

    @property
    def clock(self) -> FrozenClock:
        clock = self.services.clock
        assert isinstance(clock, FrozenClock)
        return clock


@pytest.fixture
def actors(client: TestClient[Any, Any], world: World, services: Services) -> Actors:
    return Actors(client, world, services)


# --- set-ups ------------------------------------------------------------------------------------------


async def new_case(actors: Actors, court: str = "court_a", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = await actors.key(court).post("/cases", 201, json=case_payload(**overrides))
    return body


async def assigned_case(
    actors: Actors, mediator: str = "m1", court: str = "court_a", **overrides: Any
) -> dict[str, Any]:
    case = await new_case(actors, court, **overrides)
    body: dict[str, Any] = await actors.key(court).post(
        f"/cases/{case['id']}/assignment", json={"mediator_id": actors.mediator_id(mediator)}
    )
    return body


async def accepted_case(actors: Actors, **overrides: Any) -> dict[str, Any]:
    """A court-a case assigned to m1 and accepted by mediator1."""
    case = await assigned_case(actors, **overrides)
    mediator = await actors.user("mediator1")
    body: dict[str, Any] = await mediator.post(f"/cases/{case['id']}/accept", json={})
    return body


async def mediating_case(actors: Actors, **overrides: Any) -> dict[str, Any]:
    case = await accepted_case(actors, **overrides)
    mediator = await actors.user("mediator1")
    body: dict[str, Any] = await mediator.post(f"/cases/{case['id']}/begin")
    assert body["state"] == "in_mediation"
    return body


def at_local(day: date, hour: int = 10) -> datetime:
    """An instant on ``day`` in Shanghai (what the frozen clock is set to)."""
    return datetime.combine(day, time(hour), tzinfo=SHANGHAI)


def principal_consents(case: dict[str, Any], when: datetime) -> list[dict[str, Any]]:
    """A consent for every principal party of ``case``."""
    return [
        {"party_id": p["id"], "consented_at": when.isoformat(), "method": "signed form"}
        for p in case["parties"]
        if p["role"] == "principal"
    ]


def upload_form(
    filename: str = "a.pdf",
    content: bytes = PDF,
    content_type: str = "application/pdf",
    description: str | None = None,
) -> FormData:
    form = FormData(quote_fields=False)  # as browsers send it: the UTF-8 file name itself
    if description is not None:
        form.add_field("description", description)
    form.add_field("file", content, filename=filename, content_type=content_type)
    return form


def days(n: int) -> timedelta:
    return timedelta(days=n)


# --- stored data --------------------------------------------------------------------------------------

_TABLES = (
    Case,
    Party,
    Assignment,
    AuditEvent,
    CasePause,
    ChangeRequest,
    Disclosure,
    Extension,
    IdempotencyRecord,
    Material,
    Mediator,
    RosterEntry,
    Organisation,
    ApiKey,
)


async def snapshot(services: Services) -> dict[str, Any]:
    """Row counts of every table a request could write, and each case's and roster entry's version."""
    out: dict[str, Any] = {}
    async with services.db.read() as session:
        for table in _TABLES:
            out[table.__tablename__] = await session.scalar(select(func.count()).select_from(table))
        for case in await session.execute(select(Case.id, Case.version, Case.state, Case.updated_at)):
            out[f"case:{case.id}"] = (case.version, case.state, case.updated_at)
        for entry in await session.execute(select(RosterEntry.id, RosterEntry.version, RosterEntry.status)):
            out[f"entry:{entry.id}"] = (entry.version, entry.status)
        for mediator in await session.execute(select(Mediator.id, Mediator.updated_at)):
            out[f"mediator:{mediator.id}"] = mediator.updated_at
    return out


# --- every route --------------------------------------------------------------------------------------


async def rich_case(actors: Actors) -> dict[str, str]:
    """A court-a case accepted by m1, with a disclosure, a pending change request and a material; returns
    a value for every path parameter of the API (the roster ones from the world)."""
    case = await accepted_case(actors)
    mediator = await actors.user("mediator1")
    worker = next(p for p in case["parties"] if p["party_type"] == "worker")
    disclosure = await mediator.post(f"/cases/{case['id']}/disclosures", 201, json={"kind": "none"})
    change = await actors.court_a.post(
        f"/cases/{case['id']}/change-requests",
        201,
        json={"party_id": worker["id"], "kind": "change", "reason": "申请更换"},
    )
    material = await actors.court_a.post(f"/cases/{case['id']}/materials", 201, data=upload_form())
    return {
        "case_id": case["id"],
        "disclosure_id": disclosure["id"],
        "request_id": change["id"],
        "material_id": material["id"],
        "organisation_id": actors.world.orgs["o1"],
        "mediator_id": actors.world.mediators["m1"],
        "entry_id": actors.world.roster["m2@b"],
        "party_id": worker["id"],
    }


NO_SUCH_IDS = {
    "case_id": "cas_00000000000000000000000000",
    "disclosure_id": "dsc_00000000000000000000000000",
    "request_id": "chg_00000000000000000000000000",
    "material_id": "mat_00000000000000000000000000",
    "organisation_id": "org_00000000000000000000000000",
    "mediator_id": "med_00000000000000000000000000",
    "entry_id": "ros_00000000000000000000000000",
}


def no_such_id(name: str) -> str:
    """A well-formed identifier of nothing, for the path parameter ``name``."""
    return NO_SUCH_IDS.get(name, "zzz_00000000000000000000000000")


def valid_body(operation_id: str, ids: dict[str, str], world: World) -> Any:
    """A body the operation accepts (for some caller, in some state), or None for operations without one."""
    consent = {"party_id": ids["party_id"], "consented_at": "2026-03-02T08:00:00+08:00", "method": "signed"}
    bodies: dict[str, Any] = {
        "create_case": case_payload(),
        "assign_mediator": {"mediator_id": world.mediators["m2"], "method": "designated"},
        "accept_case": {"note": "接受"},
        "decline_case": {"reason": "时间冲突"},
        "suspend_case": {"kind": "appraisal", "reason": "鉴定"},
        "resume_case": {"note": "恢复"},
        "extend_case": {"days": 5, "reason": "同意延长", "consents": [consent]},
        "terminate_case": {"reason": "party_refuses", "note": "不愿调解"},
        "create_disclosure": {"kind": "interest", "details": "持有股份"},
        "disclosure_consent": {"party_id": ids["party_id"], "consents": True, "method": "in_writing"},
        "create_change_request": {"party_id": ids["party_id"], "kind": "recusal", "reason": "回避"},
        "decide_change_request": {"grant": False, "reason": "不予准许"},
        "create_organisation": {"name": "新调解室", "kind": "mediation_org", "contact_phone": "13800138000"},
        "create_mediator": {"name": "新调解员", "phone": "13800138000", "case_scope": ["wages"]},
        "update_mediator": {"title": "律师", "specialties": ["工伤"], "fees_charged": False},
        "submit_roster_entry": {"court_id": world.courts["b"], "mediator_id": world.mediators["m1"]},
        "decide_roster_entry": {"action": "confirm", "version": 1},
        "create_webhook_endpoint": {"url": "https://198.51.100.7/hook", "event_types": ["case.closed"]},
        "update_webhook_endpoint": {"description": "法院系统", "enabled": True},
        "rotate_webhook_secret": {"overlap_hours": 24},
        "record_outcome": {
            "result": "terminated",
            "reason": "party_refuses",
            "report": {"course": "调解一次", "failure_reason": "一方拒绝"},
        },
        "acknowledge_outcome": {"note": "已收到"},
        "start_judicial_confirmation": {"notify": False},
        "record_judicial_confirmation_result": {"result": "rejected", "reason": "不符合法律规定"},
    }
    return bodies.get(operation_id)
