"""The agreement over the REST API, on SQLite and PostgreSQL: drafting, freezing to a PDF that carries the
Chinese text and is the same bytes on every rendering of the same version, superseding, uploads, and who may
do what."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from agreements.pdf import render
from agreements.tables import AgreementVersion
from agreements.text import AgreementText
from tests.agreements.test_text_and_versions import needs_font, needs_pdftotext, pdftotext
from tests.apihelp import PDF, Actors, actors, assigned_case, mediating_case, upload_form  # noqa: F401
from web.services import Services

TODAY = date(2026, 3, 2)  # the frozen clock's day (tests.conftest.START)


def content(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "facts": "申请人于2024年1月入职被申请人处，2025年10月至12月工资未发放。",
        "disputed_issues": ["拖欠工资数额", "支付期限"],
        "terms": [
            {
                "description": "被申请人向申请人支付拖欠工资",
                "amount": "32000.00",
                "due_date": (TODAY + timedelta(days=10)).isoformat(),
                "payment_method": "bank_transfer",
            }
        ],
        "settlement": "full",
    }
    body.update(overrides)
    return body


async def versions_count(services: Services) -> int:
    async with services.db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(AgreementVersion)) or 0)


@needs_font
@needs_pdftotext
async def test_draft_freeze_download_and_a_new_version(
    actors: Actors,  # noqa: F811
    services: Services,
    tmp_path: Path,
) -> None:
    case = await mediating_case(actors)
    base = f"/cases/{case['id']}/agreement"
    mediator = await actors.user("mediator1")

    prefill = await mediator.get(base + "/prefill")
    assert prefill["disputed_issues"] == ["支付拖欠工资 32,000 元"]
    assert prefill["terms"][0]["amount"] == "32000.00"
    draft = await mediator.expect("PUT", base + "/draft", 200, json=prefill)
    assert (draft["number"], draft["status"], draft["revision"]) == (1, "draft", 1)
    assert {p["code"] for p in draft["problems"]} == {
        "facts_missing",
        "due_date_missing",
        "payment_method_missing",
    }
    assert {p["name"] for p in draft["text"]["parties"]} == {"张三", "焦作某机械有限公司", "李律师"}
    refused = await mediator.post(
        f"{base}/versions/{draft['id']}/freeze", 422, code="agreement_incomplete", json={"revision": 1}
    )
    assert {p["code"] for p in refused["error"]["problems"]} == {
        "facts_missing",
        "due_date_missing",
        "payment_method_missing",
    }

    draft = await mediator.expect("PUT", base + "/draft", 200, json=content())
    assert (draft["id"], draft["revision"], draft["problems"]) == (draft["id"], 2, [])
    await mediator.post(
        f"{base}/versions/{draft['id']}/freeze", 409, code="stale_revision", json={"revision": 1}
    )
    frozen = await mediator.post(f"{base}/versions/{draft['id']}/freeze", json={"revision": 2})
    assert frozen["status"] == "frozen"
    assert frozen["frozen_at"] is not None
    await mediator.post(
        f"{base}/versions/{draft['id']}/freeze", 409, code="version_not_draft", json={"revision": 2}
    )

    reply = await actors.court_a.call("GET", f"{base}/versions/{frozen['id']}/pdf")
    assert reply.status == 200
    assert reply.headers["Content-Type"] == "application/pdf"
    data: bytes = reply.body
    assert hashlib.sha256(data).hexdigest() == frozen["pdf_sha256"] == reply.headers["X-Content-SHA256"]
    assert len(data) == frozen["pdf_size"]
    words = "".join(pdftotext(data, tmp_path).split())
    for expected in ("调解协议书", "张三", "焦作某机械有限公司", "李律师", "叁万贰仟元整", "拖欠工资数额"):
        assert expected in words, expected

    # The same version renders to the same bytes again (nothing depends on when it is rendered).
    async with services.db.read() as session:
        row = await session.get(AgreementVersion, frozen["id"])
        assert row is not None
        assert row.text is not None
        assert row.frozen_at is not None
        again = render(AgreementText.model_validate(row.text), number=row.number, frozen_at=row.frozen_at)
    assert again == data

    # An edit after freezing is a new version; the frozen one is superseded and never changes.
    second = await mediator.expect("PUT", base + "/draft", 200, json=content(facts="新的事实"))
    assert (second["number"], second["status"]) == (2, "draft")
    listing = await actors.court_a.get(base)
    assert [(v["number"], v["status"]) for v in listing["versions"]] == [(1, "superseded"), (2, "draft")]
    assert listing["current"]["id"] == second["id"]
    old = await mediator.get(f"{base}/versions/{frozen['id']}")
    assert (old["pdf_sha256"], old["text"]["content"]["facts"]) == (frozen["pdf_sha256"], content()["facts"])
    await mediator.post(
        f"{base}/versions/{frozen['id']}/freeze", 409, code="version_not_draft", json={"revision": 2}
    )
    await mediator.get(f"{base}/versions/{second['id']}/pdf", 404, code="not_frozen")


async def test_who_may_draft_and_read(actors: Actors, services: Services) -> None:  # noqa: F811
    case = await mediating_case(actors)
    base = f"/cases/{case['id']}/agreement"
    await actors.court_a.expect("PUT", base + "/draft", 403, code="forbidden", json=content())
    await actors.court_a.get(base + "/prefill", 403, code="forbidden")
    await actors.union1.get(base, 403, code="forbidden")
    await actors.court_b.get(base, 404, code="not_found")
    await actors.court_b.expect("PUT", base + "/draft", 404, json=content())
    other = await actors.user("mediator2")
    await other.expect("PUT", base + "/draft", 404, json=content())
    await actors.nobody.get(base, 401)
    assert await versions_count(services) == 0
    assert (await actors.court_a.get(base)) == {"case_id": case["id"], "current": None, "versions": []}
    mediator = await actors.user("mediator1")
    draft = await mediator.expect("PUT", base + "/draft", 200, json=content())
    await actors.court_a.get(f"{base}/versions/{draft['id']}")
    await actors.union1.get(f"{base}/versions/{draft['id']}", 403)
    await actors.court_a.post(f"{base}/versions/{draft['id']}/freeze", 403, json={"revision": 1})
    await mediator.get(f"{base}/versions/agv_00000000000000000000000000", 404, code="unknown_version")


async def test_bad_drafts_are_refused_and_store_nothing(actors: Actors, services: Services) -> None:  # noqa: F811
    case = await mediating_case(actors)
    mediator = await actors.user("mediator1")
    path = f"/cases/{case['id']}/agreement/draft"
    term = content()["terms"][0]
    bad: dict[str, Any]
    for bad in (
        {"terms": [{**term, "amount": "0"}]},
        {"terms": [{**term, "amount": "-5"}]},
        {"terms": [{**term, "amount": "1.001"}]},
        {"terms": [{**term, "payment_method": "bitcoin"}]},
        {"terms": [{**term, "due_date": "2026-02-30"}]},
        {"terms": [{**term, "description": ""}]},
        {"settlement": "most"},
        {"disputed_issues": ["x"] * 51},
        {"parties": []},
    ):
        reply = await mediator.call("PUT", path, json=content(**bad))
        assert reply.status == 422, (bad, reply.text)
        assert isinstance(reply.error["code"], str)
    assert await versions_count(services) == 0

    assigned = await assigned_case(actors)
    await mediator.expect(
        "PUT", f"/cases/{assigned['id']}/agreement/draft", 409, code="case_not_in_mediation", json=content()
    )


async def test_an_offline_agreement_is_uploaded_as_a_pdf(actors: Actors, services: Services) -> None:  # noqa: F811
    case = await mediating_case(actors)
    base = f"/cases/{case['id']}/agreement"
    mediator = await actors.user("mediator1")
    draft = await mediator.expect("PUT", base + "/draft", 200, json=content())

    limit = services.settings.max_upload_bytes
    for form, status, code in (
        (upload_form("a.txt", b"hello", "text/plain"), 415, "unsupported_media_type"),
        (upload_form("a.pdf", b"GIF89a not a pdf"), 415, "unsupported_media_type"),
        (upload_form("a.pdf", PDF[:-7]), 422, "truncated_pdf"),
        (upload_form("a.pdf", b""), 422, "empty_file"),
        (upload_form("a.pdf", PDF + b"0" * limit), 413, "payload_too_large"),
    ):
        await mediator.post(base + "/uploads", status, code=code, data=form)
    assert await versions_count(services) == 1
    await actors.court_a.post(base + "/uploads", 403, data=upload_form())

    uploaded = await mediator.post(base + "/uploads", 201, data=upload_form())
    assert (uploaded["number"], uploaded["status"], uploaded["source"], uploaded["text"]) == (
        2,
        "frozen",
        "upload",
        None,
    )
    assert uploaded["pdf_sha256"] == hashlib.sha256(PDF).hexdigest()
    listing = await mediator.get(base)
    assert [v["status"] for v in listing["versions"]] == ["superseded", "frozen"]
    assert listing["versions"][0]["id"] == draft["id"]
    reply = await actors.court_a.call("GET", f"{base}/versions/{uploaded['id']}/pdf")
    assert (reply.status, reply.body) == (200, PDF)
