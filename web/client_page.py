"""The party page: what a personal join link (``/j#<token>``) opens.

Served at ``GET /j`` as a server-rendered frame (``web/templates/client/party.html``) in Simplified Chinese
(default) or English, with the script bundled from ``web/client/`` into ``web/static/client/`` by
``scripts/lib.sh build_client``. The token stays in the URL fragment: the page reads it from
``location.hash`` and hands it to the room protocol (``docs/protocol.md``); it never reaches this handler.

Every string the page shows, static or shown later by the script, is in :data:`MESSAGES` in both languages;
the script gets those of the page's language as a JSON data block (not executed, so the strict
Content-Security-Policy holds).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Final

from aiohttp import web

from web.console.i18n import DEFAULT_LANGUAGE, EN, LANGUAGES, ZH, normalise_language

__all__ = ["BUNDLE", "MESSAGES", "setup_client"]

BUNDLE: Final = Path(__file__).with_name("static") / "client" / "party.js"
STYLES: Final = Path(__file__).with_name("static") / "party.css"
LANG_COOKIE: Final = "tj_lang"


def _m(zh: str, en: str) -> Mapping[str, str]:
    return MappingProxyType({ZH: zh, EN: en})


MESSAGES: Final[Mapping[str, Mapping[str, str]]] = MappingProxyType(
    {
        "title": _m("在线调解", "Online mediation"),
        "app.name": _m("劳动争议在线诉调对接平台", "Labor Dispute Online Mediation"),
        "lang.switch": _m("English", "中文"),
        "lang.label": _m("语言", "Language"),
        "noscript": _m(
            "本页面需要启用 JavaScript。请使用手机或电脑自带的浏览器打开链接。",
            "This page needs JavaScript. Open the link in your phone's or computer's own browser.",
        ),
        # device check
        "check.title": _m("检查摄像头和麦克风", "Check your camera and microphone"),
        "check.lead": _m(
            "请允许浏览器使用摄像头和麦克风。您应能在下方看到自己的画面。",
            "Allow the browser to use your camera and microphone. You should see yourself below.",
        ),
        "check.running": _m("正在检查设备…", "Checking your devices…"),
        "check.ok": _m("摄像头和麦克风工作正常。", "Your camera and microphone work."),
        "check.preview": _m("您的画面预览", "Preview of your camera"),
        "check.continue": _m("进入调解室", "Continue to the mediation room"),
        "check.retry": _m("重新检查", "Check again"),
        "check.no_token": _m(
            "链接不完整。请完整复制调解员发给您的链接（包括 # 后面的部分）后重新打开。",
            "The link is incomplete. Copy the whole link the mediator sent you (including the part after #) "
            "and open it again.",
        ),
        "check.denied": _m(
            "您拒绝了摄像头或麦克风权限。请点击地址栏中的摄像头图标或在浏览器设置中允许本网站使用摄像头和麦克风，然后点击“重新检查”。",
            "Camera or microphone access was refused. Allow this site to use them (the camera icon in the "
            "address bar, or the browser's settings), then choose “Check again”.",
        ),
        "check.no_device": _m(
            "未找到摄像头或麦克风。请连接设备后点击“重新检查”。",
            "No camera or microphone was found. Connect one, then choose “Check again”.",
        ),
        "check.busy": _m(
            "摄像头或麦克风正被其他程序占用（如视频通话软件）。请关闭该程序后点击“重新检查”。",
            "The camera or microphone is in use by another program (a video call, for example). Close it, "
            "then choose “Check again”.",
        ),
        "check.insecure": _m(
            "当前连接不安全，浏览器不允许使用摄像头。请使用以 https:// 开头的链接打开。",
            "This connection is not secure, so the browser blocks the camera. Open the link starting with "
            "https://.",
        ),
        "check.no_webrtc": _m(
            "当前浏览器不支持视频调解。请使用最新版 Chrome、Edge、Firefox 或 Safari 打开链接。",
            "This browser cannot take part in video mediation. Open the link in a current Chrome, Edge, "
            "Firefox or Safari.",
        ),
        "check.in_app": _m(
            "您正在微信等应用内打开链接，可能无法使用摄像头。请点击右上角“…”，选择“在浏览器中打开”。",
            "You opened the link inside an app such as WeChat, where the camera may not work. Tap “…” at "
            "the top right and choose “Open in browser”.",
        ),
        "check.failed": _m(
            "无法使用摄像头或麦克风（{error}）。请点击“重新检查”，或换用其他浏览器。",
            "The camera or microphone could not be used ({error}). Choose “Check again”, or try another "
            "browser.",
        ),
        # connecting and refusals
        "connect.running": _m("正在连接调解室…", "Connecting to the mediation room…"),
        "connect.lost": _m("网络连接中断，正在重新连接…", "The connection dropped; reconnecting…"),
        "connect.failed": _m(
            "无法连接调解室，请检查网络后刷新页面。",
            "Cannot reach the mediation room. Check your network and reload.",
        ),
        "refused.title": _m("无法进入调解室", "You cannot enter the mediation room"),
        "refused.malformed_hello": _m(
            "链接不完整或浏览器版本过旧，请完整复制链接后重试。",
            "The link is incomplete or the page is out of date. Copy the whole link and try again.",
        ),
        "refused.token_malformed": _m(
            "链接无效，请核对调解员发给您的链接。",
            "This link is not valid. Check the link the mediator sent.",
        ),
        "refused.token_invalid": _m(
            "链接无效，请核对调解员发给您的链接。",
            "This link is not valid. Check the link the mediator sent.",
        ),
        "refused.token_expired": _m(
            "链接已过期，请联系调解员获取新链接。", "This link has expired. Ask the mediator for a new one."
        ),
        "refused.token_revoked": _m(
            "该链接已失效（调解员已发出新链接）。请使用最新的链接。",
            "This link was replaced by a newer one. Use the latest link from the mediator.",
        ),
        "refused.session_over": _m(
            "本次调解已结束或已取消。", "This mediation session is over or cancelled."
        ),
        "refused.outside_slot": _m(
            "现在不是您的调解时段（{slot}）。请在您的时段内再打开链接。",
            "It is not your time yet ({slot}). Open the link again during your time slot.",
        ),
        "refused.room_locked": _m(
            "调解员已锁定调解室，暂时无法进入。请联系调解员。",
            "The mediator has locked the room. Contact the mediator.",
        ),
        "refused.room_ended": _m("调解已结束。", "The mediation has ended."),
        "refused.server_shutdown": _m(
            "服务正在重启，请稍后刷新页面重试。", "The service is restarting. Reload the page in a moment."
        ),
        "refused.unknown": _m("无法进入调解室（{code}）。", "You cannot enter the mediation room ({code})."),
        # lobby
        "lobby.title": _m("等候进入调解室", "Before you enter"),
        "lobby.lead": _m(
            "进入前，请阅读并确认以下内容。调解员核实您的身份后会让您进入。",
            "Read and confirm the following. The mediator will let you in after checking who you are.",
        ),
        "lobby.consent": _m("同意在线调解", "I agree to online mediation"),
        "lobby.consent.help": _m(
            "我同意通过本平台以视频方式进行调解，调解过程与线下调解具有同等效力。",
            "I agree to mediation by video on this platform; it has the same effect as mediation in person.",
        ),
        "lobby.warning": _m(
            "我已知悉虚假调解的法律后果", "I understand the legal consequences of false mediation"
        ),
        "lobby.warning.help": _m(
            "当事人恶意串通、捏造事实、虚构债务，企图通过调解损害国家利益、社会公共利益或他人合法权益的，"
            "调解协议无效，并将依法承担相应法律责任，构成犯罪的依法追究刑事责任。",
            "Parties who collude, invent facts or fabricate debts to harm the state, the public or others "
            "through mediation make the agreement void and are liable under the law, including criminal "
            "liability.",
        ),
        "lobby.submit": _m("确认并等候调解员", "Confirm and wait for the mediator"),
        "lobby.required": _m("请勾选以上两项后再确认。", "Tick both boxes to continue."),
        "waiting.title": _m("请稍候", "Please wait"),
        "waiting.lead": _m(
            "调解员将核实您的身份后让您进入调解室，请保持本页面打开。",
            "The mediator will check who you are and let you in. Keep this page open.",
        ),
        # room
        "room.title": _m("调解室", "Mediation room"),
        "room.private": _m(
            "您正与调解员在单独的房间（{label}）中进行背对背调解，其他当事人看不到也听不到。",
            "You are in a private room ({label}) with the mediator; the other parties cannot see or hear "
            "you.",
        ),
        "room.you": _m("我", "You"),
        "room.screen": _m("{name} 的屏幕共享", "{name}'s shared screen"),
        "room.mic_on": _m("静音", "Mute"),
        "room.mic_off": _m("取消静音", "Unmute"),
        "room.cam_on": _m("关闭摄像头", "Turn camera off"),
        "room.cam_off": _m("打开摄像头", "Turn camera on"),
        "room.leave": _m("离开", "Leave"),
        "room.leave.confirm": _m("确定离开调解吗？离开后需重新打开链接。", "Leave the mediation?"),
        "room.muted_by_host": _m("调解员已将您静音。", "The mediator has muted you."),
        "room.nobody": _m("等待其他参与人加入…", "Waiting for others to join…"),
        "room.play": _m("点击播放声音", "Play sound"),
        "room.media_failed": _m(
            "音视频连接失败，正在重试。", "The audio and video connection failed; trying again."
        ),
        "role.mediator": _m("调解员", "Mediator"),
        "role.applicant": _m("申请人", "Applicant"),
        "role.respondent": _m("被申请人", "Respondent"),
        "role.judge": _m("法官", "Judge"),
        "role.interpreter": _m("翻译", "Interpreter"),
        "role.clerk": _m("书记员", "Clerk"),
        "chat.title": _m("文字交流", "Chat"),
        "chat.label": _m("输入消息", "Message"),
        "chat.send": _m("发送", "Send"),
        "chat.rate_limited": _m("发送太快，请稍后再试。", "Too fast; wait a moment."),
        "chat.not_allowed": _m("您当前不能发送消息。", "You cannot send messages now."),
        "chat.failed": _m("消息未发送（{code}）。", "Message not sent ({code})."),
        # closed
        "closed.title": _m("您已离开调解室", "You have left the mediation room"),
        "closed.left": _m("您已离开调解。", "You left the mediation."),
        "closed.denied": _m("调解员未准许您进入。", "The mediator did not let you in."),
        "closed.removed": _m("调解员已将您移出调解室。", "The mediator removed you from the room."),
        "closed.room_ended": _m("调解已结束，感谢您的参与。", "The mediation has ended. Thank you."),
        "closed.room_locked": _m("调解员已锁定调解室。", "The mediator locked the room."),
        "closed.replaced": _m(
            "您已在另一台设备或另一个窗口打开了链接，本页面已断开。",
            "You opened the link on another device or window; this page was disconnected.",
        ),
        "closed.link_revoked": _m(
            "您的链接已被调解员撤销。如有疑问请联系调解员。",
            "The mediator revoked your link. Contact the mediator if in doubt.",
        ),
        "closed.grace_expired": _m(
            "连接中断时间过长，请重新打开链接。", "You were away too long. Open the link again."
        ),
        "closed.protocol_error": _m(
            "页面出现错误，请刷新后重试。", "Something went wrong on this page. Reload and try again."
        ),
        "closed.rate_limited": _m(
            "操作过于频繁，连接已断开。请刷新页面。", "Too many messages; disconnected. Reload the page."
        ),
        "closed.server_shutdown": _m(
            "服务正在重启，稍后将自动重新连接…", "The service is restarting; reconnecting shortly…"
        ),
        "closed.unknown": _m("连接已结束（{reason}）。", "The connection ended ({reason})."),
        "closed.note": _m("说明：{note}", "Note: {note}"),
        "closed.reopen": _m("重新进入", "Enter again"),
    }
)


def _language(request: web.Request) -> str:
    return (
        normalise_language(request.query.get("lang"))
        or normalise_language(request.cookies.get(LANG_COOKIE))
        or DEFAULT_LANGUAGE
    )


def _version(path: Path) -> str:
    try:
        return str(int(path.stat().st_mtime))
    except OSError:
        return "0"


async def party_page(request: web.Request) -> web.Response:
    from web.app import JINJA

    lang = _language(request)
    other = EN if lang == ZH else ZH
    strings = {key: texts[lang] for key, texts in MESSAGES.items()}
    html = (
        request.app[JINJA]
        .get_template("client/party.html")
        .render(
            lang=lang,
            other=other,
            t=strings,
            strings_json=json.dumps(strings, ensure_ascii=False).replace("<", "\\u003c"),
            script=f"/static/client/party.js?v={_version(BUNDLE)}",
            styles=f"/static/party.css?v={_version(STYLES)}",
            bundle_missing=not BUNDLE.is_file(),
        )
    )
    response = web.Response(text=html, content_type="text/html")
    response.headers["Cache-Control"] = "no-store"
    response.headers["Permissions-Policy"] = "camera=(self), microphone=(self), display-capture=(self)"
    if request.query.get("lang") and lang in LANGUAGES:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 24 * 3600, samesite="Lax", path="/")
    return response


def setup_client(app: web.Application) -> None:
    app.router.add_get("/j", party_page, name="party")
