"""A real ``tiaojie serve`` killed with SIGKILL while its deliveries are in flight delivers them after a
restart: the events were committed with the changes, and the claims of the dead process expire."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.factories import case_payload
from tests.webhooks.receiver import Hang, Receiver

pytestmark = pytest.mark.timeout(90)


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIAOJIE_")}
    env.update(
        TIAOJIE_DATA_DIR=str(data_dir),
        TIAOJIE_WEBHOOK_ALLOWED_NETWORKS="127.0.0.0/8",
        TIAOJIE_WEBHOOK_TIMEOUT_SECONDS="1",
        TIAOJIE_WEBHOOK_POLL_SECONDS="0.2",
    )
    return env


async def _demo(data_dir: Path) -> dict[str, Any]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tiaojie", "demo", "--json", env=_env(data_dir), stdout=asyncio.subprocess.PIPE
    )
    out, _ = await process.communicate()
    assert process.returncode == 0
    info: dict[str, Any] = json.loads(out)
    return info


@contextlib.asynccontextmanager
async def _serve(data_dir: Path, log: Path) -> AsyncIterator[tuple[str, asyncio.subprocess.Process]]:
    with log.open("ab") as sink:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tiaojie",
            "serve",
            "--port",
            "0",
            env=_env(data_dir),
            stdout=asyncio.subprocess.PIPE,
            stderr=sink,
        )
    try:
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), 60)).decode()
        assert " serving on http://127.0.0.1:" in line, (line, log.read_text()[-3000:])
        yield line.split(" serving on ")[1].split()[0].rstrip("/"), process
    finally:
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), 40)
            except TimeoutError:
                state = _proc_state(process.pid)
                with contextlib.suppress(ProcessLookupError):
                    os.kill(process.pid, signal.SIGKILL)
                raise AssertionError(
                    f"the server did not stop within 40 s of SIGTERM (process state: {state}); "
                    f"its log ends: {log.read_text()[-3000:]}"
                ) from None


def _proc_state(pid: int) -> str:
    """The kernel's state letter for ``pid`` (R, S, Z …), or "gone"."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0]
    except (OSError, IndexError):
        return "gone"


async def _until(receiver: Receiver, done: Callable[[], bool]) -> None:
    while not done():
        await asyncio.wait_for(receiver.arrived.wait(), 30)
        receiver.arrived.clear()


async def test_kill_9_between_the_change_and_its_delivery(tmp_path: Path, receiver: Receiver) -> None:
    data_dir = tmp_path / "var"
    demo = await _demo(data_dir)
    auth = {"Authorization": f"Bearer {demo['api_keys']['court']}"}
    receiver.script.extend([Hang(), Hang()])
    async with (
        _serve(data_dir, tmp_path / "server.log") as (base, process),
        aiohttp.ClientSession(headers=auth) as http,
    ):
        async with http.post(f"{base}/api/v1/webhooks/endpoints", json={"url": receiver.url}) as response:
            assert response.status == 201, await response.text()
            receiver.secrets.append((await response.json())["secret"])
        for _ in range(2):
            async with http.post(f"{base}/api/v1/cases", json=case_payload()) as response:
                assert response.status == 201, await response.text()
                case_id = (await response.json())["id"]
            async with http.post(
                f"{base}/api/v1/cases/{case_id}/assignment", json={"mediator_id": demo["mediator"]["id"]}
            ) as response:
                assert response.status == 200, await response.text()
        await _until(receiver, lambda: len(receiver.received) == 2)  # both in flight, neither answered
        process.kill()
        await process.wait()
    assert receiver.delivered() == []
    sent = {r.msg_id for r in receiver.received}

    async with (
        _serve(data_dir, tmp_path / "server.log") as (base, _),
        aiohttp.ClientSession(headers=auth) as http,
    ):
        await _until(receiver, lambda: {r.msg_id for r in receiver.delivered()} == sent)
        async with http.get(f"{base}/api/v1/webhooks/events?type=case.assigned") as response:
            events = (await response.json())["items"]
    assert {e["id"] for e in events[-2:]} == sent
    assert all(r.verified_by == (0,) for r in receiver.received)
    assert len(receiver.unique()) == 2
    assert all(r.payload["type"] == "case.assigned" for r in receiver.unique())
