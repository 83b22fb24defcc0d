"""The parties' recordings page: what a party's recordings link (``/pr#<token>``) opens.

A party has no account: the signed token (:mod:`recordings.party_links`) in the URL fragment is the
credential, and never reaches a server log. The page's script posts it to ``POST /pr/api/view``, which
answers the case's sealed recordings this party is entitled to (:mod:`recordings.party_access`) and sets the
same token as a cookie (``HttpOnly``, ``SameSite=Strict``, only sent to ``/pr/play/``, gone when the link
expires), so that the video element can stream ``GET /pr/play/<recording id>`` with HTTP Range without the
token in any URL. ``?download=1`` downloads the file instead. Every list, playback and download is in the
case's audit trail with the party as the actor.

Simplified Chinese (default) or English (``?lang=en``, or the language cookie of the session page); from
360 px wide; the script and styles are served from ``/static/`` so the strict Content-Security-Policy holds.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Final

from aiohttp import web

from accounts.tables import Court
from cases import audit
from recordings.jobs import PLAYBACK_FILE, RenderStatus
from recordings.party_access import (
    PartyGrant,
    as_principal,
    entitled_recording,
    entitled_recordings,
    party_of,
)
from recordings.schemas import PartyRecordingOut, PartyRecordingsView, PartyTokenIn
from recordings.service import RecordingStatus
from recordings.tables import Recording
from rooms.tables import MediationSession
from web.api.recordings import file_response, playback_path, starts_playing
from web.auth import client_ip
from web.client_page import render_party_page, static_version
from web.console.i18n import EN, ZH
from web.jc_page import read_json_body
from web.services import SERVICES

__all__ = ["COOKIE", "MESSAGES", "setup_party_recordings"]

COOKIE: Final = "tj_pr"
PLAY_PATH: Final = "/pr/play/"
SCRIPT: Final = Path(__file__).with_name("static") / "recordings.js"
STYLES: Final = Path(__file__).with_name("static") / "party.css"
EXTRA_STYLES: Final = Path(__file__).with_name("static") / "recordings.css"

MESSAGES: Final[dict[str, dict[str, str]]] = {
    "app.name": {ZH: "劳动争议在线调解", EN: "Online labour-dispute mediation"},
    "title": {ZH: "调解录像", EN: "Mediation recordings"},
    "lang.label": {ZH: "语言", EN: "Language"},
    "lang.switch": {ZH: "English", EN: "中文"},
    "noscript": {
        ZH: "请启用 JavaScript 后查看录像。",
        EN: "Please enable JavaScript to watch the recordings.",
    },
    "loading": {ZH: "正在读取……", EN: "Loading…"},
    "no_token": {
        ZH: "链接不完整，请从短信中重新打开。",
        EN: "The link is incomplete. Please open it again from the text message.",
    },
    "confidential": {
        ZH: "调解过程及录像依法保密。录像仅供您本人查看，请勿转发、录制或传播。每次查看和下载都会被记录。",
        EN: "Mediation and its recordings are confidential. They are for you alone: do not forward, record "
        "or share them. Every viewing and download is logged.",
    },
    "case_number": {ZH: "案号", EN: "Case number"},
    "court": {ZH: "法院", EN: "Court"},
    "party": {ZH: "当事人", EN: "Party"},
    "expires": {ZH: "链接有效期至", EN: "Link valid until"},
    "none": {
        ZH: "目前没有可供您查看的录像。",
        EN: "There is no recording for you to watch yet.",
    },
    "main": {ZH: "调解室", EN: "Main room"},
    "caucus": {ZH: "单独会谈", EN: "Private session"},
    "duration": {ZH: "时长", EN: "Duration"},
    "interrupted": {
        ZH: "录制因服务器中断而提前结束，已保留可读取的部分。",
        EN: "Recording stopped early when the server was interrupted; what could be read is kept.",
    },
    "preparing": {
        ZH: "回放文件正在生成，请稍后刷新本页。",
        EN: "The playback file is being prepared. Please reload this page later.",
    },
    "unavailable": {
        ZH: "回放文件暂不可用，请联系调解员。",
        EN: "The playback file is not available. Please contact the mediator.",
    },
    "download": {ZH: "下载", EN: "Download"},
    "refresh": {ZH: "刷新", EN: "Reload"},
    "error": {ZH: "请求失败，请稍后再试。", EN: "The request failed. Please try again later."},
    "link_expired": {
        ZH: "链接已过期，请联系调解员重新发送。",
        EN: "This link has expired. Please ask the mediator for a new one.",
    },
    "link_invalid": {
        ZH: "链接无效，请从短信中重新打开。",
        EN: "This link is not valid. Please open it again from the text message.",
    },
}
MESSAGES["link_malformed"] = MESSAGES["link_invalid"]
MESSAGES["link_wrong_party"] = {
    ZH: "该链接已不再有效，请联系调解员。",
    EN: "This link is no longer valid. Please contact the mediator.",
}
_LIMIT = 16 * 1024


async def page(request: web.Request) -> web.Response:
    return render_party_page(
        request,
        "client/recordings.html",
        MESSAGES,
        script=f"/static/recordings.js?v={static_version(SCRIPT)}",
        styles=f"/static/party.css?v={static_version(STYLES)}",
        extra_styles=f"/static/recordings.css?v={static_version(EXTRA_STYLES)}",
    )


def _out(recording: Recording, mediation: MediationSession | None) -> PartyRecordingOut:
    ready = recording.render_status == RenderStatus.READY and recording.render_file is not None
    playback = (
        "ready" if ready else "unavailable" if recording.render_status == RenderStatus.FAILED else "preparing"
    )
    return PartyRecordingOut(
        id=recording.id,
        label=recording.label,
        part=recording.part,
        session_title=mediation.title if mediation is not None else None,
        started_at=recording.started_at,
        ended_at=recording.ended_at,
        duration_ms=recording.duration_ms,
        interrupted=recording.status == RecordingStatus.INTERRUPTED,
        playback=playback,
        url=f"{PLAY_PATH}{recording.id}" if ready else None,
        bytes=recording.render_bytes if ready else None,
        sha256=recording.render_sha256 if ready else None,
    )


async def _record(
    request: web.Request, grant: PartyGrant, subject: tuple[str, str], action: str, **data: object
) -> None:
    services = request.app[SERVICES]
    actor = as_principal(grant.party, client_ip(request), request.headers.get("User-Agent", "")[:300] or None)
    async with services.db.session() as session:
        await audit.record(
            session,
            actor=actor,
            at=services.clock.now(),
            subject_type=subject[0],
            subject_id=subject[1],
            case_id=grant.case.id,
            action=action,
            data={"party_id": grant.party.id, "via": "party_link", **data},
        )


async def view(request: web.Request) -> web.Response:
    """The party's recordings; sets the cookie the playback requests carry."""
    services = request.app[SERVICES]
    secret = services.settings.secret_key
    assert secret is not None
    data: PartyTokenIn = await read_json_body(request, PartyTokenIn, _LIMIT)
    now = services.clock.now()
    async with services.db.read() as session:
        grant = await party_of(session, data.token, secret=secret, now=now)
        recordings = await entitled_recordings(session, grant.case, grant.party)
        court = await session.get(Court, grant.case.court_id)
        sessions = {r.session_id: await session.get(MediationSession, r.session_id) for r in recordings}
        shown = PartyRecordingsView(
            case_number=grant.case.case_number,
            court_name=court.name if court is not None else "",
            party_name=grant.party.name,
            side=grant.party.side,
            expires_at=grant.expires_at,
            recordings=[_out(r, sessions[r.session_id]) for r in recordings],
        )
    await _record(
        request, grant, ("party", grant.party.id), "recordings_listed", recordings=[r.id for r in recordings]
    )
    response = web.Response(
        body=shown.model_dump_json(), content_type="application/json", headers={"Cache-Control": "no-store"}
    )
    response.set_cookie(
        COOKIE,
        data.token,
        max_age=max(1, int((grant.expires_at - now).total_seconds())),
        path=PLAY_PATH,
        httponly=True,
        samesite="Strict",
        secure=services.settings.secure_cookies,
    )
    return response


async def play(request: web.Request) -> web.StreamResponse:
    """The playback file of one recording the party is entitled to, with HTTP Range; ``?download=1``
    downloads it. 401 without a valid link cookie, 404 for any recording not theirs, 409 while the playback
    file is being made."""
    services = request.app[SERVICES]
    secret = services.settings.secret_key
    assert secret is not None
    token = request.cookies.get(COOKIE, "")
    download = request.query.get("download") == "1"
    now: datetime = services.clock.now()
    async with services.db.read() as session:
        grant = await party_of(session, token, secret=secret, now=now)
        recording = await entitled_recording(session, grant, request.match_info["recording_id"])
    path = playback_path(recording, services.settings.effective_media_dir)
    if download:
        await _record(request, grant, ("recording", recording.id), "recording_downloaded", file=PLAYBACK_FILE)
    elif starts_playing(request.headers.get("Range")):
        await _record(request, grant, ("recording", recording.id), "recording_played")
    return file_response(
        path,
        content_type="video/mp4",
        filename=f"{recording.id}-{PLAYBACK_FILE}",
        sha256=recording.render_sha256,
        attachment=download,
    )


def setup_party_recordings(app: web.Application) -> None:
    app.router.add_get("/pr", page)
    app.router.add_post("/pr/api/view", view)
    app.router.add_get(PLAY_PATH + "{recording_id}", play)
