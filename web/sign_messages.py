"""Every string of the party's signing page (``/sign``), in Simplified Chinese and English.

The page frame renders them (``t["key"]``) and hands those of its language to the script as a JSON data block
(``t("key", {placeholders})`` in ``web/static/sign.js``). ``err.<code>`` is the sentence for each error code
the party API (``/sign/api``) answers; ``role.<role>`` and ``status.<status>`` name the signers and states.
"""

from __future__ import annotations

from typing import Final

from web.console.i18n import EN, ZH

__all__ = ["MESSAGES"]


def _m(zh: str, en: str) -> dict[str, str]:
    return {ZH: zh, EN: en}


MESSAGES: Final[dict[str, dict[str, str]]] = {
    "app.name": _m("劳动争议在线调解", "Online labour-dispute mediation"),
    "title": _m("签署调解协议", "Sign the mediation agreement"),
    "lang.label": _m("语言", "Language"),
    "lang.switch": _m("English", "中文"),
    "noscript": _m("请启用 JavaScript 后签署协议。", "Please enable JavaScript to sign the agreement."),
    "loading": _m("正在读取……", "Loading…"),
    "no_token": _m(
        "链接不完整，请从短信中重新打开。",
        "The link is incomplete. Please open it again from the text message.",
    ),
    "confidential": _m(
        "调解协议内容依法保密。本链接仅限您本人使用，请勿转发。每一步操作都会被记录。",
        "The agreement is confidential. This link is for you alone: do not forward it. Every step is logged.",
    ),
    "refresh": _m("刷新", "Reload"),
    # --- the round -------------------------------------------------------------------------------------
    "case_number": _m("案号", "Case number"),
    "court": _m("法院", "Court"),
    "organisation": _m("调解组织", "Mediation organisation"),
    "version": _m("协议版本", "Version"),
    "version.number": _m("第 {number} 版", "Version {number}"),
    "signing_as": _m("签署人（本人）", "Signing as"),
    "order": _m("签署顺序", "Order"),
    "order.parallel": _m("各方可同时签署", "Everyone signs in any order"),
    "order.ordered": _m("按顺序依次签署", "One after another, in order"),
    "signers": _m("签署情况", "Signers"),
    "signer.optional": _m("（会签，可选）", "(countersigns, optional)"),
    "signer.now": _m("现可签署", "may sign now"),
    "signer.me": _m("本人", "you"),
    "signer.signed_at": _m("{time} 签署", "signed {time}"),
    "role.worker": _m("劳动者", "Worker"),
    "role.employer": _m("用人单位", "Employer"),
    "role.agent": _m("委托代理人", "Agent"),
    "role.legal_representative": _m("法定代表人", "Legal representative"),
    "role.mediator": _m("调解员", "Mediator"),
    "role.organisation_seal": _m("调解组织印章", "Organisation's seal"),
    "status.pending": _m("待签署", "Not yet signed"),
    "status.signed": _m("已签署", "Signed"),
    "status.refused": _m("拒绝签署", "Refused"),
    # --- 1. the document -------------------------------------------------------------------------------
    "doc.heading": _m("第一步：阅读协议全文", "Step 1: read the whole agreement"),
    "doc.help": _m(
        "您签署的是下面这份文件本身。请完整阅读后再签署。",
        "What you sign is this very file. Read all of it before you sign.",
    ),
    "doc.open": _m("查看协议全文", "Open the agreement"),
    "doc.loading": _m("正在下载协议……", "Downloading the agreement…"),
    "doc.download": _m("下载 PDF", "Download the PDF"),
    "doc.open_tab": _m("在新窗口打开", "Open in a new tab"),
    "doc.frame": _m("调解协议全文（PDF）", "The agreement (PDF)"),
    "doc.no_viewer": _m(
        "此浏览器不能在页面内显示 PDF：请点“在新窗口打开”或“下载 PDF”阅读。",
        "This browser cannot show the PDF in the page: use “Open in a new tab” or “Download the PDF”.",
    ),
    "doc.hash": _m("文件摘要（SHA-256）", "File hash (SHA-256)"),
    "doc.size": _m("（{kb} KB）", "({kb} KB)"),
    "doc.hash_ok": _m(
        "已在您的浏览器中核对：下载的文件与待签署的文件一致。",
        "Checked in your browser: the file you downloaded is the file to be signed.",
    ),
    "doc.hash_bad": _m(
        "下载的文件与待签署的文件不一致，请勿签署，并联系调解员。",
        "The file you downloaded is not the file to be signed. Do not sign; contact the mediator.",
    ),
    "doc.hash_unchecked": _m(
        "此浏览器不能核对文件摘要（需要 HTTPS 连接）；签名仍绑定上面的摘要。",
        "This browser cannot check the hash (it needs HTTPS); your signature is still bound to the hash "
        "above.",
    ),
    "doc.read": _m(
        "我已完整阅读协议全文，同意协议内容并签署。",
        "I have read the whole agreement, agree to it and sign it.",
    ),
    # --- 2. identity -----------------------------------------------------------------------------------
    "id.heading": _m("第二步：确认本人身份", "Step 2: confirm it is you"),
    "id.method": _m("确认方式", "How"),
    "id.method.one_time_code": _m("短信验证码", "A code by text message"),
    "id.method.in_session": _m(
        "调解员已在本次视频调解中核验我的身份", "The mediator checked my identity in this video session"
    ),
    "id.send": _m("发送验证码到 {phone}", "Send a code to {phone}"),
    "id.resend": _m("重新发送验证码", "Send a new code"),
    "id.sent": _m(
        "验证码已发送至 {phone}，{time} 前有效，可输错 {attempts} 次。",
        "A code was sent to {phone}. It works until {time}; {attempts} wrong tries are allowed.",
    ),
    "id.wait": _m("{seconds} 秒后可重新发送", "A new code can be sent in {seconds} s"),
    "id.code": _m("短信验证码（6 位数字）", "Code from the text message (6 digits)"),
    "id.no_phone": _m(
        "没有登记您的手机号，无法发送验证码。请联系调解员。",
        "There is no phone number for you, so no code can be sent. Please contact the mediator.",
    ),
    # --- 3. the signature ------------------------------------------------------------------------------
    "pad.heading": _m("第三步：手写签名", "Step 3: sign by hand"),
    "pad.help": _m(
        "请用手指、触控笔或鼠标在框内写下您的姓名。",
        "Write your name in the box with a finger, a pen or the mouse.",
    ),
    "pad.label": _m("签名框", "Signature box"),
    "pad.undo": _m("撤销一笔", "Undo a stroke"),
    "pad.clear": _m("清除", "Clear"),
    "pad.empty": _m("请先在签名框内签名。", "Please sign in the box first."),
    "pad.full": _m("签名过长，请清除后重新签名。", "The signature is too long. Clear it and sign again."),
    "sign.submit": _m("确认签署", "Sign the agreement"),
    "sign.sending": _m("正在提交签名……", "Sending your signature…"),
    "sign.need_document": _m("请先查看协议全文。", "Please open the agreement first."),
    "sign.need_read": _m("请确认已阅读协议全文。", "Please confirm that you have read the agreement."),
    "sign.need_code": _m("请输入 6 位短信验证码。", "Enter the 6-digit code from the text message."),
    "turn.wait": _m(
        "按签署顺序，请等待 {names} 签署后再签。", "In the signing order, {names} signs before you."
    ),
    # --- refusing --------------------------------------------------------------------------------------
    "refuse.heading": _m("不同意签署", "I do not agree"),
    "refuse.help": _m(
        "如您不同意协议内容，可以拒绝签署并说明理由。拒绝签署将终止本次调解（《人民法院在线调解规则》第二十五条）。",
        "If you do not agree, you may refuse to sign and say why. Refusing ends this mediation (Online "
        "Mediation Rules, art. 25).",
    ),
    "refuse.reason": _m("拒绝签署的理由", "Why you refuse to sign"),
    "refuse.submit": _m("拒绝签署", "Refuse to sign"),
    "refuse.confirm.title": _m("确定拒绝签署吗？", "Refuse to sign?"),
    "refuse.confirm.text": _m(
        "拒绝后本次调解即告终止，本链接不能再用于签署。",
        "The mediation then ends, and this link can no longer be used to sign.",
    ),
    "refuse.confirm": _m("确定拒绝签署", "Yes, refuse to sign"),
    "refuse.cancel": _m("返回", "Go back"),
    "refuse.sending": _m("正在提交……", "Sending…"),
    # --- where the round ends --------------------------------------------------------------------------
    "done.signed": _m("您已签署调解协议。", "You have signed the mediation agreement."),
    "done.signed_at": _m("签署时间：{time}", "Signed at {time}"),
    "done.waiting": _m(
        "其他签署人签署（并加盖调解组织印章）后，协议生效。您可以稍后再打开本链接查看。",
        "The agreement takes effect once the others have signed (and the organisation's seal is applied). "
        "You can open this link again later to see where it stands.",
    ),
    "done.effective": _m("调解协议已生效。", "The mediation agreement is in effect."),
    "done.effective_at": _m("生效时间：{time}", "In effect since {time}"),
    "done.sealed_later": _m(
        "正在生成加盖电子签章、附签署证书的协议文件，请稍后刷新本页。",
        "The sealed agreement with its signing certificate is being prepared: refresh this page in a moment.",
    ),
    "done.sealed_ready": _m(
        "协议已加盖电子签章并附签署证书，请下载保存。任何人都可以在核验页面（/verify）核验该文件是否完整。",
        "The agreement is sealed, with its signing certificate: download and keep it. Anyone can check that "
        "the file is intact on the verification page (/verify).",
    ),
    "done.sealed": _m("下载已签章的调解协议（PDF）", "Download the sealed agreement (PDF)"),
    "done.document": _m("下载所签署的协议（PDF）", "Download the agreement you signed (PDF)"),
    "closed.void": _m(
        "此版本的协议已被新版本取代，不能再签署。调解员会向您发送新版本的签署链接。",
        "This version of the agreement was replaced by a new one and can no longer be signed. The mediator "
        "will send you a link to the new version.",
    ),
    "closed.refused": _m(
        "有当事人拒绝签署，签署已终止，调解依法终止。",
        "A party refused to sign: signing has ended, and so has the mediation.",
    ),
    "closed.refused_me": _m("您已拒绝签署，调解已终止。", "You refused to sign. The mediation has ended."),
    # --- errors (the API's codes) ----------------------------------------------------------------------
    "error": _m("请求失败，请稍后再试。", "The request failed. Please try again later."),
    "err.network": _m(
        "网络连接失败，请检查网络后重试。", "Could not reach the server. Check your connection and try again."
    ),
    "err.link_malformed": _m(
        "链接不完整或有误，请从短信中重新打开。",
        "The link is incomplete or damaged. Please open it again from the text message.",
    ),
    "err.link_invalid": _m(
        "链接无效，请从短信中重新打开，或联系调解员。",
        "This link is not valid. Open it again from the text message, or contact the mediator.",
    ),
    "err.link_expired": _m(
        "链接已过期，请联系调解员重新发送。", "This link has expired. Please ask the mediator for a new one."
    ),
    "err.link_revoked": _m(
        "已向您发送了新的签署链接，此链接已失效，请使用最新短信中的链接。",
        "A newer signing link was sent to you and this one no longer works. Use the link in the latest text "
        "message.",
    ),
    "err.unauthenticated": _m(
        "链接无效，请从短信中重新打开。",
        "This link is not valid. Please open it again from the text message.",
    ),
    "err.not_a_signer": _m("您不是此协议的签署人。", "You are not a signer of this agreement."),
    "err.refusal_not_allowed": _m(
        "只有协议当事人本人可以拒绝签署，代理人不能拒绝。",
        "Only a party to the agreement may refuse to sign, not an agent.",
    ),
    "err.unknown_round": _m("找不到此签署。", "This signing no longer exists."),
    "err.not_found": _m("找不到此签署。", "This signing no longer exists."),
    "err.notify_failed": _m(
        "短信发送失败，请稍后再试；如多次失败，请联系调解员。",
        "The text message could not be sent: try again in a moment, or contact the mediator.",
    ),
    "err.not_sealed": _m(
        "已签章的协议文件尚未生成，请稍后刷新。",
        "The sealed agreement is not ready yet: refresh in a moment.",
    ),
    "err.not_frozen": _m("协议尚未定稿，不能签署。", "The agreement is not final yet and cannot be signed."),
    "err.version_superseded": _m(
        "此版本的协议已被新版本取代，不能再签署。",
        "This version was replaced by a new one and cannot be signed.",
    ),
    "err.already_signed": _m("您已签署过此协议。", "You have signed this agreement already."),
    "err.not_your_turn": _m("按签署顺序，还未轮到您签署。", "In the signing order, it is not your turn yet."),
    "err.signing_closed": _m("签署已结束。", "Signing has ended."),
    "err.document_not_viewed": _m("请先查看协议全文再签署。", "Please open the agreement before signing it."),
    "err.case_not_awaiting_signatures": _m(
        "案件目前不在签署阶段。", "The case is not waiting for signatures now."
    ),
    "err.no_phone": _m(
        "没有登记您的手机号，无法发送验证码。请联系调解员。",
        "There is no phone number for you, so no code can be sent. Please contact the mediator.",
    ),
    "err.illegal_transition": _m(
        "案件状态已变化，请刷新页面。", "The case has changed meanwhile. Please reload the page."
    ),
    "err.payload_too_large": _m(
        "签名数据过大，请清除后重新签名。", "The signature is too large. Clear it and sign again."
    ),
    "err.document_hash_mismatch": _m(
        "您看到的协议不是当前待签署的版本，请刷新页面后重新阅读。",
        "The agreement you saw is not the one to be signed now. Reload the page and read it again.",
    ),
    "err.malformed_signature": _m(
        "签名无法识别，请清除后重新签名。", "The signature could not be read. Clear it and sign again."
    ),
    "err.otp_required": _m("请先获取短信验证码并输入。", "Ask for a code by text message and enter it."),
    "err.otp_wrong": _m(
        "验证码不正确，还可尝试 {attempts} 次。", "The code is wrong. {attempts} tries left."
    ),
    "err.otp_wrong_last": _m(
        "验证码不正确，此验证码已不能再用，请重新获取。",
        "The code is wrong, and this code can no longer be used. Ask for a new one.",
    ),
    "err.otp_expired": _m("验证码已过期，请重新获取。", "The code has expired. Ask for a new one."),
    "err.otp_attempts_exhausted": _m(
        "验证码输错次数过多，请重新获取。", "Too many wrong tries for this code. Ask for a new one."
    ),
    "err.otp_rate_limited": _m(
        "验证码发送过于频繁，请 {seconds} 秒后再试。", "Too many codes. Try again in {seconds} s."
    ),
    "err.in_session_not_verified": _m(
        "调解员尚未在正在进行的视频调解中核验您的身份，请改用短信验证码。",
        "The mediator has not checked your identity in a live video session. Use a code by text message.",
    ),
    "err.reason_required": _m("请填写拒绝签署的理由。", "Say why you refuse to sign."),
    "err.validation_failed": _m(
        "提交的内容有误，请检查后重试。", "Something you entered is not valid. Check it and try again."
    ),
    "err.malformed_json": _m(
        "提交的内容有误，请刷新页面后重试。", "The request was not valid. Reload the page and try again."
    ),
    "err.rate_limited": _m("操作过于频繁，请稍后再试。", "Too many requests. Try again later."),
    "err.internal_error": _m(
        "服务器出错，请稍后再试。", "Something went wrong on the server. Please try again later."
    ),
}
