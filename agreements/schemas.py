"""API documents of the agreements package."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from agreements.text import AgreementText
from agreements.versions import Source, VersionStatus

__all__ = ["AgreementOut", "FreezeIn", "ProblemOut", "VersionOut", "VersionSummaryOut"]


class FreezeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    revision: int = Field(ge=1, le=2**31 - 1, description="The draft's `revision` as last seen.")


class ProblemOut(BaseModel):
    field: str
    code: str
    message: str


class VersionSummaryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    number: int
    status: VersionStatus
    source: Source
    revision: int
    pdf_sha256: str | None = Field(description="SHA-256 (hex) of the frozen PDF: what signatures bind to.")
    pdf_size: int | None
    created_by: str
    created_at: datetime
    updated_at: datetime
    frozen_by: str | None
    frozen_at: datetime | None
    superseded_at: datetime | None


class VersionOut(VersionSummaryOut):
    text: AgreementText | None = Field(description="The template text; null for an uploaded agreement.")
    problems: list[ProblemOut] = Field(
        description="For a draft: what still stops it from being frozen today (empty when complete)."
    )


class AgreementOut(BaseModel):
    case_id: str
    current: VersionSummaryOut | None = Field(description="The latest version, unless there is none.")
    versions: list[VersionSummaryOut]
