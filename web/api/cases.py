"""Routes: mediation cases, their assignment, course, materials and audit trail."""

from __future__ import annotations

from urllib.parse import quote

from aiohttp import BodyPartReader, web
from aiohttp.http_exceptions import HttpProcessingError
from pydantic import BaseModel, Field
from sqlalchemy import select

from cases import assignment, intake, progress
from cases.access import Action, ensure, load_case, sees_case
from cases.audit import events_for
from cases.queries import CaseDetail, case_detail, case_page, party_records
from cases.schemas import (
    AcceptIn,
    AssignIn,
    AuditEventOut,
    CaseCreate,
    CaseListQuery,
    CaseOut,
    CaseSummaryOut,
    ChangeDecisionIn,
    ChangeRequestIn,
    ChangeRequestOut,
    DeclineIn,
    DisclosureConsentIn,
    DisclosureIn,
    DisclosureOut,
    ExtensionIn,
    ExtensionOut,
    MaterialOut,
    Page,
    PauseIn,
    PauseOut,
    ResumeIn,
    TerminateIn,
)
from cases.tables import Case, ChangeRequest, Disclosure, Extension, Material
from cases.views import case_json, case_view, summary_json
from cases.workflow import pauses_of
from tiaojie.errors import InvalidInput, NotFound, PayloadTooLarge, UnsupportedMediaType
from web.api.pages import json_page
from web.router import ApiCall, ApiRouter, Json
from web.uploads import file_chunks

__all__ = ["register"]


class MaterialUpload(BaseModel):
    """multipart/form-data: an optional `description` field, then the `file` part."""

    description: str | None = Field(None, max_length=500)
    file: bytes = Field(json_schema_extra={"format": "binary"})


async def _case(call: ApiCall, *, for_update: bool = False) -> Case:
    return await load_case(call.session, call.principal, call.path["case_id"], for_update=for_update)


async def _view(call: ApiCall, case: Case) -> Json:
    await call.session.flush()
    return Json(await case_view(call.session, case, call.principal, call.services.cases))


def register(api: ApiRouter) -> None:
    tags = ["cases"]
    env_errors = (403, 404, 409, 422)

    @api.route(
        "POST",
        "/cases",
        summary="Create a mediation case",
        tags=tags,
        body=CaseCreate,
        response=CaseOut,
        status=201,
        idempotent=True,
        errors=(403, 409, 422),
    )
    async def create_case(call: ApiCall) -> Json:
        """A court delegates (委派) or entrusts (委托) a labor dispute, with its parties. Send an
        `Idempotency-Key` header so that a retry returns the first result instead of a second case."""
        case, parties = await intake.create_case_with_parties(
            call.session, call.services.cases, call.principal, call.body_as(CaseCreate)
        )
        # Everything the view shows was just written: no need to read it back.
        detail = CaseDetail(case, party_records(parties), assignment=None, pauses=[])
        return Json(case_json(detail, call.principal, call.services.cases))

    @api.route(
        "GET",
        "/cases",
        summary="List cases",
        tags=tags,
        query=CaseListQuery,
        response=Page[CaseSummaryOut],
        rows=True,
        cached=True,
    )
    async def list_cases_route(call: ApiCall) -> Json:
        """Newest first. Personal data is masked except for the court and the mediator handling a case.
        `deadline=overdue|due_soon|due_today` finds mediation periods; `acceptance_overdue` unanswered
        assignments."""
        query = call.query_as(CaseListQuery)
        env = call.services.cases
        found = await case_page(call.rows, call.principal, env, query)
        return Json(
            json_page(
                found.cases,
                query.limit,
                lambda c: summary_json(c, found.parties[c.id], call.principal, env),
                lambda c: c.id,
            )
        )

    @api.route(
        "GET",
        "/cases/{case_id}",
        summary="Get a case",
        tags=tags,
        response=CaseOut,
        errors=(404,),
        rows=True,
        cached=True,
    )
    async def get_case(call: ApiCall) -> Json:
        detail = await case_detail(call.rows, call.path["case_id"])
        if detail is None or not sees_case(call.principal, detail.case):
            raise NotFound("case not found", resource="case")
        return Json(case_json(detail, call.principal, call.services.cases))

    @api.route(
        "GET",
        "/cases/{case_id}/events",
        summary="The case's audit trail",
        tags=tags,
        response=list[AuditEventOut],
        errors=(404,),
    )
    async def case_events(call: ApiCall) -> list[AuditEventOut]:
        """Append-only: every change with actor, time, from → to state and reason."""
        case = await _case(call)
        return [AuditEventOut.model_validate(e) for e in await events_for(call.session, case_id=case.id)]

    @api.route(
        "POST",
        "/cases/{case_id}/assignment",
        summary="Assign a mediator",
        tags=tags,
        body=AssignIn,
        response=CaseOut,
        errors=env_errors,
    )
    async def assign_mediator(call: ApiCall) -> Json:
        """The court designates a confirmed roster mediator, or records the parties' joint choice. The
        mediator or organisation must answer within 3 working days."""
        case = await _case(call, for_update=True)
        await assignment.assign(
            call.session, call.services.cases, call.principal, case, call.body_as(AssignIn)
        )
        return await _view(call, case)

    @api.route(
        "POST",
        "/cases/{case_id}/accept",
        summary="Accept the assignment",
        tags=tags,
        body=AcceptIn,
        response=CaseOut,
        errors=env_errors,
    )
    async def accept_case(call: ApiCall) -> Json:
        """The mediation period starts on acceptance (30 days 委派; 15 or 7 days 委托)."""
        case = await _case(call, for_update=True)
        await assignment.accept(
            call.session, call.services.cases, call.principal, case, call.body_as(AcceptIn).note
        )
        return await _view(call, case)

    @api.route(
        "POST",
        "/cases/{case_id}/decline",
        summary="Decline the assignment",
        tags=tags,
        body=DeclineIn,
        response=CaseOut,
        errors=env_errors,
    )
    async def decline_case(call: ApiCall) -> Json:
        """In writing with reasons (OMR 12); the case goes back to the court for reassignment."""
        case = await _case(call, for_update=True)
        await assignment.decline(
            call.session, call.services.cases, call.principal, case, call.body_as(DeclineIn).reason
        )
        return await _view(call, case)

    @api.route(
        "POST",
        "/cases/{case_id}/begin",
        summary="Begin mediation",
        tags=tags,
        response=CaseOut,
        errors=env_errors,
    )
    async def begin_case(call: ApiCall) -> Json:
        case = await _case(call, for_update=True)
        await progress.begin_mediation(call.session, call.services.cases, call.principal, case)
        return await _view(call, case)

    @api.route(
        "POST",
        "/cases/{case_id}/suspend",
        summary="Suspend (appraisal, suspected false mediation)",
        tags=tags,
        body=PauseIn,
        response=CaseOut,
        errors=env_errors,
    )
    async def suspend_case(call: ApiCall) -> Json:
        """Time suspended is excluded from the mediation period."""
        case = await _case(call, for_update=True)
        await progress.suspend(call.session, call.services.cases, call.principal, case, call.body_as(PauseIn))
        return await _view(call, case)

    @api.route(
        "POST",
        "/cases/{case_id}/resume",
        summary="Resume after a suspension",
        tags=tags,
        body=ResumeIn,
        response=CaseOut,
        errors=env_errors,
    )
    async def resume_case(call: ApiCall) -> Json:
        case = await _case(call, for_update=True)
        await progress.resume(
            call.session, call.services.cases, call.principal, case, call.body_as(ResumeIn).note
        )
        return await _view(call, case)

    @api.route(
        "GET",
        "/cases/{case_id}/pauses",
        summary="Suspensions and mediator-change pauses",
        tags=tags,
        response=list[PauseOut],
        errors=(404,),
    )
    async def list_pauses(call: ApiCall) -> list[PauseOut]:
        case = await _case(call)
        return [PauseOut.model_validate(p) for p in await pauses_of(call.session, case.id)]

    @api.route(
        "POST",
        "/cases/{case_id}/extensions",
        summary="Extend the mediation period",
        tags=tags,
        body=ExtensionIn,
        response=ExtensionOut,
        status=201,
        errors=env_errors,
    )
    async def extend_case(call: ApiCall) -> ExtensionOut:
        """Needs the recorded consent of every party (OMR 24)."""
        case = await _case(call, for_update=True)
        extension = await progress.extend(
            call.session, call.services.cases, call.principal, case, call.body_as(ExtensionIn)
        )
        return ExtensionOut.model_validate(extension)

    @api.route(
        "GET",
        "/cases/{case_id}/extensions",
        summary="List extensions",
        tags=tags,
        response=list[ExtensionOut],
        errors=(404,),
    )
    async def list_extensions(call: ApiCall) -> list[ExtensionOut]:
        case = await _case(call)
        rows = await call.session.scalars(
            select(Extension).where(Extension.case_id == case.id).order_by(Extension.id)
        )
        return [ExtensionOut.model_validate(e) for e in rows]

    @api.route(
        "POST",
        "/cases/{case_id}/terminate",
        summary="Terminate the mediation",
        tags=tags,
        body=TerminateIn,
        response=CaseOut,
        errors=env_errors,
    )
    async def terminate_case(call: ApiCall) -> Json:
        """With exactly one OMR 25 reason code."""
        case = await _case(call, for_update=True)
        await progress.terminate(
            call.session, call.services.cases, call.principal, case, call.body_as(TerminateIn)
        )
        return await _view(call, case)

    @api.route(
        "POST",
        "/cases/{case_id}/disclosures",
        summary="Disclose a possible conflict",
        tags=tags,
        body=DisclosureIn,
        response=DisclosureOut,
        status=201,
        errors=env_errors,
    )
    async def create_disclosure(call: ApiCall) -> DisclosureOut:
        """OMR 13: the mediator continues only with the parties' consent."""
        case = await _case(call)
        disclosure = await assignment.disclose(
            call.session, call.services.cases, call.principal, case, call.body_as(DisclosureIn)
        )
        return DisclosureOut.model_validate(disclosure)

    @api.route(
        "GET",
        "/cases/{case_id}/disclosures",
        summary="List disclosures",
        tags=tags,
        response=list[DisclosureOut],
        errors=(404,),
    )
    async def list_disclosures(call: ApiCall) -> list[DisclosureOut]:
        case = await _case(call)
        rows = await call.session.scalars(
            select(Disclosure).where(Disclosure.case_id == case.id).order_by(Disclosure.id)
        )
        return [DisclosureOut.model_validate(d) for d in rows]

    @api.route(
        "POST",
        "/cases/{case_id}/disclosures/{disclosure_id}/consents",
        summary="Record a party's answer to a disclosure",
        tags=tags,
        body=DisclosureConsentIn,
        response=DisclosureOut,
        errors=env_errors,
    )
    async def disclosure_consent(call: ApiCall) -> DisclosureOut:
        case = await _case(call)
        disclosure = await assignment.record_disclosure_consent(
            call.session,
            call.services.cases,
            call.principal,
            case,
            call.path["disclosure_id"],
            call.body_as(DisclosureConsentIn),
        )
        return DisclosureOut.model_validate(disclosure)

    @api.route(
        "POST",
        "/cases/{case_id}/change-requests",
        summary="Request recusal or another mediator",
        tags=tags,
        body=ChangeRequestIn,
        response=ChangeRequestOut,
        status=201,
        errors=env_errors,
    )
    async def create_change_request(call: ApiCall) -> ChangeRequestOut:
        """Recorded for a party by the court or the mediator (OMR 14)."""
        case = await _case(call)
        request = await assignment.request_change(
            call.session, call.services.cases, call.principal, case, call.body_as(ChangeRequestIn)
        )
        return ChangeRequestOut.model_validate(request)

    @api.route(
        "GET",
        "/cases/{case_id}/change-requests",
        summary="List change requests",
        tags=tags,
        response=list[ChangeRequestOut],
        errors=(404,),
    )
    async def list_change_requests(call: ApiCall) -> list[ChangeRequestOut]:
        case = await _case(call)
        rows = await call.session.scalars(
            select(ChangeRequest).where(ChangeRequest.case_id == case.id).order_by(ChangeRequest.id)
        )
        return [ChangeRequestOut.model_validate(r) for r in rows]

    @api.route(
        "POST",
        "/cases/{case_id}/change-requests/{request_id}/decision",
        summary="Decide a change request",
        tags=tags,
        body=ChangeDecisionIn,
        response=ChangeRequestOut,
        errors=env_errors,
    )
    async def decide_change_request(call: ApiCall) -> ChangeRequestOut:
        """The organisation or the court decides; a granted request returns the case for reassignment."""
        case = await _case(call, for_update=True)
        request = await assignment.decide_change(
            call.session,
            call.services.cases,
            call.principal,
            case,
            call.path["request_id"],
            call.body_as(ChangeDecisionIn),
        )
        return ChangeRequestOut.model_validate(request)

    @api.route(
        "POST",
        "/cases/{case_id}/materials",
        summary="Upload a material",
        tags=tags,
        body=None,
        response=MaterialOut,
        status=201,
        multipart=True,
        errors=(403, 404, 413, 415, 422),
    )
    async def upload_material(call: ApiCall) -> MaterialOut:
        """multipart/form-data with an optional `description` field, then one `file` part. Size and type are
        limited by configuration; the content must match the declared type. Stored with its SHA-256."""
        case = await _case(call)
        ensure(call.principal, Action.UPLOAD_MATERIAL, case)
        request = call.request
        settings = call.services.settings
        if request.content_type != "multipart/form-data":
            raise UnsupportedMediaType("send the file as multipart/form-data")
        if request.content_length is not None and request.content_length > settings.max_upload_bytes + 65536:
            raise PayloadTooLarge(f"files are limited to {settings.max_upload_bytes} bytes")
        try:
            reader = await request.multipart()
        except (AssertionError, ValueError, KeyError):
            raise InvalidInput("malformed multipart body", code="malformed_multipart") from None
        description: str | None = None
        try:
            while True:
                part = await reader.next()
                if part is None:
                    raise InvalidInput("the upload has no `file` part", field="file", code="required")
                if not isinstance(part, BodyPartReader):
                    raise InvalidInput("nested multipart is not accepted", code="malformed_multipart")
                if part.name == "description":
                    text = (await _read_field(part, limit=2000)).decode("utf-8", "replace").strip()
                    if len(text) > 500:
                        raise InvalidInput("description is limited to 500 characters", field="description")
                    description = text or None
                    continue
                if part.name != "file":
                    raise InvalidInput(
                        f"unexpected form field {part.name!r}", code="unknown_field", field=part.name
                    )
                break
        except (ValueError, HttpProcessingError):  # HttpProcessingError: a part's headers are malformed
            raise InvalidInput("malformed multipart body", code="malformed_multipart") from None
        chunks = file_chunks(reader, part)

        material = await intake.upload_material(
            call.session,
            call.services.cases,
            call.principal,
            case,
            filename=part.filename or "file",
            content_type=part.headers.get("Content-Type", ""),
            chunks=chunks,
            description=description,
        )
        await call.session.flush()
        return MaterialOut.model_validate(material)

    @api.route(
        "GET",
        "/cases/{case_id}/materials",
        summary="List materials",
        tags=tags,
        response=list[MaterialOut],
        errors=(404,),
    )
    async def list_materials(call: ApiCall) -> list[MaterialOut]:
        case = await _case(call)
        rows = await call.session.scalars(
            select(Material).where(Material.case_id == case.id).order_by(Material.id)
        )
        return [MaterialOut.model_validate(m) for m in rows]

    @api.route(
        "GET",
        "/cases/{case_id}/materials/{material_id}",
        summary="Download a material",
        tags=tags,
        raw_response="application/octet-stream",
        errors=(403, 404),
    )
    async def download_material(call: ApiCall) -> web.StreamResponse:
        """Only the court and the mediator handling the case."""
        case = await _case(call)
        ensure(call.principal, Action.READ_MATERIAL, case)
        material = await call.session.get(Material, call.path["material_id"])
        if material is None or material.case_id != case.id:
            raise NotFound("material not found", resource="material")
        return material_response(call, material)


async def _read_field(part: BodyPartReader, *, limit: int) -> bytes:
    """A small form field, read no further than ``limit`` bytes (``part.read()`` would take any size)."""
    data = bytearray()
    while chunk := await part.read_chunk(4096):
        data.extend(chunk)
        if len(data) > limit:
            raise InvalidInput(f"form field {part.name} is too long", field=part.name)
    try:
        return bytes(part.decode(bytes(data)))
    except RuntimeError:  # an unknown Content-Transfer-Encoding or Content-Encoding
        raise InvalidInput(f"form field {part.name} has an unknown encoding", field=part.name) from None


def material_response(call: ApiCall, material: Material) -> web.FileResponse:
    path = call.services.files.path(material.storage_key)
    return web.FileResponse(
        path,
        headers={
            "Content-Type": material.content_type,
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(material.filename)}",
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
            "X-Content-SHA256": material.sha256,
        },
    )
