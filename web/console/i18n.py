"""The console's words in Simplified Chinese (first) and English (second), and how to format dates and money.

Every string a console page shows goes through :func:`translate` with a key of :data:`MESSAGES`; each key has
both languages with the same ``{placeholders}``. Vocabulary that the domain already labels (causes, party
roles, OMR 25 reasons, ID types) is taken from the domain modules, not repeated here.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from types import MappingProxyType
from typing import Final

from cases.deadlines import SHANGHAI
from cases.identity import ID_TYPE_LABELS_EN, ID_TYPE_LABELS_ZH, IdType
from cases.lifecycle import REASON_LABELS_EN, REASON_LABELS_ZH, TerminationReason
from cases.vocab import label as vocab_label
from stats.labels import MESSAGES as STATS_MESSAGES

__all__ = [
    "DEFAULT_LANGUAGE",
    "LANGUAGES",
    "MESSAGES",
    "days_left",
    "format_amount",
    "format_date",
    "format_datetime",
    "id_type_label",
    "normalise_language",
    "reason_label",
    "translate",
    "vocabulary",
]

ZH: Final = "zh-CN"
EN: Final = "en"
DEFAULT_LANGUAGE: Final = ZH
LANGUAGES: Final = (ZH, EN)


def normalise_language(value: str | None) -> str | None:
    """``zh-CN`` or ``en`` for a recognised language tag (``zh``, ``zh-cn``, ``en-US`` …), else None."""
    if not value:
        return None
    tag = value.strip().lower().replace("_", "-")
    if tag in ("zh", "zh-cn", "zh-hans", "zh-hans-cn"):
        return ZH
    if tag == "en" or tag.startswith("en-"):
        return EN
    return None


def _m(zh: str, en: str) -> Mapping[str, str]:
    return MappingProxyType({ZH: zh, EN: en})


MESSAGES: Final[Mapping[str, Mapping[str, str]]] = MappingProxyType(
    {
        # --- frame ------------------------------------------------------------------------------------
        "app.name": _m("劳动争议在线诉调对接平台", "Labor Dispute Online Mediation"),
        "app.short": _m("诉调对接", "Court–Union Mediation"),
        "app.skip": _m("跳到正文", "Skip to content"),
        "nav.inbox": _m("案件待办", "Case inbox"),
        "nav.logout": _m("退出登录", "Log out"),
        "nav.language": _m("语言", "Language"),
        "nav.signed_in_as": _m("当前用户", "Signed in as"),
        "lang.zh-CN": _m("中文", "中文"),
        "lang.en": _m("English", "English"),
        "kind.court": _m("法院", "Court"),
        "kind.union": _m("工会", "Trade union"),
        "kind.mediator": _m("调解员", "Mediator"),
        "kind.system": _m("系统", "System"),
        "footer.confidential": _m(
            "调解过程及调解协议内容依法保密，请勿截屏、录制或外传。",
            "Mediation proceedings and agreements are confidential: do not capture, record or share them.",
        ),
        # --- login ------------------------------------------------------------------------------------
        "login.title": _m("登录", "Log in"),
        "login.lead": _m(
            "供人民法院、工会及特邀调解员使用。", "For people's courts, trade unions and roster mediators."
        ),
        "login.username": _m("用户名", "Username"),
        "login.password": _m("密码", "Password"),
        "login.submit": _m("登录", "Log in"),
        "login.required": _m("请输入用户名和密码。", "Enter your username and password."),
        "login.invalid": _m("用户名或密码错误。", "Wrong username or password."),
        "login.locked": _m(
            "登录失败次数过多，账号已暂时锁定，请 {minutes} 分钟后再试。",
            "Too many failed logins: the account is locked for now. Try again in {minutes} minutes.",
        ),
        "login.expired": _m(
            "登录页面已过期，请重新输入用户名和密码后登录。",
            "The login page expired. Enter your username and password again.",
        ),
        "login.logged_out": _m("您已安全退出。", "You have logged out."),
        "login.session_expired": _m("请先登录。", "Please log in first."),
        # --- inbox ------------------------------------------------------------------------------------
        "inbox.title": _m("案件待办", "Case inbox"),
        "inbox.to_accept": _m("待接受", "To accept"),
        "inbox.to_accept.help": _m(
            "已指派、等待调解组织或调解员接受的案件（应在 3 个工作日内接受或书面说明理由拒绝）。",
            "Assigned cases waiting to be accepted (accept, or decline in writing, within 3 working days).",
        ),
        "inbox.unassigned": _m("待指派", "To assign"),
        "inbox.unassigned.help": _m(
            "尚未指派调解员、被拒绝或需更换调解员的案件。",
            "Cases without a mediator: new, declined, or waiting for a change of mediator.",
        ),
        "inbox.active": _m("进行中", "Active"),
        "inbox.active.help": _m(
            "已接受的案件，调解期限自接受之日起算。",
            "Accepted cases; the mediation period runs from acceptance.",
        ),
        "inbox.closed": _m("近期结案", "Recently closed"),
        "inbox.closed.help": _m("最近 {days} 日内结案的案件。", "Cases closed in the last {days} days."),
        "inbox.empty": _m("暂无案件。", "No cases."),
        "inbox.truncated": _m("仅显示前 {count} 件。", "Only the first {count} are shown."),
        "inbox.count": _m("{count} 件", "{count}"),
        "inbox.summary.overdue": _m("已逾期", "Overdue"),
        "inbox.summary.due_today": _m("今日到期", "Due today"),
        "inbox.summary.due_soon": _m("即将到期", "Due soon"),
        "col.case_number": _m("案号", "Case number"),
        "col.parties": _m("当事人", "Parties"),
        "col.cause": _m("案由", "Cause"),
        "col.kind": _m("类型", "Type"),
        "col.state": _m("状态", "Status"),
        "col.mediator": _m("调解员", "Mediator"),
        "col.acceptance_due": _m("接受期限", "Accept by"),
        "col.last_day": _m("调解期限", "Last day"),
        "col.closed_at": _m("结案日期", "Closed on"),
        "col.outcome": _m("结果", "Outcome"),
        "col.created_at": _m("收案日期", "Received"),
        "parties.versus": _m("{applicants} 与 {respondents}", "{applicants} v. {respondents}"),
        "parties.separator": _m("、", ", "),
        # --- deadlines --------------------------------------------------------------------------------
        "deadline.on_track": _m("期限内", "On track"),
        "deadline.due_soon": _m("即将到期", "Due soon"),
        "deadline.due_today": _m("今日到期", "Due today"),
        "deadline.overdue": _m("已逾期", "Overdue"),
        "deadline.paused": _m("期限中止", "Paused"),
        "deadline.days_left": _m("剩 {days} 天", "{days} days left"),
        "deadline.one_day_left": _m("剩 1 天", "1 day left"),
        "deadline.days_overdue": _m("逾期 {days} 天", "{days} days overdue"),
        "deadline.one_day_overdue": _m("逾期 1 天", "1 day overdue"),
        "deadline.title": _m("期限", "Time limits"),
        "deadline.acceptance_due": _m("接受期限（3 个工作日）", "Accept by (3 working days)"),
        "deadline.last_day": _m("调解期限届满日", "Last day of the mediation period"),
        "deadline.base_days": _m("调解期限", "Mediation period"),
        "deadline.days": _m("{days} 日", "{days} days"),
        "deadline.extension_days": _m("已延长", "Extended by"),
        "deadline.paused_days": _m("扣除中止期间", "Excluded (paused)"),
        "deadline.paused_now": _m(
            "案件中止中，期限暂停计算。", "The case is suspended; the period is not running."
        ),
        "deadline.not_started": _m(
            "调解期限自调解员接受之日起算。", "The mediation period starts when the mediator accepts."
        ),
        "deadline.jc_last_day": _m("申请司法确认截止日", "Last day to apply for judicial confirmation"),
        # --- case page --------------------------------------------------------------------------------
        "case.back": _m("返回待办", "Back to the inbox"),
        "case.facts": _m("案件信息", "Case"),
        "case.case_number": _m("案号", "Case number"),
        "case.kind": _m("调解类型", "Kind"),
        "case.instance": _m("审级", "Instance"),
        "case.procedure": _m("程序", "Procedure"),
        "case.cause": _m("案由", "Cause of action"),
        "case.claims": _m("诉讼请求 / 申请事项", "Claims"),
        "case.summary": _m("纠纷概要", "Summary"),
        "case.amount": _m("标的额", "Amount"),
        "case.arbitration_award": _m("劳动仲裁裁决书", "Arbitration award"),
        "case.judge": _m("承办法官", "Judge"),
        "case.clerk": _m("书记员", "Clerk"),
        "case.court": _m("委派/委托法院", "Court"),
        "case.created_at": _m("收案时间", "Received"),
        "case.accepted_at": _m("接受时间", "Accepted"),
        "case.closed_at": _m("结案时间", "Closed"),
        "case.state": _m("案件状态", "Status"),
        "case.outcome": _m("调解结果", "Outcome"),
        "case.termination_reason": _m("结案原因（在线调解规则第二十五条）", "Reason (OMR 25)"),
        "case.termination_note": _m("结案说明", "Note"),
        "case.offline_agreement": _m("线下调解协议（申请司法确认）", "Offline agreement (for confirmation)"),
        "case.none": _m("—", "—"),
        "parties.title": _m("当事人", "Parties"),
        "parties.masked": _m(
            "为保护个人信息，证件号码、电话和地址已部分隐去。",
            "ID numbers, phones and addresses are partly hidden to protect personal data.",
        ),
        "parties.side": _m("诉讼地位", "Side"),
        "parties.role": _m("身份", "Role"),
        "parties.name": _m("姓名/名称", "Name"),
        "parties.id": _m("证件", "ID"),
        "parties.phone": _m("电话", "Phone"),
        "parties.service_address": _m("电子送达地址", "Electronic service address"),
        "parties.address": _m("地址", "Address"),
        "parties.represents": _m("代理/代表", "Acts for"),
        "parties.authorisation": _m("授权范围", "Authority"),
        "assignment.title": _m("指派情况", "Assignment"),
        "assignment.none": _m("目前没有指派调解员。", "No mediator is assigned at present."),
        "assignment.mediator": _m("调解员", "Mediator"),
        "assignment.organisation": _m("调解组织", "Organisation"),
        "assignment.method": _m("确定方式", "Method"),
        "assignment.status": _m("答复情况", "Answer"),
        "assignment.assigned_at": _m("指派时间", "Assigned"),
        "assignment.assigned_by": _m("指派人", "Assigned by"),
        "assignment.responded_at": _m("答复时间", "Answered"),
        "assignment.decline_reason": _m("拒绝理由", "Reason for declining"),
        # --- recordings (issue 4) ---------------------------------------------------------------------
        "recordings.title": _m("录音录像", "Recordings"),
        "recordings.empty": _m("本案暂无录音录像。", "This case has no recordings."),
        "recordings.no_access": _m(
            "录音录像仅限承办法院和承办调解员查看。",
            "Only the court and the mediator handling the case may see its recordings.",
        ),
        "recordings.main": _m("主会场", "Main room"),
        "recordings.caucus": _m("背对背", "Caucus"),
        "recordings.status.recording": _m("正在录制", "Recording"),
        "recordings.status.complete": _m("已完成", "Complete"),
        "recordings.status.interrupted": _m("录制中断", "Interrupted"),
        "recordings.status.deleted": _m("已删除", "Deleted"),
        "recordings.time": _m("录制时间", "Recorded"),
        "recordings.duration": _m("时长", "Duration"),
        "recordings.size": _m("文件大小", "Size"),
        "recordings.digest": _m("清单摘要（SHA-256）", "Manifest digest (SHA-256)"),
        "recordings.retain_until": _m("保存至", "Kept until"),
        "recordings.deleted_at": _m("删除时间", "Deleted on"),
        "recordings.deleted_help": _m(
            "保存期限届满，文件已删除；清单及其摘要仍予保留。",
            "The retention period ended and the files were deleted; the manifest and its digest are kept.",
        ),
        "recordings.note": _m("说明", "Note"),
        "recordings.verify": _m("校验完整性", "Verify integrity"),
        "recordings.intact": _m(
            "文件完整：与封存时的清单一致。", "Intact: the files match the manifest sealed at the end."
        ),
        "recordings.broken": _m(
            "发现 {count} 处问题，文件与封存时的清单不一致：",
            "{count} problem(s): the files no longer match the sealed manifest:",
        ),
        "recordings.checked_at": _m("校验时间：{at}", "Checked on {at}"),
        "recordings.problem.manifest_changed": _m("清单被改动", "The manifest was changed"),
        "recordings.problem.file_missing": _m("文件缺失", "File missing"),
        "recordings.problem.size_changed": _m("文件大小不符", "File size differs"),
        "recordings.problem.content_changed": _m("文件内容被改动", "File content changed"),
        "recordings.problem.unlisted_file": _m("清单外的文件", "File not in the manifest"),
        "recordings.render": _m("生成回放文件", "Make the playback file"),
        "recordings.render_again": _m("重新生成回放文件", "Try making the playback file again"),
        "recordings.render_help": _m(
            "将各方画面合成为一个带时间标记的视频，以便在页面中播放。",
            "Combines everyone's video and sound into one time-stamped video to play in the page.",
        ),
        "recordings.render.queued": _m("排队等待生成回放文件…", "Waiting to make the playback file…"),
        "recordings.render.rendering": _m(
            "正在生成回放文件：{percent}%", "Making the playback file: {percent}%"
        ),
        "recordings.render.ready": _m("回放文件已生成", "The playback file is ready"),
        "recordings.render.failed": _m(
            "回放文件生成失败：{error}", "Making the playback file failed: {error}"
        ),
        "recordings.render.progress": _m("生成进度", "Progress"),
        "recordings.player": _m("录像回放", "Playback"),
        "recordings.no_video": _m(
            "您的浏览器无法播放此视频，请下载后观看。",
            "Your browser cannot play this video; download it instead.",
        ),
        "recordings.download_playback": _m(
            "下载回放文件（MP4，{size}）", "Download the playback file (MP4, {size})"
        ),
        "recordings.files": _m("原始录制文件（{count} 个）", "Original files ({count})"),
        "recordings.files_help": _m(
            "按各方、各路音视频分段保存的原始文件（WebM），其 SHA-256 列于清单中。",
            "The original stream-copied files (WebM), per person and track, as the manifest lists them.",
        ),
        "recordings.source.camera": _m("摄像头", "Camera"),
        "recordings.source.audio": _m("麦克风", "Microphone"),
        "recordings.source.screen": _m("屏幕共享", "Screen share"),
        "recordings.segment": _m("第 {number} 段", "Part {number}"),
        "done.render": _m(
            "已提交生成回放文件，完成后即可在页面中播放。",
            "The playback file is being made; it can be played here when ready.",
        ),
        "error.recording_not_sealed": _m(
            "录制尚未结束，暂不能进行此操作。", "The recording has not ended yet; this cannot be done now."
        ),
        "error.render_not_ready": _m("回放文件尚未生成。", "The playback file is not ready yet."),
        "event.schedule_session": _m("安排视频调解", "Video session scheduled"),
        "event.cancel_session": _m("取消视频调解", "Video session cancelled"),
        "event.transcript_locked": _m("调解笔录经确认锁定", "Transcript confirmed and locked"),
        "event.recording_started": _m("开始录音录像", "Recording started"),
        "event.recording_sealed": _m("录音录像结束并封存", "Recording ended and sealed"),
        "event.recording_verified": _m("校验录音录像", "Recording verified"),
        "event.render_requested": _m("申请生成回放文件", "Playback file requested"),
        "event.recording_played": _m("播放录音录像", "Recording played"),
        "event.recording_downloaded": _m("下载录制文件", "Recording file downloaded"),
        "event.recording_deleted": _m("录音录像保存期满删除", "Recording deleted (retention ended)"),
        "sessions.title": _m("视频调解", "Video sessions"),
        "sessions.status.scheduled": _m("已安排", "Scheduled"),
        "sessions.status.live": _m("进行中", "In progress"),
        "sessions.untitled": _m("调解会议", "Mediation session"),
        "sessions.enter": _m("进入调解室", "Enter the session room"),
        "sessions.new_window": _m("（在新窗口打开）", "(opens in a new window)"),
        "sessions.no_link": _m(
            "您的链接已撤销或过期，请重新签发后进入。",
            "Your link was revoked or has expired; re-issue it to enter.",
        ),
        "materials.title": _m("案件材料", "Materials"),
        "materials.empty": _m("暂无材料。", "No materials."),
        "materials.no_access": _m(
            "案件材料仅限承办法院和承办调解员查阅。",
            "Only the court and the mediator handling the case may read its materials.",
        ),
        "materials.download": _m("下载", "Download"),
        "materials.size_kb": _m("{size} KB", "{size} KB"),
        "materials.uploaded": _m("{who} 于 {at} 上传", "Uploaded by {who} on {at}"),
        "audit.title": _m("操作记录", "Audit trail"),
        "audit.empty": _m("暂无记录。", "No entries."),
        "audit.at": _m("时间", "Time"),
        "audit.actor": _m("操作人", "By"),
        "audit.action": _m("操作", "Action"),
        "audit.change": _m("状态变化", "Status change"),
        "audit.reason": _m("理由/说明", "Reason or note"),
        "audit.reason_with_note": _m("{reason}：{note}", "{reason}: {note}"),
        # --- actions ----------------------------------------------------------------------------------
        "actions.title": _m("办理", "Actions"),
        "actions.none": _m("当前没有可办理的操作。", "Nothing for you to do on this case now."),
        "actions.accept": _m("接受指派", "Accept the assignment"),
        "actions.accept.note": _m("备注（选填）", "Note (optional)"),
        "actions.accept.submit": _m("接受", "Accept"),
        "actions.decline": _m("拒绝指派", "Decline the assignment"),
        "actions.decline.reason": _m("拒绝理由（必填）", "Reason (required)"),
        "actions.decline.help": _m(
            "拒绝须书面说明理由，案件将退回法院另行指派。",
            "Give your reasons in writing; the case goes back to the court for reassignment.",
        ),
        "actions.decline.submit": _m("拒绝", "Decline"),
        "actions.decline.confirm": _m("确定拒绝该案件的指派吗？", "Decline this assignment?"),
        "actions.begin": _m("开始调解", "Begin mediation"),
        "actions.begin.help": _m(
            "开始调解前，请核实各方身份并告知虚假调解的法律后果。",
            "Before you begin, verify every participant's identity and warn of the consequences of false "
            "mediation.",
        ),
        "actions.begin.submit": _m("开始调解", "Begin"),
        "actions.suspend": _m("中止调解", "Suspend"),
        "actions.suspend.kind": _m("中止事由", "Ground"),
        "actions.suspend.reason": _m("说明（必填）", "Explanation (required)"),
        "actions.suspend.help": _m("中止期间不计入调解期限。", "Time suspended is excluded from the period."),
        "actions.suspend.submit": _m("中止", "Suspend"),
        "actions.resume": _m("恢复调解", "Resume"),
        "actions.resume.note": _m("备注（选填）", "Note (optional)"),
        "actions.resume.submit": _m("恢复", "Resume"),
        "actions.terminate": _m("终止调解", "Terminate the mediation"),
        "actions.terminate.reason": _m("终止原因（必选）", "Reason (required)"),
        "actions.terminate.choose": _m("请选择……", "Choose…"),
        "actions.terminate.note": _m("情况说明", "Account of the mediation"),
        "actions.terminate.help": _m(
            "终止后结果将反馈法院，请说明调解经过、未成原因及其他需要法院了解的情况。",
            "The result goes back to the court: describe the course of the mediation, why it failed, and "
            "anything else the court should know.",
        ),
        "actions.terminate.submit": _m("终止调解", "Terminate"),
        "actions.terminate.confirm": _m(
            "终止后不可撤销，确定终止调解吗？", "Terminating cannot be undone. Terminate the mediation?"
        ),
        "done.accept": _m(
            "已接受指派，调解期限开始计算。", "Assignment accepted; the mediation period has started."
        ),
        "done.decline": _m(
            "已拒绝指派，案件已退回法院。", "Assignment declined; the case went back to the court."
        ),
        "done.begin_mediation": _m("已开始调解。", "Mediation has begun."),
        "done.suspend": _m("调解已中止，期限暂停计算。", "The mediation is suspended; the period is paused."),
        "done.resume": _m("调解已恢复。", "The mediation has resumed."),
        "done.terminate": _m(
            "调解已终止，结果将反馈法院。", "The mediation was terminated; the court is told."
        ),
        # --- errors -----------------------------------------------------------------------------------
        "error.title": _m("无法完成操作", "The action could not be completed"),
        "error.code": _m("错误代码：{code}", "Error code: {code}"),
        "error.ref": _m("参考编号：{ref}", "Reference: {ref}"),
        "error.back": _m("返回待办", "Back to the inbox"),
        "error.400": _m("请求无效。", "The request is not valid."),
        "error.403": _m("您无权执行此操作。", "You may not do this."),
        "error.404": _m("案件不存在，或您无权查看。", "The case does not exist, or you may not see it."),
        "error.404.page": _m("页面不存在。", "This page does not exist."),
        "error.405": _m("不支持此请求方式。", "This method is not allowed here."),
        "error.409": _m(
            "案件状态已变化，此操作无法进行。请刷新页面后查看。",
            "The case has changed and this action is no longer possible. Reload the page.",
        ),
        "error.413": _m("提交的内容过大。", "The request is too large."),
        "error.422": _m("提交的内容有误，请检查后重试。", "Please check what you entered and try again."),
        "error.429": _m("操作过于频繁，请稍后再试。", "Too many requests; try again later."),
        "error.500": _m(
            "系统内部错误，请稍后再试；如持续出现，请将参考编号告知技术支持。",
            "Internal error. Try again later; if it persists, give the reference to support.",
        ),
        "error.csrf": _m(
            "页面已过期或请求来源无法验证，请刷新页面后重新提交。",
            "The page expired or the request could not be verified. Reload the page and submit again.",
        ),
        "error.illegal_transition": _m(
            "案件当前状态为“{state}”，不能进行此操作。请刷新页面后查看。",
            "The case is now “{state}”, which does not allow this action. Reload the page.",
        ),
        "error.no_pending_assignment": _m(
            "该案件目前没有等待答复的指派。", "The case has no assignment waiting for an answer."
        ),
        "error.invalid_reason": _m(
            "所选原因不适用于当前案件。", "The reason chosen does not apply to this case at present."
        ),
        "error.concurrent_update": _m(
            "案件刚被他人修改，请刷新页面后重试。",
            "Someone else just changed the case. Reload and try again.",
        ),
        "error.field.reason.decline": _m("请填写拒绝理由。", "Give a reason for declining."),
        "error.field.reason.terminate": _m("请选择终止调解的原因。", "Choose a reason for terminating."),
        "error.field.reason.suspend": _m("请填写中止的说明。", "Explain why the mediation is suspended."),
        "error.field.kind.suspend": _m("请选择中止事由。", "Choose a ground for the suspension."),
        "error.field.too_long": _m("填写的内容过长。", "The text is too long."),
        # --- case states ------------------------------------------------------------------------------
        "state.created": _m("待指派", "Awaiting assignment"),
        "state.assigned": _m("待接受", "Awaiting acceptance"),
        "state.awaiting_reassignment": _m("待重新指派", "Awaiting reassignment"),
        "state.accepted": _m("已接受", "Accepted"),
        "state.in_mediation": _m("调解中", "In mediation"),
        "state.suspended": _m("已中止", "Suspended"),
        "state.extended": _m("延期调解中", "In mediation (extended)"),
        "state.mediator_change": _m("更换调解员中", "Changing mediator"),
        "state.awaiting_signatures": _m("待签署协议", "Awaiting signatures"),
        "state.agreed": _m("调解成功", "Agreement reached"),
        "state.terminated": _m("调解终止", "Terminated"),
        "state.reported": _m("已反馈法院", "Reported to the court"),
        "state.acknowledged": _m("法院已确认收悉", "Acknowledged by the court"),
        "state.jc_applied": _m("已申请司法确认", "Judicial confirmation applied for"),
        "state.jc_confirmed": _m("司法确认有效", "Judicially confirmed"),
        "state.jc_rejected": _m("司法确认驳回", "Judicial confirmation rejected"),
        "state.jc_withdrawn": _m("司法确认申请撤回", "Judicial confirmation withdrawn"),
        "state.mediation_doc_requested": _m("已申请出具调解书", "Mediation document requested"),
        "state.suit_withdrawn": _m("原告已撤诉", "Suit withdrawn"),
        "state.offline_agreement_uploaded": _m("线下协议已上传", "Offline agreement uploaded"),
        # --- outcomes ---------------------------------------------------------------------------------
        "outcome.full": _m("全部达成协议", "Full agreement"),
        "outcome.partial": _m("部分达成协议", "Partial agreement"),
        "outcome.failed": _m("调解不成", "No agreement"),
        # --- audit actions ----------------------------------------------------------------------------
        "event.create": _m("创建案件", "Case created"),
        "event.assign": _m("指派调解员", "Mediator assigned"),
        "event.decline": _m("拒绝指派", "Assignment declined"),
        "event.acceptance_timeout": _m("逾期未接受", "Not accepted in time"),
        "event.accept": _m("接受指派", "Assignment accepted"),
        "event.begin_mediation": _m("开始调解", "Mediation begun"),
        "event.suspend": _m("中止调解", "Suspended"),
        "event.resume": _m("恢复调解", "Resumed"),
        "event.extend": _m("延长调解期限", "Period extended"),
        "event.change_mediator": _m("更换调解员", "Mediator changed"),
        "event.request_signatures": _m("发起协议签署", "Signatures requested"),
        "event.return_to_mediation": _m("退回调解", "Returned to mediation"),
        "event.signatures_complete": _m("协议签署完成", "Agreement signed"),
        "event.refuse_to_sign": _m("当事人拒绝签署", "A party refused to sign"),
        "event.terminate": _m("终止调解", "Terminated"),
        "event.report": _m("反馈法院", "Reported to the court"),
        "event.acknowledge": _m("法院确认收悉", "Acknowledged by the court"),
        "event.apply_jc": _m("申请司法确认", "Applied for judicial confirmation"),
        "event.confirm_jc": _m("司法确认", "Judicially confirmed"),
        "event.reject_jc": _m("驳回司法确认申请", "Judicial confirmation rejected"),
        "event.withdraw_jc": _m("撤回司法确认申请", "Judicial confirmation withdrawn"),
        "event.request_mediation_doc": _m("申请出具调解书", "Mediation document requested"),
        "event.withdraw_suit": _m("撤诉", "Suit withdrawn"),
        "event.upload_material": _m("上传材料", "Material uploaded"),
        "event.disclose": _m("披露利益冲突", "Conflict disclosed"),
        "event.disclosure_consent": _m("当事人同意继续调解", "Party consented after disclosure"),
        "event.disclosure_objection": _m("当事人不同意继续调解", "Party objected after disclosure"),
        "event.request_recusal": _m("申请回避", "Recusal requested"),
        "event.request_change": _m("申请更换调解员", "Change of mediator requested"),
        "event.grant_change": _m("准许回避/更换", "Change granted"),
        "event.refuse_change": _m("驳回回避/更换申请", "Change refused"),
        # --- the agreement (issue 5; web/console/agreement_page.py) ---------------------------------------
        "agreement.title": _m("调解协议", "Mediation agreement"),
        "agreement.no_access": _m(
            "调解协议仅限承办法院和承办调解员查阅。",
            "Only the court and the mediator handling the case may see its agreement.",
        ),
        "agreement.versions": _m("协议版本", "Versions"),
        "agreement.none": _m("尚未起草协议。", "No agreement has been drafted yet."),
        "agreement.col.number": _m("版本", "Version"),
        "agreement.col.status": _m("状态", "Status"),
        "agreement.col.source": _m("来源", "Source"),
        "agreement.col.hash": _m("文件摘要（SHA-256）", "Document hash (SHA-256)"),
        "agreement.col.by": _m("经办", "By and when"),
        "agreement.col.pdf": _m("PDF 文件", "PDF file"),
        "agreement.number": _m("第 {number} 版", "Version {number}"),
        "agreement.revision": _m("（第 {revision} 次修改）", "(edit {revision})"),
        "agreement.status.draft": _m("草稿", "Draft"),
        "agreement.status.frozen": _m("已定稿", "Frozen"),
        "agreement.status.superseded": _m("已被取代", "Superseded"),
        "agreement.source.template": _m("在线起草", "Drafted online"),
        "agreement.source.upload": _m("线下协议上传", "Offline agreement (upload)"),
        "agreement.created": _m("{who} 于 {at} 创建", "Created by {who} on {at}"),
        "agreement.frozen": _m("{who} 于 {at} 定稿", "Frozen by {who} on {at}"),
        "agreement.superseded": _m("{at} 被新版本取代", "Superseded on {at}"),
        "agreement.download": _m("下载 PDF", "Download PDF"),
        "agreement.read": _m("查看第 {number} 版全文", "Read version {number}"),
        "agreement.uploaded_only": _m(
            "当前版本为上传的 PDF 文件，请下载查看。",
            "The current version is an uploaded PDF: download it to read it.",
        ),
        "agreement.comments": _m("当事人意见", "Comments from the session"),
        "agreement.comments.none": _m(
            "在调解室展示协议后，当事人提出的意见会显示在这里。",
            "When you show the agreement in a session, the parties' comments appear here.",
        ),
        "agreement.comment.on": _m(
            "针对第 {number} 版（第 {revision} 次修改）", "On version {number} (edit {revision})"
        ),
        "agreement.comment.caucus": _m("背对背", "Caucus"),
        "agreement.editor": _m("起草协议", "Draft the agreement"),
        "agreement.editor.help": _m(
            "按劳动争议调解协议模板填写；可以先保存未完成的草稿，定稿前须填写完整。",
            "Fill in the labor-dispute template. Unfinished drafts can be saved; a draft must be complete "
            "to be frozen.",
        ),
        "agreement.prefill": _m("根据案件信息预填", "Prefill from the case"),
        "agreement.prefill.confirm": _m(
            "预填将替换表单中尚未保存的内容（已保存的版本不受影响），继续吗？",
            "Prefilling replaces what the form holds (saved versions are not affected). Continue?",
        ),
        "agreement.prefilled": _m(
            "已根据案件信息预填，请核对并补充后保存。", "Prefilled from the case: check, complete and save."
        ),
        "agreement.parties_from_case": _m(
            "当事人基本情况在每次保存时从案件信息中自动取得。",
            "The parties' basic information is taken from the case each time the draft is saved.",
        ),
        "agreement.facts": _m("主要事实", "Main facts"),
        "agreement.issues": _m("争议事项", "Disputed issues"),
        "agreement.issue": _m("争议事项 {n}", "Issue {n}"),
        "agreement.add_issue": _m("增加争议事项", "Add an issue"),
        "agreement.terms": _m("协议内容", "Terms"),
        "agreement.term": _m("第 {n} 项", "Term {n}"),
        "agreement.term.description": _m("内容", "What is to be done"),
        "agreement.term.amount": _m("金额（元）", "Amount (yuan)"),
        "agreement.term.due_date": _m("履行期限", "Due date"),
        "agreement.term.payment_method": _m("支付方式", "Method of payment"),
        "agreement.term.no_payment": _m("（非金钱给付）", "(not a payment)"),
        "agreement.payment.bank_transfer": _m("银行转账", "Bank transfer"),
        "agreement.payment.cash": _m("现金", "Cash"),
        "agreement.payment.online_payment": _m("网上支付", "Online payment"),
        "agreement.payment.other": _m("其他方式", "Other"),
        "agreement.add_term": _m("增加一项", "Add a term"),
        "agreement.remove": _m("删除", "Remove"),
        "agreement.settlement": _m("调解范围", "What it settles"),
        "agreement.settlement.full": _m("全部请求达成调解", "All the claims"),
        "agreement.settlement.partial": _m("部分请求达成调解", "Part of the claims"),
        "agreement.unsettled_claims": _m(
            "未达成调解的请求（部分调解时填写）", "Claims left open (for a partial settlement)"
        ),
        "agreement.save": _m("保存草稿", "Save the draft"),
        "agreement.freeze": _m("定稿", "Freeze"),
        "agreement.freeze.help": _m(
            "定稿后生成 PDF 并计算其摘要，各方签名均针对该文件；定稿后的版本不能再修改，修改将产生新版本。",
            "Freezing renders the PDF and its hash, which every signature binds to. A frozen version never "
            "changes: an edit starts a new version.",
        ),
        "agreement.freeze.submit": _m("将第 {number} 版定稿", "Freeze version {number}"),
        "agreement.freeze.confirm": _m(
            "定稿后第 {number} 版不能再修改，确定定稿吗？",
            "Version {number} can no longer change once frozen. Freeze it?",
        ),
        "agreement.freeze.not_ready": _m(
            "草稿尚有 {count} 处需要补充，补充完整后才能定稿（见上方标注）。",
            "{count} item(s) must be completed before the draft can be frozen (marked above).",
        ),
        "agreement.upload": _m("上传线下达成的协议", "Upload an agreement reached offline"),
        "agreement.upload.help": _m(
            "上传完整的 PDF 文件；它将成为新的已定稿版本，取代当前版本。",
            "Upload the complete PDF: it becomes a new frozen version and supersedes the current one.",
        ),
        "agreement.upload.file": _m("协议 PDF 文件", "Agreement (PDF)"),
        "agreement.upload.submit": _m("上传", "Upload"),
        "agreement.upload.confirm": _m(
            "上传的文件将取代当前版本，确定上传吗？",
            "The uploaded file supersedes the current version. Upload it?",
        ),
        "agreement.invalid.amount": _m(
            "金额须为大于零的数字，最多两位小数。",
            "The amount is a number above zero with at most two decimals.",
        ),
        "agreement.invalid.due_date": _m("请填写有效的日期。", "Enter a valid date."),
        "agreement.invalid.payment_method": _m("请选择支付方式。", "Choose a method of payment."),
        "agreement.invalid.settlement": _m("请选择调解范围。", "Choose what the agreement settles."),
        "agreement.error.invalid": _m(
            "有内容填写有误，未保存；请按标注修改后再保存。",
            "Some entries are not valid and nothing was saved: correct what is marked and save again.",
        ),
        "agreement.error.stale_revision": _m(
            "协议已被他人修改或定稿，您的内容未保存，仍保留在下方表单中。请核对后再次保存（将以您的内容为准）。",
            "The agreement was changed or frozen meanwhile. Your text was not saved and is kept in the form "
            "below: check it and save again (your text will then be saved).",
        ),
        "agreement.error.agreement_incomplete": _m(
            "草稿尚未填写完整，不能定稿；请按标注补充。",
            "The draft is not complete and cannot be frozen: see the marks.",
        ),
        "agreement.error.version_not_draft": _m(
            "该版本已定稿或已被取代，不能再定稿。请刷新页面。",
            "That version is frozen or superseded already. Reload the page.",
        ),
        "agreement.error.case_not_in_mediation": _m(
            "案件不在调解中，不能起草、定稿或上传协议。",
            "The case is not under mediation: the agreement cannot be drafted, frozen or uploaded.",
        ),
        "agreement.error.unknown_version": _m("没有该协议版本。", "No such version."),
        "agreement.error.unsupported_media_type": _m("请上传 PDF 文件。", "Upload a PDF file."),
        "agreement.error.truncated_pdf": _m(
            "PDF 文件不完整（可能上传中断），请重新上传。",
            "The PDF is incomplete (perhaps cut off): upload it again.",
        ),
        "agreement.error.empty_file": _m("文件为空。", "The file is empty."),
        "agreement.error.payload_too_large": _m("文件过大。", "The file is too large."),
        "agreement.problem.party_missing": _m(
            "案件缺少申请人或被申请人，无法形成协议。", "The case lacks an applicant or a respondent."
        ),
        "agreement.problem.facts_missing": _m("请填写主要事实。", "State the main facts."),
        "agreement.problem.issues_missing": _m("请列明争议事项。", "List the disputed issues."),
        "agreement.problem.terms_missing": _m(
            "协议至少需要一项内容。", "The agreement needs at least one term."
        ),
        "agreement.problem.due_date_missing": _m("款项须写明履行期限。", "A payment needs a due date."),
        "agreement.problem.payment_method_missing": _m("请写明支付方式。", "Say how it is paid."),
        "agreement.problem.due_date_past": _m("履行期限早于今天。", "The due date is before today."),
        "agreement.problem.unsettled_claims_missing": _m(
            "部分调解须写明未达成调解的请求。", "A partial settlement names the claims it leaves open."
        ),
        "agreement.problem.unsettled_claims_not_allowed": _m(
            "全部调解不应列出未达成调解的请求。", "A full settlement leaves no claims open."
        ),
        "done.agreement_saved": _m("协议草稿已保存。", "The draft was saved."),
        "done.agreement_frozen": _m(
            "协议已定稿，已生成 PDF 文件及其摘要。", "The agreement is frozen: its PDF and hash are stored."
        ),
        "done.agreement_uploaded": _m(
            "线下协议已上传为新版本。", "The offline agreement was uploaded as a new version."
        ),
        "event.save_agreement_draft": _m("保存协议草稿", "Agreement draft saved"),
        "event.freeze_agreement": _m("协议定稿", "Agreement frozen"),
        "event.upload_agreement": _m("上传线下协议", "Offline agreement uploaded"),
        # --- signing the agreement (web/console/signing_page.py) -------------------------------------------
        "signing.title": _m("签署", "Signatures"),
        "signing.none": _m(
            "尚未发起签署。协议定稿后，调解员可在此发起签署。",
            "No signatures requested yet. Once a version is frozen, the mediator requests them here.",
        ),
        "signing.request": _m("发起签署（第 {number} 版）", "Request signatures (version {number})"),
        "signing.request.help": _m(
            "各方当事人和调解员须签署，代理人可会签；"
            "加盖调解组织印章的，由工会用户在最后盖章。每位当事人将收到个人签署链接（短信）。",
            "Every principal party and the mediator sign, agents may countersign; with the seal, a union "
            "user applies the organisation's seal last. Each party gets a personal signing link (by text "
            "message).",
        ),
        "signing.order": _m("签署顺序", "Order"),
        "signing.order.parallel": _m("各方可同时签署", "Everyone signs in any order"),
        "signing.order.ordered": _m(
            "依次签署（申请人、被申请人、调解员）",
            "One after another (applicants, respondents, the mediator)",
        ),
        "signing.seal": _m("加盖调解组织电子印章", "The organisation's electronic seal"),
        "signing.outcome": _m("调解结果", "Outcome"),
        "signing.outcome.help": _m(
            "上传的线下协议须说明是全部还是部分请求达成调解。",
            "For an uploaded agreement, say whether it settles all the claims or part of them.",
        ),
        "signing.outcome.full": _m("全部请求达成调解", "All the claims"),
        "signing.outcome.partial": _m("部分请求达成调解", "Part of the claims"),
        "signing.notify": _m("通过短信向当事人发送签署链接", "Send the parties their links by text message"),
        "signing.request.submit": _m("发起签署", "Request signatures"),
        "signing.request.confirm": _m(
            "发起签署后案件进入待签署状态。确定发起吗？",
            "The case will then await signatures. Request them?",
        ),
        "signing.links": _m("签署链接（仅显示一次）", "Signing links (shown only this once)"),
        "signing.links.help": _m(
            "链接仅限本人使用。短信未能发送的，请通过其他可靠方式交给本人。",
            "Each link is for that person alone. Where no text message went out, hand it over another safe "
            "way.",
        ),
        "signing.links.notified": _m("已发短信", "Sent by text"),
        "signing.links.not_notified": _m("未发短信", "Not sent"),
        "signing.links.expires": _m("有效期至 {at}", "Valid until {at}"),
        "signing.round": _m("第 {number} 版的签署", "Signing of version {number}"),
        "signing.earlier": _m("以往的签署（{count}）", "Earlier rounds ({count})"),
        "signing.col.signer": _m("签署人", "Signer"),
        "signing.col.role": _m("身份", "Role"),
        "signing.col.status": _m("状态", "Status"),
        "signing.col.viewed": _m("查看协议", "Viewed"),
        "signing.col.signed": _m("签署时间", "Signed"),
        "signing.col.auth": _m("身份确认", "Authentication"),
        "signing.col.signature": _m("签名", "Signature"),
        "signing.hash": _m("文件摘要（SHA-256）", "Document hash (SHA-256)"),
        "signing.status": _m("签署状态", "Status"),
        "signing.status.open": _m("签署中", "Open"),
        "signing.status.effective": _m("已生效", "In effect"),
        "signing.status.refused": _m("有人拒签", "Refused"),
        "signing.status.void": _m("已作废（版本被取代）", "Void (version replaced)"),
        "signing.requested": _m("{who} 于 {at} 发起", "Requested by {who} on {at}"),
        "signing.effective_at": _m("{at} 生效", "In effect since {at}"),
        "signing.closed_at": _m("{at} 结束", "Ended on {at}"),
        "signing.refusal": _m("{who} 拒绝签署，理由：{reason}", "{who} refused to sign: {reason}"),
        "signing.evidence.pending": _m("等待生成签章文件", "Waiting for the sealed document"),
        "signing.evidence.delivered": _m("已交付签章", "Handed to sealing"),
        "signing.optional": _m("会签（可选）", "Countersigns (optional)"),
        "signing.now": _m("现可签署", "May sign now"),
        "signing.signer.pending": _m("待签署", "Not yet signed"),
        "signing.signer.signed": _m("已签署", "Signed"),
        "signing.signer.refused": _m("拒绝签署", "Refused"),
        "signing.role.worker": _m("劳动者", "Worker"),
        "signing.role.employer": _m("用人单位", "Employer"),
        "signing.role.agent": _m("委托代理人", "Agent"),
        "signing.role.legal_representative": _m("法定代表人", "Legal representative"),
        "signing.role.mediator": _m("调解员", "Mediator"),
        "signing.role.organisation_seal": _m("调解组织印章", "Organisation's seal"),
        "signing.auth.one_time_code": _m("短信验证码", "One-time code"),
        "signing.auth.in_session": _m("视频调解中核验", "Checked in the session"),
        "signing.auth.account": _m("平台账号", "Console account"),
        "signing.auth.signing_link": _m("签署链接", "Signing link"),
        "signing.auth.password_session": _m("平台账号", "Console account"),
        "signing.auth.api_key": _m("系统接口", "API key"),
        "signing.auth.system": _m("系统", "System"),
        "signing.reissue": _m("重新发送签署链接", "Reissue signing links"),
        "signing.reissue.help": _m(
            "新链接发出后，原链接即失效。", "A new link stops the older one from working."
        ),
        "signing.reissue.submit": _m("重新发送", "Reissue"),
        "signing.document": _m("查看待签署的协议（PDF）", "Open the document to sign (PDF)"),
        "signing.document.help": _m(
            "签署前须先查看协议；查看会记入签署记录。",
            "Open the document before signing; opening it is recorded in the trail.",
        ),
        "signing.viewed_by_me": _m("您已查看过协议。", "You have opened the document."),
        "signing.sign": _m("调解员签名", "The mediator's signature"),
        "signing.sign.wait": _m(
            "按签署顺序，尚未轮到您签署。", "In the signing order, it is not your turn yet."
        ),
        "signing.read": _m("我已阅读协议全文，确认签署。", "I have read the whole agreement and sign it."),
        "signing.pad": _m("签名框", "Signature box"),
        "signing.pad.help": _m(
            "用鼠标、触控笔或手指在框内签名。", "Sign in the box with the mouse, a pen or a finger."
        ),
        "signing.pad.undo": _m("撤销一笔", "Undo a stroke"),
        "signing.pad.clear": _m("清除", "Clear"),
        "signing.pad.empty": _m("请先在签名框内签名。", "Please sign in the box first."),
        "signing.pad.noscript": _m("签名需要启用 JavaScript。", "Signing by hand needs JavaScript."),
        "signing.sign.submit": _m("确认签署", "Sign"),
        "signing.seal.title": _m("加盖调解组织电子印章", "Apply the organisation's electronic seal"),
        "signing.seal.help": _m(
            "印章在当事人和调解员全部签署后加盖，盖章后协议生效。",
            "The seal comes after the parties and the mediator have signed; with it the agreement takes "
            "effect.",
        ),
        "signing.seal.wait": _m(
            "还有签署人尚未签署，暂不能盖章。", "Not everyone has signed yet, so the seal cannot be applied."
        ),
        "signing.seal.submit": _m("加盖印章", "Apply the seal"),
        "signing.seal.confirm": _m(
            "盖章后协议即生效，不可撤回。确定加盖印章吗？",
            "With the seal the agreement takes effect; this cannot be undone. Apply the seal?",
        ),
        "signing.trail": _m("签署记录（哈希链）", "Signing trail (hash chain)"),
        "signing.trail.intact": _m(
            "记录完整：共 {count} 条，每条与前一条的摘要相连，未发现改动。",
            "Intact: {count} entries, each chained to the one before; no change found.",
        ),
        "signing.trail.broken": _m(
            "记录校验未通过：发现 {count} 处问题。", "The check failed: {count} problem(s) found."
        ),
        "signing.trail.head": _m("末条摘要", "Last entry hash"),
        "signing.trail.problem.altered": _m("第 {seq} 条内容被改动", "Entry {seq} was altered"),
        "signing.trail.problem.broken_link": _m(
            "第 {seq} 条与前一条不相连（有记录被删除、插入或移动）",
            "Entry {seq} does not follow the one before (an entry removed, inserted or moved)",
        ),
        "signing.trail.problem.out_of_sequence": _m(
            "第 {seq} 条序号不连续", "Entry {seq} is out of sequence"
        ),
        "signing.trail.problem.head_mismatch": _m(
            "第 {seq} 条之后的记录缺失", "Entries after {seq} are missing"
        ),
        "signing.trail.col.seq": _m("序号", "No."),
        "signing.trail.col.at": _m("时间", "Time"),
        "signing.trail.col.actor": _m("操作人", "By"),
        "signing.trail.col.action": _m("操作", "Step"),
        "signing.trail.col.signer": _m("签署人", "Signer"),
        "signing.trail.col.auth": _m("认证方式", "Authentication"),
        "signing.trail.col.ip": _m("IP 地址", "IP address"),
        "signing.trail.col.hash": _m("记录摘要", "Entry hash"),
        "signing.action.signatures_requested": _m("发起签署", "Signatures requested"),
        "signing.action.links_issued": _m("发送签署链接", "Links issued"),
        "signing.action.otp_sent": _m("发送验证码", "Code sent"),
        "signing.action.otp_verified": _m("验证码正确", "Code verified"),
        "signing.action.otp_failed": _m("验证码错误", "Wrong code"),
        "signing.action.otp_not_delivered": _m("验证码短信未送达，已作废", "Code not delivered: withdrawn"),
        "signing.action.viewed": _m("查看协议", "Document viewed"),
        "signing.action.signed": _m("签名", "Signed"),
        "signing.action.refused": _m("拒绝签署", "Refused"),
        "signing.action.sealed": _m("加盖印章", "Sealed"),
        "signing.action.voided": _m("签署作废", "Round voided"),
        "signing.action.effective": _m("协议生效", "Agreement in effect"),
        "signing.error.not_frozen": _m("请先将协议定稿。", "Freeze the agreement first."),
        "signing.error.version_superseded": _m(
            "该版本已被新版本取代，请对当前版本发起签署。",
            "This version was replaced: request signatures on the current one.",
        ),
        "signing.error.already_signed": _m("您已签署过。", "You have signed already."),
        "signing.error.not_your_turn": _m(
            "按签署顺序，尚未轮到您签署或盖章。", "In the signing order, it is not your turn yet."
        ),
        "signing.error.signing_closed": _m("签署已结束。", "This signing has ended."),
        "signing.error.document_not_viewed": _m(
            "请先查看待签署的协议，再签署或盖章。", "Open the document before signing or sealing it."
        ),
        "signing.error.case_not_awaiting_signatures": _m(
            "案件目前不在待签署状态。", "The case is not awaiting signatures."
        ),
        "signing.error.seal_not_required": _m(
            "本次签署不需要加盖印章。", "This signing was requested without the seal."
        ),
        "signing.error.seal_needs_user": _m(
            "印章须由登录平台的工会用户加盖。",
            "The seal is applied by a union user signed in to the console.",
        ),
        "signing.error.not_a_signer": _m("您不是本次签署的签署人。", "You are not a signer of this round."),
        "signing.error.document_hash_mismatch": _m(
            "协议已变化，请刷新页面后重新查看。", "The document changed: reload the page and open it again."
        ),
        "signing.error.malformed_signature": _m(
            "签名无法识别，请清除后重新签名。", "The signature could not be read: clear it and sign again."
        ),
        "signing.error.signature_missing": _m("请先在签名框内签名。", "Please sign in the box first."),
        "signing.error.read_required": _m(
            "请确认已阅读协议全文。", "Confirm that you have read the agreement."
        ),
        "signing.error.payload_too_large": _m(
            "签名数据过大，请清除后重新签名。", "The signature is too large: clear it and sign again."
        ),
        "signing.error.outcome_required": _m(
            "请选择调解结果（全部或部分）。", "Choose the outcome (all or part of the claims)."
        ),
        "signing.error.outcome_mismatch": _m(
            "所选调解结果与协议内容不一致。", "The outcome chosen does not match the agreement's text."
        ),
        "signing.error.no_parties": _m("案件没有可签署的当事人。", "The case has no party to sign."),
        "signing.error.no_mediator": _m(
            "案件没有调解员或调解组织。", "The case has no mediator or organisation."
        ),
        "signing.error.unknown_round": _m("没有该签署。", "No such signing round."),
        "signing.error.validation_failed": _m(
            "提交的内容有误，请检查后重试。", "Please check what you entered and try again."
        ),
        "done.signing_requested": _m(
            "已发起签署，案件进入待签署状态。", "Signatures requested: the case awaits signatures."
        ),
        "done.signing_links": _m("已重新发送签署链接。", "The signing links were reissued."),
        "done.signing_signed": _m("您已签署协议。", "You have signed the agreement."),
        "done.signing_sealed": _m("已加盖调解组织印章。", "The organisation's seal was applied."),
        # --- webhooks ---------------------------------------------------------------------------------
        "webhooks.title": _m("事件推送记录", "Webhook deliveries"),
        "webhooks.help": _m(
            "推送到本院系统的案件事件：每次推送、每次尝试及其结果。对方系统按 webhook-id 去重。",
            "Case events sent to this court's systems: each delivery, every attempt and its result. "
            "Receivers deduplicate on webhook-id.",
        ),
        "webhooks.none": _m(
            "尚未登记接收地址（通过 API 登记：POST /api/v1/webhooks/endpoints）。",
            "No endpoint registered yet (register one through the API: POST /api/v1/webhooks/endpoints).",
        ),
        "webhooks.active": _m("接收中", "Active"),
        "webhooks.disabled": _m("已停用", "Disabled"),
        "webhooks.all_types": _m("全部事件", "All events"),
        "webhooks.no_deliveries": _m("暂无推送。", "No deliveries yet."),
        "webhooks.col.event": _m("事件", "Event"),
        "webhooks.col.status": _m("状态", "Status"),
        "webhooks.col.attempts": _m("尝试", "Attempts"),
        "webhooks.col.next": _m("下次尝试", "Next attempt"),
        "webhooks.status.pending": _m("待送达", "Pending"),
        "webhooks.status.delivered": _m("已送达", "Delivered"),
        "webhooks.status.failed": _m("已放弃", "Given up"),
        "webhooks.latency": _m("{ms} 毫秒", "{ms} ms"),
        "webhooks.redeliver": _m("重新推送", "Send again"),
        "webhooks.redelivered": _m("已安排重新推送。", "The delivery will be sent again."),
        # --- statistics (stats.labels) -----------------------------------------------------------------
        **STATS_MESSAGES,
    }
)


def translate(language: str, key: str, /, **values: object) -> str:
    """The message ``key`` in ``language`` with ``values`` filled in; an unknown key raises KeyError."""
    entry = MESSAGES[key]
    text = entry.get(language) or entry[DEFAULT_LANGUAGE]
    return text.format(**values) if values else text


def _english(language: str) -> bool:
    return language == EN


def vocabulary(language: str, value: str | None) -> str:
    """A domain vocabulary value (cause, party role, kind, procedure …) in ``language``."""
    if not value:
        return translate(language, "case.none")
    return vocab_label(value, language)


def reason_label(language: str, value: str | None) -> str:
    """An OMR 25 termination reason in the rule's wording."""
    if not value:
        return translate(language, "case.none")
    try:
        reason = TerminationReason(value)
    except ValueError:
        return value
    return (REASON_LABELS_EN if _english(language) else REASON_LABELS_ZH)[reason]


def id_type_label(language: str, value: str) -> str:
    try:
        kind = IdType(value)
    except ValueError:
        return value
    return (ID_TYPE_LABELS_EN if _english(language) else ID_TYPE_LABELS_ZH)[kind]


_WEEKDAYS_ZH = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
_WEEKDAYS_EN = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def format_date(language: str, value: date | None, *, weekday: bool = False) -> str:
    """``2026-03-05``, or with the weekday ``2026-03-05 周四`` / ``Thu 2026-03-05``."""
    if value is None:
        return translate(language, "case.none")
    if isinstance(value, datetime):
        value = value.astimezone(SHANGHAI).date()
    text = value.isoformat()
    if not weekday:
        return text
    if _english(language):
        return f"{_WEEKDAYS_EN[value.weekday()]} {text}"
    return f"{text} {_WEEKDAYS_ZH[value.weekday()]}"


def format_datetime(language: str, value: datetime | None) -> str:
    """Courts' local time (Asia/Shanghai), to the minute."""
    if value is None:
        return translate(language, "case.none")
    return value.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def days_left(language: str, due: date | None, today: date) -> str:
    """``剩 3 天`` / ``今日到期`` / ``逾期 2 天`` for a last day seen from ``today``."""
    if due is None:
        return ""
    days = (due - today).days
    if days == 0:
        return translate(language, "deadline.due_today")
    if days == 1:
        return translate(language, "deadline.one_day_left")
    if days == -1:
        return translate(language, "deadline.one_day_overdue")
    if days > 0:
        return translate(language, "deadline.days_left", days=days)
    return translate(language, "deadline.days_overdue", days=-days)


def format_amount(language: str, value: Decimal | None) -> str:
    if value is None:
        return translate(language, "case.none")
    text = f"{value:,.2f}"
    return f"CNY {text}" if _english(language) else f"{text} 元"
