"""The party page (``/j#<token>``) in a real Chromium against the real app.

The session is scheduled through the API (the ``scene`` fixture); the mediator is a python-socketio + aiortc
participant (:class:`tests.signaling.test_room_media.MediaPeer`) sending synthetic video; the worker is
headless Chromium with its fake camera. How the browser tests run (a loopback-only network namespace,
screenshots): ``tests/browser/harness.py``.
"""

from __future__ import annotations

import asyncio
import importlib
import time
from typing import Any

import pytest

from tests.browser.harness import (
    CHROMIUM,
    CHROMIUM_ARGS,
    inside_namespace,
    require_browser,
    shoot,
)
from tests.signaling.test_room_media import MediaPeer
from tests.signaling.test_room_protocol import Peer, scene  # noqa: F401

pytestmark = pytest.mark.browser


REMOTE_VIDEO_PLAYING = """() => [...document.querySelectorAll('.tile.remote video')]
    .some(v => v.videoWidth > 0 && v.readyState >= 2)"""


@pytest.mark.timeout(90)
@inside_namespace
async def test_party_page(scene: dict[str, Any]) -> None:  # noqa: F811
    require_browser()
    api: Any = importlib.import_module("playwright.async_api")
    timings: dict[str, float] = {}
    t0 = time.monotonic()
    ids = scene["ids"]
    mediator = Peer(scene["base"])
    await mediator.connect(scene["tokens"]["mediator"])
    media = MediaPeer(mediator)
    logs: list[str] = []
    async with api.async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        timings["launch"] = time.monotonic() - t0
        try:
            page = await browser.new_page(viewport={"width": 360, "height": 740})
            page.on("console", lambda m: logs.append(f"{m.type}: {m.text}"))
            page.on("pageerror", lambda e: logs.append(f"pageerror: {e}"))
            expect = api.expect
            await page.goto(f"{scene['base']}/j#{scene['tokens']['worker']}")
            assert await page.get_attribute("html", "lang") == "zh-CN"

            # Device check with the fake camera, then the lobby.
            await expect(page.locator("#check-continue")).to_be_enabled(timeout=10_000)
            await page.click("#check-continue")
            await expect(page.locator("#screen-lobby")).to_be_visible(timeout=10_000)
            timings["lobby"] = time.monotonic() - t0
            await shoot(page, "party-lobby")
            await expect(page.get_by_label("同意在线调解")).to_be_visible()
            await page.click("#lobby-submit")  # nothing ticked: refused on the page
            await expect(page.locator("#lobby-message")).not_to_be_empty()
            await page.get_by_label("同意在线调解").check()
            await page.get_by_label("我已知悉虚假调解的法律后果").check()
            await page.click("#lobby-submit")
            await expect(page.locator("#screen-waiting")).to_be_visible(timeout=10_000)

            # The mediator sees the consent, checks identity and admits; and publishes synthetic video.
            worker = ids["worker"]
            await mediator.latest_room(
                lambda r: any(p["id"] == worker and p.get("consented") for p in r["participants"])
            )
            reply = await mediator.call(
                "check_identity", {"participant_id": worker, "method": "id_card", "result": "verified"}
            )
            assert reply["ok"], reply
            await media.publish()
            assert (await mediator.call("admit", {"participant_id": worker}))["ok"]
            admitted = time.monotonic()

            await expect(page.locator("#screen-room")).to_be_visible(timeout=10_000)
            await page.wait_for_function(REMOTE_VIDEO_PLAYING, timeout=20_000)
            timings["first remote frame after admission"] = time.monotonic() - admitted
            await media.until(lambda: media.frames[worker] >= 10, seconds=20)
            timings["mediator decoded 10 frames after admission"] = time.monotonic() - admitted
            await expect(page.locator(".tile.remote figcaption")).to_contain_text("调解员")
            await shoot(page, "party-room")

            # Chat both ways.
            await page.fill("#chat-text", "您好")
            await page.click("#chat-form button")
            message = await asyncio.wait_for(mediator.chats.get(), 5)
            assert message["text"] == "您好"
            await expect(page.locator("#chat-log")).to_contain_text("您好")

            # A caucus shows the private-room banner; back in the main room it goes.
            assert (await mediator.call("open_subroom", {"subroom": "c1", "label": "背对背"}))["ok"]
            for pid in (worker, ids["mediator"]):
                assert (await mediator.call("move", {"participant_id": pid, "subroom": "c1"}))["ok"]
            await expect(page.locator("#private-banner")).to_be_visible(timeout=10_000)
            await expect(page.locator("#private-banner")).to_contain_text("背对背")
            await shoot(page, "party-private")
            assert (await mediator.call("close_subrooms"))["ok"]
            await expect(page.locator("#private-banner")).to_be_hidden(timeout=10_000)

            # The mediator ends the session: the page says so and stops.
            await media.close()
            assert (await mediator.call("end"))["ok"]
            await expect(page.locator("#screen-closed")).to_be_visible(timeout=10_000)
            await expect(page.locator("#closed-message")).to_contain_text("调解已结束")
            await shoot(page, "party-closed")
        except BaseException:
            print("\n".join(logs[-40:]))
            raise
        finally:
            await browser.close()
            await media.close()
            await mediator.close()
    timings["total"] = time.monotonic() - t0
    print("timings: " + ", ".join(f"{k} {v:.2f} s" for k, v in timings.items()))
