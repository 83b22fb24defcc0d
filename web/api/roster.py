"""Routes: organisations, mediators and the courts' rosters."""

from __future__ import annotations

from pydantic import BaseModel, Field
from sqlalchemy import event

from accounts.tables import Court
from cases import roster_admin
from cases.schemas import (
    MediatorIn,
    MediatorOut,
    MediatorUpdate,
    OrganisationIn,
    OrganisationOut,
    Page,
    PageQuery,
    RosterDecisionIn,
    RosterEntryIn,
    RosterEntryOut,
    RosterListQuery,
)
from web.api.pages import page
from web.auth import KEY_CACHE
from web.router import ApiCall, ApiRouter

__all__ = ["register"]


class CourtOut(BaseModel):
    id: str
    name: str
    code: str
    level: str
    region: str | None


class MediatorListQuery(PageQuery):
    organisation_id: str | None = Field(None, max_length=40)


def register(api: ApiRouter) -> None:
    tags = ["roster"]

    @api.route("GET", "/courts", summary="List courts", tags=tags, response=list[CourtOut])
    async def list_courts(call: ApiCall) -> list[CourtOut]:
        """Every court on the platform, for unions choosing where to submit roster entries."""
        from sqlalchemy import select

        rows = await call.session.scalars(select(Court).order_by(Court.code))
        return [CourtOut.model_validate(c, from_attributes=True) for c in rows]

    @api.route(
        "POST",
        "/organisations",
        summary="Add a mediation organisation",
        tags=tags,
        body=OrganisationIn,
        response=OrganisationOut,
        status=201,
        idempotent=True,
        errors=(403, 404, 422),
    )
    async def create_organisation(call: ApiCall) -> OrganisationOut:
        """A union adds an organisation under itself (or under one of its organisations)."""
        org = await roster_admin.add_organisation(
            call.session, call.services.clock, call.principal, call.body_as(OrganisationIn)
        )
        # Cached API keys carry their union's organisation subtree; forget them once the new one is committed,
        # so that the union can use it at once (other processes notice within KEY_CACHE_SECONDS).
        cache = call.request.app[KEY_CACHE]
        event.listen(call.session.sync_session, "after_commit", lambda _session: cache.clear(), once=True)
        return OrganisationOut.model_validate(org)

    @api.route(
        "GET", "/organisations", summary="List organisations", tags=tags, response=list[OrganisationOut]
    )
    async def list_organisations(call: ApiCall) -> list[OrganisationOut]:
        """A union: itself and everything under it. A court: organisations submitted to its roster."""
        rows = await roster_admin.list_organisations(call.session, call.principal)
        return [OrganisationOut.model_validate(o) for o in rows]

    @api.route(
        "GET",
        "/organisations/{organisation_id}",
        summary="Get an organisation",
        tags=tags,
        response=OrganisationOut,
        errors=(404,),
    )
    async def get_organisation(call: ApiCall) -> OrganisationOut:
        org = await roster_admin.get_organisation(call.session, call.principal, call.path["organisation_id"])
        return OrganisationOut.model_validate(org)

    @api.route(
        "POST",
        "/mediators",
        summary="Register a mediator",
        tags=tags,
        body=MediatorIn,
        response=MediatorOut,
        status=201,
        idempotent=True,
        errors=(403, 404, 422),
    )
    async def create_mediator(call: ApiCall) -> MediatorOut:
        """A union registers a mediator's profile (OMR 5: profile, case scope, specialties, fees)."""
        mediator = await roster_admin.register_mediator(
            call.session, call.services.clock, call.principal, call.body_as(MediatorIn)
        )
        return roster_admin.mediator_out(mediator, call.principal)

    @api.route(
        "GET",
        "/mediators",
        summary="List mediators",
        tags=tags,
        query=MediatorListQuery,
        response=Page[MediatorOut],
    )
    async def list_mediators(call: ApiCall) -> Page[MediatorOut]:
        query = call.query_as(MediatorListQuery)
        rows = await roster_admin.list_mediators(
            call.session, call.principal, organisation_id=query.organisation_id
        )
        rows = [m for m in rows if not query.cursor or m.id > query.cursor][: query.limit + 1]
        return page(rows, query.limit, lambda m: roster_admin.mediator_out(m, call.principal), lambda m: m.id)

    @api.route(
        "GET",
        "/mediators/{mediator_id}",
        summary="Get a mediator",
        tags=tags,
        response=MediatorOut,
        errors=(404,),
    )
    async def get_mediator(call: ApiCall) -> MediatorOut:
        mediator = await roster_admin.get_mediator(call.session, call.principal, call.path["mediator_id"])
        return roster_admin.mediator_out(mediator, call.principal)

    @api.route(
        "PATCH",
        "/mediators/{mediator_id}",
        summary="Update a mediator's profile",
        tags=tags,
        body=MediatorUpdate,
        response=MediatorOut,
        errors=(403, 404, 422),
    )
    async def update_mediator(call: ApiCall) -> MediatorOut:
        mediator = await roster_admin.update_mediator(
            call.session,
            call.services.clock,
            call.principal,
            call.path["mediator_id"],
            call.body_as(MediatorUpdate),
        )
        return roster_admin.mediator_out(mediator, call.principal)

    @api.route(
        "POST",
        "/roster-entries",
        summary="Submit to a court's roster",
        tags=tags,
        body=RosterEntryIn,
        response=RosterEntryOut,
        status=201,
        idempotent=True,
        errors=(403, 404, 409, 422),
    )
    async def submit_roster_entry(call: ApiCall) -> RosterEntryOut:
        """A union pushes an organisation or a mediator to a court for confirmation (特邀调解名册)."""
        entry = await roster_admin.submit_entry(
            call.session, call.services.clock, call.principal, call.body_as(RosterEntryIn)
        )
        return RosterEntryOut.model_validate(entry)

    @api.route(
        "GET",
        "/roster-entries",
        summary="List roster entries",
        tags=tags,
        query=RosterListQuery,
        response=Page[RosterEntryOut],
    )
    async def list_roster_entries(call: ApiCall) -> Page[RosterEntryOut]:
        query = call.query_as(RosterListQuery)
        rows = await roster_admin.list_entries(call.session, call.principal, query)
        return page(rows, query.limit, lambda e: e, lambda e: e.id)

    @api.route(
        "POST",
        "/roster-entries/{entry_id}/decision",
        summary="Decide on a roster entry",
        tags=tags,
        body=RosterDecisionIn,
        response=RosterEntryOut,
        errors=(403, 404, 409, 422),
    )
    async def decide_roster_entry(call: ApiCall) -> RosterEntryOut:
        """The court confirms, rejects, suspends, reinstates or removes; the union resubmits."""
        entry = await roster_admin.decide_entry(
            call.session,
            call.services.clock,
            call.principal,
            call.path["entry_id"],
            call.body_as(RosterDecisionIn),
        )
        return RosterEntryOut.model_validate(entry)
