"""The sealed agreement end to end, on SQLite and PostgreSQL: an agreement frozen through the API, the
evidence of its signatures sealed into one PDF that pyHanko's own validator accepts, its pages and
certificate rendered, downloads only for the court and the mediator of the case, and verification by upload
and by code — where any changed byte, an appended update or another version's file is told apart."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import io
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from aiohttp import FormData
from pyhanko.pdf_utils.generic import TextStringObject
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from pypdf import PdfReader
from sqlalchemy import select

from agreements.sealed_tables import SealedAgreement
from agreements.sealing_service import sealed_pdf
from agreements.verification_codes import grouped
from cases.tables import AuditEvent
from tests.agreements.sealhelp import evidence_for, frozen_case, seal
from tests.agreements.test_api import content
from tests.agreements.test_text_and_versions import needs_font, needs_pdftotext, pdftotext
from tests.apihelp import PDF, Actors, Caller, actors, new_case  # noqa: F401  (a fixture)
from tiaojie.errors import Conflict, InvalidInput, NotFound
from web.services import Services

pytestmark = needs_font


def upload(data: bytes, content_type: str = "application/pdf") -> FormData:
    form = FormData()
    form.add_field("file", data, filename="sealed.pdf", content_type=content_type)
    return form


async def verify(
    caller: Caller, data: bytes, status: int = 200, query: str = "", **kwargs: Any
) -> dict[str, Any]:
    body: dict[str, Any] = await caller.post("/verify" + query, status, data=upload(data), **kwargs)
    return body


async def sealed_case(
    actors: Actors,  # noqa: F811
    services: Services,
) -> tuple[dict[str, Any], SealedAgreement, bytes]:
    case, version = await frozen_case(actors)
    row = await seal(services, await evidence_for(services, case, version["id"]))
    return case, row, services.files.path(row.pdf_key).read_bytes()


async def test_two_desks_sealing_at_once_leave_one_sealed_pdf(
    actors: Actors,  # noqa: F811
    services: Services,
) -> None:
    """Both build and store a PDF before either records it; the one recorded stands and the other's file,
    referred to by no row, is removed."""
    case, version = await frozen_case(actors)
    evidence = await evidence_for(services, case, version["id"])
    stored: list[str] = []
    put = services.files.put

    async def noting_put(chunks: Any, *, max_bytes: int) -> Any:
        result = await put(chunks, max_bytes=max_bytes)
        stored.append(result.key)
        return result

    services.files.put = noting_put  # type: ignore[method-assign]
    first, second = await asyncio.gather(seal(services, evidence), seal(services, evidence))
    assert first.id == second.id
    assert len(stored) == 2  # both built one
    [kept] = [key for key in stored if key == first.pdf_key]
    [discarded] = [key for key in stored if key != kept]
    assert services.files.path(kept).is_file()
    with pytest.raises(NotFound):
        services.files.path(discarded)


@needs_pdftotext
async def test_the_sealed_agreement_validates_and_shows_its_certificate(
    actors: Actors,  # noqa: F811
    services: Services,
    tmp_path: Path,
) -> None:
    case, version = await frozen_case(actors)
    evidence = await evidence_for(services, case, version["id"])
    mediator = await actors.user("mediator1")
    await mediator.get(f"/cases/{case['id']}/agreement/sealed", 404, code="not_sealed")

    row = await seal(services, evidence)
    again = await seal(services, evidence)  # idempotent per version
    assert (again.id, again.code) == (row.id, row.code)
    async with services.db.read() as session:
        events = list(await session.scalars(select(AuditEvent).where(AuditEvent.action == "seal_agreement")))
        assert [(e.subject_id, e.data["sha256"]) for e in events] == [(version["id"], row.sealed_sha256)]
        assert len(list(await session.scalars(select(SealedAgreement)))) == 1

    reply = await mediator.call("GET", f"/cases/{case['id']}/agreement/sealed")
    assert (reply.status, reply.headers["Content-Type"]) == (200, "application/pdf")
    data: bytes = reply.body
    assert hashlib.sha256(data).hexdigest() == reply.headers["X-Content-SHA256"] == row.sealed_sha256
    assert (await actors.court_a.call("GET", f"/cases/{case['id']}/agreement/sealed")).body == data
    async with services.db.read() as session:  # what the parties' signed link will serve
        assert await sealed_pdf(session, services.files, case["id"], version["id"]) == data
        with pytest.raises(NotFound):
            await sealed_pdf(session, services.files, "cas_00000000000000000000000000", version["id"])

    # pyHanko's own validator, against the service's trust root: valid, trusted, covering the whole file.
    keys = services.sealing.keys.get()
    signatures = PdfFileReader(io.BytesIO(data)).embedded_signatures
    assert len(signatures) == 1
    status = await async_validate_pdf_signature(
        signatures[0], ValidationContext(trust_roots=list(keys.trust_roots))
    )
    assert status.bottom_line
    assert (status.intact, status.valid, status.trusted) == (True, True, True)
    assert status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    assert status.docmdp_ok
    # Not trusted against another root.
    stranger = await async_validate_pdf_signature(signatures[0], ValidationContext(trust_roots=[]))
    assert not stranger.trusted

    # The agreement's own pages come first, unchanged in number and text; its file is attached as signed.
    original = PdfReader(io.BytesIO(evidence.document_pdf))
    sealed = PdfReader(io.BytesIO(data))
    assert len(sealed.pages) >= len(original.pages) + 2
    for mine, theirs in zip(sealed.pages, original.pages, strict=False):
        assert mine.extract_text() == theirs.extract_text()
    assert sealed.attachments["agreement.pdf"] == [evidence.document_pdf]
    meta = sealed.metadata
    assert meta is not None
    assert str(meta["/TiaojieVerificationCode"]) == grouped(row.code)
    assert str(meta["/TiaojieVersionId"]) == version["id"]

    words = "".join(pdftotext(data, tmp_path).split())
    for expected in (
        "调解协议书",
        "签名页",
        "完成证书",
        "CertificateofCompletion",
        evidence.document_sha256,
        grouped(row.code),
        f"/verify#{grouped(row.code)}",
        "张三",
        "焦作某机械有限公司",
        "短信验证码",
        "request_signatures",
        evidence.trail[-1].entry_hash,
    ):
        assert expected in words, expected

    # The certificate pages render (poppler), and carry drawings (signatures, the QR code), not blank.
    path = tmp_path / "sealed.pdf"
    path.write_bytes(data)
    first = str(len(original.pages) + 1)
    command = ["pdftoppm", "-r", "40", "-png", "-f", first, str(path), str(tmp_path / "p")]
    await asyncio.to_thread(subprocess.run, command, check=True, timeout=60, capture_output=True)
    pages = sorted(tmp_path.glob("p-*.png"))
    assert len(pages) == len(sealed.pages) - len(original.pages)
    assert all(p.stat().st_size > 3000 for p in pages)


async def test_only_the_court_and_the_mediator_of_the_case_download_it(
    actors: Actors,  # noqa: F811
    services: Services,
) -> None:
    case, _, _ = await sealed_case(actors, services)
    path = f"/cases/{case['id']}/agreement/sealed"
    await actors.court_b.get(path, 404)
    await (await actors.user("mediator2")).get(path, 404)
    await actors.union1.get(path, 403, code="forbidden")
    await actors.union2.get(path, 404)
    await actors.nobody.get(path, 401)
    await actors.court_a.get(path.replace(case["id"], "cas_00000000000000000000000000"), 404)
    assert (await actors.court_a.call("GET", path)).status == 200


async def test_an_intact_file_verifies_and_names_are_masked_for_anyone(
    actors: Actors,  # noqa: F811
    services: Services,
) -> None:
    case, row, data = await sealed_case(actors, services)
    public = await verify(actors.nobody, data)
    assert (public["result"], public["problems"]) == ("intact", [])
    checks = public["file"]
    assert (checks["signatures"], checks["signature_valid"], checks["signature_trusted"]) == (1, True, True)
    assert checks["covers_whole_file"] is True
    assert checks["sha256"] == row.sealed_sha256
    assert checks["attached_document_sha256"] == row.document_sha256
    sealed = public["sealed"]
    assert (sealed["code"], sealed["version_id"]) == (grouped(row.code), row.version_id)
    assert sealed["version_number"] == 1
    assert (sealed["version_current"], sealed["names_masked"], sealed["case"]) == (True, True, None)
    names = [s["name"] for s in sealed["signers"]]
    assert names == ["张*", "焦作*****公司", "王**"]
    assert [s["auth_method"] for s in sealed["signers"]] == ["one_time_code", "one_time_code", "account"]

    # The court of the case sees the names in full and the case; another court only the public answer.
    full = await verify(actors.court_a, data)
    assert [s["name"] for s in full["sealed"]["signers"]] == ["张三", "焦作某机械有限公司", "王调解"]
    assert full["sealed"]["case"] == {
        "case_id": case["id"],
        "case_number": case["case_number"],
        "court_name": "焦作市解放区人民法院",
    }
    other = await verify(actors.court_b, data)
    assert (other["result"], other["sealed"]["names_masked"]) == ("intact", True)
    assert other["sealed"]["case"] is None
    union = await verify(actors.union1, data)
    assert union["sealed"]["names_masked"] is True

    # A file that was never sealed here: the frozen agreement itself.
    frozen_pdf = f"/cases/{case['id']}/agreement/versions/{row.version_id}/pdf"
    plain = (await actors.court_a.call("GET", frozen_pdf)).body
    unknown = await verify(actors.nobody, plain)
    assert unknown["result"] == "unknown"
    assert set(unknown["problems"]) == {"not_on_record", "seal_missing"}
    assert unknown["sealed"] is None


def _flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :]


async def test_any_changed_byte_fails(actors: Actors, services: Services) -> None:  # noqa: F811
    _, row, data = await sealed_case(actors, services)
    contents = re.search(rb"/Contents\s*<", data)
    assert contents is not None
    eof = data.rindex(b"%%EOF")
    places = {
        "header": 9,
        "first page": len(data) // 5,
        "middle": len(data) // 2,
        "certificate": (len(data) * 4) // 5,
        "signature": contents.end() + 200,
        "trailer": eof - 20,
    }
    for where, at in places.items():
        answer = await verify(actors.nobody, _flip(data, at))
        assert answer["result"] != "intact", where
        assert answer["problems"], where
        assert answer["file"]["sha256"] != row.sealed_sha256, where
        if answer["sealed"] is not None:  # still names the document it claims to be
            assert answer["result"] == "altered", where
            assert "file_changed" in answer["problems"], where


async def test_an_update_appended_after_sealing_fails(actors: Actors, services: Services) -> None:  # noqa: F811
    _, row, data = await sealed_case(actors, services)
    writer = IncrementalPdfFileWriter(io.BytesIO(data))
    writer.root["/Lang"] = TextStringObject("en")  # a change to the catalogue, appended as an update
    writer.update_root()  # type: ignore[no-untyped-call]
    out = io.BytesIO()
    writer.write(out)  # type: ignore[no-untyped-call]
    changed = out.getvalue()
    assert changed.startswith(data)
    answer = await verify(actors.nobody, changed)
    assert answer["result"] == "altered"
    assert {"file_changed", "changed_after_sealing"} <= set(answer["problems"])
    assert answer["file"]["signature_valid"] is True  # the signed part is untouched ...
    assert answer["file"]["covers_whole_file"] is False  # ... but no longer the whole file
    assert answer["sealed"]["code"] == grouped(row.code)


async def test_another_versions_file_is_reported_as_that_version(
    actors: Actors,  # noqa: F811
    services: Services,
) -> None:
    case, first, first_data = await sealed_case(actors, services)
    mediator = await actors.user("mediator1")
    base = f"/cases/{case['id']}/agreement"
    draft = await mediator.expect("PUT", base + "/draft", 200, json=content(facts="补充后的事实"))
    second = await mediator.post(
        f"{base}/versions/{draft['id']}/freeze", json={"revision": draft["revision"]}
    )
    row = await seal(services, await evidence_for(services, case, second["id"]))
    assert row.code != first.code

    answer = await verify(actors.nobody, first_data, query=f"?code={grouped(row.code).lower()}")
    assert answer["result"] == "intact"  # a genuine file ...
    assert answer["code_matches"] is False  # ... but not the document of the code given
    assert (answer["sealed"]["version_number"], answer["sealed"]["version_current"]) == (1, False)
    assert answer["sealed"]["version_id"] == first.version_id
    matching = await verify(actors.nobody, first_data, query=f"?code={first.code}")
    assert matching["code_matches"] is True
    # The case's download is now the second version's sealed document.
    reply = await mediator.call("GET", f"{base}/sealed")
    assert reply.headers["X-Content-SHA256"] == row.sealed_sha256


async def test_look_up_by_code(actors: Actors, services: Services) -> None:  # noqa: F811
    _, row, _ = await sealed_case(actors, services)
    answer = await actors.nobody.get(f"/verify/{grouped(row.code)}")
    assert (answer["result"], answer["file"], answer["sealed"]["sealed_sha256"]) == (
        "on_record",
        None,
        row.sealed_sha256,
    )
    assert answer["sealed"]["names_masked"] is True
    typed = row.code.lower().replace("0", "o").replace("1", "l")  # as people type it
    assert (await actors.nobody.get(f"/verify/{typed}"))["sealed"]["code"] == grouped(row.code)
    mediator = await actors.user("mediator1")
    assert (await mediator.get(f"/verify/{row.code}"))["sealed"]["names_masked"] is False
    await actors.nobody.get("/verify/0000-0000-0000-0000", 404, code="unknown_code")
    for garbage in ("abc", "X" * 17, "%00", "ÄÖÜ-ÄÖÜ", "' OR 1=1 --", "U" * 16):
        await actors.nobody.get(f"/verify/{garbage}", 422, code="malformed_code")


async def test_code_lookups_are_rate_limited_per_address(actors: Actors, services: Services) -> None:  # noqa: F811
    limit = services.settings.verify_per_minute
    # The bucket refills while this runs (`limit` a minute): at least `limit` answers, not many more.
    answered = []
    for _ in range(limit + 10):
        reply = await actors.nobody.call("GET", "/verify/0000-0000-0000-0000")
        if reply.status == 429:
            assert reply.error["code"] == "rate_limited"
            break
        answered.append(reply.status)
    assert answered[:limit] == [404] * limit
    assert len(answered) < limit + 10
    await actors.nobody.post("/verify", 429, code="rate_limited", data=upload(b"%PDF-1.7\n%%EOF\n"))
    # An authenticated caller has a budget of their own.
    await actors.court_a.get("/verify/0000-0000-0000-0000", 404)


async def test_bad_uploads_get_4xx_with_codes(actors: Actors, services: Services) -> None:  # noqa: F811
    _, _, data = await sealed_case(actors, services)
    nobody = actors.nobody
    await verify(nobody, b"GIF89a not a pdf", 415, code="unsupported_media_type")
    await verify(nobody, b"hello", 415, code="unsupported_media_type")
    await verify(nobody, data[: len(data) // 2], 422, code="truncated_pdf")
    await verify(nobody, b"", 422, code="empty_file")
    limit = services.settings.max_upload_bytes
    await verify(nobody, b"%PDF-1.7\n" + b"0" * limit + b"\n%%EOF\n", 413, code="payload_too_large")
    await verify(nobody, data, 422, code="malformed_code", query="?code=nope")
    await nobody.post("/verify", 415, code="unsupported_media_type", json={"file": "x"})
    await nobody.post("/verify?x=1", 422, code="validation_failed", data=upload(data))
    # A PDF that pyHanko and pypdf cannot make sense of: an answer, not an error.
    broken = await verify(nobody, b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog\nendobj\ntrailer\n<< >>\n%%EOF\n")
    assert broken["result"] == "unknown"
    # Another field than `file`.
    form = FormData()
    form.add_field("document", data, filename="a.pdf", content_type="application/pdf")
    await nobody.post("/verify", 422, code="unknown_field", data=form)
    # Credentials that are sent must be valid, also on a public route.
    bogus = Caller(actors.client, {"Authorization": "Bearer nope"}, "bogus")
    await bogus.get("/verify/0000-0000-0000-0000", 401)


async def test_the_verify_page(actors: Actors) -> None:  # noqa: F811
    response = await actors.client.get("/verify")
    assert response.status == 200
    html = await response.text()
    assert '<html lang="zh-CN">' in html
    assert "调解协议核验" in html
    assert "Verify a mediation agreement" in html
    for asset in re.findall(r'(?:src|href)="(/static/[^"]+)"', html):
        reply = await actors.client.get(asset)
        assert reply.status == 200, asset
    assert "https://" not in html  # nothing from a CDN
    script = await (await actors.client.get("/static/verify.js")).text()
    assert "/api/v1/verify/" in script
    assert "credentials: 'omit'" in script


async def test_evidence_that_does_not_fit_is_refused_and_nothing_is_stored(
    actors: Actors,  # noqa: F811
    services: Services,
) -> None:
    case, version = await frozen_case(actors)
    good = await evidence_for(services, case, version["id"])
    other_case, _ = await frozen_case(actors)
    refused = [
        dataclasses.replace(good, document_sha256="0" * 64),
        dataclasses.replace(good, document_pdf=good.document_pdf + b"\n"),
        dataclasses.replace(good, case_id=other_case["id"]),
        dataclasses.replace(good, version_id="agv_00000000000000000000000000"),
        dataclasses.replace(good, version_number=2),
        dataclasses.replace(good, signatures=()),
        dataclasses.replace(good, effective_at=good.effective_at.replace(tzinfo=None)),
    ]
    for bad in refused:
        with pytest.raises(InvalidInput) as error:
            await seal(services, bad)
        assert error.value.code == "evidence_mismatch", bad
    async with services.db.read() as session:
        assert list(await session.scalars(select(SealedAgreement))) == []
    row = await seal(services, good)
    with pytest.raises(Conflict) as sealed_otherwise:  # the same version, another document
        await seal(services, dataclasses.replace(good, document_sha256="1" * 64))
    assert sealed_otherwise.value.code == "evidence_mismatch"
    assert (await seal(services, good)).id == row.id

    # A version superseded before it took effect is not sealed.
    mediator = await actors.user("mediator1")
    await mediator.expect("PUT", f"/cases/{other_case['id']}/agreement/draft", 200, json=content(facts="改"))
    superseded = await evidence_for(
        services,
        other_case,
        (await actors.court_a.get(f"/cases/{other_case['id']}/agreement"))["versions"][0]["id"],
    )
    with pytest.raises(Conflict) as void:
        await seal(services, superseded)
    assert void.value.code == "version_not_frozen"


async def test_a_slow_upload_to_verify_holds_up_no_write(actors: Actors) -> None:  # noqa: F811
    """The upload is read, and the file analysed, before any unit of work opens: an anonymous client sending
    its file slowly keeps no transaction (and, on SQLite, not the write lock) while it does."""
    boundary = "sl0w"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\n'
        "Content-Type: application/pdf\r\n\r\n"
    ).encode()
    release = asyncio.Event()
    sent_head = asyncio.Event()

    async def body() -> Any:
        yield head + PDF[:20]
        sent_head.set()
        await release.wait()
        yield PDF[20:] + f"\r\n--{boundary}--\r\n".encode()

    uploading = asyncio.create_task(
        actors.client.post(
            "/api/v1/verify",
            data=body(),
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
        )
    )
    await asyncio.wait_for(sent_head.wait(), 10)
    created = await asyncio.wait_for(new_case(actors), 10)  # a write goes through meanwhile
    assert created["state"] == "created"
    release.set()
    response = await asyncio.wait_for(uploading, 10)
    assert response.status == 200, await response.text()
    assert (await response.json())["result"] == "unknown"
