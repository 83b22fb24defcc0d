"""Routes: a case's recordings — metadata and manifest, verification, playback rendering, downloads.

Recordings are confidential (OMR 29; SIM 2): only the court of the case and the mediator handling it see
them, and every download, stream and verification is written to the audit trail with who asked. Files are
served with HTTP Range (aiohttp's FileResponse), so a browser can seek in the playback file.
"""

from __future__ import annotations

import asyncio
from urllib.parse import quote

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cases import audit
from cases.access import Action, ensure, load_case
from cases.tables import Case
from recordings.jobs import PLAYBACK_FILE, RenderStatus, request_render
from recordings.schemas import ProblemOut, RecordingOut, RenderOut, SegmentQuery, VerifyOut
from recordings.service import RecordingStatus, recording_directory, verify
from recordings.tables import Recording
from tiaojie.errors import Conflict, NotFound
from tiaojie.ids import is_id
from web.router import ApiCall, ApiRouter

__all__ = ["register"]


def recording_out(recording: Recording, *, with_manifest: bool = False) -> RecordingOut:
    return RecordingOut(
        id=recording.id,
        case_id=recording.case_id,
        session_id=recording.session_id,
        part=recording.part,
        label=recording.label,
        status=recording.status,
        started_at=recording.started_at,
        ended_at=recording.ended_at,
        duration_ms=recording.duration_ms,
        bytes=recording.bytes,
        manifest_sha256=recording.manifest_sha256,
        note=recording.note,
        retain_until=recording.retain_until,
        render=RenderOut(
            status=recording.render_status,
            progress=recording.render_progress,
            bytes=recording.render_bytes,
            sha256=recording.render_sha256,
            error=recording.render_error,
            updated_at=recording.render_updated_at,
        ),
        manifest=recording.manifest if with_manifest else None,
    )


async def _readable(call: ApiCall, action: Action = Action.READ_RECORDING) -> tuple[Case, Recording]:
    case = await load_case(call.session, call.principal, call.path["case_id"])
    ensure(call.principal, action, case)
    recording_id = call.path["recording_id"]
    recording = await call.session.get(Recording, recording_id) if is_id(recording_id, "rec") else None
    if recording is None or recording.case_id != case.id or recording.status == RecordingStatus.DELETED:
        raise NotFound("recording not found", resource="recording")
    return case, recording


async def _audit(call: ApiCall, recording: Recording, action: str, **data: object) -> None:
    """Who looked at a confidential recording. A GET runs in a read-only session, so its entry gets a small
    transaction of its own; other methods write it with the request's own changes."""

    async def write(session: AsyncSession) -> None:
        await audit.record(
            session,
            actor=call.principal,
            at=call.services.clock.now(),
            subject_type="recording",
            subject_id=recording.id,
            case_id=recording.case_id,
            action=action,
            data=dict(data),
        )

    if call.request.method != "GET":
        await write(call.session)
        return
    async with call.services.db.session() as session:
        await write(session)


def _file(path: object, *, content_type: str, filename: str, sha256: str | None) -> web.FileResponse:
    headers = {
        "Content-Type": content_type,
        "Content-Disposition": f"inline; filename*=UTF-8''{quote(filename)}",
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-store",
    }
    if sha256:
        headers["X-Content-SHA256"] = sha256
    return web.FileResponse(path, headers=headers)  # type: ignore[arg-type]


def register(api: ApiRouter) -> None:
    tags = ["recordings"]

    @api.route(
        "GET",
        "/cases/{case_id}/recordings",
        summary="List a case's recordings",
        tags=tags,
        response=list[RecordingOut],
        errors=(403, 404),
    )
    async def list_recordings(call: ApiCall) -> list[RecordingOut]:
        """Every recorded part of every session of the case (caucus parts separately), newest first."""
        case = await load_case(call.session, call.principal, call.path["case_id"])
        ensure(call.principal, Action.READ_RECORDING, case)
        rows = await call.session.scalars(
            select(Recording)
            .where(Recording.case_id == case.id, Recording.status != RecordingStatus.DELETED)
            .order_by(Recording.started_at.desc(), Recording.id)
        )
        return [recording_out(r) for r in rows]

    @api.route(
        "GET",
        "/cases/{case_id}/recordings/{recording_id}",
        summary="A recording with its manifest",
        tags=tags,
        response=RecordingOut,
        errors=(403, 404),
    )
    async def get_recording(call: ApiCall) -> RecordingOut:
        _, recording = await _readable(call)
        return recording_out(recording, with_manifest=True)

    @api.route(
        "POST",
        "/cases/{case_id}/recordings/{recording_id}/verify",
        summary="Check a recording's files against its sealed manifest",
        tags=tags,
        response=VerifyOut,
        errors=(403, 404, 409),
    )
    async def verify_recording(call: ApiCall) -> VerifyOut:
        """Reads every file and compares its size and SHA-256 with the manifest, and the manifest with the
        digest stored when the recording was sealed. ``intact`` is false on any difference."""
        _, recording = await _readable(call)
        if recording.manifest_sha256 is None:
            raise Conflict("the recording is still being made", code="recording_not_sealed")
        problems = await asyncio.to_thread(verify, recording, call.services.settings.effective_media_dir)
        await _audit(call, recording, "recording_verified", intact=not problems, problems=len(problems))
        return VerifyOut(
            intact=not problems,
            manifest_sha256=recording.manifest_sha256,
            problems=[ProblemOut(kind=p.kind.value, file=p.file) for p in problems],
            checked_at=call.services.clock.now(),
        )

    @api.route(
        "POST",
        "/cases/{case_id}/recordings/{recording_id}/render",
        summary="Ask for the playback rendering",
        tags=tags,
        response=RecordingOut,
        status=202,
        errors=(403, 404, 409),
    )
    async def render_recording(call: ApiCall) -> RecordingOut:
        """Queues the rendering of one watchable file (grid of participants, mixed audio, timestamps); its
        progress shows in ``render``. Asking again while it is queued, running or ready changes nothing;
        after a failure it is tried again."""
        _, recording = await _readable(call, Action.RENDER_RECORDING)
        if await request_render(call.session, recording, call.services.clock.now()):
            await _audit(call, recording, "render_requested")
        call.services.renders.wake()
        return recording_out(recording)

    @api.route(
        "GET",
        "/cases/{case_id}/recordings/{recording_id}/playback",
        summary="Stream or download the playback rendering (MP4, HTTP Range)",
        tags=tags,
        raw_response="video/mp4",
        errors=(403, 404, 409),
    )
    async def playback(call: ApiCall) -> web.StreamResponse:
        _, recording = await _readable(call)
        if recording.render_status != RenderStatus.READY or recording.render_file is None:
            raise Conflict("the playback rendering is not ready", code="render_not_ready")
        path = call.services.settings.effective_media_dir / recording.render_file
        if not path.is_file():
            raise NotFound("the playback file is gone", resource="playback")
        await _audit(call, recording, "recording_played", range=call.request.headers.get("Range"))
        return _file(
            path,
            content_type="video/mp4",
            filename=f"{recording.id}-{PLAYBACK_FILE}",
            sha256=recording.render_sha256,
        )

    @api.route(
        "GET",
        "/cases/{case_id}/recordings/{recording_id}/tracks/{track_id}",
        summary="Download one segment of a recorded track (WebM, as recorded)",
        tags=tags,
        query=SegmentQuery,
        raw_response="video/webm",
        errors=(403, 404),
    )
    async def segment(call: ApiCall) -> web.StreamResponse:
        """The original stream-copied file, as listed in the manifest with its SHA-256."""
        _, recording = await _readable(call)
        index = call.query_as(SegmentQuery).index
        track_id = call.path["track_id"]
        manifest = recording.manifest or {}
        directory = recording_directory(call.services.settings.effective_media_dir, recording)
        for track in manifest.get("tracks", []):
            if track.get("id") != track_id:
                continue
            for item in track.get("segments", []):
                if item.get("index") == index:
                    path = directory / item["file"]
                    if not path.is_file():
                        raise NotFound("the segment file is gone", resource="segment")
                    await _audit(call, recording, "recording_downloaded", file=item["file"])
                    content_type = "audio/webm" if track.get("kind") == "audio" else "video/webm"
                    return _file(
                        path, content_type=content_type, filename=item["file"], sha256=item.get("sha256")
                    )
        raise NotFound("no such segment in this recording", resource="segment")
