"""Every string the session page (``/j``) shows, in Simplified Chinese and English.

The page frame renders the static ones; the script gets all of them in the page's language as a JSON data
block and looks them up by key (``t("key")`` in ``web/client/src/``; a test checks every key it uses is
here).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from web.console.i18n import EN, ZH

__all__ = ["MESSAGES"]


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
        "room.private_host": _m(
            "您在单独房间（{label}）中，主会场的人看不到也听不到。",
            "You are in the private room ({label}); people in the main room cannot see or hear you.",
        ),
        "room.caucus_waiting": _m(
            "调解员正在与其他当事人单独沟通（背对背调解），请在此稍候，结束后将回到这里。",
            "The mediator is talking privately with another party. Please wait here; they will come back.",
        ),
        "room.mediator_away": _m(
            "调解员暂时不在调解室，请稍候。", "The mediator is not in the room at the moment. Please wait."
        ),
        "room.recording": _m("● 正在录音录像", "● Recording"),
        "room.reconnecting": _m("正在重新连接", "reconnecting"),
        "room.controls": _m("音视频控制", "Audio and video controls"),
        "room.screen_start": _m("共享屏幕", "Share screen"),
        "room.screen_stop": _m("停止共享", "Stop sharing"),
        "room.own_screen": _m("您正在共享的屏幕", "Your shared screen"),
        "screen.failed": _m("无法共享屏幕。", "The screen could not be shared."),
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
        # the mediator's panel
        "host.title": _m("主持调解", "Hosting"),
        "host.locked": _m(
            "调解室已锁定：新来的人无法进入（已准许过的人仍可返回）。",
            "The room is locked: newcomers cannot enter (people admitted before may return).",
        ),
        "host.lobby": _m("等候室", "Waiting room"),
        "host.lobby.count": _m("（{n} 人）", "({n})"),
        "host.lobby.empty": _m("暂无人等候。", "Nobody is waiting."),
        "host.lobby.arrived": _m("{names} 正在等候室等候。", "{names} is waiting to be let in."),
        "host.consent.yes": _m("已同意在线调解", "Agreed to online mediation"),
        "host.consent.no": _m("尚未同意在线调解", "Has not agreed to online mediation yet"),
        "host.warning.yes": _m("已确认虚假调解警示", "Acknowledged the false-mediation warning"),
        "host.warning.no": _m("尚未确认虚假调解警示", "Has not acknowledged the warning yet"),
        "host.identity.none": _m("身份尚未核验", "Identity not checked yet"),
        "host.identity.verified": _m("身份已核验（{method}）", "Identity verified ({method})"),
        "host.identity.failed": _m("身份核验未通过（{method}）", "Identity check failed ({method})"),
        "host.identity.title": _m("身份核验", "Identity check"),
        "host.identity.method": _m("核验方式", "Method"),
        "host.identity.result": _m("核验结果", "Result"),
        "host.identity.note": _m("备注（可选）", "Note (optional)"),
        "host.identity.record": _m("记录核验结果", "Record the check"),
        "identity.method.id_card": _m("查验身份证件", "ID card"),
        "identity.method.face_to_camera": _m("视频人脸比对", "Face to camera"),
        "identity.method.phone_code": _m("手机验证码", "Phone code"),
        "identity.method.credit_code": _m("统一社会信用代码及授权", "Credit code and authorisation"),
        "identity.method.court_site": _m("在法院现场核验", "Checked at the court"),
        "identity.method.other": _m("其他方式", "Other"),
        "identity.verified": _m("核验通过", "Verified"),
        "identity.failed": _m("核验未通过", "Failed"),
        "host.admit": _m("准许进入", "Let in"),
        "host.deny": _m("拒绝进入", "Turn away"),
        "host.deny.title": _m("拒绝 {name} 进入", "Turn {name} away"),
        "host.people": _m("参与人及所在房间", "Participants and where they are"),
        "host.main": _m("主会场", "Main room"),
        "host.reconnecting": _m("正在重新连接", "reconnecting"),
        "host.muted": _m("已被静音", "muted"),
        "host.move.to": _m("移至", "Move to"),
        "host.move": _m("移动", "Move"),
        "host.mute": _m("静音", "Mute"),
        "host.unmute": _m("取消静音", "Unmute"),
        "host.remove": _m("移出调解室", "Remove"),
        "host.remove.title": _m("将 {name} 移出调解室", "Remove {name} from the room"),
        "host.caucus": _m("背对背调解", "Private sessions (caucus)"),
        "host.caucus.label": _m("单独房间名称", "Name of the private room"),
        "host.caucus.default": _m("单独房间 {n}", "Private room {n}"),
        "host.caucus.who": _m("进入该房间的人", "Who goes in"),
        "host.caucus.open": _m("开启单独房间", "Open a private room"),
        "host.caucus.close": _m("全部回到主会场", "Bring everyone back"),
        "host.nobody": _m("无人", "nobody"),
        "host.lock": _m("锁定调解室", "Lock the room"),
        "host.unlock": _m("解除锁定", "Unlock the room"),
        "host.end": _m("结束调解", "End the session"),
        "host.end.title": _m("结束本次调解？", "End this session?"),
        "host.end.confirm": _m(
            "所有人将离开调解室，本次调解的链接随即失效。",
            "Everyone leaves the room and this session's links stop working.",
        ),
        # recording consent (OMR 18)
        "recording.not_you": _m("● 正在录音录像 · 您未被录制", "● Recording · you are not being recorded"),
        "recording.ask.title": _m("是否同意录音录像？", "Do you agree to this session being recorded?"),
        "recording.ask.lead": _m(
            "调解员提议对本次调解进行录音录像。只有在场的所有人都同意后才会开始录制。",
            "The mediator proposes to record this session. Recording starts only if everyone present agrees.",
        ),
        "recording.ask.running": _m(
            "您所在的房间正在录音录像。在您同意之前，不会录制您的声音和画面。",
            "This room is being recorded. Your voice and picture are not recorded unless you agree.",
        ),
        "recording.ask.what": _m(
            "录制的内容：您所在房间（主会场或单独房间）中各参与人的声音和画面，每个房间分别录制。",
            "What is recorded: the voices and pictures of the people in your room (the main room or a "
            "private room); each room is recorded separately.",
        ),
        "recording.ask.who": _m(
            "谁能查看：录像作为调解记录保存，仅供受理法院和调解组织依法查阅，不公开。",
            "Who can see it: the recording is kept as part of the mediation record, for the court and the "
            "mediation organisation only; it is never published.",
        ),
        "recording.ask.refuse": _m(
            "您可以拒绝。拒绝不影响调解继续进行，调解员会以电子笔录记录调解过程。",
            "You may refuse. Refusing does not stop the mediation; the mediator keeps a written transcript.",
        ),
        "recording.consent": _m("同意录音录像", "I agree to be recorded"),
        "recording.refuse": _m("不同意", "I do not agree"),
        "recording.title": _m("录音录像", "Recording"),
        "recording.host.help": _m(
            "须经房间内所有人同意才开始录制；任何一人拒绝即取消。各房间分别录制。",
            "Recording starts only when everyone in the room agrees; one refusal cancels it. Each room is "
            "recorded separately.",
        ),
        "recording.propose": _m("提议录音录像", "Propose recording"),
        "recording.stop": _m("停止录制", "Stop recording"),
        "recording.withdraw": _m("撤回提议", "Withdraw the proposal"),
        "recording.state.none": _m("未录制", "Not recorded"),
        "recording.state.proposed": _m("等待各方答复", "Waiting for answers"),
        "recording.state.recording": _m("● 正在录制", "● Recording"),
        "recording.state.stopped": _m("已停止", "Stopped"),
        "recording.state.refused": _m("有人拒绝，已取消", "Refused; cancelled"),
        "recording.refused_by": _m("拒绝的人：{names}", "Refused by: {names}"),
        "recording.answer.pending": _m("尚未答复", "not answered yet"),
        "recording.answer.consented": _m("同意", "agreed"),
        "recording.answer.refused": _m("拒绝（不录制此人）", "refused (not recorded)"),
        # the electronic transcript
        "transcript.title": _m("电子笔录", "Transcript"),
        "transcript.status.editing": _m("（编辑中）", "(being written)"),
        "transcript.status.in_review": _m("（当事人确认中）", "(being reviewed)"),
        "transcript.status.locked": _m("（已确认并锁定）", "(confirmed and locked)"),
        "transcript.speaker": _m("发言人", "Speaker"),
        "transcript.text": _m("内容", "What was said"),
        "transcript.undisputed": _m("无争议事实", "Undisputed fact"),
        "transcript.undisputed.mark": _m("无争议事实", "undisputed"),
        "transcript.add": _m("记入笔录", "Add to the transcript"),
        "transcript.update": _m("保存修改", "Save the change"),
        "transcript.edit": _m("修改", "Edit"),
        "transcript.mark": _m("标为无争议事实", "Mark as undisputed"),
        "transcript.unmark": _m("取消无争议标记", "Unmark"),
        "transcript.pull": _m("记入笔录", "Add to transcript"),
        "transcript.save": _m("保存为新版本", "Save as a new version"),
        "transcript.open_review": _m("请当事人确认最新版本", "Ask the parties to confirm the latest version"),
        "transcript.version": _m("笔录第 {n} 版（{status}）", "Transcript version {n} ({status})"),
        "transcript.version.saved": _m("已保存", "saved"),
        "transcript.version.in_review": _m("待确认", "to be confirmed"),
        "transcript.version.disputed": _m("有异议", "disputed"),
        "transcript.version.locked": _m("已确认并锁定", "confirmed and locked"),
        "transcript.review.help": _m(
            "请仔细阅读以上笔录。内容无误请点击“确认无误”；如有异议，请说明理由，调解员将修改后重新请您确认。",
            "Read the transcript above. If it is right, confirm it; if not, say what is wrong and the "
            "mediator will correct it and ask you again.",
        ),
        "transcript.confirm": _m("确认无误", "Confirm"),
        "transcript.dispute": _m("有异议", "Dispute"),
        "transcript.dispute.title": _m("对笔录有异议", "What is wrong in the transcript?"),
        "transcript.decision.confirmed": _m("已确认", "confirmed"),
        "transcript.decision.disputed": _m("有异议", "disputed"),
        "transcript.locked": _m(
            "各方已确认，笔录已锁定。SHA-256：{hash}",
            "Everyone confirmed; the transcript is locked. SHA-256: {hash}",
        ),
        # the agreement shown in the room (web/client/src/agreement.js)
        "agreement.title": _m("调解协议", "Mediation agreement"),
        "agreement.host.help": _m(
            "向所选房间中的人展示本案协议的当前版本（在控制台中起草）；当事人可以提出意见。",
            "Show the case's current agreement (drafted in the console) to the people in the chosen room; "
            "the parties can comment.",
        ),
        "agreement.part": _m("展示给", "Show to"),
        "agreement.show": _m("展示当前协议", "Show the current agreement"),
        "agreement.hide": _m("停止展示", "Stop showing"),
        "agreement.shown_in": _m("正在展示：{where}", "Showing: {where}"),
        "agreement.shown_nowhere": _m("目前没有展示协议。", "The agreement is not shown now."),
        "agreement.version": _m("（第 {n} 版）", " (version {n})"),
        "agreement.heading": _m("调解协议第 {n} 版（{status}）", "Agreement, version {n} ({status})"),
        "agreement.status.draft": _m("草稿", "draft"),
        "agreement.status.frozen": _m("已定稿", "frozen"),
        "agreement.status.superseded": _m("已被取代", "superseded"),
        "agreement.hash": _m("文件摘要（SHA-256）：{hash}", "Document hash (SHA-256): {hash}"),
        "agreement.pdf_only": _m(
            "该协议为上传的 PDF 文件，请点击“查看 PDF”阅读。",
            "This agreement is an uploaded PDF: open the PDF to read it.",
        ),
        "agreement.open_pdf": _m("查看 PDF", "Open the PDF"),
        "agreement.pdf_link": _m("PDF 文件", "The PDF file"),
        "agreement.comments": _m("意见", "Comments"),
        "agreement.comment": _m("对协议的意见", "Your comment on the agreement"),
        "agreement.comment.send": _m("提交意见", "Send the comment"),
        "agreement.comment.help": _m(
            "您的意见只有本房间的人和调解员能看到。",
            "Only the people in this room and the mediator see your comment.",
        ),
        "agreement.elsewhere": _m("其他房间的意见", "Comments from other rooms"),
        "error.no_agreement": _m(
            "本案还没有协议，请先在控制台中起草。", "The case has no agreement yet: draft it in the console."
        ),
        "error.unknown_version": _m("没有该协议版本。", "No such version."),
        "error.version_not_current": _m("只能展示当前版本。", "Only the current version can be shown."),
        "error.agreement_not_shown": _m("协议已不再展示。", "The agreement is no longer shown."),
        "error.version_not_shown": _m(
            "展示的协议已更新，请针对新版本提出意见。",
            "The agreement shown has changed: comment on the new version.",
        ),
        "error.not_frozen": _m(
            "该版本尚未定稿，没有 PDF 文件。", "This version is not frozen: it has no PDF."
        ),
        # the confirmation dialog
        "dialog.ok": _m("确定", "OK"),
        "dialog.cancel": _m("取消", "Cancel"),
        "dialog.reason": _m("原因（将记入调解记录）", "Reason (kept in the session record)"),
        "dialog.reason_required": _m("请填写原因。", "Give a reason."),
        # errors an action can meet
        "error.unknown": _m("操作未完成（{code}）。", "That did not work ({code})."),
        "error.consent_missing": _m(
            "当事人尚未同意在线调解并确认虚假调解警示。",
            "The party has not agreed to online mediation and acknowledged the warning yet.",
        ),
        "error.identity_not_verified": _m(
            "请先记录“核验通过”的身份核验结果。", "Record a verified identity check first."
        ),
        "error.not_in_lobby": _m("此人已不在等候室。", "This person is no longer waiting."),
        "error.not_in_room": _m("此人已离开调解室。", "This person has left the room."),
        "error.not_admitted": _m("请先准许此人进入。", "Let this person in first."),
        "error.not_host": _m("只有调解员可以这样做。", "Only the mediator can do this."),
        "error.unknown_subroom": _m("该单独房间已关闭。", "That private room is closed."),
        "error.subroom_exists": _m("已有同名的单独房间。", "A private room with that name exists."),
        "error.cannot_remove_self": _m("请使用“结束调解”。", "Use “End the session” instead."),
        "error.room_ended": _m("调解已结束。", "The session has ended."),
        "error.rate_limited": _m("操作太快，请稍后再试。", "Too fast; wait a moment."),
        "error.malformed_message": _m("填写的内容有误。", "Something in the form is not right."),
        "error.not_allowed": _m("您的身份不能这样做。", "Your role cannot do this."),
        "error.recording_unavailable": _m("本服务器不能录音录像。", "This server cannot record sessions."),
        "error.recording_active": _m(
            "该房间已在录制或等待答复。", "This room is already being recorded or asked."
        ),
        "error.not_recording": _m("该房间没有在录制。", "This room is not being recorded."),
        "error.no_recording_proposal": _m("录制提议已取消。", "The recording proposal was withdrawn."),
        "error.already_answered": _m("您已经答复过了。", "You have answered already."),
        "error.transcript_in_review": _m("当事人正在确认笔录，暂不能修改。", "The parties are reviewing it."),
        "error.transcript_locked": _m("笔录已确认并锁定，不能再修改。", "The transcript is locked."),
        "error.transcript_empty": _m("笔录还没有内容。", "The transcript is empty."),
        "error.no_reviewers": _m("没有在场的当事人可以确认。", "No party is present to confirm it."),
        "error.not_reviewable": _m("请先保存新版本。", "Save a new version first."),
        "error.version_not_latest": _m("请确认最新版本。", "Only the latest version can be reviewed."),
        "error.chat_already_pulled": _m("该消息已记入笔录。", "This message is in the transcript already."),
        "error.comment_required": _m("请说明异议理由。", "Say what is wrong."),
        "error.already_reviewed": _m("您已答复过此版本。", "You have reviewed this version already."),
        "error.server_shutdown": _m(
            "服务正在重启，请稍后再试。", "The service is restarting; try again shortly."
        ),
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
