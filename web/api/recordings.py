"""Routes: a case's recordings — metadata and manifest, verification, playback rendering, downloads.

Recordings are confidential (OMR 29; SIM 2): only the court of the case and the mediator handling it see
them here (the parties see theirs through a link: :mod:`recordings.party_access`), and every download,
stream and verification is written to the audit trail with who asked. Files are served with HTTP Range
(aiohttp's FileResponse), so a browser can seek in the playback file.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.principal import Principal
from cases import audit
from cases.access import Action, ensure, load_case
from cases.tables import Case
from recordings.jobs import PLAYBACK_FILE, RenderStatus, request_render
from recordings.party_access import issue_links
from recordings.schemas import (
    PartyLinkOut,
    PartyLinksIn,
    ProblemOut,
    RecordingOut,
    RenderOut,
    SegmentQuery,
    VerifyOut,
)
from recordings.service import RecordingStatus, recording_directory, verify
from recordings.tables import Recording
from tiaojie.errors import Conflict, NotFound
from tiaojie.ids import is_id
from web.router import ApiCall, ApiRouter
from web.services import Services

__all__ = [
    "SegmentFile",
    "file_response",
    "find_recording",
    "playback_path",
    "queue_render",
    "record_look",
    "register",
    "segment_file",
    "verify_files_of",
]


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


async def find_recording(
    session: AsyncSession,
    actor: Principal,
    case_id: str,
    recording_id: str,
    action: Action = Action.READ_RECORDING,
    *,
    deleted: bool = False,
) -> tuple[Case, Recording]:
    """The recording of a case that ``actor`` may act on: 404 for a case they do not see or a recording not
    of that case, 403 when their role may not (the API and the console both ask here). A deleted recording is
    found only with ``deleted`` (its row and manifest stay; its files are gone)."""
    case = await load_case(session, actor, case_id)
    ensure(actor, action, case)
    recording = await session.get(Recording, recording_id) if is_id(recording_id, "rec") else None
    if (
        recording is None
        or recording.case_id != case.id
        or (recording.status == RecordingStatus.DELETED and not deleted)
    ):
        raise NotFound("recording not found", resource="recording")
    return case, recording


async def _readable(call: ApiCall, action: Action = Action.READ_RECORDING) -> tuple[Case, Recording]:
    return await find_recording(
        call.session, call.principal, call.path["case_id"], call.path["recording_id"], action
    )


async def record_look(
    session: AsyncSession, actor: Principal, at: datetime, recording: Recording, action: str, **data: object
) -> None:
    """Who looked at a confidential recording (played, downloaded, verified, asked for a rendering)."""
    await audit.record(
        session,
        actor=actor,
        at=at,
        subject_type="recording",
        subject_id=recording.id,
        case_id=recording.case_id,
        action=action,
        data=dict(data),
    )


async def _audit(call: ApiCall, recording: Recording, action: str, **data: object) -> None:
    """A GET runs in a read-only session, so its entry gets a small transaction of its own; other methods
    write it with the request's own changes."""
    now = call.services.clock.now()
    if call.request.method != "GET":
        await record_look(call.session, call.principal, now, recording, action, **data)
        return
    async with call.services.db.session() as session:
        await record_look(session, call.principal, now, recording, action, **data)


async def verify_files_of(
    session: AsyncSession, actor: Principal, services: Services, recording: Recording
) -> VerifyOut:
    """Check a sealed recording's files against its manifest (off the loop) and audit who checked."""
    if recording.manifest_sha256 is None:
        raise Conflict("the recording is still being made", code="recording_not_sealed")
    problems = await asyncio.to_thread(verify, recording, services.settings.effective_media_dir)
    at = services.clock.now()
    await record_look(
        session, actor, at, recording, "recording_verified", intact=not problems, problems=len(problems)
    )
    return VerifyOut(
        intact=not problems,
        manifest_sha256=recording.manifest_sha256,
        problems=[ProblemOut(kind=p.kind.value, file=p.file) for p in problems],
        checked_at=at,
    )


async def queue_render(
    session: AsyncSession, actor: Principal, services: Services, recording: Recording
) -> None:
    """Queue the playback rendering (audited when it was not already queued, running or ready)."""
    if await request_render(session, recording, services.clock.now()):
        await record_look(session, actor, services.clock.now(), recording, "render_requested")
    services.renders.wake()


def playback_path(recording: Recording, media_root: Path) -> Path:
    """The recording's playback file: 409 while it is not rendered, 404 when the file is gone."""
    if recording.render_status != RenderStatus.READY or recording.render_file is None:
        raise Conflict("the playback rendering is not ready", code="render_not_ready")
    path = media_root / recording.render_file
    if not path.is_file():
        raise NotFound("the playback file is gone", resource="playback")
    return path


@dataclass(frozen=True, slots=True)
class SegmentFile:
    path: Path
    name: str
    content_type: str
    sha256: str | None


def segment_file(recording: Recording, media_root: Path, track_id: str, index: int) -> SegmentFile:
    """One original segment of a recorded track, as its manifest lists it; 404 when unknown or gone."""
    manifest = recording.manifest or {}
    directory = recording_directory(media_root, recording)
    for track in manifest.get("tracks", []):
        if track.get("id") != track_id:
            continue
        for item in track.get("segments", []):
            if item.get("index") == index:
                path = directory / item["file"]
                if not path.is_file():
                    raise NotFound("the segment file is gone", resource="segment")
                content_type = "audio/webm" if track.get("kind") == "audio" else "video/webm"
                return SegmentFile(path, item["file"], content_type, item.get("sha256"))
    raise NotFound("no such segment in this recording", resource="segment")


def file_response(
    path: Path, *, content_type: str, filename: str, sha256: str | None, attachment: bool = False
) -> web.FileResponse:
    """A recording's file with HTTP Range (aiohttp's FileResponse), never cached, never sniffed."""
    disposition = "attachment" if attachment else "inline"
    headers = {
        "Content-Type": content_type,
        "Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(filename)}",
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-store",
    }
    if sha256:
        headers["X-Content-SHA256"] = sha256
    return web.FileResponse(path, headers=headers)


def starts_playing(range_header: str | None) -> bool:
    """Whether a playback request starts a viewing (the whole file, or from its first byte), as opposed to a
    player's follow-up range requests while seeking: only those are audited, once per viewing."""
    if range_header is None:
        return True
    return re.fullmatch(r"\s*bytes\s*=\s*0\s*-.*", range_header) is not None


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
        return await verify_files_of(call.session, call.principal, call.services, recording)

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
        await queue_render(call.session, call.principal, call.services, recording)
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
        path = playback_path(recording, call.services.settings.effective_media_dir)
        if starts_playing(call.request.headers.get("Range")):
            await _audit(call, recording, "recording_played")
        return file_response(
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
        media_root = call.services.settings.effective_media_dir
        found = segment_file(recording, media_root, call.path["track_id"], index)
        await _audit(call, recording, "recording_downloaded", file=found.name)
        return file_response(
            found.path, content_type=found.content_type, filename=found.name, sha256=found.sha256
        )

    @api.route(
        "POST",
        "/cases/{case_id}/recording-links",
        summary="Give the parties links to their recordings",
        tags=tags,
        body=PartyLinksIn,
        response=list[PartyLinkOut],
        status=201,
        errors=(403, 404, 409, 422),
    )
    async def party_links(call: ApiCall) -> list[PartyLinkOut]:
        """The mediator of the case or its court gives each party (default: every party and agent of the
        case) a signed link, valid `valid_days`, bound to the case, the party and its role, sent by SMS when
        `notify`. With it the party sees, on a page of their own, the sealed recordings they are entitled to:
        the main room of a joint session, and the caucus parts where their side was (docs/api.md). Each
        link issued is in the audit trail; the playback renderings of those recordings are queued."""
        case = await load_case(call.session, call.principal, call.path["case_id"])
        data = call.body_as(PartyLinksIn)
        settings = call.services.settings
        assert settings.secret_key is not None
        issued = await issue_links(
            call.session,
            call.principal,
            case,
            party_ids=data.party_ids,
            valid_days=data.valid_days or settings.recording_link_days,
            notify=data.notify,
            notifier=call.services.notifier,
            secret=settings.secret_key,
            base_url=settings.base_url(),
            now=call.services.clock.now(),
        )
        call.services.renders.wake()
        return [
            PartyLinkOut(
                party_id=link.party.id,
                name=link.party.name,
                side=link.party.side,
                role=link.party.role,
                url=link.url,
                expires_at=link.expires_at,
                recordings=list(link.recordings),
                notified=link.notified,
            )
            for link in issued
        ]
