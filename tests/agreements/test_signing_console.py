"""Signing on the console's case page: the mediator requests signatures (order, seal, outcome, SMS), sees
the round (who viewed and signed when, how they were authenticated, their signatures) and the links once,
reissues a link, signs with the pad's JSON; a union user applies the seal; the court reads the rounds and
the hash-chained trail, and acts on nothing; refusals are shown beside the section with nothing stored."""

from __future__ import annotations

import hashlib
import html as html_lib
import json
import re
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import select, text

from agreements.tables import SigningRound
from tests.agreements.signhelp import (
    Party,
    drawing,
    frozen_case,
    last_code,
    parties_from_links,
    signing_snapshot,
)
from tests.apihelp import PDF, Actors, actors, mediating_case, upload_form  # noqa: F401
from tests.test_console import case_page, csrf_of, login, logout_locally

Client = TestClient[Any, Any]
LINK = re.compile(r'value="(http[^"]*/sign#[^"]+)"')
LINK_ITEM = re.compile(
    r'<li data-link="([^"]+)" data-role="([^"]+)" data-name="([^"]+)">.*?value="(http[^"]*/sign#[^"]+)"', re.S
)


async def post(client: Client, path: str, data: Any) -> Any:
    return await client.post(path, data=data, allow_redirects=False)


def section(html: str) -> str:
    """The signing part of the case page."""
    start = html.index('id="signing"')
    return html[start : html.index("</section>", start)]


def signer_row(html: str, signer_id: str) -> str:
    part = section(html)
    start = part.index(f'data-signer="{signer_id}"')
    return part[start : part.index("</tr>", start)]


def links_in(html: str) -> list[dict[str, str]]:
    """The links the page shows, shaped like the API's ``links``."""
    return [
        {"signer_id": signer_id, "role": role, "name": html_lib.unescape(name), "url": html_lib.unescape(url)}
        for signer_id, role, name, url in LINK_ITEM.findall(section(html))
    ]


def alert(html: str) -> str:
    found = re.search(r'id="signing-error">([^<]*)<', html)
    assert found is not None, "no error beside the signing section"
    return html_lib.unescape(found.group(1))


async def sign_by_link(people: Actors, party: Party, sha: str) -> None:
    await party.view()
    await party.expect("POST", "/code", 200)
    body = {"document_sha256": sha, "auth": {"method": "one_time_code", "code": last_code(people)}}
    await party.expect("POST", "/signature", 201, json={**body, "signature": drawing()})


async def request_form(client: Client, case_id: str, version_id: str, **fields: str) -> Any:
    _, html = await case_page(client, case_id)
    data = {"csrf_token": csrf_of(html), "order": "parallel", "seal": "1", "notify": "1", **fields}
    return await post(client, f"/console/cases/{case_id}/agreement/versions/{version_id}/signing", data)


async def test_the_mediator_requests_signatures_sees_the_round_and_reissues_a_link(
    actors: Actors,  # noqa: F811
    client: Client,
) -> None:
    case, version = await frozen_case(actors)
    base = f"/console/cases/{case['id']}/agreement"
    await login(client, "mediator1")
    status, html = await case_page(client, case["id"])
    assert status == 200
    part = section(html)
    assert "发起签署（第 1 版）" in part
    assert 'name="outcome"' not in part  # a template agreement says its own outcome

    response = await request_form(client, case["id"], version["id"], order="ordered")
    html = await response.text()
    assert response.status == 201, html
    assert "已发起签署" in html
    links = links_in(html)
    assert sorted(link["role"] for link in links) == ["agent", "employer", "worker"]  # not the console's
    assert section(html).count("已发短信") == 3
    parties = parties_from_links(actors, {"links": links})  # each link is the one its SMS carried
    async with actors.services.db.read() as session:
        [row] = (await session.scalars(select(SigningRound))).all()
    assert (row.signing_order, row.seal_required, row.status) == ("ordered", True, "open")
    assert (await actors.court_a.get(f"/cases/{case['id']}"))["state"] == "awaiting_signatures"

    # Seen again: the links are gone (shown once), the round is there, nothing to request.
    _, html = await case_page(client, case["id"])
    part = section(html)
    assert LINK.findall(part) == []
    assert 'id="signing-request"' not in part
    assert "依次签署" in part
    assert part.count('<tr data-signer="') == 5
    worker = parties["worker"]
    await sign_by_link(actors, worker, version["pdf_sha256"])
    logout_locally(client)
    await login(client, "mediator1")
    _, html = await case_page(client, case["id"])
    cells = signer_row(html, worker.signer_id)
    assert "已签署" in cells
    assert "短信验证码" in cells
    assert cells.count("2026-03-02 09:00") == 2  # viewed and signed (the frozen clock)
    image = re.search(r'<img class="signature-image" src="([^"]+)"', cells)
    assert image is not None
    png = await client.get(html_lib.unescape(image.group(1)))
    assert png.status == 200
    assert (await png.read()).startswith(b"\x89PNG")
    assert "现可签署" in signer_row(html, parties["employer"].signer_id)  # ordered: the employer is next

    # Reissue the employer's link: one new link shown, the old one revoked.
    employer = parties["employer"]
    data = [("csrf_token", csrf_of(html)), ("signer_id", employer.signer_id), ("notify", "1")]
    response = await post(client, f"{base}/signing/{row.id}/links", data)
    html = await response.text()
    assert response.status == 200, html
    assert "已重新发送签署链接" in html
    assert len(LINK.findall(section(html))) == 1
    await employer.expect("GET", "/round", 401, code="link_revoked")


async def _parties_signed(people: Actors, client: Client, **request: str) -> tuple[dict[str, Any], Any, str]:
    """A parallel round requested from the console, the worker and the employer signed by link."""
    case, version = await frozen_case(people)
    await login(client, "mediator1")
    response = await request_form(client, case["id"], version["id"], **request)
    html = await response.text()
    assert response.status == 201, html
    async with people.services.db.read() as session:
        row = (await session.scalars(select(SigningRound))).one()
    parties = parties_from_links(people, {"links": links_in(html)})
    for role in ("worker", "employer"):
        await sign_by_link(people, parties[role], version["pdf_sha256"])
    return case, version, row.id


async def test_the_mediator_signs_with_the_pad_and_a_union_user_seals(
    actors: Actors,  # noqa: F811
    client: Client,
) -> None:
    case, version, round_id = await _parties_signed(actors, client)
    sha = version["pdf_sha256"]
    base = f"/console/cases/{case['id']}/agreement/signing/{round_id}"
    logout_locally(client)
    await login(client, "mediator1")
    _, html = await case_page(client, case["id"])
    part = section(html)
    assert 'id="signing-sign-form"' in part
    assert "signature_pad.js" in part
    assert 'id="signing-seal-form"' not in part
    csrf = csrf_of(html)
    signed = {"csrf_token": csrf, "document_sha256": sha, "read": "1", "signature": json.dumps(drawing(20))}

    # Refused, nothing stored: not viewed yet, not confirmed as read, a drawing that is not one, no drawing.
    before = await signing_snapshot(actors)
    response = await post(client, base + "/signature", signed)
    assert response.status == 409
    assert alert(await response.text()) == "请先查看待签署的协议，再签署或盖章。"
    document = await client.get(base + "/document")
    assert document.status == 200
    pdf = await document.read()
    assert hashlib.sha256(pdf).hexdigest() == sha == document.headers["X-Content-SHA256"]
    viewed = await signing_snapshot(actors)
    for bad, code, message in (
        ({**signed, "read": ""}, 422, "请确认已阅读协议全文。"),
        ({**signed, "signature": "{not json"}, 422, "签名无法识别，请清除后重新签名。"),
        (
            {**signed, "signature": json.dumps({"width": 320, "height": 160, "strokes": [[[1, 1, 0]]]})},
            422,
            None,
        ),
        ({**signed, "signature": ""}, 422, "请先在签名框内签名。"),
        ({**signed, "document_sha256": "0" * 64}, 422, "协议已变化，请刷新页面后重新查看。"),
    ):
        response = await post(client, base + "/signature", bad)
        assert response.status == code, bad
        if message:
            assert alert(await response.text()) == message
    assert await signing_snapshot(actors) == viewed
    assert before["agreement_signatures"] == viewed["agreement_signatures"]

    response = await post(client, base + "/signature", signed)
    assert response.status == 303
    assert response.headers["Location"].endswith("?done=signing_signed#signing")
    _, html = await case_page(client, case["id"])
    mediator_row = signer_row(html, actors.mediator_id("m1"))
    assert "已签署" in mediator_row
    assert "平台账号" in mediator_row
    assert 'id="signing-sign-form"' not in section(html)
    strokes = await (await actors.user("mediator1")).get(
        f"/cases/{case['id']}/agreement/signing/{round_id}/signatures/"
        + re.findall(r"/signatures/(sig_\w+)/image", mediator_row)[0]
        + "/strokes"
    )
    assert strokes == json.loads(signed["signature"])

    # The union user: sees the round, opens the document, applies the seal.
    logout_locally(client)
    await login(client, "union_admin1")
    status, html = await case_page(client, case["id"])
    assert status == 200
    part = section(html)
    assert 'id="signing-seal-form"' in part
    assert "signature-image" not in part  # the signatures themselves are the court's and the mediator's
    assert 'id="signing-trail"' not in part
    seal = {"csrf_token": csrf_of(html), "document_sha256": sha}
    response = await post(client, base + "/seal", seal)
    assert response.status == 409
    assert alert(await response.text()) == "请先查看待签署的协议，再签署或盖章。"
    assert (await client.get(base + "/document")).status == 200
    response = await post(client, base + "/seal", seal)
    assert response.status == 303, await response.text()
    _, html = await case_page(client, case["id"])
    assert "已生效" in section(html)
    assert (await actors.court_a.get(f"/cases/{case['id']}"))["state"] == "agreed"

    # The court: reads the round, the signatures and the trail; no form, and acting is refused.
    logout_locally(client)
    await login(client, "clerk_a")
    _, html = await case_page(client, case["id"])
    part = section(html)
    assert "已生效" in part
    assert part.count('class="signature-image"') == 4  # worker, employer, mediator, seal
    for form in ("signing-request", "signing-sign-form", "signing-seal-form", "signing-reissue"):
        assert f'id="{form}"' not in part
    assert 'data-intact="1"' in part
    assert "记录完整" in part
    for action in ("签名", "加盖印章", "协议生效", "验证码正确", "查看协议"):
        assert f"<td>{action}</td>" in part
    response = await post(client, base + "/seal", {"csrf_token": csrf_of(html), "document_sha256": sha})
    assert response.status == 403


async def test_refusals_are_shown_and_store_nothing(
    actors: Actors,  # noqa: F811
    client: Client,
) -> None:
    case = await mediating_case(actors)
    mediator = await actors.user("mediator1")
    api = f"/cases/{case['id']}/agreement"
    draft = await mediator.expect("PUT", api + "/draft", 200, json={"facts": "事实", "settlement": "full"})
    await login(client, "mediator1")
    _, html = await case_page(client, case["id"])
    assert 'id="signing-request"' not in html  # only a frozen version is signed
    assert "尚未发起签署" in html
    before = await signing_snapshot(actors)
    response = await request_form(client, case["id"], draft["id"])
    assert response.status == 409
    assert alert(await response.text()) == "请先将协议定稿。"
    assert await signing_snapshot(actors) == before

    # An uploaded agreement needs its outcome; an order that is none is refused too.
    logout_locally(client)  # the API caller's own session cookie, not the console's
    uploaded = await mediator.post(
        api + "/uploads", 201, data=upload_form("agreement.pdf", PDF, "application/pdf")
    )
    await login(client, "mediator1")
    _, html = await case_page(client, case["id"])
    assert 'name="outcome"' in section(html)
    before = await signing_snapshot(actors)
    response = await request_form(client, case["id"], uploaded["id"])
    assert response.status == 422
    assert alert(await response.text()) == "请选择调解结果（全部或部分）。"
    response = await request_form(client, case["id"], uploaded["id"], order="sideways", outcome="full")
    assert response.status == 422
    assert alert(await response.text()) == "提交的内容有误，请检查后重试。"
    assert await signing_snapshot(actors) == before
    response = await request_form(client, case["id"], uploaded["id"], outcome="partial")
    assert response.status == 201

    # Requesting again while the case awaits signatures: refused; a round that is not there: not found.
    response = await request_form(client, case["id"], uploaded["id"], outcome="partial")
    assert response.status == 409
    _, html = await case_page(client, case["id"])
    data = {"csrf_token": csrf_of(html), "notify": "1"}
    response = await post(client, f"/console/cases/{case['id']}/agreement/signing/sgr_nothing/links", data)
    assert response.status == 404
    assert alert(await response.text()) == "没有该签署。"

    # Another mediator's case does not exist for them.
    logout_locally(client)
    await login(client, "mediator2")
    inbox = await client.get("/console/")
    data = {"csrf_token": csrf_of(await inbox.text()), "order": "parallel"}
    response = await post(
        client, f"/console/cases/{case['id']}/agreement/versions/{uploaded['id']}/signing", data
    )
    assert response.status == 404


async def test_a_changed_trail_row_shows_as_not_intact(
    actors: Actors,  # noqa: F811
    client: Client,
    backend: str,
) -> None:
    case, version = await frozen_case(actors)
    mediator = await actors.user("mediator1")
    round_ = await mediator.post(
        f"/cases/{case['id']}/agreement/versions/{version['id']}/signing", 201, json={}
    )
    await sign_by_link(actors, parties_from_links(actors, round_)["worker"], version["pdf_sha256"])
    await login(client, "clerk_a")
    _, html = await case_page(client, case["id"])
    assert 'data-intact="1"' in section(html)
    engine = actors.services.db.engine
    async with engine.begin() as conn:
        if backend == "postgres":
            await conn.execute(text("ALTER TABLE agreement_trail DISABLE TRIGGER USER"))
        else:
            await conn.execute(text("DROP TRIGGER agreement_trail_no_update"))
        await conn.execute(
            text("UPDATE agreement_trail SET ip = '10.0.0.9' WHERE case_id = :c AND action = 'signed'"),
            {"c": case["id"]},
        )
        if backend == "postgres":
            await conn.execute(text("ALTER TABLE agreement_trail ENABLE TRIGGER USER"))
    _, html = await case_page(client, case["id"])
    part = section(html)
    assert 'data-intact="0"' in part
    assert re.search(r"第 \d+ 条内容被改动", part)
