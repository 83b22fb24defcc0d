"""Tables of the agreements package: the versions of a case's mediation agreement."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from store.base import Base, JsonValue

__all__ = ["AgreementVersion"]


class AgreementVersion(Base):
    """One version of a case's agreement (:mod:`agreements.versions`). A template version keeps its text
    (:class:`agreements.text.AgreementText` as JSON); an uploaded one has none. A frozen version has its PDF
    in the file store under ``pdf_key``, with its SHA-256: after freezing, no column but ``status`` and
    ``superseded_at`` ever changes. ``revision`` counts the edits of a draft (optimistic concurrency)."""

    __tablename__ = "agreement_versions"
    __table_args__ = (UniqueConstraint("case_id", "number"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    status: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(20))
    text: Mapped[dict[str, Any] | None] = mapped_column(JsonValue)
    revision: Mapped[int] = mapped_column(default=1)
    pdf_sha256: Mapped[str | None] = mapped_column(String(64))
    pdf_key: Mapped[str | None] = mapped_column(String(300))
    pdf_size: Mapped[int | None] = mapped_column(BigInteger)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    frozen_by: Mapped[str | None] = mapped_column(String(200))
    frozen_at: Mapped[datetime | None]
    superseded_at: Mapped[datetime | None]
