"""The judicial-confirmation page: what a party's confirmation link (``/jc#<token>``) opens.

A party has no account: the signed token in the URL fragment (never sent to a server by the browser, so it
stays out of logs) is the credential. The page's script reads it and calls two JSON endpoints with it in the
body: ``POST /jc/api/view`` (what is being applied for) and ``POST /jc/api/answer`` (confirm with the
party's contact details, or decline with a reason). Simplified Chinese; the script is served from
``/jc/app.js`` so the strict Content-Security-Policy holds.
"""

from __future__ import annotations

import json
from typing import Any, Final

from aiohttp import web
from pydantic import BaseModel

from cases import judicial
from cases.outcome_schemas import JcAnswerIn, JcTokenIn
from tiaojie.errors import InvalidInput, PayloadTooLarge, UnsupportedMediaType
from web.api.outcomes import link_policy
from web.auth import client_ip
from web.router import _refuse_unstorable_text
from web.services import SERVICES

__all__ = ["read_json_body", "setup_jc_routes"]

_LIMIT = 16 * 1024

PAGE: Final = """<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>共同申请司法确认</title>
<script src="/jc/app.js" defer></script>
</head>
<body>
<main>
<h1>共同申请司法确认</h1>
<p id="status" role="status">正在读取申请……</p>
<section id="details" hidden>
<dl>
<dt>案号</dt><dd id="case_number"></dd>
<dt>受理法院</dt><dd id="court_name"></dd>
<dt>申请人（本人）</dt><dd id="party_name"></dd>
<dt>对方当事人</dt><dd id="other_parties"></dd>
<dt>调解协议生效时间</dt><dd id="effective"></dd>
<dt>申请截止日</dt><dd id="last_day"></dd>
</dl>
<p>根据《民事诉讼法》第二百零五条，经调解达成的协议，双方当事人可以自协议生效之日起三十日内共同向法院申请司法确认。
只有双方当事人均确认申请，申请才会提交法院。</p>
<form id="answer">
<label>联系电话 <input id="phone" name="phone" autocomplete="tel" maxlength="40"></label>
<label>电子送达地址 <input id="service_address" name="service_address" maxlength="300"></label>
<button type="submit" id="confirm">确认共同申请司法确认</button>
<label>不同意的理由（可选） <input id="reason" name="reason" maxlength="2000"></label>
<button type="button" id="decline">不同意申请</button>
</form>
</section>
</main>
</body>
</html>
"""

SCRIPT: Final = r"""'use strict';
(function () {
  const token = decodeURIComponent((location.hash || '').slice(1));
  const $ = (id) => document.getElementById(id);
  const say = (text) => { $('status').textContent = text; };
  const STATUS = {
    awaiting_parties: '等待双方当事人确认', applied: '已提交法院', refused: '一方不同意，申请未提交',
    lapsed: '已超过申请期限', confirmed: '法院已确认', rejected: '法院驳回申请', withdrawn: '申请已撤回',
  };
  async function call(path, body) {
    const response = await fetch(path, {
      method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify(body),
    });
    const data = await response.json();
    if (!response.ok) { throw new Error((data.error && data.error.message) || '请求失败'); }
    return data;
  }
  function show(view) {
    $('details').hidden = false;
    $('case_number').textContent = view.case_number;
    $('court_name').textContent = view.court_name;
    $('party_name').textContent = view.party_name;
    $('other_parties').textContent = view.other_parties.join('、');
    const effective = view.agreement_effective_at;
    $('effective').textContent = effective ? new Date(effective).toLocaleString('zh-CN') : '';
    $('last_day').textContent = view.last_day;
    $('phone').value = view.phone || '';
    $('service_address').value = view.service_address || '';
    const open = view.status === 'awaiting_parties' && !view.answer;
    $('answer').hidden = !open;
    say((view.answer === 'confirmed' ? '您已确认。' : view.answer === 'declined' ? '您已表示不同意。' : '')
        + (STATUS[view.status] || view.status));
  }
  async function answer(confirm) {
    const body = {token: token, confirm: confirm};
    if ($('phone').value.trim()) { body.phone = $('phone').value.trim(); }
    if ($('service_address').value.trim()) { body.service_address = $('service_address').value.trim(); }
    if (!confirm && $('reason').value.trim()) { body.reason = $('reason').value.trim(); }
    try { show(await call('/jc/api/answer', body)); } catch (error) { say(error.message); }
  }
  document.addEventListener('DOMContentLoaded', async () => {
    $('answer').addEventListener('submit', (event) => { event.preventDefault(); answer(true); });
    $('decline').addEventListener('click', () => answer(false));
    if (!token) { say('链接不完整，请从短信中重新打开。'); return; }
    try { show(await call('/jc/api/view', {token: token})); } catch (error) { say(error.message); }
  });
})();
"""


async def read_json_body(request: web.Request, model: type[BaseModel], limit: int = _LIMIT) -> Any:
    """A small JSON body of a page without a session (the token inside it), validated by ``model``."""
    if request.content_type != "application/json":
        raise UnsupportedMediaType("send the body as application/json")
    raw = await request.content.read(limit + 1)
    if len(raw) > limit:
        raise PayloadTooLarge(f"bodies are limited to {limit} bytes")
    try:
        document = json.loads(raw)
    except (ValueError, RecursionError):
        raise InvalidInput("malformed JSON", code="malformed_json") from None
    if not isinstance(document, dict):
        raise InvalidInput("the body must be a JSON object", code="malformed_json")
    _refuse_unstorable_text(document)
    return model.model_validate(document)


async def page(request: web.Request) -> web.Response:
    return web.Response(text=PAGE, content_type="text/html", headers={"Cache-Control": "no-store"})


async def script(request: web.Request) -> web.Response:
    return web.Response(text=SCRIPT, content_type="application/javascript")


async def view(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    data: JcTokenIn = await read_json_body(request, JcTokenIn)
    async with services.db.read() as session:
        shown = await judicial.party_view(session, services.cases, data.token, link_policy(services))
    return _json(shown)


async def answer(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    data: JcAnswerIn = await read_json_body(request, JcAnswerIn)
    user_agent = request.headers.get("User-Agent", "")[:300] or None
    async with services.db.session() as session:
        shown = await judicial.answer(
            session, services.cases, data, link_policy(services), ip=client_ip(request), user_agent=user_agent
        )
    return _json(shown)


def _json(model: BaseModel) -> web.Response:
    return web.Response(
        body=model.model_dump_json(), content_type="application/json", headers={"Cache-Control": "no-store"}
    )


def setup_jc_routes(app: web.Application) -> None:
    app.router.add_get("/jc", page)
    app.router.add_get("/jc/app.js", script)
    app.router.add_post("/jc/api/view", view)
    app.router.add_post("/jc/api/answer", answer)
