"""The real `tiaojie` command as a subprocess: a clean environment, `demo --json`, and `serve` on port 0.

`serve` prints one line once it listens (``… serving on http://127.0.0.1:PORT/ …``); :func:`serving` waits
for that line (no sleeping), yields the process and its base URL, and stops the process by its PID at the end
(SIGTERM, then SIGKILL if it does not go within 20 s) unless the test already ended it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import sys
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["Served", "clean_env", "demo", "serving"]

_SERVING = re.compile(r"serving on (https?://[^\s/]+)/")


def clean_env(data_dir: Path, **settings: str) -> dict[str, str]:
    """This process's environment without any TIAOJIE_ variable, plus the data directory and ``settings``
    (given as TIAOJIE_ names without the prefix, e.g. ``LOG_LEVEL="WARNING"``)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIAOJIE_")}
    env["TIAOJIE_DATA_DIR"] = str(data_dir)
    env.setdefault("TIAOJIE_LOG_LEVEL", "WARNING")
    env.update({f"TIAOJIE_{name}": value for name, value in settings.items()})
    return env


async def demo(env: Mapping[str, str]) -> dict[str, Any]:
    """`tiaojie demo --json` in that environment."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tiaojie", "demo", "--json", env=dict(env), stdout=asyncio.subprocess.PIPE
    )
    out, _ = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0
    info: dict[str, Any] = json.loads(out)
    return info


@dataclass(frozen=True)
class Served:
    process: asyncio.subprocess.Process
    base: str  # the base URL, no trailing slash
    line: str  # what serve printed when it started listening


@contextlib.asynccontextmanager
async def serving(
    env: Mapping[str, str], *args: str, stderr: Any = asyncio.subprocess.DEVNULL, wait_seconds: float = 60
) -> AsyncIterator[Served]:
    """`tiaojie serve --port 0 ARGS…`, running."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tiaojie",
        "serve",
        "--port",
        "0",
        *args,
        env=dict(env),
        stdout=asyncio.subprocess.PIPE,
        stderr=stderr,
    )
    try:
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), wait_seconds)).decode()
        found = _SERVING.search(line)
        assert found, line
        yield Served(process, found.group(1), line)
    finally:
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 20)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()
