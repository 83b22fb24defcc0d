"""The agreement on the console's case page: the mediator drafts from the template (prefill, add and remove
rows, save with a stale revision, problems beside their fields, bad input kept), freezes with a
confirmation, downloads the PDF and uploads an offline one; the court reads the versions only."""

from __future__ import annotations

import hashlib
import html as html_lib
import re
from datetime import date, timedelta
from typing import Any

from aiohttp import FormData
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from agreements.tables import AgreementVersion
from tests.agreements.test_text_and_versions import needs_font
from tests.apihelp import PDF, Actors, actors, mediating_case  # noqa: F401
from tests.test_console import case_page, csrf_of, login, logout_locally
from web.services import Services

Client = TestClient[Any, Any]
TODAY = date(2026, 3, 2)  # the frozen clock's day (tests.conftest.START)


def field_value(html: str, name: str) -> list[str]:
    """The values of the inputs (or text areas) called ``name`` in the agreement form, in order."""
    form = html[html.index('id="agreement-form"') :]
    form = form[: form.index("</form>")]
    inputs = re.findall(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', form)
    areas = re.findall(rf'<textarea[^>]*name="{name}"[^>]*>(.*?)</textarea>', form, re.S)
    return [html_lib.unescape(v) for v in inputs + areas]


def errors_of(html: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for name, text in re.findall(r'<p class="field-error"[^>]*data-field="([^"]+)">([^<]*)</p>', html):
        found.setdefault(name, []).append(html_lib.unescape(text))
    return found


def complete_form(csrf: str, based_on: str, **overrides: Any) -> list[tuple[str, str]]:
    """An editor submission as a browser sends it (repeated names for the rows)."""
    values: dict[str, Any] = {
        "facts": "申请人于2024年1月入职，2025年10月至12月工资未发放。",
        "issue": ["拖欠工资数额", "支付期限"],
        "term_description": ["被申请人向申请人支付拖欠工资"],
        "term_amount": ["32000.00"],
        "term_due_date": [(TODAY + timedelta(days=10)).isoformat()],
        "term_payment_method": ["bank_transfer"],
        "settlement": "full",
        "unsettled_claims": "",
        "op": "save",
    }
    values.update(overrides)
    out = [("csrf_token", csrf), ("based_on", based_on)]
    for name, value in values.items():
        out += [(name, v) for v in value] if isinstance(value, list) else [(name, value)]
    return out


async def post(client: Client, path: str, data: Any) -> Any:
    return await client.post(path, data=data, allow_redirects=False)


async def versions(services: Services, case_id: str) -> list[tuple[int, str, int]]:
    async with services.db.read() as session:
        rows = await session.scalars(
            select(AgreementVersion)
            .where(AgreementVersion.case_id == case_id)
            .order_by(AgreementVersion.number)
        )
        return [(r.number, r.status, r.revision) for r in rows]


async def editor(client: Client, case_id: str) -> tuple[str, str, str]:
    """The case page, its CSRF token and the editor's ``based_on``."""
    status, html = await case_page(client, case_id)
    assert status == 200
    return html, csrf_of(html), field_value(html, "based_on")[0]


async def test_the_mediator_drafts_saves_and_sees_what_is_missing(
    actors: Actors,  # noqa: F811
    client: Client,
    services: Services,
) -> None:
    case = await mediating_case(actors)
    base = f"/console/cases/{case['id']}/agreement"
    await login(client, "mediator1")
    html, csrf, based_on = await editor(client, case["id"])
    assert "调解协议" in html
    assert "尚未起草协议" in html
    assert based_on == "none"

    # Prefill from the case: the claims become issues, the amount a payment term; nothing is stored.
    response = await post(client, base + "/prefill", {"csrf_token": csrf})
    assert response.status == 200
    html = await response.text()
    assert "已根据案件信息预填" in html
    assert field_value(html, "issue") == ["支付拖欠工资 32,000 元"]
    assert field_value(html, "term_amount") == ["32000.00"]
    assert await versions(services, case["id"]) == []

    # Adding and removing rows re-renders the form with what was typed, and saves nothing.
    typed = complete_form(csrf, based_on, facts="正在输入的事实", op="add_term")
    response = await post(client, base + "/draft", typed)
    html = await response.text()
    assert response.status == 200
    assert field_value(html, "facts") == ["正在输入的事实"]
    assert field_value(html, "term_description") == ["被申请人向申请人支付拖欠工资", ""]
    response = await post(client, base + "/draft", complete_form(csrf, based_on, op="remove_issue.0"))
    assert field_value(await response.text(), "issue") == ["支付期限"]
    assert await versions(services, case["id"]) == []

    # An unfinished draft is saved; what stops it from being frozen shows beside its field.
    unfinished = complete_form(
        csrf, based_on, facts="", term_due_date=[""], term_payment_method=[""], settlement="partial"
    )
    response = await post(client, base + "/draft", unfinished)
    assert response.status == 303, await response.text()
    assert response.headers["Location"].endswith("?done=agreement_saved#agreement")
    assert await versions(services, case["id"]) == [(1, "draft", 1)]
    html = await (await client.get(response.headers["Location"])).text()
    assert "协议草稿已保存" in html
    csrf, based_on = csrf_of(html), field_value(html, "based_on")[0]
    assert errors_of(html) == {
        "facts": ["请填写主要事实。"],
        "term-0-due_date": ["款项须写明履行期限。"],
        "term-0-payment_method": ["请写明支付方式。"],
        "unsettled_claims": ["部分调解须写明未达成调解的请求。"],
    }
    assert 'aria-invalid="true"' in html
    assert "草稿尚有 4 处需要补充" in html

    # Bad input (a malformed amount, a date that is not one): 422, nothing saved, the input kept.
    bad = complete_form(csrf, based_on, term_amount=["三万"], term_due_date=["2026-02-30"], facts="新事实")
    response = await post(client, base + "/draft", bad)
    assert response.status == 422
    html = await response.text()
    assert "未保存" in html
    assert errors_of(html) == {
        "term-0-amount": ["金额须为大于零的数字，最多两位小数。"],
        "term-0-due_date": ["请填写有效的日期。"],
    }
    assert field_value(html, "term_amount") == ["三万"]
    assert field_value(html, "facts") == ["新事实"]
    assert await versions(services, case["id"]) == [(1, "draft", 1)]

    # Someone else saves meanwhile (the API): this form's save is stale, refused, and its text kept.
    logout_locally(client)  # the API caller sends its own session cookie
    mediator_api = await actors.user("mediator1")
    await mediator_api.expect(
        "PUT", f"/cases/{case['id']}/agreement/draft", 200, json={"facts": "别处的修改", "settlement": "full"}
    )
    await login(client, "mediator1")
    mine = complete_form(csrf_of((await case_page(client, case["id"]))[1]), based_on, facts="我的修改")
    response = await post(client, base + "/draft", mine)
    assert response.status == 409
    html = await response.text()
    assert "已被他人修改或定稿" in html
    assert field_value(html, "facts") == ["我的修改"]
    assert await versions(services, case["id"]) == [(1, "draft", 2)]
    # Saving the kept form again is deliberate: it now names the newer revision and goes through.
    again = complete_form(csrf_of(html), field_value(html, "based_on")[0], facts="我的修改")
    response = await post(client, base + "/draft", again)
    assert response.status == 303
    html, _, _ = await editor(client, case["id"])
    assert field_value(html, "facts") == ["我的修改"]
    assert errors_of(html) == {}
    assert await versions(services, case["id"]) == [(1, "draft", 3)]


@needs_font
async def test_freeze_download_upload_and_the_court_reads_only(
    actors: Actors,  # noqa: F811
    client: Client,
    services: Services,
) -> None:
    case = await mediating_case(actors)
    base = f"/console/cases/{case['id']}/agreement"
    await login(client, "mediator1")
    _, csrf, based_on = await editor(client, case["id"])
    response = await post(client, base + "/draft", complete_form(csrf, based_on, facts=""))
    assert response.status == 303
    html, csrf, based_on = await editor(client, case["id"])
    [(version_id, revision)] = re.findall(
        r'/versions/(agv_\w+)/freeze".*?name="revision" value="(\d+)"', html, re.S
    )
    assert 'data-confirm="定稿后第 1 版不能再修改，确定定稿吗？"' in html

    # Incomplete: refused, the problem beside its field; a stale revision: refused; nothing frozen.
    response = await post(
        client, f"{base}/versions/{version_id}/freeze", {"csrf_token": csrf, "revision": revision}
    )
    assert response.status == 422
    html = await response.text()
    assert "草稿尚未填写完整" in html
    assert errors_of(html)["facts"] == ["请填写主要事实。"]
    await post(client, base + "/draft", complete_form(csrf, based_on))
    response = await post(
        client, f"{base}/versions/{version_id}/freeze", {"csrf_token": csrf, "revision": revision}
    )
    assert response.status == 409
    assert "已被他人修改或定稿" in await response.text()
    assert await versions(services, case["id"]) == [(1, "draft", 2)]

    response = await post(
        client, f"{base}/versions/{version_id}/freeze", {"csrf_token": csrf, "revision": "2"}
    )
    assert response.status == 303
    html = await (await client.get(response.headers["Location"])).text()
    assert "协议已定稿" in html
    assert 'id="agreement-freeze"' not in html
    pdf_link = f"{base}/versions/{version_id}/pdf"
    assert f'href="{pdf_link}"' in html
    download = await client.get(pdf_link)
    assert download.status == 200
    assert download.headers["Content-Type"] == "application/pdf"
    data = await download.read()
    digest = hashlib.sha256(data).hexdigest()
    assert digest == download.headers["X-Content-SHA256"]
    assert digest[:16] in html
    # A second freeze of the same version is refused.
    response = await post(
        client, f"{base}/versions/{version_id}/freeze", {"csrf_token": csrf, "revision": "2"}
    )
    assert response.status == 409

    # Uploads: CSRF first; not a PDF is refused with nothing stored; a PDF supersedes the frozen version.
    def upload(content: bytes, content_type: str, token: str = csrf) -> FormData:
        form = FormData()
        form.add_field("csrf_token", token)
        form.add_field("file", content, filename="offline.pdf", content_type=content_type)
        return form

    response = await post(client, base + "/uploads", upload(PDF, "application/pdf", token="forged"))
    assert response.status == 403
    response = await post(client, base + "/uploads", upload(b"hello, not a pdf", "application/pdf"))
    assert response.status == 415
    assert "请上传 PDF 文件" in await response.text()
    response = await post(client, base + "/uploads", upload(PDF[:-8], "application/pdf"))
    assert response.status == 422
    assert await versions(services, case["id"]) == [(1, "frozen", 2)]
    response = await post(client, base + "/uploads", upload(PDF, "application/pdf"))
    assert response.status == 303
    assert await versions(services, case["id"]) == [(1, "superseded", 2), (2, "frozen", 1)]
    html, _, _ = await editor(client, case["id"])
    assert "线下协议上传" in html
    assert "已被取代" in html
    assert hashlib.sha256(PDF).hexdigest()[:16] in html

    # The court: the versions, the text and the PDFs, but no forms; drafting is refused.
    logout_locally(client)
    await login(client, "clerk_a")
    status, html = await case_page(client, case["id"])
    assert status == 200
    assert 'id="agreement-versions"' in html
    assert "agreement-form" not in html
    assert "agreement-upload" not in html
    assert "agreement-freeze" not in html
    assert "当事人意见" not in html  # what parties said in the room stays with the mediator
    assert (await client.get(pdf_link)).status == 200
    response = await post(client, base + "/draft", complete_form(csrf_of(html), "none"))
    assert response.status == 403
    assert await versions(services, case["id"]) == [(1, "superseded", 2), (2, "frozen", 1)]

    # The union sees that the agreement exists but not the agreement; another mediator not even the case.
    logout_locally(client)
    await login(client, "union_admin1")
    status, html = await case_page(client, case["id"])
    assert status == 200
    assert "调解协议仅限承办法院和承办调解员查阅" in html
    assert (await client.get(pdf_link)).status == 403
    logout_locally(client)
    await login(client, "mediator2")
    assert (await client.get(pdf_link)).status == 404


async def test_a_case_not_under_mediation_offers_no_editor(
    actors: Actors,  # noqa: F811
    client: Client,
    services: Services,
) -> None:
    from tests.apihelp import assigned_case

    case = await assigned_case(actors)
    await login(client, "mediator1")
    status, html = await case_page(client, case["id"])
    assert status == 200
    assert "尚未起草协议" in html
    assert "agreement-form" not in html
    response = await post(
        client, f"/console/cases/{case['id']}/agreement/draft", complete_form(csrf_of(html), "none")
    )
    assert response.status == 409
    assert "案件不在调解中" in await response.text()
    async with services.db.read() as session:
        assert await session.scalar(select(func.count()).select_from(AgreementVersion)) == 0
