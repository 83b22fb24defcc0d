"""The table of sealed agreements: one sealed PDF per agreement version that took effect."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from store.base import Base, JsonValue

__all__ = ["SealedAgreement"]


class SealedAgreement(Base):
    """The sealed document of one agreement version (:mod:`agreements.sealing`), in the file store under
    ``pdf_key``. ``code`` is the verification code (16 Crockford base32 characters, without the hyphens it
    is printed with); ``sealed_sha256`` the hash of the whole sealed file, ``document_sha256`` that of the
    frozen version the signatures bound to. ``signers`` keeps, for the verify page, each signature's name,
    role, time and authentication method (a list of objects). Never changes once written."""

    __tablename__ = "sealed_agreements"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    version_id: Mapped[str] = mapped_column(
        ForeignKey("agreement_versions.id", ondelete="CASCADE"), unique=True
    )
    version_number: Mapped[int]
    code: Mapped[str] = mapped_column(String(16), unique=True)
    pdf_key: Mapped[str] = mapped_column(String(300))
    sealed_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    size: Mapped[int] = mapped_column(BigInteger)
    document_sha256: Mapped[str] = mapped_column(String(64))
    signers: Mapped[list[dict[str, Any]]] = mapped_column(JsonValue)
    effective_at: Mapped[datetime]
    sealed_at: Mapped[datetime]
