"""What the real-browser tests share: Debian's Chromium driven by python playwright, in a loopback-only
network namespace, against the app on aiohttp's TestServer (127.0.0.1, port 0) with SQLite.

**Loopback only.** Chromium gathers ICE candidates on every interface it sees, so the browser tests run in a
loopback-only network namespace: collected outside one, ``tests/browser/test_in_namespace.py`` re-runs the
browser test modules as ``unshare -n sh -c 'ip link set lo up; exec python -m pytest …'`` (``unshare -rn``
for a normal user) with ``TIAOJIE_BROWSER_NETNS=1``, where the real tests run; the database is the SQLite
default (``tests/browser/conftest.py``), so nothing outside the namespace is needed. By hand:

    .venv/bin/pytest -m browser tests/browser          # the wrapper re-runs them inside a namespace
    unshare -n sh -c 'ip link set lo up; TIAOJIE_BROWSER_NETNS=1 .venv/bin/pytest tests/browser'

Where no namespace can be made (no ``unshare``, no user namespaces) the tests run directly, relying on
``--allow-loopback-in-peer-connection`` and the server announcing only 127.0.0.1; Chromium may then also
gather the machine's other addresses. Without ``/usr/bin/chromium`` or ``playwright`` they are skipped,
except under ``CI=true`` where ``scripts/test`` installs both and they must run.

**Screenshots** of the key screens go to ``test-artifacts/screenshots/`` (git-ignored), or to the folder
named by ``TIAOJIE_BROWSER_SCREENSHOTS``; each at desktop size and at 360 px wide.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from web.client_page import BUNDLE

__all__ = [
    "CHROMIUM",
    "CHROMIUM_ARGS",
    "DESKTOP",
    "IN_NETNS",
    "NETNS_ENV",
    "ROOT",
    "UNSHARE",
    "inside_namespace",
    "require_browser",
    "shoot",
]

CHROMIUM = "/usr/bin/chromium"
NETNS_ENV = "TIAOJIE_BROWSER_NETNS"
IN_NETNS = os.environ.get(NETNS_ENV) == "1"
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = Path(os.environ.get("TIAOJIE_BROWSER_SCREENSHOTS") or ROOT / "test-artifacts" / "screenshots")
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 360, "height": 740}
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

inside_namespace = pytest.mark.skipif(
    not IN_NETNS and UNSHARE is not None, reason="runs inside a loopback-only namespace"
)
"""Marks a test that drives the browser: it runs inside the namespace (or directly where none can be made)."""


def require_browser() -> None:
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


_TWO_FRAMES = "() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))"


async def shoot(page: Any, name: str, *, phone: bool = True) -> None:
    """A full-page screenshot as the page is now, and (``phone``) again at 360 px wide."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    if phone and size and size["width"] != PHONE["width"]:
        await page.set_viewport_size(PHONE)
        try:
            await page.evaluate(
                _TWO_FRAMES
            )  # let the page lay itself out (and redraw canvases) at that width
            await page.screenshot(path=str(SCREENSHOTS / f"{name}-360.png"), full_page=True)
        finally:
            await page.set_viewport_size(size)
