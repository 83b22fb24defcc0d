"""The statistics API's query parameters and response documents (what the OpenAPI document shows)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from cases.schemas import Day
from stats.figures import Figures, GroupBy

__all__ = [
    "FiltersOut",
    "GroupOut",
    "PeriodOut",
    "QuarterOut",
    "StatisticsOut",
    "StatisticsQuery",
    "TrendsOut",
    "TrendsQuery",
]

_QUARTER = r"^\d{4}-?[Qq][1-4]$"


class _Query(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, populate_by_name=False)

    court_id: str | None = Field(None, max_length=40, description="Only this court's cases.")
    org_id: str | None = Field(
        None, max_length=40, description="Only cases held by this organisation or one under it."
    )
    mediator_id: str | None = Field(None, max_length=40, description="Only cases held by this mediator.")
    format: Literal["json", "csv"] | None = Field(
        None, description="csv: the same figures as CSV (also chosen by the header Accept: text/csv)."
    )


class StatisticsQuery(_Query):
    quarter: str | None = Field(
        None, max_length=8, pattern=_QUARTER, description="A quarter, e.g. 2026Q3; default the current one."
    )
    start: Day | None = Field(None, alias="from", description="First day (Asia/Shanghai), with `to`.")
    end: Day | None = Field(None, alias="to", description="Last day (Asia/Shanghai, included), with `from`.")
    group_by: GroupBy = Field(
        GroupBy.MEDIATOR, description="One line of figures per mediator, organisation or court."
    )


class TrendsQuery(_Query):
    quarter: str | None = Field(
        None, max_length=8, pattern=_QUARTER, description="The last quarter shown; default the current one."
    )
    count: int = Field(4, ge=1, le=20, description="How many quarters, ending with `quarter`.")


class PeriodOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    start: date = Field(alias="from")
    end: date = Field(alias="to")
    quarter: str | None = Field(description="Set when the period is exactly one quarter.")


class FiltersOut(BaseModel):
    court_id: str | None
    org_id: str | None
    mediator_id: str | None
    court_name: str | None
    org_name: str | None
    mediator_name: str | None


class GroupOut(BaseModel):
    key: str | None = Field(description="The mediator's, organisation's or court's id; null: held by no one.")
    name: str | None
    organisation_id: str | None = Field(description="A mediator's organisation.")
    organisation_name: str | None
    figures: Figures


class StatisticsOut(BaseModel):
    period: PeriodOut
    group_by: GroupBy
    filters: FiltersOut
    total: Figures
    groups: list[GroupOut] = Field(description="In ranking order: most cases agreed first.")


class QuarterOut(PeriodOut):
    figures: Figures


class TrendsOut(BaseModel):
    filters: FiltersOut
    quarters: list[QuarterOut]
