"""The public verify page (``/verify``) in a real Chromium: opened from the QR code's URL it looks the code
up; an uploaded sealed file is reported intact with masked names, a changed one altered. How the browser
tests run: ``tests/browser/harness.py``."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from agreements.verification_codes import grouped
from tests.agreements.sealhelp import evidence_for, frozen_case, seal
from tests.apihelp import Actors, actors  # noqa: F401  (a fixture)
from tests.browser.harness import CHROMIUM, CHROMIUM_ARGS, inside_namespace, require_browser, shoot
from web.services import Services

pytestmark = pytest.mark.browser


@pytest.mark.timeout(90)
@inside_namespace
async def test_verify_page(actors: Actors, services: Services, tmp_path: Path) -> None:  # noqa: F811
    require_browser()
    api = importlib.import_module("playwright.async_api")
    case, version = await frozen_case(actors)
    row = await seal(services, await evidence_for(services, case, version["id"]))
    data = services.files.path(row.pdf_key).read_bytes()
    (tmp_path / "sealed.pdf").write_bytes(data)
    changed = bytearray(data)
    changed[len(data) // 2] ^= 1
    (tmp_path / "changed.pdf").write_bytes(bytes(changed))
    base = str(actors.client.make_url("")).rstrip("/")
    errors: list[str] = []
    async with api.async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 800})
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("requestfailed", lambda r: errors.append(f"failed: {r.url}"))
            expect = api.expect
            # As the QR code opens it: the code in the fragment is looked up at once.
            await page.goto(f"{base}/verify#{grouped(row.code)}")
            assert await page.get_attribute("html", "lang") == "zh-CN"
            verdict = page.locator("#verdict")
            await expect(verdict).to_contain_text("已登记", timeout=10_000)
            await expect(page.locator("#signers")).to_contain_text("张*")
            await expect(page.locator("#signers")).not_to_contain_text("张三")
            await expect(page.locator("#details")).to_contain_text(row.sealed_sha256)
            await shoot(page, "verify-code")

            await page.set_input_files("#file", str(tmp_path / "sealed.pdf"))
            await page.click("#file-submit")
            await expect(verdict).to_contain_text("文件完好", timeout=10_000)
            await expect(verdict).to_have_class("verdict intact")
            await shoot(page, "verify-intact")

            await page.set_input_files("#file", str(tmp_path / "changed.pdf"))
            await page.click("#file-submit")
            await expect(verdict).to_have_class("verdict altered", timeout=10_000)
            await expect(page.locator("#problems")).to_contain_text("文件内容与封存时不一致")
            await shoot(page, "verify-altered")

            await page.fill("#code", "not a code")
            await page.click("#code-submit")
            await expect(verdict).to_contain_text("验证码格式不对", timeout=10_000)
        finally:
            await browser.close()
    assert errors == []
