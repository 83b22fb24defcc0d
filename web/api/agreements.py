"""Routes: a case's mediation agreement — its draft, its versions, freezing to PDF, the frozen PDF, and an
offline agreement uploaded as a PDF. Authorised like the case (404 outside its scope); within it, only the
mediator drafts and the court and the mediator read (403 for others)."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from agreements import service
from agreements.access import AgreementAction, ensure
from agreements.pdf import DEFAULT_FONT
from agreements.schemas import AgreementOut, FreezeIn, VersionOut
from agreements.tables import AgreementVersion
from agreements.text import AgreementContent
from agreements.versions import VersionStatus
from cases.access import load_case
from store.files import FileStore
from tiaojie.errors import NotFound
from web.router import ApiCall, ApiRouter
from web.uploads import file_part

__all__ = ["pdf_response", "register"]

_BASE = "/cases/{case_id}/agreement"


def _font(call: ApiCall) -> Path:
    return call.services.settings.render_font or DEFAULT_FONT


def pdf_response(files: FileStore, case_id: str, row: AgreementVersion) -> web.FileResponse:
    """A frozen (or superseded) version's PDF with its hash; 404 ``not_frozen`` for a draft."""
    if row.pdf_key is None or row.status == VersionStatus.DRAFT:
        raise NotFound("this version is a draft: it has no PDF yet", code="not_frozen")
    return web.FileResponse(
        files.path(row.pdf_key),
        headers={
            "Content-Type": "application/pdf",
            "Content-Disposition": f'attachment; filename="agreement-{case_id}-v{row.number}.pdf"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
            "X-Content-SHA256": row.pdf_sha256 or "",
        },
    )


def register(api: ApiRouter) -> None:
    tags = ["agreements"]

    @api.route(
        "GET", _BASE, summary="The agreement's versions", tags=tags, response=AgreementOut, errors=(403, 404)
    )
    async def get_agreement(call: ApiCall) -> AgreementOut:
        """Every version, oldest first (draft, frozen or superseded); `current` is the latest. The court and
        the mediator of the case."""
        case = await load_case(call.session, call.principal, call.path["case_id"])
        return await service.agreement_out(call.session, call.principal, case)

    @api.route(
        "GET",
        _BASE + "/prefill",
        summary="A first draft from the case",
        tags=tags,
        response=AgreementContent,
        errors=(403, 404),
    )
    async def prefill_agreement(call: ApiCall) -> AgreementContent:
        """The labor template filled from the case (its summary, claims and amount); nothing is stored.
        The mediator of the case."""
        case = await load_case(call.session, call.principal, call.path["case_id"])
        return await service.prefilled(call.session, call.principal, case)

    @api.route(
        "PUT",
        _BASE + "/draft",
        summary="Save the draft",
        tags=tags,
        body=AgreementContent,
        response=VersionOut,
        errors=(403, 404, 409, 422),
    )
    async def save_agreement_draft(call: ApiCall) -> VersionOut:
        """Changes the latest draft (its `revision` goes up), or starts a new version when the latest is
        frozen (which is then superseded: its signatures no longer count). The parties' basic information
        is taken from the case each time. Incomplete drafts are saved; `problems` says what is missing.
        The mediator of the case, while it is under mediation (409 `case_not_in_mediation`)."""
        case = await load_case(call.session, call.principal, call.path["case_id"], for_update=True)
        row = await service.save_draft(
            call.session, call.services.cases, call.principal, case, call.body_as(AgreementContent)
        )
        return service.version_out(row, call.services.cases)

    @api.route(
        "GET",
        _BASE + "/versions/{version_id}",
        summary="One agreement version",
        tags=tags,
        response=VersionOut,
        errors=(403, 404),
    )
    async def get_agreement_version(call: ApiCall) -> VersionOut:
        """The version with its text (null for an uploaded PDF) and, for a draft, its `problems`."""
        case = await load_case(call.session, call.principal, call.path["case_id"])
        ensure(call.principal, AgreementAction.READ, case)
        row = await service.find_version(call.session, case, call.path["version_id"])
        return service.version_out(row, call.services.cases)

    @api.route(
        "POST",
        _BASE + "/versions/{version_id}/freeze",
        summary="Freeze the draft to PDF",
        tags=tags,
        body=FreezeIn,
        response=VersionOut,
        errors=(403, 404, 409, 422),
    )
    async def freeze_agreement(call: ApiCall) -> VersionOut:
        """Renders the latest draft to PDF (deterministic: the same version gives the same bytes) and stores
        it with its SHA-256, which every signature binds to. `revision` must be the draft's current one
        (409 `stale_revision`); only the latest draft freezes (409 `version_not_draft`); an incomplete text is
        refused (422 `agreement_incomplete` with `problems`)."""
        case = await load_case(call.session, call.principal, call.path["case_id"], for_update=True)
        ensure(call.principal, AgreementAction.DRAFT, case)
        row = await service.find_version(call.session, case, call.path["version_id"])
        row = await service.freeze(
            call.session,
            call.services.cases,
            call.principal,
            case,
            row,
            revision=call.body_as(FreezeIn).revision,
            font=_font(call),
        )
        return service.version_out(row, call.services.cases)

    @api.route(
        "GET",
        _BASE + "/versions/{version_id}/pdf",
        summary="Download a frozen version's PDF",
        tags=tags,
        raw_response="application/pdf",
        errors=(403, 404),
    )
    async def download_agreement_pdf(call: ApiCall) -> web.StreamResponse:
        """The frozen (or superseded) version's PDF; header `X-Content-SHA256` is its hash. 404
        `not_frozen` for a draft. The court and the mediator of the case."""
        case = await load_case(call.session, call.principal, call.path["case_id"])
        ensure(call.principal, AgreementAction.READ, case)
        row = await service.find_version(call.session, case, call.path["version_id"])
        return pdf_response(call.services.files, case.id, row)

    @api.route(
        "POST",
        _BASE + "/uploads",
        summary="Upload an agreement reached offline",
        tags=tags,
        response=VersionOut,
        status=201,
        multipart=True,
        errors=(403, 404, 409, 413, 415, 422),
    )
    async def upload_agreement(call: ApiCall) -> VersionOut:
        """multipart/form-data with one `file` part: a complete PDF (`application/pdf`, starting `%PDF-`,
        ending with `%%EOF`), within the upload size limit. Stored as a new frozen version; the latest
        version, if any, is superseded. The mediator of the case, while it is under mediation."""
        case = await load_case(call.session, call.principal, call.path["case_id"], for_update=True)
        # The body's shape first, like a JSON body's.
        _, content_type, chunks = await file_part(call.request, call.services.settings.max_upload_bytes)
        ensure(call.principal, AgreementAction.DRAFT, case)
        row = await service.upload(
            call.session, call.services.cases, call.principal, case, content_type=content_type, chunks=chunks
        )
        return service.version_out(row, call.services.cases)
