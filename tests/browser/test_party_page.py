"""The party page (``/j#<token>``) in a real Chromium against the real app.

The app (``web.app.create_app``) runs in this process on aiohttp's TestServer (127.0.0.1, port 0); the
session is scheduled through the API (the ``scene`` fixture); the mediator is a python-socketio + aiortc
participant (:class:`tests.signaling.test_room_media.MediaPeer`) sending synthetic video; the worker is
headless Chromium (Debian's ``/usr/bin/chromium`` driven by python ``playwright``) with its fake camera.

**Loopback only.** Chromium gathers ICE candidates on every interface it sees, so the browser test runs in a
loopback-only network namespace: when this module is collected outside one, the wrapper test
``test_party_page_in_loopback_namespace`` re-runs this module as
``unshare -n sh -c 'ip link set lo up; exec python -m pytest tests/browser/test_party_page.py'`` (``unshare
-rn`` for a normal user) with ``TIAOJIE_BROWSER_NETNS=1``, where the real test runs; the database is the
SQLite default, so nothing outside the namespace is needed. To run it by hand:

    .venv/bin/pytest -m browser tests/browser          # the wrapper re-runs it inside a namespace
    TIAOJIE_BROWSER_SCREENSHOTS=/tmp/shots .venv/bin/pytest -m browser tests/browser   # + a PNG per screen
    unshare -n sh -c 'ip link set lo up; TIAOJIE_BROWSER_NETNS=1 .venv/bin/pytest tests/browser'

Where no namespace can be made (no ``unshare``, no user namespaces) the test runs directly, relying on
``--allow-loopback-in-peer-connection`` and the server announcing only 127.0.0.1; Chromium may then also
gather the machine's other addresses. Without ``/usr/bin/chromium`` or ``playwright`` the tests are
skipped, except under ``CI=true`` where ``scripts/test`` installs both and they must run.
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from media.aiortc_hooks import announce_addresses
from tests.signaling.test_room_media import MediaPeer
from tests.signaling.test_room_protocol import Peer, scene  # noqa: F401
from tiaojie.settings import Settings, load_settings
from web.client_page import BUNDLE

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
NETNS_ENV = "TIAOJIE_BROWSER_NETNS"
IN_NETNS = os.environ.get(NETNS_ENV) == "1"
ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    "--allow-loopback-in-peer-connection",
    "--disable-features=WebRtcHideLocalIpsWithMdns",
]


def _unshare_command() -> list[str] | None:
    """How to enter a new loopback-only network namespace here, or None when it cannot be done."""
    if not (shutil.which("unshare") and shutil.which("ip")):
        return None
    command = ["unshare", "-n"] if os.geteuid() == 0 else ["unshare", "-rn"]
    try:
        probe = subprocess.run([*command, "ip", "link", "set", "lo", "up"], capture_output=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return command if probe.returncode == 0 else None


UNSHARE = None if IN_NETNS else _unshare_command()


def _require_browser() -> None:
    missing = []
    if not os.access(CHROMIUM, os.X_OK):
        missing.append(f"{CHROMIUM} (apt-get install -y chromium)")
    if importlib.util.find_spec("playwright") is None:
        missing.append("python playwright (.venv/bin/pip install playwright; never `playwright install`)")
    if not BUNDLE.is_file():
        missing.append("the client bundle (scripts/test builds it: build_client in scripts/lib.sh)")
    if missing:
        message = "browser test needs " + ", ".join(missing)
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


@pytest.mark.timeout(150)
@pytest.mark.skipif(IN_NETNS or UNSHARE is None, reason="already in a namespace, or none can be made")
def test_party_page_in_loopback_namespace() -> None:
    _require_browser()
    assert UNSHARE is not None
    script = 'ip link set lo up && exec "$0" -m pytest -p no:cacheprovider -q -s "$1::test_party_page"'
    env = {**os.environ, NETNS_ENV: "1"}
    # Inside the namespace only SQLite is used: do not point the run at services it cannot reach.
    env.pop("TIAOJIE_TEST_POSTGRES_URL", None)
    started = time.monotonic()
    result = subprocess.run(
        [*UNSHARE, "sh", "-c", script, sys.executable, str(Path(__file__).resolve())],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=140,
    )
    output = result.stdout[-6000:] + result.stderr[-3000:]
    assert result.returncode == 0, output
    assert "1 passed" in result.stdout, output
    assert "skipped" not in result.stdout, output
    print(f"in-namespace run: {time.monotonic() - started:.1f} s\n{result.stdout[-1500:]}")


# --- the test itself (inside the namespace, or directly where no namespace can be made) --------------------


@pytest.fixture
def backend() -> str:
    return "sqlite"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(
        {},
        overrides={
            "data_dir": tmp_path / "var",
            "secret_key": "test-secret-" + "x" * 40,
            "announced_addresses": ("127.0.0.1",),
        },
    )


@pytest.fixture(autouse=True)
def loopback_only() -> Iterator[None]:
    previous = announce_addresses(["127.0.0.1"])
    yield
    announce_addresses(previous)


SCREENSHOTS = os.environ.get("TIAOJIE_BROWSER_SCREENSHOTS")  # a folder: keep a picture of each screen


async def snap(page: Any, name: str) -> None:
    if SCREENSHOTS:
        await page.screenshot(path=str(Path(SCREENSHOTS) / f"party-{name}.png"), full_page=True)


REMOTE_VIDEO_PLAYING = """() => [...document.querySelectorAll('.tile.remote video')]
    .some(v => v.videoWidth > 0 && v.readyState >= 2)"""


@pytest.mark.timeout(90)
@pytest.mark.skipif(not IN_NETNS and UNSHARE is not None, reason="runs inside a loopback-only namespace")
async def test_party_page(scene: dict[str, Any]) -> None:  # noqa: F811
    _require_browser()
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
            await snap(page, "lobby")
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
            await snap(page, "room")

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
            await snap(page, "private")
            assert (await mediator.call("close_subrooms"))["ok"]
            await expect(page.locator("#private-banner")).to_be_hidden(timeout=10_000)

            # The mediator ends the session: the page says so and stops.
            await media.close()
            assert (await mediator.call("end"))["ok"]
            await expect(page.locator("#screen-closed")).to_be_visible(timeout=10_000)
            await expect(page.locator("#closed-message")).to_contain_text("调解已结束")
            await snap(page, "closed")
        except BaseException:
            print("\n".join(logs[-40:]))
            raise
        finally:
            await browser.close()
            await media.close()
            await mediator.close()
    timings["total"] = time.monotonic() - t0
    print("timings: " + ", ".join(f"{k} {v:.2f} s" for k, v in timings.items()))
