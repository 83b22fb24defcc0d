"""Demo data for a newcomer: a court, a union with a mediation organisation, a confirmed mediator, logins,
API keys, and a labor case with two parties assigned to the mediator."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from accounts.principal import AuthMethod, Principal, PrincipalKind, Role
from accounts.service import create_api_key, create_court, create_organisation, create_user
from cases import assignment, intake, roster_admin
from cases.calendar import CalendarOverrides, WorkdayCalendar
from cases.context import CaseEnv
from cases.roster import RosterAction
from cases.schemas import AssignIn, CaseCreate, MediatorIn, RosterDecisionIn, RosterEntryIn
from cases.tables import Case
from rooms import sessions
from rooms.schemas import SessionCreate
from rooms.sessions import LinkPolicy
from store.database import Database
from store.files import LocalFileStore
from store.migrate import upgrade
from tiaojie.clock import Clock
from tiaojie.settings import Settings

__all__ = ["create_demo", "demo_ids"]


def _check_char(body: str, weights: list[int], alphabet: str, modulus: int, table: str | None = None) -> str:
    total = sum(alphabet.index(c) * w for c, w in zip(body, weights, strict=True))
    if table is not None:
        return table[total % modulus]
    return alphabet[(modulus - total % modulus) % modulus]


def demo_ids(n: int) -> tuple[str, str]:
    """A fictional resident ID number and credit code with valid check characters."""
    body = f"41080219900101{n % 1000:03d}"
    rid = body + _check_char(body, [pow(2, 17 - i, 11) for i in range(17)], "0123456789", 11, "10X98765432")
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    cbody = f"91410800MA{n % 10_000_000:07d}"
    return rid, cbody + _check_char(cbody, [pow(3, i, 31) for i in range(17)], alphabet, 31)


async def create_demo(db: Database, settings: Settings, clock: Clock) -> dict[str, Any]:
    await upgrade(db)
    settings = settings.with_secret()
    suffix = secrets.token_hex(2).upper()
    now = clock.now()
    system = Principal.system("demo")
    passwords = {name: secrets.token_urlsafe(9) for name in ("mediator", "court", "union")}
    overrides = CalendarOverrides.load(settings.calendar_overrides) if settings.calendar_overrides else None
    env = CaseEnv(
        clock=clock,
        calendar=WorkdayCalendar(overrides),
        files=LocalFileStore(settings.effective_media_dir / "materials"),
        warn_days=settings.deadline_warn_days,
        material_types=settings.material_types,
    )
    async with db.session() as s:
        court = await create_court(
            s, name=f"演示区人民法院（{suffix}）", code=f"DEMO-{suffix}", level="basic", now=now
        )
        union = await create_organisation(s, name=f"演示市总工会（{suffix}）", kind="union", now=now)
        org = await create_organisation(
            s, name=f"演示区劳动争议调解委员会（{suffix}）", kind="mediation_org", parent_id=union.id, now=now
        )
        mediator = await roster_admin.register_mediator(
            s,
            clock,
            system,
            MediatorIn(
                organisation_id=org.id,
                name="王调解",
                phone="13700000000",
                title="工会法律顾问",
                specialties=["劳动报酬", "工伤"],
                case_scope=["wages", "work_injury", "severance"],
            ),
        )
        entry = await roster_admin.submit_entry(
            s, clock, system, RosterEntryIn(court_id=court.id, mediator_id=mediator.id)
        )
        await roster_admin.decide_entry(
            s, clock, system, entry.id, RosterDecisionIn(action=RosterAction.CONFIRM)
        )
        users = {
            "mediator": await create_user(
                s,
                username=f"mediator-{suffix.lower()}",
                display_name="王调解",
                password=passwords["mediator"],
                role=Role.MEDIATOR,
                mediator_id=mediator.id,
                now=now,
            ),
            "court": await create_user(
                s,
                username=f"clerk-{suffix.lower()}",
                display_name="立案庭书记员",
                password=passwords["court"],
                role=Role.COURT_ADMIN,
                court_id=court.id,
                now=now,
            ),
            "union": await create_user(
                s,
                username=f"union-{suffix.lower()}",
                display_name="工会法律部",
                password=passwords["union"],
                role=Role.UNION_ADMIN,
                organisation_id=union.id,
                now=now,
            ),
        }
        court_key = await create_api_key(
            s, name="demo court system", court_id=court.id, created_by="demo", now=now
        )
        union_key = await create_api_key(
            s, name="demo union system", organisation_id=union.id, created_by="demo", now=now
        )
        court_principal = Principal(
            kind=PrincipalKind.COURT,
            id=court_key.key.id,
            label="demo court system",
            auth_method=AuthMethod.API_KEY,
            court_id=court.id,
        )

        async def new_case(number: int) -> Case:
            worker_id, employer_code = demo_ids(int(suffix, 16) * 10 + number)
            return await intake.create_case(
                s,
                env,
                court_principal,
                CaseCreate.model_validate(
                    {
                        "case_number": f"（2026）演{suffix}民诉前调{number}号",
                        "kind": "delegated",
                        "cause": "wages",
                        "claims": "请求支付拖欠工资人民币32,000元及经济补偿金8,000元。",
                        "amount": "40000.00",
                        "parties": [
                            {
                                "key": "w",
                                "side": "applicant",
                                "party_type": "worker",
                                "name": "张三",
                                "id_type": "resident_id",
                                "id_number": worker_id,
                                "phone": "13800138000",
                                "service_address": "zhangsan@example.cn",
                            },
                            {
                                "key": "e",
                                "side": "respondent",
                                "party_type": "employer",
                                "name": "演示机械有限公司",
                                "id_type": "credit_code",
                                "id_number": employer_code,
                                "phone": "0391-3456789",
                            },
                        ],
                    }
                ),
            )

        case = await new_case(1)
        await assignment.assign(s, env, court_principal, case, AssignIn(mediator_id=mediator.id))
        # A second case already accepted, with a video session today and working join links.
        second = await new_case(2)
        await assignment.assign(s, env, court_principal, second, AssignIn(mediator_id=mediator.id))
        mediator_principal = Principal(
            kind=PrincipalKind.MEDIATOR,
            id=users["mediator"].id,
            label="王调解 (demo)",
            auth_method=AuthMethod.PASSWORD_SESSION,
            mediator_id=mediator.id,
            organisation_id=org.id,
            organisation_ids=frozenset({org.id}),
        )
        await assignment.accept(s, env, mediator_principal, second, None)
        policy = LinkPolicy(
            secret=settings.secret_key or "",
            base_url=settings.base_url(),
            hours_after_end=settings.join_link_hours,
        )
        planned = await sessions.schedule_session(
            s,
            mediator_principal,
            second,
            SessionCreate(
                title="演示调解会议",
                scheduled_start=now,
                scheduled_end=now + timedelta(hours=4),
            ),
            now=now,
            policy=policy,
        )
        names = {"mediator": "mediator", "applicant": "worker", "respondent": "employer"}
        roles = {p.id: names[p.role] for p in planned.participants}
        links = {roles[link.participant_id]: link.url for link in planned.links}

        base = settings.base_url()
        return {
            "base_url": base,
            "console_url": f"{base}/console/login",
            "api_docs_url": f"{base}/api/v1/docs",
            "openapi_url": f"{base}/api/v1/openapi.json",
            "court": {"id": court.id, "name": court.name},
            "union": {"id": union.id, "name": union.name},
            "organisation": {"id": org.id, "name": org.name},
            "mediator": {"id": mediator.id, "name": mediator.name},
            "logins": {
                k: {"username": u.username, "password": passwords[k], "role": u.role}
                for k, u in users.items()
            },
            "api_keys": {"court": court_key.token, "union": union_key.token},
            "case": {"id": case.id, "case_number": case.case_number, "state": case.state},
            "session": {
                "id": planned.id,
                "case_id": second.id,
                "case_number": second.case_number,
                "links": links,
            },
        }
