"""The party's signing page (``/sign#<token>``) in a real Chromium against the real app: a broken link's
screen; the worker opens the link from the SMS, reads the PDF (its hash checked in the browser), asks for a
one-time code (read from the development notifier, as the backend tests do), types a wrong one first (the
error with the tries left), draws a signature with pointer events (a mouse stroke and a pen stroke with
pressure), signs and sees the success screen; once the others signed and the union sealed, the page offers
the sealed agreement and downloads it. Then what was stored: the strokes with their timing and on the
canvas, and the PNG. How the browser tests run: ``tests/browser/harness.py``."""

from __future__ import annotations

import importlib
import io
import json
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import select

from agreements.tables import AgreementSignature
from tests.agreements.signhelp import drawing, frozen_case, last_code, parties_from_links
from tests.apihelp import Actors, actors  # noqa: F401
from tests.browser.harness import CHROMIUM, CHROMIUM_ARGS, DESKTOP, inside_namespace, require_browser, shoot
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser

PEN_STROKE = """([canvas, box]) => {
  const at = (i) => ({clientX: box.x + 40 + i * 9, clientY: box.y + box.height * 0.6 - (i % 4) * 6});
  const base = {pointerId: 7, pointerType: 'pen', isPrimary: true, bubbles: true, cancelable: true};
  canvas.dispatchEvent(new PointerEvent('pointerdown', {...base, ...at(0), pressure: 0.3, buttons: 1}));
  for (let i = 1; i < 12; i++) {
    const pressure = 0.3 + i / 20;
    canvas.dispatchEvent(new PointerEvent('pointermove', {...base, ...at(i), pressure, buttons: 1}));
  }
  canvas.dispatchEvent(new PointerEvent('pointerup', {...base, ...at(12), pressure: 0}));
}"""


async def _draw(page: Any) -> dict[str, float]:
    """Two strokes: the mouse (Playwright's, i.e. trusted pointer events) and a pen with pressure."""
    canvas = page.locator("#pad")
    await canvas.scroll_into_view_if_needed()
    box: dict[str, float] | None = await canvas.bounding_box()
    assert box is not None
    mouse = page.mouse
    await mouse.move(box["x"] + 30, box["y"] + box["height"] * 0.5)
    await mouse.down()
    for i in range(1, 16):
        await mouse.move(
            box["x"] + 30 + i * 14, box["y"] + box["height"] * (0.5 - 0.2 * ((i % 6) / 6)), steps=2
        )
    await mouse.up()
    await page.evaluate(PEN_STROKE, [await canvas.element_handle(), box])
    return box


@pytest.mark.timeout(90)
@inside_namespace
async def test_a_party_signs_in_the_browser(actors: Actors) -> None:  # noqa: F811
    require_browser()
    api: Any = importlib.import_module("playwright.async_api")
    expect = api.expect
    case, version = await frozen_case(actors)
    sha = version["pdf_sha256"]
    mediator = await actors.user("mediator1")
    round_ = await mediator.post(
        f"/cases/{case['id']}/agreement/versions/{version['id']}/signing", 201, json={}
    )
    worker = parties_from_links(actors, round_)["worker"]
    base = str(actors.client.make_url("/")).rstrip("/")
    logs: list[str] = []
    async with api.async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = await (await browser.new_context(viewport=DESKTOP)).new_page()
            page.on("console", lambda m: logs.append(f"{m.type}: {m.text}"))
            page.on("pageerror", lambda e: logs.append(f"pageerror: {e}"))

            # A damaged link: its own screen, nothing to sign.
            await page.goto(f"{base}/sign#sg1.broken")
            await expect(page.locator("#closed-text")).to_contain_text("链接不完整或有误", timeout=10_000)
            await expect(page.locator("#sign-form")).to_be_hidden()
            await shoot(page, "sign-bad-link")

            await page.goto(f"{base}/sign#{worker.token}")
            await expect(page.locator("#case-number")).to_have_text(case["case_number"], timeout=10_000)
            await expect(page.locator("#doc-hash")).to_have_text(sha)
            await expect(page.locator("#me")).to_contain_text("劳动者")
            await expect(page.locator("#signers li")).to_have_count(len(round_["signers"]))
            await shoot(page, "sign-start")

            # 1. The document, checked in the browser against the hash to be signed.
            await expect(page.locator("#doc-read")).to_be_disabled()
            await page.click("#doc-open")
            await expect(page.locator("#doc-check")).to_contain_text("已在您的浏览器中核对", timeout=10_000)
            assert (await page.get_attribute("#doc-download", "href") or "").startswith("blob:")
            await page.check("#doc-read")

            # 2. A one-time code by SMS.
            await page.click("#code-send")
            await expect(page.locator("#code-sent")).to_contain_text("138****8000", timeout=10_000)
            code = last_code(actors)

            # 3. The signature, then a wrong code first: refused with the tries left, nothing signed.
            box = await _draw(page)
            await expect(page.locator("#pad-undo")).to_be_enabled()
            await page.fill("#code", "111111" if code != "111111" else "222222")
            await page.click("#sign-submit")
            await expect(page.locator("#code-error")).to_contain_text(
                "验证码不正确，还可尝试 4 次", timeout=10_000
            )
            await expect(page.locator("#sign-form")).to_be_visible()
            await shoot(page, "sign-wrong-code")

            await page.fill("#code", code)
            await page.click("#sign-submit")
            await expect(page.locator("#done-text")).to_contain_text("您已签署调解协议", timeout=10_000)
            await expect(page.locator("#done-next")).to_contain_text("其他签署人签署")
            await expect(
                page.locator(f'#signers li[data-signer="{round_["signers"][0]["id"]}"]')
            ).to_contain_text("已签署")
            await shoot(page, "sign-done")

            # The others sign, the union seals: in effect; the service seals it; the worker downloads it.
            parties = parties_from_links(actors, round_)
            employer = parties["employer"]
            await employer.view()
            await employer.expect("POST", "/code", 200)
            auth = {"method": "one_time_code", "code": last_code(actors)}
            body = {"document_sha256": sha, "auth": auth, "signature": drawing()}
            await employer.expect("POST", "/signature", 201, json=body)
            rid = round_["id"]
            agreement = f"/cases/{case['id']}/agreement/signing/{rid}"
            await mediator.get(f"{agreement}/document")
            await mediator.post(
                f"{agreement}/signature", 201, json={"document_sha256": sha, "signature": drawing()}
            )
            union_user = await actors.user("union_admin1")
            await union_user.get(f"{agreement}/document")
            await union_user.post(f"{agreement}/seal", 201, json={"document_sha256": sha})
            await actors.services.evidence.drain()
            await page.reload()
            await expect(page.locator("#done-next")).to_contain_text("已加盖电子签章", timeout=10_000)
            async with page.expect_download() as download_info:
                await page.click("#done-sealed")
            download = await download_info.value
            sealed = (await download.path()).read_bytes()
            await shoot(page, "sign-sealed")
        finally:
            await browser.close()
    assert not [line for line in logs if "pageerror" in line], logs
    court_copy = await actors.court_a.call("GET", f"/cases/{case['id']}/agreement/sealed")
    assert sealed.startswith(b"%PDF")
    assert sealed == court_copy.body

    async with actors.services.db.read() as session:
        [signature] = (
            await session.scalars(
                select(AgreementSignature).where(AgreementSignature.signer_id == worker.signer_id)
            )
        ).all()
    assert (signature.auth_method, signature.document_sha256) == ("one_time_code", sha)
    assert signature.strokes_key is not None
    drawn = json.loads(actors.services.files.path(signature.strokes_key).read_bytes())
    assert (drawn["width"], drawn["height"]) == (round(box["width"]), round(box["height"]))
    assert len(drawn["strokes"]) == 2
    points = [p for stroke in drawn["strokes"] for p in stroke]
    assert len(points) >= 20
    assert all(0 <= p[0] <= drawn["width"] and 0 <= p[1] <= drawn["height"] for p in points)
    times = [p[2] for p in points]
    assert times == sorted(times)  # timing kept, never going back
    assert (times[0], times[-1] > 0) == (0, True)
    assert all(len(p) == 3 for p in drawn["strokes"][0])  # a mouse measures no pressure
    assert all(len(p) == 4 and 0 <= p[3] <= 1 for p in drawn["strokes"][1])  # the pen does
    assert signature.points == len(points)
    image = Image.open(io.BytesIO(actors.services.files.path(signature.image_key).read_bytes()))
    assert image.format == "PNG"


@pytest.mark.timeout(90)
@inside_namespace
async def test_the_mediator_signs_on_the_console_pad(actors: Actors) -> None:  # noqa: F811
    """The console's form with the same pad: an empty pad is refused in the page, a drawn one is signed."""
    require_browser()
    api: Any = importlib.import_module("playwright.async_api")
    expect = api.expect
    case, version = await frozen_case(actors)
    mediator = await actors.user("mediator1")
    await mediator.post(f"/cases/{case['id']}/agreement/versions/{version['id']}/signing", 201, json={})
    base = str(actors.client.make_url("/")).rstrip("/")
    logs: list[str] = []
    async with api.async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = await (await browser.new_context(viewport=DESKTOP, accept_downloads=True)).new_page()
            page.on("pageerror", lambda e: logs.append(f"pageerror: {e}"))
            await page.goto(f"{base}/console/login?next=/console/cases/{case['id']}")
            await page.fill("#username", "mediator1")
            await page.fill("#password", PASSWORD)
            await page.press("#password", "Enter")
            form = page.locator("#signing-sign-form")
            await expect(form).to_be_visible(timeout=10_000)
            async with page.expect_download() as download:
                await page.click("#signing-document")
            assert (await download.value).suggested_filename.endswith(".pdf")
            await page.reload()
            await expect(page.locator("#signing-viewed")).to_be_visible()

            await form.get_by_label("我已阅读协议全文，确认签署。").check()
            await form.get_by_role("button", name="确认签署").click()
            await expect(form.locator('[data-pad="message"]')).to_have_text("请先在签名框内签名。")
            canvas = form.locator("canvas")
            await canvas.scroll_into_view_if_needed()
            box = await canvas.bounding_box()
            assert box is not None
            await page.mouse.move(box["x"] + 20, box["y"] + 60)
            await page.mouse.down()
            for i in range(1, 12):
                await page.mouse.move(box["x"] + 20 + i * 15, box["y"] + 60 + (i % 3) * 12, steps=2)
            await page.mouse.up()
            await shoot(page, "sign-console-mediator")
            await form.get_by_role("button", name="确认签署").click()
            await expect(page.locator(".alert-success").first).to_contain_text("您已签署协议", timeout=10_000)
            await shoot(page, "sign-console-signed")
        finally:
            await browser.close()
    assert logs == []
    async with actors.services.db.read() as session:
        [signature] = (
            await session.scalars(
                select(AgreementSignature).where(AgreementSignature.signer_id == actors.mediator_id("m1"))
            )
        ).all()
    assert (signature.auth_method, signature.points is not None and signature.points >= 10) == (
        "account",
        True,
    )
