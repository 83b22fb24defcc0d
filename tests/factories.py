"""Test data: valid (fictional) identifiers and a small world of courts, unions, mediators and keys."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from accounts.principal import Principal, Role
from accounts.service import create_api_key, create_court, create_organisation, create_user
from cases import roster_admin
from cases.roster import RosterAction
from cases.schemas import MediatorIn, RosterDecisionIn, RosterEntryIn
from web.services import Services

PASSWORD = "correct horse battery"
_counter = itertools.count(1)


def resident_id(birth: str = "19880512", region: str = "410802", sequence: int | None = None) -> str:
    """A resident ID number with a correct check character (GB 11643), for nobody in particular."""
    seq = f"{(sequence if sequence is not None else next(_counter)) % 1000:03d}"
    body = region + birth + seq
    weights = [pow(2, 17 - i, 11) for i in range(17)]
    total = sum(int(d) * w for d, w in zip(body, weights, strict=True))
    return body + "10X98765432"[total % 11]


_CC = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def credit_code(seed: int | None = None) -> str:
    """A unified social credit code with a correct check character (GB 32100)."""
    n = seed if seed is not None else next(_counter)
    body = f"91410800MA{n:07d}"[:17]
    weights = [pow(3, i, 31) for i in range(17)]
    total = sum(_CC.index(c) * w for c, w in zip(body, weights, strict=True))
    return body + _CC[(31 - total % 31) % 31]


def case_payload(number: str | None = None, **overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "case_number": number or f"(2026)豫0802民诉前调{next(_counter)}号",
        "kind": "delegated",
        "procedure": "ordinary",
        "cause": "wages",
        "claims": "支付拖欠工资 32,000 元",
        "amount": "32000.00",
        "parties": [
            {
                "key": "worker",
                "side": "applicant",
                "party_type": "worker",
                "name": "张三",
                "id_type": "resident_id",
                "id_number": resident_id(),
                "phone": "13800138000",
                "service_address": "zhangsan@example.cn",
                "address": "河南省焦作市解放区民主路1号",
            },
            {
                "key": "employer",
                "side": "respondent",
                "party_type": "employer",
                "name": "焦作某机械有限公司",
                "id_type": "credit_code",
                "id_number": credit_code(),
                "phone": "0391-3456789",
            },
            {
                "side": "respondent",
                "role": "agent",
                "party_type": "person",
                "name": "李律师",
                "id_type": "resident_id",
                "id_number": resident_id(birth="19800101"),
                "phone": "13912345678",
                "represents": "employer",
                "authorisation": "特别授权",
            },
        ],
    }
    payload.update(overrides)
    return payload


@dataclass
class World:
    """Two courts and two unions that must never see each other's data."""

    courts: dict[str, str] = field(default_factory=dict)
    orgs: dict[str, str] = field(default_factory=dict)
    mediators: dict[str, str] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    users: dict[str, str] = field(default_factory=dict)
    roster: dict[str, str] = field(default_factory=dict)


async def build_world(services: Services) -> World:
    world = World()
    now = services.clock.now()
    system = Principal.system("test setup")
    async with services.db.session() as s:
        a = await create_court(s, name="焦作市解放区人民法院", code="豫0802", level="basic", now=now)
        b = await create_court(s, name="焦作市山阳区人民法院", code="豫0811", level="basic", now=now)
        world.courts = {"a": a.id, "b": b.id}
        u1 = await create_organisation(s, name="焦作市总工会", kind="union", now=now)
        o1 = await create_organisation(
            s, name="解放区劳动争议调解委员会", kind="mediation_org", parent_id=u1.id, now=now
        )
        u2 = await create_organisation(s, name="修武县总工会", kind="union", now=now)
        o2 = await create_organisation(
            s, name="修武县劳动争议调解中心", kind="mediation_org", parent_id=u2.id, now=now
        )
        world.orgs = {"u1": u1.id, "o1": o1.id, "u2": u2.id, "o2": o2.id}
        for name, org, person in (("m1", o1, "王调解"), ("m2", o1, "赵调解"), ("m3", o2, "孙调解")):
            mediator = await roster_admin.register_mediator(
                s,
                services.clock,
                system,
                MediatorIn(organisation_id=org.id, name=person, phone="13700000000", case_scope=["wages"]),
            )
            world.mediators[name] = mediator.id
        for label, court, mediator_name in (
            ("m1@a", a, "m1"),
            ("m2@a", a, "m2"),
            ("m3@b", b, "m3"),
            ("m2@b", b, "m2"),
        ):
            entry = await roster_admin.submit_entry(
                s,
                services.clock,
                system,
                RosterEntryIn(court_id=court.id, mediator_id=world.mediators[mediator_name]),
            )
            world.roster[label] = entry.id
            if label != "m2@b":
                await roster_admin.decide_entry(
                    s, services.clock, system, entry.id, RosterDecisionIn(action=RosterAction.CONFIRM)
                )
        for name, kwargs in (
            ("court_a", {"court_id": a.id}),
            ("court_b", {"court_id": b.id}),
            ("union1", {"organisation_id": u1.id}),
            ("union2", {"organisation_id": u2.id}),
            ("org1", {"organisation_id": o1.id}),
        ):
            issued = await create_api_key(s, name=name, now=now, **kwargs)
            world.tokens[name] = issued.token
        for username, role, kwargs in (
            ("mediator1", Role.MEDIATOR, {"mediator_id": world.mediators["m1"]}),
            ("mediator2", Role.MEDIATOR, {"mediator_id": world.mediators["m2"]}),
            ("mediator3", Role.MEDIATOR, {"mediator_id": world.mediators["m3"]}),
            ("clerk_a", Role.COURT_ADMIN, {"court_id": a.id}),
            ("union_admin1", Role.UNION_ADMIN, {"organisation_id": u1.id}),
        ):
            user = await create_user(
                s, username=username, display_name=username, password=PASSWORD, role=role, now=now, **kwargs
            )
            world.users[username] = user.id
    return world
