"""API documents of sealed agreements and their verification."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from agreements.verification import Problem, Verdict

__all__ = ["FileChecksOut", "SealedCaseOut", "SealedOut", "SignerOut", "VerificationOut", "VerifyQuery"]


class VerifyQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str | None = Field(
        None,
        max_length=64,
        description="The verification code printed on the document: the answer says whether the "
        "uploaded file is the document of this code (`code_matches`).",
    )


class SignerOut(BaseModel):
    name: str = Field(description="In full for the court and the mediator of the case; masked for others.")
    role: str = Field(description="worker, employer, agent, mediator, organisation_seal")
    signed_at: datetime
    auth_method: str = Field(description="one_time_code, in_session or account")


class SealedCaseOut(BaseModel):
    case_id: str
    case_number: str
    court_name: str


class SealedOut(BaseModel):
    """The sealed document on record."""

    code: str = Field(description="The verification code, grouped as printed (XXXX-XXXX-XXXX-XXXX).")
    version_id: str
    version_number: int
    version_current: bool = Field(
        description="The version is still the case's latest agreement version (false: superseded since)."
    )
    effective_at: datetime = Field(description="When the last required signature landed.")
    sealed_at: datetime
    document_sha256: str = Field(description="SHA-256 of the agreement version every signature bound to.")
    sealed_sha256: str = Field(description="SHA-256 of the whole sealed PDF.")
    size: int
    signers: list[SignerOut]
    names_masked: bool
    case: SealedCaseOut | None = Field(None, description="Only for the court and the mediator of the case.")


class FileChecksOut(BaseModel):
    """What the uploaded file itself shows."""

    sha256: str
    size: int
    signatures: int = Field(description="Signatures in the file; a sealed document has exactly one.")
    signature_valid: bool = Field(description="The signature matches the signed bytes (pyHanko's validator).")
    signature_trusted: bool = Field(description="Its certificate chains to the service's trust root.")
    covers_whole_file: bool = Field(description="The signature covers every byte: nothing was appended.")
    signer: str | None = Field(description="The signing certificate's subject.")
    attached_document_sha256: str | None = Field(
        description="SHA-256 of the original agreement attached inside the file."
    )


class VerificationOut(BaseModel):
    result: Verdict | Literal["on_record"] = Field(
        description="For an uploaded file: `intact` (byte for byte a document sealed here, its seal valid), "
        "`altered` (claims to be one, or carries the service's seal, but fails a check), `unknown` (not "
        "sealed here). For a code: `on_record` (compare your file's SHA-256 with `sealed.sealed_sha256`, "
        "or upload it)."
    )
    problems: list[Problem] = Field(description="Why a file is not intact; empty when it is.")
    code_matches: bool | None = Field(
        None, description="With `?code=`: whether the file is the document of that code."
    )
    file: FileChecksOut | None = Field(None, description="Null for a code lookup.")
    sealed: SealedOut | None = Field(
        None,
        description="The sealed document the file is, or claims to be (by the code in it); null if none.",
    )
