"""The console's recording routes: verify a recording's files, ask for its playback rendering, play it, and
download its original segments.

They take the console's session cookie (and, for the forms, its CSRF token) and go through the same helpers
as the API (:mod:`web.api.recordings`): the same access rules (the court of the case and its mediator; a
case the user may not see is 404, the union's administrators are refused with 403) and the same audit
entries for every verification, rendering request, play and download. Files are served with HTTP Range, so
the page's ``<video>`` can seek.
"""

from __future__ import annotations

from aiohttp import web
from pydantic import ValidationError

from cases.access import Action
from recordings.jobs import PLAYBACK_FILE
from recordings.schemas import SegmentQuery
from tiaojie.errors import NotFound, TiaojieError
from web.api.recordings import (
    file_response,
    find_recording,
    playback_path,
    queue_render,
    record_look,
    segment_file,
    starts_playing,
    verify_files_of,
)
from web.console import i18n
from web.console.case_page import case_path, render_case
from web.console.forms import read_form, text
from web.console.pages import Viewer, error_message, language, redirect, render_error, viewer
from web.errors import status_for
from web.services import SERVICES

__all__ = ["register_recording_routes"]

_BASE = "/console/cases/{case_id}/recordings/{recording_id}"


def _ids(request: web.Request) -> tuple[str, str]:
    return request.match_info["case_id"], request.match_info["recording_id"]


async def _form(request: web.Request) -> tuple[Viewer, str, str]:
    """A posted form's user (its CSRF token checked) and the case and recording it is about."""
    form = await read_form(request)
    who = await viewer(request, csrf=text(form, "csrf_token", limit=200))
    return (who, *_ids(request))


def _anchor(case_id: str, recording_id: str, done: str) -> str:
    return f"{case_path(case_id)}?done={done}#recording-{recording_id}"


async def _refused(request: web.Request, who: Viewer, exc: TiaojieError) -> web.Response:
    """A refusal as a page: 404 for what the user may not see, else the case page with the message."""
    lang = language(request)
    if isinstance(exc, NotFound):
        return render_error(request, 404, i18n.translate(lang, "error.404"), code="not_found", who=who)
    status = status_for(exc)
    if status == 403:
        return render_error(request, 403, error_message(lang, exc), code=exc.code, who=who)
    return await render_case(
        request, who, request.match_info["case_id"], status=status, error=error_message(lang, exc)
    )


async def verify_recording(request: web.Request) -> web.StreamResponse:
    """Check the files against the sealed manifest; the case page shows the result beside the recording."""
    who, case_id, recording_id = await _form(request)
    services = request.app[SERVICES]
    try:
        async with services.db.session() as session:
            _, recording = await find_recording(session, who.principal, case_id, recording_id)
            result = await verify_files_of(session, who.principal, services, recording)
    except TiaojieError as exc:
        return await _refused(request, who, exc)
    return await render_case(request, who, case_id, verification=(recording_id, result))


async def render_recording(request: web.Request) -> web.StreamResponse:
    """Queue the playback rendering and go back to the case, where its progress shows."""
    who, case_id, recording_id = await _form(request)
    services = request.app[SERVICES]
    try:
        async with services.db.session() as session:
            _, recording = await find_recording(
                session, who.principal, case_id, recording_id, Action.RENDER_RECORDING
            )
            await queue_render(session, who.principal, services, recording)
    except TiaojieError as exc:
        return await _refused(request, who, exc)
    return redirect(_anchor(case_id, recording_id, "render"))


async def play_recording(request: web.Request) -> web.StreamResponse:
    """The playback file (MP4) for the page's player, with HTTP Range; each viewing is audited once."""
    who = await viewer(request)
    services = request.app[SERVICES]
    case_id, recording_id = _ids(request)
    try:
        async with services.db.session() as session:
            _, recording = await find_recording(session, who.principal, case_id, recording_id)
            path = playback_path(recording, services.settings.effective_media_dir)
            if starts_playing(request.headers.get("Range")):
                await record_look(session, who.principal, services.clock.now(), recording, "recording_played")
    except TiaojieError as exc:
        lang = language(request)
        return render_error(request, status_for(exc), error_message(lang, exc), code=exc.code, who=who)
    return file_response(
        path,
        content_type="video/mp4",
        filename=f"{recording.id}-{PLAYBACK_FILE}",
        sha256=recording.render_sha256,
    )


async def download_segment(request: web.Request) -> web.StreamResponse:
    """One original segment of a recorded track (WebM, as recorded), as an attachment; audited."""
    who = await viewer(request)
    services = request.app[SERVICES]
    lang = language(request)
    case_id, recording_id = _ids(request)
    try:
        index = SegmentQuery.model_validate(dict(request.query)).index
    except ValidationError:
        return render_error(request, 422, i18n.translate(lang, "error.422"), code="invalid_query", who=who)
    try:
        async with services.db.session() as session:
            _, recording = await find_recording(session, who.principal, case_id, recording_id)
            found = segment_file(
                recording, services.settings.effective_media_dir, request.match_info["track_id"], index
            )
            await record_look(
                session,
                who.principal,
                services.clock.now(),
                recording,
                "recording_downloaded",
                file=found.name,
            )
    except TiaojieError as exc:
        return render_error(request, status_for(exc), error_message(lang, exc), code=exc.code, who=who)
    return file_response(
        found.path,
        content_type=found.content_type,
        filename=found.name,
        sha256=found.sha256,
        attachment=True,
    )


def register_recording_routes(app: web.Application) -> None:
    app.router.add_post(f"{_BASE}/verify", verify_recording)
    app.router.add_post(f"{_BASE}/render", render_recording)
    app.router.add_get(f"{_BASE}/playback", play_recording)
    app.router.add_get(f"{_BASE}/tracks/{{track_id}}", download_segment)
