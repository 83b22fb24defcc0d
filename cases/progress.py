"""The course of a mediation: beginning, suspensions, extensions with consent, and termination."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.principal import Principal
from cases.access import Action, ensure
from cases.context import CaseEnv
from cases.lifecycle import CaseEvent
from cases.schemas import ExtensionIn, PauseIn, TerminateIn
from cases.tables import Case, Extension, Party
from cases.vocab import PartyRole, PauseKind
from cases.workflow import apply_event, refresh_deadline
from tiaojie.errors import InvalidInput
from tiaojie.ids import new_id

__all__ = ["begin_mediation", "extend", "resume", "suspend", "terminate"]


async def begin_mediation(session: AsyncSession, env: CaseEnv, actor: Principal, case: Case) -> Case:
    ensure(actor, Action.BEGIN_MEDIATION, case)
    await apply_event(session, env, actor, case, CaseEvent.BEGIN_MEDIATION)
    return case


async def suspend(session: AsyncSession, env: CaseEnv, actor: Principal, case: Case, data: PauseIn) -> Case:
    ensure(actor, Action.SUSPEND, case)
    await apply_event(
        session,
        env,
        actor,
        case,
        CaseEvent.SUSPEND,
        pause_kind=PauseKind(data.kind),
        note=data.reason,
        data={"kind": data.kind},
    )
    return case


async def resume(session: AsyncSession, env: CaseEnv, actor: Principal, case: Case, note: str | None) -> Case:
    ensure(actor, Action.RESUME, case)
    await apply_event(session, env, actor, case, CaseEvent.RESUME, note=note)
    return case


async def extend(
    session: AsyncSession, env: CaseEnv, actor: Principal, case: Case, data: ExtensionIn
) -> Extension:
    """Extend the period by ``data.days``; every principal party's consent must be recorded (OMR 24)."""
    ensure(actor, Action.EXTEND, case)
    principals = set(
        (
            await session.scalars(
                select(Party.id).where(Party.case_id == case.id, Party.role == PartyRole.PRINCIPAL.value)
            )
        ).all()
    )
    all_parties = set((await session.scalars(select(Party.id).where(Party.case_id == case.id))).all())
    given: set[str] = set()
    for index, consent in enumerate(data.consents):
        if consent.party_id not in all_parties:
            raise InvalidInput(
                "no such party on this case", field=f"consents.{index}.party_id", code="unknown_party"
            )
        if consent.party_id in given:
            raise InvalidInput(
                "one consent per party", field=f"consents.{index}.party_id", code="duplicate_consent"
            )
        if consent.consented_at.tzinfo is None:
            raise InvalidInput(
                "give the time with its UTC offset",
                field=f"consents.{index}.consented_at",
                code="naive_datetime",
            )
        if consent.consented_at > env.now():
            raise InvalidInput("consent cannot be in the future", field=f"consents.{index}.consented_at")
        given.add(consent.party_id)
    missing = principals - given
    await apply_event(
        session,
        env,
        actor,
        case,
        CaseEvent.EXTEND,
        all_parties_consent=not missing,
        note=data.reason,
        data={"days": data.days, "missing_consents": sorted(missing)},
    )
    extension = Extension(
        id=new_id("ext"),
        case_id=case.id,
        days=data.days,
        reason=data.reason,
        consents=[
            {"party_id": c.party_id, "consented_at": c.consented_at.isoformat(), "method": c.method}
            for c in data.consents
        ],
        granted_by=actor.label,
        created_at=env.now(),
    )
    session.add(extension)
    case.extension_days += data.days

    await refresh_deadline(session, case, env)
    return extension


async def terminate(
    session: AsyncSession, env: CaseEnv, actor: Principal, case: Case, data: TerminateIn
) -> Case:
    ensure(actor, Action.TERMINATE, case)
    await apply_event(session, env, actor, case, CaseEvent.TERMINATE, reason=data.reason, note=data.note)
    return case
