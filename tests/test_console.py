"""The web console: login (with login CSRF), the inbox, the case page and its forms, languages, materials."""

from __future__ import annotations

import re
import string
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select, update

from accounts.tables import User
from cases.deadlines import DeadlineStatus
from cases.lifecycle import CaseEvent, CaseState, Outcome
from cases.tables import AuditEvent
from tests.conftest import Api
from tests.factories import PASSWORD, World, case_payload
from web.auth import SESSION_COOKIE
from web.console import i18n
from web.console.login_token import LOGIN_COOKIE
from web.console.pages import safe_next
from web.services import Services

Client = TestClient[Any, Any]

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
TEMPLATES = Path(__file__).resolve().parent.parent / "web" / "templates" / "console"


# --- helpers -------------------------------------------------------------------------------------------


def csrf_of(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1)


async def login(client: Client, username: str, *, next_path: str | None = None) -> aiohttp.ClientResponse:
    form_page = await client.get("/console/login")
    assert form_page.status == 200
    data = {"username": username, "password": PASSWORD, "csrf_token": csrf_of(await form_page.text())}
    if next_path is not None:
        data["next"] = next_path
    response = await client.post("/console/login", data=data, allow_redirects=False)
    assert response.status == 303, await response.text()
    return response


def logout_locally(client: Client) -> None:
    client.session.cookie_jar.clear()


async def new_case(
    api: Api, *, court: str = "court_a", mediator: str | None = "m1", **overrides: Any
) -> dict[str, Any]:
    payload = case_payload(**overrides)
    case = await api.as_(court).post("/cases", json=payload, expect=201)
    if mediator is not None:
        await api.as_(court).post(
            f"/cases/{case['id']}/assignment", json={"mediator_id": api.world.mediators[mediator]}, expect=200
        )
    case["payload"] = payload
    return dict(case)


async def state_of(api: Api, case_id: str, court: str = "court_a") -> str:
    return str((await api.as_(court).get(f"/cases/{case_id}", expect=200))["state"])


async def case_page(client: Client, case_id: str) -> tuple[int, str]:
    response = await client.get(f"/console/cases/{case_id}")
    return response.status, await response.text()


async def post_action(
    client: Client,
    case_id: str,
    action: str,
    data: dict[str, str] | None = None,
    *,
    csrf: str | None = "page",
) -> aiohttp.ClientResponse:
    form = dict(data or {})
    if csrf == "page":
        _, html = await case_page(client, case_id)
        form["csrf_token"] = csrf_of(html)
    elif csrf is not None:
        form["csrf_token"] = csrf
    return await client.post(f"/console/cases/{case_id}/{action}", data=form, allow_redirects=False)


async def audit_count(services: Services, case_id: str) -> int:
    async with services.db.read() as session:
        return int(await session.scalar(select(func.count()).where(AuditEvent.case_id == case_id)) or 0)


# --- root, login and logout ----------------------------------------------------------------------------


async def test_root_redirects_by_login_state(client: Client, world: World) -> None:
    response = await client.get("/", allow_redirects=False)
    assert (response.status, response.headers["Location"]) == (303, "/console/login")
    await login(client, "mediator1")
    response = await client.get("/", allow_redirects=False)
    assert (response.status, response.headers["Location"]) == (303, "/console/")


async def test_login_success_opens_the_inbox(client: Client, world: World) -> None:
    response = await login(client, "mediator1")
    assert response.headers["Location"] == "/console/"
    assert SESSION_COOKIE in response.cookies
    inbox = await client.get("/console/")
    assert inbox.status == 200
    html = await inbox.text()
    assert "案件待办" in html
    assert "mediator1" in html
    assert "解放区劳动争议调解委员会" in html


async def test_login_wrong_password_says_so(client: Client, world: World) -> None:
    form_page = await client.get("/console/login")
    data = {
        "username": "mediator1",
        "password": "not the password",
        "csrf_token": csrf_of(await form_page.text()),
    }
    response = await client.post("/console/login", data=data, allow_redirects=False)
    assert response.status == 401
    html = await response.text()
    assert "用户名或密码错误" in html
    assert 'value="mediator1"' in html  # the username is kept, the password is not
    assert SESSION_COOKIE not in response.cookies


async def test_login_empty_fields_are_422(client: Client, world: World) -> None:
    form_page = await client.get("/console/login")
    response = await client.post(
        "/console/login", data={"username": "", "password": "", "csrf_token": csrf_of(await form_page.text())}
    )
    assert response.status == 422
    assert "请输入用户名和密码" in await response.text()


async def test_login_locked_account_says_so(client: Client, world: World, services: Services) -> None:
    async with services.db.session() as session:
        await session.execute(
            update(User)
            .where(User.username == "mediator1")
            .values(locked_until=services.clock.now() + timedelta(minutes=10))
        )
    form_page = await client.get("/console/login")
    data = {"username": "mediator1", "password": PASSWORD, "csrf_token": csrf_of(await form_page.text())}
    response = await client.post("/console/login", data=data, allow_redirects=False)
    assert response.status == 401
    html = await response.text()
    assert "已暂时锁定" in html
    assert "15 分钟" in html
    assert SESSION_COOKIE not in response.cookies


async def test_repeated_failures_lock_the_account(client: Client, world: World, services: Services) -> None:
    for _ in range(services.settings.login_max_failures):
        form_page = await client.get("/console/login")
        data = {
            "username": "mediator2",
            "password": "wrong password",
            "csrf_token": csrf_of(await form_page.text()),
        }
        await client.post("/console/login", data=data)
    form_page = await client.get("/console/login")
    data = {"username": "mediator2", "password": PASSWORD, "csrf_token": csrf_of(await form_page.text())}
    response = await client.post("/console/login", data=data, allow_redirects=False)
    assert response.status == 401
    assert "已暂时锁定" in await response.text()


async def test_login_csrf_is_refused(client: Client, world: World) -> None:
    form_page = await client.get("/console/login")
    token = csrf_of(await form_page.text())
    assert LOGIN_COOKIE in form_page.cookies
    assert form_page.cookies[LOGIN_COOKIE]["samesite"] == "Strict"
    credentials = {"username": "mediator1", "password": PASSWORD}
    # No token, or a forged one, with the pre-session cookie.
    for forged in ({}, {"csrf_token": "1700000000.deadbeef"}, {"csrf_token": token.split(".")[0] + ".00"}):
        response = await client.post("/console/login", data={**credentials, **forged}, allow_redirects=False)
        assert response.status == 403
        assert "登录页面已过期" in await response.text()
        assert SESSION_COOKIE not in response.cookies
    # A valid token without its cookie (a cross-site form post carries none).
    client.session.cookie_jar.clear()
    response = await client.post(
        "/console/login", data={**credentials, "csrf_token": token}, allow_redirects=False
    )
    assert response.status == 403
    assert SESSION_COOKIE not in response.cookies


async def test_logout_needs_csrf_and_ends_the_session(client: Client, world: World) -> None:
    await login(client, "mediator1")
    html = await (await client.get("/console/")).text()
    response = await client.post("/console/logout", data={}, allow_redirects=False)
    assert response.status == 403
    response = await client.post("/console/logout", data={"csrf_token": "wrong"}, allow_redirects=False)
    assert response.status == 403
    assert (await client.get("/console/", allow_redirects=False)).status == 200  # still logged in
    response = await client.post("/console/logout", data={"csrf_token": csrf_of(html)}, allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"] == "/console/login?done=logout"
    response = await client.get("/console/", allow_redirects=False)
    assert response.status == 303


async def test_anonymous_console_redirects_to_login_with_next(client: Client, world: World, api: Api) -> None:
    case = await new_case(api)
    response = await client.get(f"/console/cases/{case['id']}", allow_redirects=False)
    assert response.status == 303
    location = response.headers["Location"]
    assert location.startswith("/console/login?next=")
    assert "请先登录" in await (await client.get(location)).text()
    response = await login(client, "mediator1", next_path=f"/console/cases/{case['id']}")
    assert response.headers["Location"] == f"/console/cases/{case['id']}"
    # A POST without a session is sent to log in too, and changes nothing.
    logout_locally(client)
    response = await client.post(f"/console/cases/{case['id']}/accept", data={}, allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"].startswith("/console/login")
    assert await state_of(api, case["id"]) == "assigned"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("/console/cases/cas_1?lang=en", "/console/cases/cas_1?lang=en"),
        ("/console/", "/console/"),
        ("https://evil.example/console/", "/console/"),
        ("//evil.example/console/", "/console/"),
        ("/\\evil.example", "/console/"),
        ("/api/v1/cases", "/console/"),
        ("javascript:alert(1)", "/console/"),
        ("/console/login?next=/console/", "/console/"),
        ("/console/\r\nSet-Cookie:x=1", "/console/"),
        ("", "/console/"),
    ],
)
def test_next_is_a_local_console_path(value: str, expected: str) -> None:
    assert safe_next(value) == expected


async def test_login_ignores_a_foreign_next(client: Client, world: World) -> None:
    response = await login(client, "mediator1", next_path="https://evil.example/")
    assert response.headers["Location"] == "/console/"


# --- inbox ---------------------------------------------------------------------------------------------


async def test_inbox_shows_assigned_case_to_its_mediator_only(client: Client, world: World, api: Api) -> None:
    case = await new_case(api, mediator="m1")
    await login(client, "mediator1")
    html = await (await client.get("/console/")).text()
    assert case["case_number"] in html
    assert "待接受" in html
    assert "2026-03-05" in html
    assert "张三" in html
    assert "焦作某机械有限公司" in html
    logout_locally(client)
    await login(client, "mediator3")
    html = await (await client.get("/console/")).text()
    assert case["case_number"] not in html
    assert "暂无案件" in html


async def test_inbox_sections_for_court_and_union(client: Client, world: World, api: Api) -> None:
    waiting = await new_case(api, mediator=None)
    assigned = await new_case(api, mediator="m1")
    await login(client, "clerk_a")
    html = await (await client.get("/console/")).text()
    assert "待指派" in html
    assert waiting["case_number"] in html
    assert assigned["case_number"] in html
    assert "王调解" in html  # the mediator's name, for the court
    logout_locally(client)
    await login(client, "union_admin1")
    html = await (await client.get("/console/")).text()
    assert assigned["case_number"] in html
    assert waiting["case_number"] not in html
    assert "待指派" not in html


# --- acting on a case ----------------------------------------------------------------------------------


async def test_accept_through_the_form(client: Client, world: World, api: Api) -> None:
    case = await new_case(api)
    await login(client, "mediator1")
    status, html = await case_page(client, case["id"])
    assert status == 200
    assert f'action="/console/cases/{case["id"]}/accept"' in html
    response = await post_action(client, case["id"], "accept", {"note": "已联系双方"})
    assert response.status == 303
    assert response.headers["Location"] == f"/console/cases/{case['id']}?done=accept"
    assert await state_of(api, case["id"]) == "accepted"
    html = await (await client.get(response.headers["Location"])).text()
    assert "已接受指派，调解期限开始计算" in html
    assert "2026-04-01" in html  # 30 days after 2 March (委派)


async def test_decline_through_the_form(client: Client, world: World, api: Api) -> None:
    case = await new_case(api)
    await login(client, "mediator1")
    response = await post_action(client, case["id"], "decline", {"reason": "与被申请人存在利害关系"})
    assert response.status == 303
    assert response.headers["Location"] == "/console/?done=decline"  # the case went back to the court
    got = await api.as_("court_a").get(f"/cases/{case['id']}", expect=200)
    assert got["state"] == "awaiting_reassignment"
    assert (await case_page(client, case["id"]))[0] == 404


async def test_decline_without_reason_changes_nothing(
    client: Client, world: World, api: Api, services: Services
) -> None:
    case = await new_case(api)
    await login(client, "mediator1")
    before = await audit_count(services, case["id"])
    for reason in ("", "   "):
        response = await post_action(client, case["id"], "decline", {"reason": reason})
        assert response.status == 422
        html = await response.text()
        assert "请填写拒绝理由" in html
        assert '<details class="action-details" open>' in html
    assert await state_of(api, case["id"]) == "assigned"
    assert await audit_count(services, case["id"]) == before


async def test_csrf_refused_on_case_actions(
    client: Client, world: World, api: Api, services: Services
) -> None:
    case = await new_case(api)
    await login(client, "mediator1")
    before = await audit_count(services, case["id"])
    for csrf in (None, "", "not-the-token"):
        response = await post_action(client, case["id"], "accept", {"note": "x"}, csrf=csrf)
        assert response.status == 403
        assert "请刷新页面后重新提交" in await response.text()
    assert await state_of(api, case["id"]) == "assigned"
    assert await audit_count(services, case["id"]) == before


async def test_begin_and_terminate_through_the_forms(client: Client, world: World, api: Api) -> None:
    case = await new_case(api)
    await login(client, "mediator1")
    assert (await post_action(client, case["id"], "accept")).status == 303
    _, html = await case_page(client, case["id"])
    assert "begin_mediation" in html
    assert "terminate" in html
    assert (await post_action(client, case["id"], "begin_mediation")).status == 303
    assert await state_of(api, case["id"]) == "in_mediation"
    # Terminating needs an OMR 25 reason.
    response = await post_action(client, case["id"], "terminate", {"reason": "", "note": "经多次沟通"})
    assert response.status == 422
    html = await response.text()
    assert "请选择终止调解的原因" in html
    assert "经多次沟通" in html
    assert "当事人一方明确表示不愿意继续调解" in html  # OMR 25 labels in the select
    response = await post_action(
        client, case["id"], "terminate", {"reason": "party_refuses", "note": "经多次沟通"}
    )
    assert response.status == 303
    got = await api.as_("court_a").get(f"/cases/{case['id']}", expect=200)
    assert (got["state"], got["termination_reason"]) == ("terminated", "party_refuses")
    html = await (await client.get("/console/")).text()
    assert "近期结案" in html
    assert case["case_number"] in html
    assert "调解不成" in html


async def test_domain_refusals_are_pages_with_status(client: Client, world: World, api: Api) -> None:
    case = await new_case(api)
    await login(client, "mediator1")
    assert (await post_action(client, case["id"], "accept")).status == 303
    response = await post_action(client, case["id"], "accept")  # nothing is waiting for an answer now
    assert response.status == 409
    assert response.content_type == "text/html"
    assert "没有等待答复的指派" in await response.text()
    response = await post_action(client, case["id"], "resume")  # not suspended
    assert response.status == 409
    assert "不能进行此操作" in await response.text()
    # A union may see the case, but only the mediator begins the mediation.
    logout_locally(client)
    await login(client, "union_admin1")
    response = await post_action(client, case["id"], "begin_mediation")
    assert response.status == 403
    assert "您无权执行此操作" in await response.text()
    assert await state_of(api, case["id"]) == "accepted"


async def test_case_of_another_court_is_404(client: Client, world: World, api: Api) -> None:
    other = await new_case(api, court="court_b", mediator="m3")
    await login(client, "clerk_a")
    status, html = await case_page(client, other["id"])
    assert status == 404
    assert "案件不存在，或您无权查看" in html
    assert other["case_number"] not in html
    response = await post_action(client, other["id"], "terminate", {"reason": "other"}, csrf=None)
    assert response.status == 403  # no CSRF token: refused before the case is even looked up
    status, _ = await case_page(client, "cas_doesnotexist")
    assert status == 404


async def test_personal_data_masked_for_union_full_for_court(client: Client, world: World, api: Api) -> None:
    case = await new_case(api)
    worker_id = case["payload"]["parties"][0]["id_number"]
    masked = worker_id[:3] + "*" * 11 + worker_id[-4:]
    await login(client, "union_admin1")
    status, html = await case_page(client, case["id"])
    assert status == 200
    assert masked in html
    assert worker_id not in html
    assert "138****8000" in html
    assert "13800138000" not in html
    assert "已部分隐去" in html
    logout_locally(client)
    await login(client, "clerk_a")
    _, html = await case_page(client, case["id"])
    assert worker_id in html
    assert "13800138000" in html
    assert "已部分隐去" not in html


async def test_material_download_authorisation(client: Client, world: World, api: Api) -> None:
    case = await new_case(api)
    content = b"%PDF-1.4\n% a fictional arbitration award\n"
    form = aiohttp.FormData(quote_fields=False)  # as browsers send it: the UTF-8 file name as it is
    form.add_field("description", "仲裁裁决书")
    form.add_field("file", content, filename="裁决书.pdf", content_type="application/pdf")
    material = await api.as_("court_a").post(f"/cases/{case['id']}/materials", data=form, expect=201)
    link = f"/console/cases/{case['id']}/materials/{material['id']}"
    for username in ("clerk_a", "mediator1"):
        logout_locally(client)
        await login(client, username)
        _, html = await case_page(client, case["id"])
        assert link in html
        assert "裁决书.pdf" in html
        response = await client.get(link)
        assert response.status == 200
        assert await response.read() == content
        assert response.headers["Content-Disposition"].startswith("attachment;")
    logout_locally(client)
    await login(client, "union_admin1")
    _, html = await case_page(client, case["id"])
    assert link not in html
    assert "仅限承办法院和承办调解员查阅" in html
    assert (await client.get(link)).status == 403
    logout_locally(client)
    await login(client, "mediator3")
    assert (await client.get(link)).status == 404
    logout_locally(client)
    await login(client, "clerk_a")
    assert (await client.get(f"/console/cases/{case['id']}/materials/mat_other")).status == 404
    logout_locally(client)
    response = await client.get(link, allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"].startswith("/console/login?next=")


async def test_audit_trail_on_the_case_page(client: Client, world: World, api: Api) -> None:
    case = await new_case(api)
    await login(client, "mediator1")
    await post_action(client, case["id"], "accept", {"note": "已电话联系申请人"})
    _, html = await case_page(client, case["id"])
    assert "操作记录" in html
    for entry in ("创建案件", "指派调解员", "接受指派", "已电话联系申请人", "待接受 → 已接受"):
        assert entry in html


# --- language ------------------------------------------------------------------------------------------


async def test_language_switch(client: Client, world: World, api: Api) -> None:
    case = await new_case(api)
    await login(client, "mediator1")
    response = await client.get("/console/?lang=en")
    html = await response.text()
    assert '<html lang="en">' in html
    assert "Case inbox" in html
    assert "To accept" in html
    assert "案件待办" not in html
    assert response.cookies["tj_lang"].value == "en"
    _, html = await case_page(client, case["id"])  # the cookie keeps the choice
    assert "Accept the assignment" in html
    assert "Unpaid wages" in html
    assert "Awaiting acceptance" in html
    response = await post_action(client, case["id"], "decline", {"reason": ""})
    assert "Give a reason for declining." in await response.text()
    html = await (await client.get("/console/?lang=zh-CN")).text()
    assert '<html lang="zh-CN">' in html
    assert "案件待办" in html


async def test_login_page_in_english(client: Client, world: World) -> None:
    html = await (await client.get("/console/login?lang=en")).text()
    assert "Log in" in html
    assert "Username" in html
    form_page_token = csrf_of(html)
    response = await client.post(
        "/console/login", data={"username": "mediator1", "password": "nope", "csrf_token": form_page_token}
    )
    assert "Wrong username or password." in await response.text()


def test_catalog_is_complete_in_both_languages() -> None:
    fields = string.Formatter()
    for key, entry in i18n.MESSAGES.items():
        assert set(entry) == set(i18n.LANGUAGES), key
        assert all(text.strip() for text in entry.values()), key
        placeholders = {lang: {f for _, f, _, _ in fields.parse(text) if f} for lang, text in entry.items()}
        assert placeholders[i18n.ZH] == placeholders[i18n.EN], key


def test_catalog_covers_the_domain_vocabulary() -> None:
    for prefix, values in (
        ("state", CaseState),
        ("deadline", DeadlineStatus),
        ("outcome", Outcome),
        ("event", CaseEvent),
    ):
        for value in values:
            assert f"{prefix}.{value.value}" in i18n.MESSAGES, (prefix, value)


def test_templates_and_views_use_only_known_keys() -> None:
    prefixes = {key.split(".")[0] for key in i18n.MESSAGES}
    used: set[str] = set()
    for path in TEMPLATES.glob("*.html"):
        # t('key') or t('key', value=...), not t('state.' ~ value)
        used |= set(re.findall(r"""\bt\(\s*['"]([a-z0-9_.-]*[a-z0-9_])['"]\s*[,)]""", path.read_text()))
    for path in Path(i18n.__file__).parent.glob("*.py"):
        if path.name != "i18n.py":
            literals = re.findall(r"""['"]([a-z_]+\.[a-z0-9_.-]*[a-z0-9_])['"]""", path.read_text())
            used |= {key for key in literals if key.split(".")[0] in prefixes and not key.endswith(".html")}
    assert len(used) > 50
    assert not used - set(i18n.MESSAGES)


# --- page hygiene --------------------------------------------------------------------------------------


async def test_pages_obey_the_content_security_policy(client: Client, world: World, api: Api) -> None:
    case = await new_case(api)
    pages = [await (await client.get("/console/login")).text()]
    await login(client, "mediator1")
    for path in (
        "/console/",
        f"/console/cases/{case['id']}",
        "/console/cases/cas_missing",
        "/console/nothing",
    ):
        response = await client.get(path)
        assert response.headers["Content-Type"].startswith("text/html")
        assert "script-src" not in response.headers["Content-Security-Policy"]  # 'self' only, via default-src
        pages.append(await response.text())
    for html in pages:
        assert "<style" not in html
        assert " style=" not in html
        assert not re.search(r"<script(?![^>]*\ssrc=)", html)
        assert not re.search(r"\son[a-z]+=", html)
        assert "http://" not in html
        assert "https://" not in html
        assert 'name="viewport"' in html


async def test_static_files_are_served(client: Client, world: World) -> None:
    html = await (await client.get("/console/login")).text()
    for name in ("console.css", "console.js"):
        match = re.search(rf'"(/static/{name}\?v=[^"]+)"', html)
        assert match, name
        response = await client.get(match.group(1))
        assert response.status == 200


async def test_unknown_console_page_is_an_html_404(client: Client, world: World) -> None:
    await login(client, "mediator1")
    response = await client.get("/console/nothing")
    assert response.status == 404
    assert "页面不存在" in await response.text()
