"""The sealed document: the agreement's own pages, the signature page, the completion certificate, the
original file attached, and the service's PAdES signature over the whole file. No I/O.

Steps (:func:`build_sealed`):

1. :func:`assemble` — a new PDF (pypdf) with the frozen version's pages unchanged (they may come from an
   uploaded PDF of any producer, so pages are merged, not re-rendered), then the pages of
   :func:`agreements.certificate.render_pages`; the frozen file itself as an embedded file (the exact
   bytes every signature bound to, so its SHA-256 can be checked from the sealed file alone); and in the
   document information the verification code, the version id and the document's SHA-256 (the keys in
   :data:`META_CODE`, :data:`META_VERSION`, :data:`META_DOCUMENT`). Deterministic: same inputs, same bytes.
2. :func:`sign` — pyHanko appends a certifying PAdES B-B signature (ETSI.CAdES.detached, SHA-256, DocMDP
   "no changes") made with the service's key, its certificate chain embedded. The signature covers every
   byte of the file; any later change, including an incremental update, breaks it.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.sign import fields, signers
from pyhanko.sign.general import SigningError
from pyhanko_certvalidator.registry import SimpleCertificateStore
from pypdf import PdfReader, PdfWriter
from pypdf.errors import PyPdfError

from agreements.certificate import SealFacts, render_pages
from agreements.evidence import Evidence
from agreements.seal_keys import SealKeys
from tiaojie.errors import InvalidInput

__all__ = [
    "ATTACHMENT_NAME",
    "FIELD_NAME",
    "META_CODE",
    "META_DOCUMENT",
    "META_VERSION",
    "assemble",
    "build_sealed",
    "sign",
]

FIELD_NAME = "TiaojieSeal"
ATTACHMENT_NAME = "agreement.pdf"
META_CODE = "/TiaojieVerificationCode"
META_VERSION = "/TiaojieVersionId"
META_DOCUMENT = "/TiaojieDocumentSHA256"


def _pdf_date(moment: datetime) -> str:
    return f"D:{moment.astimezone(UTC):%Y%m%d%H%M%S}Z"


def assemble(evidence: Evidence, facts: SealFacts, *, font: Path) -> bytes:
    """The unsigned sealed document (step 1). Raises InvalidInput ``unreadable_agreement`` when the frozen
    PDF cannot be read or is encrypted."""
    extra = render_pages(evidence, facts, font=font)
    writer = PdfWriter()
    try:
        original = PdfReader(io.BytesIO(evidence.document_pdf), strict=False)
        if original.is_encrypted:
            raise InvalidInput(
                "the agreement's PDF is encrypted: it cannot be sealed", code="unreadable_agreement"
            )
        writer.append(original, import_outline=False)
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
        raise InvalidInput(
            f"the agreement's PDF cannot be read: {exc.__class__.__name__}", code="unreadable_agreement"
        ) from exc
    writer.append(PdfReader(io.BytesIO(extra)), import_outline=False)
    writer.add_attachment(ATTACHMENT_NAME, evidence.document_pdf)
    writer.add_metadata(
        {
            "/Title": f"调解协议书（已封存） {evidence.case_number} 第{evidence.version_number}版",
            "/Producer": "tiaojie",
            "/Creator": "tiaojie",
            "/CreationDate": _pdf_date(facts.sealed_at),
            "/ModDate": _pdf_date(facts.sealed_at),
            META_CODE: facts.code,
            META_VERSION: evidence.version_id,
            META_DOCUMENT: evidence.document_sha256,
        }
    )
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def sign(unsigned: bytes, keys: SealKeys, *, reason: str, location: str) -> bytes:
    """The document with the service's certifying PAdES B-B signature appended (step 2)."""
    registry = SimpleCertificateStore()  # type: ignore[no-untyped-call]
    registry.register_multiple(keys.chain)
    signer = signers.SimpleSigner(signing_cert=keys.cert, signing_key=keys.key, cert_registry=registry)
    meta = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        certify=True,
        docmdp_permissions=fields.MDPPerm.NO_CHANGES,
        reason=reason,
        location=location,
    )
    try:
        writer = IncrementalPdfFileWriter(io.BytesIO(unsigned), strict=False)
        out = signers.sign_pdf(writer, meta, signer=signer)
    except (PdfError, SigningError) as exc:
        raise InvalidInput(f"the document could not be sealed: {exc}", code="sealing_failed") from exc
    data: bytes = out.getvalue()
    return data


def build_sealed(evidence: Evidence, facts: SealFacts, keys: SealKeys, *, font: Path) -> bytes:
    """The sealed PDF of ``evidence``: assembled, then signed. CPU-bound: run it in a thread."""
    unsigned = assemble(evidence, facts, font=font)
    return sign(
        unsigned,
        keys,
        reason=f"调解协议封存 Sealed mediation agreement {evidence.case_number} v{evidence.version_number}; "
        f"verification code {facts.code}",
        location=evidence.court_name or "tiaojie",
    )
