"""A quarter and a half of mediation history with known figures, made through the API on a frozen clock.

Court A (mediators m1 and m2 of organisation o1, union u1) and court B (m3 of o2, union u2). Times are
Asia/Shanghai, 2026:

====  =====  ========================================================================================
case  who    what happens
====  =====  ========================================================================================
A     a, m1  created/assigned 2 Mar 09:00, accepted 15:00 (6 h), video, agreed full 20 Mar (18 days,
             last day 1 Apr); JC applied 23 Mar, confirmed 2 Apr
B     a, m1  created/assigned 2 Mar 10:00, accepted 3 Mar 10:00 (24 h), suspended 10–17 Mar (7 days),
             agreed partial 8 Apr (36 − 7 = 29 days, last day 9 Apr)
C     a, m2  created/assigned 4 Mar 09:00, accepted 11:00 (2 h), video, extended 10 days 20 Mar (last day
             13 Apr), terminated positions_too_far 20 Apr (47 days, overdue)
D     a, m1  entrusted simple, created/assigned 5 Mar 09:00, accepted 09:30 (0.5 h), terminated
             party_refuses 9 Mar 16:00 (4 days, last day 12 Mar)
E     a, —   created/assigned to m2 5 Mar 10:00, declined 12:00, terminated by the court (other) 6 Mar
H     a, m2  created/assigned to m1 9 Mar 09:00, accepted 10:00 (1 h); change of mediator granted 11 Mar,
             assigned to m2 12 Mar, accepted 13 Mar (2 days paused); terminated party_unreachable 31 Mar
             (22 − 2 = 20 days, last day 10 Apr)
F     a, m1  created/assigned 30 Mar 09:00, accepted 1 Apr 09:00 (48 h), still open
G     b, m3  created/assigned 2 Mar 09:00, accepted 12:00 (3 h), video, agreed full 25 Mar (23 days)
====  =====  ========================================================================================
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import update

from rooms.tables import MediationSession
from tests.apihelp import Actors, Caller, at_local, principal_consents, upload_form
from tests.factories import case_payload

__all__ = ["History", "make_history"]


@dataclass
class History:
    cases: dict[str, str] = field(default_factory=dict)  # letter → case id


async def make_history(actors: Actors) -> History:
    h = History()
    clock = actors.clock
    a, b = actors.court_a, actors.court_b

    async def at(day: int, month: int, hour: int, minute: int = 0) -> None:
        clock.set(at_local(date(2026, month, day), hour).replace(minute=minute))

    async def create(letter: str, court: Caller, mediator: str, **overrides: Any) -> None:
        case = await court.post("/cases", 201, json=case_payload(**overrides))
        h.cases[letter] = case["id"]
        await court.post(
            f"/cases/{case['id']}/assignment", json={"mediator_id": actors.mediator_id(mediator)}
        )

    async def as_user(user: str) -> Caller:
        return await actors.user(user)

    async def accept_and_begin(letter: str, user: str) -> None:
        caller = await as_user(user)
        await caller.post(f"/cases/{h.cases[letter]}/accept", json={})
        await caller.post(f"/cases/{h.cases[letter]}/begin")

    async def video(letter: str, user: str) -> None:
        """A session scheduled through the API, which then took place (the host joined)."""
        now = clock.now()
        session = await (await as_user(user)).post(
            f"/cases/{h.cases[letter]}/sessions",
            201,
            json={
                "scheduled_start": now.isoformat(),
                "scheduled_end": now.replace(hour=now.hour + 1).isoformat(),
            },
        )
        async with actors.services.db.session() as s:
            await s.execute(
                update(MediationSession)
                .where(MediationSession.id == session["id"])
                .values(status="ended", started_at=now, ended_at=now)
            )

    async def agree(letter: str, user: str, scope: str) -> None:
        caller = await as_user(user)
        material = await caller.post(
            f"/cases/{h.cases[letter]}/materials", 201, data=upload_form("调解协议.pdf", description="协议")
        )
        await caller.post(
            f"/cases/{h.cases[letter]}/outcome",
            201,
            json={"result": "agreed", "scope": scope, "agreement_material_id": material["id"]},
        )

    async def terminate(letter: str, caller: Caller, reason: str) -> None:
        await caller.post(f"/cases/{h.cases[letter]}/terminate", json={"reason": reason, "note": "终结"})

    await at(2, 3, 9)
    await create("A", a, "m1")
    await create("G", b, "m3")
    await at(2, 3, 10)
    await create("B", a, "m1")
    await at(2, 3, 12)
    await accept_and_begin("G", "mediator3")
    await video("G", "mediator3")
    await at(2, 3, 15)
    await accept_and_begin("A", "mediator1")
    await video("A", "mediator1")
    await at(3, 3, 10)
    await accept_and_begin("B", "mediator1")
    await at(4, 3, 9)
    await create("C", a, "m2")
    await at(4, 3, 11)
    await accept_and_begin("C", "mediator2")
    await video("C", "mediator2")
    await at(5, 3, 9)
    await create("D", a, "m1", kind="entrusted", procedure="simple")
    await at(5, 3, 9, 30)
    await accept_and_begin("D", "mediator1")
    await at(5, 3, 10)
    await create("E", a, "m2")
    await at(5, 3, 12)
    await (await as_user("mediator2")).post(f"/cases/{h.cases['E']}/decline", json={"reason": "时间冲突"})
    await at(6, 3, 10)
    await terminate("E", a, "other")
    await at(9, 3, 9)
    await create("H", a, "m1")
    await at(9, 3, 10)
    await accept_and_begin("H", "mediator1")
    await at(9, 3, 16)
    await terminate("D", await as_user("mediator1"), "party_refuses")
    await at(10, 3, 10)
    await (await as_user("mediator1")).post(
        f"/cases/{h.cases['B']}/suspend", json={"kind": "appraisal", "reason": "工伤鉴定"}
    )
    await at(11, 3, 10)
    h_case = await a.get(f"/cases/{h.cases['H']}")
    worker = next(p for p in h_case["parties"] if p["party_type"] == "worker")
    change = await a.post(
        f"/cases/{h.cases['H']}/change-requests",
        201,
        json={"party_id": worker["id"], "kind": "change", "reason": "申请更换调解员"},
    )
    await a.post(f"/cases/{h.cases['H']}/change-requests/{change['id']}/decision", json={"grant": True})
    await at(12, 3, 9)
    await a.post(f"/cases/{h.cases['H']}/assignment", json={"mediator_id": actors.mediator_id("m2")})
    await at(13, 3, 9)
    await accept_and_begin("H", "mediator2")
    await at(17, 3, 10)
    await (await as_user("mediator1")).post(f"/cases/{h.cases['B']}/resume", json={"note": "鉴定完成"})
    await at(20, 3, 10)
    c_case = await a.get(f"/cases/{h.cases['C']}")
    await (await as_user("mediator2")).post(
        f"/cases/{h.cases['C']}/extensions",
        201,
        json={"days": 10, "reason": "双方同意延长", "consents": principal_consents(c_case, clock.now())},
    )
    await at(20, 3, 16)
    await agree("A", "mediator1", "full")
    await at(21, 3, 10)
    application = await (await as_user("mediator1")).post(
        f"/cases/{h.cases['A']}/judicial-confirmation", 201, json={"notify": False}
    )
    await at(23, 3, 10)
    for party in application["parties"]:
        token = party["link"].split("#", 1)[1]
        response = await actors.client.post("/jc/api/answer", json={"token": token, "confirm": True})
        assert response.status == 200, await response.text()
    await at(25, 3, 10)
    await agree("G", "mediator3", "full")
    await at(30, 3, 9)
    await create("F", a, "m1")
    await at(31, 3, 15)
    await terminate("H", await as_user("mediator2"), "party_unreachable")
    await at(1, 4, 9)
    await (await as_user("mediator1")).post(f"/cases/{h.cases['F']}/accept", json={})
    await at(2, 4, 10)
    await a.post(f"/cases/{h.cases['A']}/judicial-confirmation/result", json={"result": "confirmed"})
    await at(8, 4, 10)
    await agree("B", "mediator1", "partial")
    await at(20, 4, 10)
    await terminate("C", await as_user("mediator2"), "positions_too_far")
    return h
