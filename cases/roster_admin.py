"""The roster: unions keep their organisations and mediators, submit them to courts, courts decide.

OMR 5, 27, 28; SIM 6, 10. Who sees what: a union its own organisations and everything under them; a court
the organisations and mediators submitted to it; a mediator their own profile.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, false, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.principal import Principal, PrincipalKind
from accounts.tables import Court, Organisation
from cases import audit
from cases.roster import COURT_ACTIONS, UNION_ACTIONS, RosterStatus, decide
from cases.schemas import (
    MediatorIn,
    MediatorOut,
    MediatorUpdate,
    OrganisationIn,
    RosterDecisionIn,
    RosterEntryIn,
    RosterEntryOut,
    RosterListQuery,
)
from cases.tables import Mediator, RosterEntry
from tiaojie.clock import Clock
from tiaojie.errors import Conflict, NotFound, PermissionDenied
from tiaojie.ids import new_id
from tiaojie.masking import mask_id_number

__all__ = [
    "add_organisation",
    "decide_entry",
    "get_mediator",
    "get_organisation",
    "list_entries",
    "list_mediators",
    "list_organisations",
    "mediator_out",
    "register_mediator",
    "submit_entry",
    "update_mediator",
]

_K = PrincipalKind


def _org_visible(actor: Principal) -> ColumnElement[bool]:
    if actor.kind is _K.SYSTEM:
        return true()
    if actor.kind in (_K.UNION, _K.MEDIATOR):
        return Organisation.id.in_(sorted(actor.organisation_ids))
    if actor.kind is _K.COURT:
        return Organisation.id.in_(
            select(RosterEntry.organisation_id).where(RosterEntry.court_id == actor.court_id)
        )
    return false()


def _mediator_visible(actor: Principal) -> ColumnElement[bool]:
    if actor.kind is _K.SYSTEM:
        return true()
    if actor.kind is _K.UNION:
        return Mediator.organisation_id.in_(sorted(actor.organisation_ids))
    if actor.kind is _K.MEDIATOR:
        return Mediator.id == actor.mediator_id
    if actor.kind is _K.COURT:
        return Mediator.id.in_(
            select(RosterEntry.mediator_id).where(
                RosterEntry.court_id == actor.court_id, RosterEntry.mediator_id.is_not(None)
            )
        )
    return false()


def _entry_visible(actor: Principal) -> ColumnElement[bool]:
    if actor.kind is _K.SYSTEM:
        return true()
    if actor.kind is _K.COURT:
        return RosterEntry.court_id == actor.court_id
    if actor.kind is _K.UNION:
        return RosterEntry.organisation_id.in_(sorted(actor.organisation_ids))
    if actor.kind is _K.MEDIATOR:
        return RosterEntry.mediator_id == actor.mediator_id
    return false()


def _require_union_scope(actor: Principal, organisation_id: str) -> None:
    if actor.kind is _K.SYSTEM:
        return
    if actor.kind is not _K.UNION:
        raise PermissionDenied("only a trade union manages organisations and mediators")
    if organisation_id not in actor.organisation_ids:
        raise NotFound("organisation not found", resource="organisation", field="organisation_id")


async def add_organisation(
    session: AsyncSession, clock: Clock, actor: Principal, data: OrganisationIn
) -> Organisation:
    from accounts.service import create_organisation

    parent_id = data.parent_id or actor.organisation_id
    if parent_id is None and actor.kind is not _K.SYSTEM:
        raise PermissionDenied("only a trade union adds organisations")
    if parent_id is not None:
        _require_union_scope(actor, parent_id)
    org = await create_organisation(
        session,
        name=data.name,
        kind=data.kind,
        now=clock.now(),
        parent_id=parent_id,
        credit_code=data.credit_code,
        address=data.address,
        contact_name=data.contact_name,
        contact_phone=data.contact_phone,
        profile=data.profile,
    )
    await audit.record(
        session,
        actor=actor,
        at=clock.now(),
        subject_type="organisation",
        subject_id=org.id,
        action="create",
        data={"name": org.name, "parent_id": parent_id},
    )
    return org


async def list_organisations(session: AsyncSession, actor: Principal) -> list[Organisation]:
    rows = await session.scalars(select(Organisation).where(_org_visible(actor)).order_by(Organisation.id))
    return list(rows.all())


async def get_organisation(session: AsyncSession, actor: Principal, organisation_id: str) -> Organisation:
    org = await session.scalar(
        select(Organisation).where(Organisation.id == organisation_id, _org_visible(actor))
    )
    if org is None:
        raise NotFound("organisation not found", resource="organisation")
    return org


async def register_mediator(
    session: AsyncSession, clock: Clock, actor: Principal, data: MediatorIn
) -> Mediator:
    organisation_id = data.organisation_id or actor.organisation_id
    if organisation_id is None:
        raise PermissionDenied("only a trade union registers mediators")
    _require_union_scope(actor, organisation_id)
    if await session.get(Organisation, organisation_id) is None:
        raise NotFound("organisation not found", resource="organisation", field="organisation_id")
    now = clock.now()
    mediator = Mediator(
        id=new_id("med"),
        organisation_id=organisation_id,
        name=data.name,
        gender=data.gender,
        phone=data.phone,
        id_type=data.id_type.value if data.id_type else None,
        id_number=data.id_number,
        title=data.title,
        profile=data.profile,
        specialties=data.specialties,
        case_scope=[c.value for c in data.case_scope],
        languages=data.languages,
        fees_charged=data.fees_charged,
        fee_note=data.fee_note,
        active=True,
        created_at=now,
        updated_at=now,
    )
    session.add(mediator)
    await audit.record(
        session,
        actor=actor,
        at=now,
        subject_type="mediator",
        subject_id=mediator.id,
        action="create",
        data={"organisation_id": organisation_id},
    )
    await session.flush()
    return mediator


async def get_mediator(session: AsyncSession, actor: Principal, mediator_id: str) -> Mediator:
    mediator = await session.scalar(
        select(Mediator).where(Mediator.id == mediator_id, _mediator_visible(actor))
    )
    if mediator is None:
        raise NotFound("mediator not found", resource="mediator")
    return mediator


async def list_mediators(
    session: AsyncSession, actor: Principal, *, organisation_id: str | None = None
) -> list[Mediator]:
    query = select(Mediator).where(_mediator_visible(actor)).order_by(Mediator.id)
    if organisation_id:
        query = query.where(Mediator.organisation_id == organisation_id)
    return list((await session.scalars(query)).all())


def mediator_out(mediator: Mediator, actor: Principal) -> MediatorOut:
    out = MediatorOut.model_validate(mediator)
    own = actor.kind is _K.SYSTEM or (
        actor.kind in (_K.UNION, _K.MEDIATOR) and mediator.organisation_id in actor.organisation_ids
    )
    if not own and out.id_number:
        out = out.model_copy(update={"id_number": mask_id_number(out.id_number)})
    return out


async def update_mediator(
    session: AsyncSession, clock: Clock, actor: Principal, mediator_id: str, data: MediatorUpdate
) -> Mediator:
    mediator = await get_mediator(session, actor, mediator_id)
    _require_union_scope(actor, mediator.organisation_id)
    changes = data.model_dump(exclude_unset=True)
    if "case_scope" in changes and changes["case_scope"] is not None:
        changes["case_scope"] = [str(c) for c in changes["case_scope"]]
    for name, value in changes.items():
        if value is not None or name in ("title", "profile", "fee_note", "phone"):
            setattr(mediator, name, value)
    mediator.updated_at = clock.now()
    await audit.record(
        session,
        actor=actor,
        at=clock.now(),
        subject_type="mediator",
        subject_id=mediator.id,
        action="update",
        data={"fields": sorted(changes)},
    )
    return mediator


async def submit_entry(
    session: AsyncSession, clock: Clock, actor: Principal, data: RosterEntryIn
) -> RosterEntry:
    """A union pushes an organisation or a mediator to a court's roster for confirmation."""
    if await session.get(Court, data.court_id) is None:
        raise NotFound("court not found", resource="court", field="court_id")
    mediator = None
    if data.mediator_id is not None:
        mediator = await session.get(Mediator, data.mediator_id)
        if mediator is None:
            raise NotFound("mediator not found", resource="mediator", field="mediator_id")
        organisation_id = mediator.organisation_id
        # Scope first: another union's mediator must look the same as no mediator at all.
        _require_union_scope(actor, organisation_id)
        if data.organisation_id not in (None, organisation_id):
            raise Conflict("the mediator belongs to another organisation", code="organisation_mismatch")
    elif data.organisation_id is not None:
        organisation_id = data.organisation_id
        _require_union_scope(actor, organisation_id)
    else:
        raise NotFound("name an organisation or a mediator", field="organisation_id", resource="organisation")
    existing = await session.scalar(
        select(RosterEntry).where(
            RosterEntry.court_id == data.court_id,
            RosterEntry.organisation_id == organisation_id,
            RosterEntry.mediator_id.is_(None) if mediator is None else RosterEntry.mediator_id == mediator.id,
        )
    )
    if existing is not None:
        raise Conflict(
            "already submitted to this court; resubmit the existing entry if it was rejected or removed",
            code="duplicate_roster_entry",
            entry_id=existing.id,
        )
    now = clock.now()
    entry = RosterEntry(
        id=new_id("ros"),
        court_id=data.court_id,
        organisation_id=organisation_id,
        mediator_id=mediator.id if mediator else None,
        labor_roster=data.labor_roster,
        status=RosterStatus.SUBMITTED.value,
        submitted_at=now,
    )
    session.add(entry)
    await session.flush()
    await audit.record(
        session,
        actor=actor,
        at=now,
        subject_type="roster_entry",
        subject_id=entry.id,
        action="submit",
        to_state=entry.status,
    )
    return entry


async def decide_entry(
    session: AsyncSession, clock: Clock, actor: Principal, entry_id: str, data: RosterDecisionIn
) -> RosterEntry:
    entry = await session.scalar(select(RosterEntry).where(RosterEntry.id == entry_id, _entry_visible(actor)))
    if entry is None:
        raise NotFound("roster entry not found", resource="roster_entry")
    allowed = COURT_ACTIONS if actor.kind is _K.COURT else UNION_ACTIONS if actor.kind is _K.UNION else None
    if actor.kind is _K.SYSTEM:
        allowed = COURT_ACTIONS | UNION_ACTIONS
    if allowed is None or data.action not in allowed:
        raise PermissionDenied(f"you may not {data.action.value} this roster entry", action=data.action.value)
    if data.version is not None and data.version != entry.version:
        raise Conflict(
            "the entry changed since you read it", code="stale_version", current_version=entry.version
        )
    before = entry.status
    entry.status = decide(RosterStatus(entry.status), data.action, reason=data.reason).value
    entry.reason = data.reason
    now = clock.now()
    entry.decided_at = now
    if data.action.value == "resubmit":
        entry.submitted_at = now
    await audit.record(
        session,
        actor=actor,
        at=now,
        subject_type="roster_entry",
        subject_id=entry.id,
        action=data.action.value,
        from_state=before,
        to_state=entry.status,
        reason=data.reason,
    )
    await session.flush()
    return entry


async def list_entries(
    session: AsyncSession, actor: Principal, query: RosterListQuery
) -> list[RosterEntryOut]:
    stmt = (
        select(RosterEntry, Court.name, Organisation.name, Mediator.name)
        .join(Court, Court.id == RosterEntry.court_id)
        .join(Organisation, Organisation.id == RosterEntry.organisation_id)
        .outerjoin(Mediator, Mediator.id == RosterEntry.mediator_id)
        .where(_entry_visible(actor))
        .order_by(RosterEntry.id.desc())
        .limit(query.limit + 1)
    )
    if query.cursor:
        stmt = stmt.where(RosterEntry.id < query.cursor)
    if query.court_id:
        stmt = stmt.where(RosterEntry.court_id == query.court_id)
    if query.organisation_id:
        stmt = stmt.where(RosterEntry.organisation_id == query.organisation_id)
    if query.status:
        stmt = stmt.where(RosterEntry.status == query.status.value)
    if query.mediators_only:
        stmt = stmt.where(RosterEntry.mediator_id.is_not(None))
    out = []
    for entry, court_name, org_name, mediator_name in (await session.execute(stmt)).all():
        view = RosterEntryOut.model_validate(entry)
        out.append(
            view.model_copy(
                update={
                    "court_name": court_name,
                    "organisation_name": org_name,
                    "mediator_name": mediator_name,
                }
            )
        )
    return out
