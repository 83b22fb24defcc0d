"""Verifying a sealed agreement: what a PDF file shows about itself, and the verdict against the record.

Pure, without storage: :func:`read_file` looks at the bytes (CPU-bound, run it in a thread) and
:func:`judge` compares what it found with the record of the sealed document the file is, or claims to be.

A file is **intact** only when all of these hold:

- its SHA-256 equals the stored hash of a sealed document (so not one byte differs);
- it has exactly one signature, pyHanko's validator finds it cryptographically valid, its certificate
  chains to one of the service's trust roots, and it covers the entire file (nothing was appended, not even
  an incremental update);
- the original agreement attached to it hashes to the document hash every party signed.

Otherwise it is **altered** when it claims to be a sealed document on record (the verification code in its
metadata) or carries a seal by the service, and **unknown** when it is neither.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from pypdf import PdfReader

from agreements.sealing import ATTACHMENT_NAME, META_CODE, META_VERSION
from agreements.verification_codes import normalise
from tiaojie.errors import InvalidInput, UnsupportedMediaType

__all__ = ["FileFindings", "Judgement", "Problem", "SealCheck", "Verdict", "judge", "read_file"]


class Verdict(StrEnum):
    INTACT = "intact"
    ALTERED = "altered"
    UNKNOWN = "unknown"


class Problem(StrEnum):
    NOT_ON_RECORD = "not_on_record"  # no sealed document has this file's hash or its code
    FILE_CHANGED = "file_changed"  # claims a sealed document's code, but its bytes differ
    SEAL_MISSING = "seal_missing"  # no signature at all
    EXTRA_SIGNATURES = "extra_signatures"  # more than the service's one
    SEAL_BROKEN = "seal_broken"  # the signature does not match the signed bytes, or cannot be read
    SEAL_UNTRUSTED = "seal_untrusted"  # signed by a certificate the service does not trust
    CHANGED_AFTER_SEALING = "changed_after_sealing"  # bytes after the signed range (an incremental update)
    DOCUMENT_HASH_MISMATCH = "document_hash_mismatch"  # the attached agreement is not what was signed


@dataclass(frozen=True, slots=True)
class SealCheck:
    """What pyHanko's validator says about the file's signatures."""

    count: int = 0
    valid: bool = False  # the signed bytes are intact and the signature over them is sound
    trusted: bool = False  # the signer's certificate chains to a trust root
    whole_file: bool = False  # the signature covers every byte of the file
    signer: str | None = None  # the signer certificate's subject


@dataclass(frozen=True, slots=True)
class FileFindings:
    sha256: str
    size: int
    claimed_code: str | None  # the verification code in the document information, normalised
    claimed_version_id: str | None
    attached_sha256: str | None  # SHA-256 of the embedded original agreement
    seal: SealCheck


@dataclass(frozen=True, slots=True)
class Judgement:
    verdict: Verdict
    problems: tuple[Problem, ...]


def _check_shape(data: bytes) -> None:
    if not data:
        raise InvalidInput("the file is empty", field="file", code="empty_file")
    if not data.startswith(b"%PDF-"):
        raise UnsupportedMediaType("only PDF files can be verified", allowed=["application/pdf"])
    if b"%%EOF" not in data[-1024:]:
        raise InvalidInput("the PDF is incomplete (no %%EOF at its end)", field="file", code="truncated_pdf")


def _seal(data: bytes, trust_roots: Sequence[asn1_x509.Certificate]) -> SealCheck:
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        signatures = reader.embedded_regular_signatures
    except Exception:  # a damaged file: pyHanko raises many kinds while parsing
        return SealCheck()
    if len(signatures) != 1:
        return SealCheck(count=len(signatures))
    embedded = signatures[0]
    try:
        status = validate_pdf_signature(
            embedded, ValidationContext(trust_roots=list(trust_roots), allow_fetching=False)
        )
    except Exception:  # a malformed signature container, certificate or byte range
        return SealCheck(count=1)
    return SealCheck(
        count=1,
        valid=bool(status.intact and status.valid),
        trusted=bool(status.trusted),
        whole_file=status.coverage == SignatureCoverageLevel.ENTIRE_FILE,
        signer=status.signing_cert.subject.human_friendly,
    )


def _document_info(data: bytes) -> tuple[str | None, str | None, str | None]:
    """(claimed code, claimed version id, SHA-256 of the attached agreement), as far as they can be read."""
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        info: dict[str, object] = dict(reader.metadata or {})
        code = info.get(META_CODE)
        version = info.get(META_VERSION)
        attached = reader.attachments.get(ATTACHMENT_NAME) or []
        digest = hashlib.sha256(attached[0]).hexdigest() if len(attached) == 1 else None
    except Exception:  # pypdf raises many kinds on damaged files; what it cannot read is simply absent
        return None, None, None
    return (
        normalise(code) if isinstance(code, str) else None,
        version[:32] if isinstance(version, str) else None,
        digest,
    )


def read_file(data: bytes, trust_roots: Sequence[asn1_x509.Certificate]) -> FileFindings:
    """What ``data`` shows about itself. Raises UnsupportedMediaType (not a PDF) or InvalidInput
    ``empty_file`` / ``truncated_pdf``; any other damage only shows in the findings."""
    _check_shape(data)
    code, version, attached = _document_info(data)
    return FileFindings(
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        claimed_code=code,
        claimed_version_id=version,
        attached_sha256=attached,
        seal=_seal(data, trust_roots),
    )


def judge(
    findings: FileFindings, *, record_sha256: str | None, record_document_sha256: str | None
) -> Judgement:
    """The verdict on a file against the record it matched (by its hash, else by its claimed code), if any:
    that record's ``sealed_sha256`` and ``document_sha256``."""
    problems: list[Problem] = []
    if record_sha256 is None:
        problems.append(Problem.NOT_ON_RECORD)
    elif record_sha256 != findings.sha256:
        problems.append(Problem.FILE_CHANGED)
    seal = findings.seal
    if seal.count == 0:
        problems.append(Problem.SEAL_MISSING)
    elif seal.count > 1:
        problems.append(Problem.EXTRA_SIGNATURES)
    else:
        if not seal.valid:
            problems.append(Problem.SEAL_BROKEN)
        if not seal.trusted:
            problems.append(Problem.SEAL_UNTRUSTED)
        if not seal.whole_file:
            problems.append(Problem.CHANGED_AFTER_SEALING)
    if record_document_sha256 is not None and findings.attached_sha256 != record_document_sha256:
        problems.append(Problem.DOCUMENT_HASH_MISMATCH)
    if not problems:
        return Judgement(Verdict.INTACT, ())
    ours = record_sha256 is not None or (seal.count == 1 and seal.trusted)
    return Judgement(Verdict.ALTERED if ours else Verdict.UNKNOWN, tuple(problems))
