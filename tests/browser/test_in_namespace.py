"""Runs the real-browser tests inside a loopback-only network namespace (see ``tests/browser/harness.py``)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.browser.harness import IN_NETNS, NETNS_ENV, ROOT, UNSHARE, require_browser

pytestmark = pytest.mark.browser

TESTS = {  # module: how many tests it has, all of which must pass
    "test_party_page.py": 1,
    "test_mediator_session.py": 1,
    "test_agreement_in_room.py": 1,
    "test_signing_page.py": 2,
    "test_verify_page.py": 1,
}
MODULES = list(TESTS)


@pytest.mark.timeout(200)
@pytest.mark.skipif(IN_NETNS or UNSHARE is None, reason="already in a namespace, or none can be made")
def test_browser_tests_in_loopback_namespace() -> None:
    require_browser()
    assert UNSHARE is not None
    here = Path(__file__).resolve().parent
    script = 'ip link set lo up && exec "$0" -m pytest -p no:cacheprovider -q -s "$@"'
    env = {**os.environ, NETNS_ENV: "1"}
    # Inside the namespace only SQLite is used: do not point the run at services it cannot reach.
    env.pop("TIAOJIE_TEST_POSTGRES_URL", None)
    started = time.monotonic()
    result = subprocess.run(
        [*UNSHARE, "sh", "-c", script, sys.executable, *(str(here / m) for m in MODULES)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=190,
    )
    output = result.stdout[-8000:] + result.stderr[-3000:]
    assert result.returncode == 0, output
    assert f"{sum(TESTS.values())} passed" in result.stdout, output
    assert "skipped" not in result.stdout, output
    print(f"in-namespace run: {time.monotonic() - started:.1f} s\n{result.stdout[-2500:]}")
