"""The agreement in the room, in real Chromium: the mediator drafts in the console (here through the API),
shows the draft from the session page's panel, the applicant reads it in their own page and comments, and
the mediator sees the comment as it comes and later in the console. How the browser tests run:
``tests/browser/harness.py``."""

from __future__ import annotations

import importlib
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from agreements.comment_tables import AgreementComment
from tests.browser.harness import CHROMIUM, CHROMIUM_ARGS, DESKTOP, inside_namespace, require_browser, shoot
from tests.signaling.test_room_protocol import scene  # noqa: F401
from web.services import SERVICES

pytestmark = pytest.mark.browser


@pytest.mark.timeout(90)
@inside_namespace
async def test_the_mediator_shows_the_draft_and_a_party_comments(
    scene: dict[str, Any],  # noqa: F811
    client: TestClient[Any, Any],
) -> None:
    require_browser()
    api: Any = importlib.import_module("playwright.async_api")
    expect = api.expect
    worker = scene["ids"]["worker"]
    response = await client.put(
        f"/api/v1/cases/{scene['case_id']}/agreement/draft",
        json={
            "facts": "申请人2025年10月至12月工资未发放。",
            "disputed_issues": ["拖欠工资数额"],
            "settlement": "full",
        },
        headers={"X-CSRF-Token": scene["csrf"]},
    )
    assert response.status == 200
    version = await response.json()
    logs: list[str] = []
    async with api.async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            pages: dict[str, Any] = {}
            for name in ("mediator", "worker"):
                page = await (await browser.new_context(viewport=DESKTOP)).new_page()
                page.on("console", lambda m, n=name: logs.append(f"{n} {m.type}: {m.text}"))
                page.on("pageerror", lambda e, n=name: logs.append(f"{n} pageerror: {e}"))
                pages[name] = page
            host, applicant = pages["mediator"], pages["worker"]
            await host.goto(f"{scene['base']}/j#{scene['tokens']['mediator']}")
            await expect(host.locator("#check-continue")).to_be_enabled(timeout=10_000)
            await host.click("#check-continue")
            await expect(host.locator("#host-panel")).to_be_visible(timeout=10_000)

            await applicant.goto(f"{scene['base']}/j#{scene['tokens']['worker']}")
            await expect(applicant.locator("#check-continue")).to_be_enabled(timeout=10_000)
            await applicant.click("#check-continue")
            await expect(applicant.locator("#screen-lobby")).to_be_visible(timeout=10_000)
            await applicant.get_by_label("同意在线调解").check()
            await applicant.get_by_label("我已知悉虚假调解的法律后果").check()
            await applicant.click("#lobby-submit")
            row = host.locator(f'#lobby-list li[data-id="{worker}"]')
            await row.get_by_label("核验方式").select_option("id_card")
            await row.get_by_role("button", name="记录核验结果").click()
            await row.get_by_role("button", name="准许进入").click()
            await expect(applicant.locator("#screen-room")).to_be_visible(timeout=10_000)
            # Nothing shown yet: the applicant's page has no agreement section.
            await expect(applicant.locator("#agreement")).to_be_hidden()

            # The mediator shows the current draft to the main room.
            await expect(host.locator("#agreement-host")).to_be_visible()
            await host.get_by_label("展示给").select_option("main")
            await host.get_by_role("button", name="展示当前协议").click()
            await expect(host.locator("#agreement-shown")).to_contain_text("主会场", timeout=10_000)
            document = applicant.locator("#agreement-document")
            await expect(document).to_contain_text("调解协议书", timeout=10_000)
            await expect(document).to_contain_text("申请人2025年10月至12月工资未发放。")
            await expect(document).to_contain_text("一、拖欠工资数额")
            await expect(applicant.locator("#agreement-heading")).to_contain_text("第 1 版（草稿）")

            # The applicant comments; the mediator sees it at once.
            await applicant.get_by_label("对协议的意见").fill("支付期限希望提前到本月底")
            await applicant.get_by_role("button", name="提交意见").click()
            await expect(applicant.locator("#agreement-comments")).to_contain_text(
                "支付期限希望提前到本月底", timeout=10_000
            )
            await expect(host.locator("#agreement-comments")).to_contain_text(
                "支付期限希望提前到本月底", timeout=10_000
            )
            await expect(host.locator("#agreement-comments")).to_contain_text("（申请人）")
            await expect(
                host.locator("#agreement-comment-form")
            ).to_be_hidden()  # the mediator does not comment
            await shoot(applicant, "agreement-party")
            await shoot(host, "agreement-mediator")

            # Hidden again: gone from the applicant's page.
            await host.get_by_role("button", name="停止展示").click()
            await expect(applicant.locator("#agreement")).to_be_hidden(timeout=10_000)
        finally:
            await browser.close()
    assert not [line for line in logs if "pageerror" in line], logs
    async with client.app[SERVICES].db.read() as session:
        [comment] = (await session.scalars(select(AgreementComment))).all()
    assert (comment.version_id, comment.participant_id, comment.text) == (
        version["id"],
        worker,
        "支付期限希望提前到本月底",
    )
