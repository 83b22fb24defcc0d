"""Routes: who the caller is, and the working-day calendar the deadlines use."""

from __future__ import annotations

from datetime import date, timedelta

from pydantic import BaseModel, Field

from accounts.principal import PrincipalKind
from cases.deadlines import local_date
from tiaojie.errors import InvalidInput
from web.router import ApiCall, ApiRouter

__all__ = ["register"]


class MeOut(BaseModel):
    kind: PrincipalKind
    id: str
    label: str
    court_id: str | None
    organisation_id: str | None
    organisation_ids: list[str]
    mediator_id: str | None


class CalendarQuery(BaseModel):
    start: date | None = Field(None, alias="from", description="First day; default today (Asia/Shanghai).")
    days: int = Field(31, ge=1, le=366)

    model_config = {"extra": "forbid", "populate_by_name": False}


class CalendarDay(BaseModel):
    date: date
    working_day: bool
    covered: bool = Field(description="False where no official schedule is known (Monday–Friday assumed).")


def register(api: ApiRouter) -> None:
    @api.route("GET", "/me", summary="The authenticated caller and its scope", tags=["meta"], response=MeOut)
    async def me(call: ApiCall) -> MeOut:
        p = call.principal
        return MeOut(
            kind=p.kind,
            id=p.id,
            label=p.label,
            court_id=p.court_id,
            organisation_id=p.organisation_id,
            organisation_ids=sorted(p.organisation_ids),
            mediator_id=p.mediator_id,
        )

    @api.route(
        "GET",
        "/calendar",
        summary="Working days (statutory holidays and make-up workdays)",
        tags=["meta"],
        query=CalendarQuery,
        response=list[CalendarDay],
    )
    async def calendar(call: ApiCall) -> list[CalendarDay]:
        """The calendar used for the 2- and 3-working-day limits and CPL 85 period ends."""
        query = call.query_as(CalendarQuery)
        cal = call.services.calendar
        start = query.start or local_date(call.services.clock.now())
        if start.year < 1990 or start.year > 2200:
            raise InvalidInput("date out of range", field="from")
        days = [start + timedelta(days=i) for i in range(query.days)]
        return [
            CalendarDay(date=d, working_day=cal.is_working_day(d), covered=cal.is_covered(d.year))
            for d in days
        ]
