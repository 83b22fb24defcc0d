"""Routes: a session's electronic transcript — its versions, one version, and the locked version with its
hash. Authorised like the case (its court, its mediator, its union); outside that scope it does not exist."""

from __future__ import annotations

from cases.access import load_case
from rooms.tables import MediationSession
from tiaojie.errors import NotFound
from tiaojie.ids import is_id
from transcripts import service
from transcripts.model import VersionStatus
from transcripts.schemas import TranscriptOut, VersionOut
from transcripts.tables import TranscriptVersion
from web.router import ApiCall, ApiRouter

__all__ = ["register"]

_BASE = "/cases/{case_id}/sessions/{session_id}/transcript"


async def _session(call: ApiCall) -> MediationSession:
    case = await load_case(call.session, call.principal, call.path["case_id"])
    session_id = call.path["session_id"]
    ms = await call.session.get(MediationSession, session_id) if is_id(session_id, "ses") else None
    if ms is None or ms.case_id != case.id:
        raise NotFound("session not found", resource="session")
    return ms


def register(api: ApiRouter) -> None:
    tags = ["sessions"]

    @api.route(
        "GET",
        _BASE,
        summary="A session's transcript versions",
        tags=tags,
        response=TranscriptOut,
        errors=(404,),
    )
    async def list_versions(call: ApiCall) -> TranscriptOut:
        """Every saved version with its status (saved, in_review, disputed, locked); the locked one carries
        its SHA-256."""
        ms = await _session(call)
        return await service.transcript_out(call.session, ms.id)

    @api.route(
        "GET",
        _BASE + "/versions/{version_id}",
        summary="One transcript version",
        tags=tags,
        response=VersionOut,
        errors=(404,),
    )
    async def get_version(call: ApiCall) -> VersionOut:
        """The version (by the `id` in the list) with its entries (speaker, text, time, undisputed), its
        reviewers and their reviews."""
        ms = await _session(call)
        row = await call.session.get(TranscriptVersion, call.path["version_id"])
        if row is None or row.session_id != ms.id:
            raise NotFound(
                "no such transcript version", code="unknown_version", resource="transcript_version"
            )
        return await service.version_out(call.session, row)

    @api.route(
        "GET",
        _BASE + "/locked",
        summary="The confirmed, locked transcript and its hash",
        tags=tags,
        response=VersionOut,
        errors=(404,),
    )
    async def get_locked(call: ApiCall) -> VersionOut:
        """The version every party confirmed. `sha256` is over its canonical encoding (docs/api.md), so
        anyone holding this answer can check it. 404 `transcript_not_locked` before that."""
        ms = await _session(call)
        for row in await service.versions(call.session, ms.id):
            if row.status == VersionStatus.LOCKED:
                return await service.version_out(call.session, row)
        raise NotFound("the transcript has not been confirmed yet", code="transcript_not_locked")
