"""``tiaojie serve --workers 2`` as a real subprocess on SQLite: both workers answer on the one port, write to
the one database at the same time, and hand room connections to the room's worker; a killed worker is
restarted."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from cluster.handover import NODE_HEADER
from tests import processes
from tests.cluster.peers import RoomPeer
from tests.factories import case_payload

WORKERS = {"worker-0", "worker-1"}


def _env(data_dir: Path) -> dict[str, str]:
    return processes.clean_env(data_dir, LOG_LEVEL="INFO")


@pytest.fixture
async def demo(tmp_path: Path) -> dict[str, Any]:
    return await processes.demo(_env(tmp_path / "var"))


@pytest.fixture
async def server(tmp_path: Path, demo: dict[str, Any]) -> AsyncIterator[tuple[str, int]]:
    """The base URL and the supervisor's PID; stopped by that PID at the end."""
    log_path = tmp_path / "server.log"
    with log_path.open("wb") as log:
        async with processes.serving(_env(tmp_path / "var"), "--workers", "2", stderr=log) as served:
            assert served.base.startswith("http://127.0.0.1:"), (served.line, log_path.read_text())
            assert "2 workers" in served.line
            yield served.base, served.process.pid
            process = served.process
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGTERM)
            assert await asyncio.wait_for(process.wait(), 40) == 0, log_path.read_text()[-3000:]
            assert b"shutting down" in await process.stdout.read()  # type: ignore[union-attr]


async def _fresh(method: str, url: str, **kwargs: Any) -> tuple[int, str, Any]:
    """One request on a new connection (the kernel picks the worker that accepts it)."""
    async with (
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as http,
        http.request(method, url, **kwargs) as response,
    ):
        return response.status, response.headers[NODE_HEADER], await response.json()


def _children(pid: int) -> list[int]:
    return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


@pytest.mark.timeout(120)
async def test_two_workers_share_the_port_the_database_and_the_rooms(
    server: tuple[str, int], demo: dict[str, Any]
) -> None:
    base, pid = server
    court = {"Authorization": f"Bearer {demo['api_keys']['court']}"}

    # Reads and writes through both workers, writes at the same time from both processes: batches of
    # concurrent requests on new connections until both workers have served some.
    payloads: list[dict[str, Any]] = []
    created: list[tuple[int, str, Any]] = []
    for batch in range(20):
        more = [case_payload(f"（2026）演多进程{batch}-{i}号") for i in range(12)]
        payloads += more
        created += await asyncio.gather(
            *(_fresh("POST", f"{base}/api/v1/cases", json=p, headers=court) for p in more)
        )
        if {node for _, node, _ in created} == WORKERS:
            break
    assert [status for status, _, _ in created] == [201] * len(payloads), [b for _, _, b in created][:3]
    assert {node for _, node, _ in created} == WORKERS
    reads: list[tuple[int, str, Any]] = []
    for _ in range(20):
        reads += await asyncio.gather(
            *(_fresh("GET", f"{base}/api/v1/cases/{body['id']}", headers=court) for _, _, body in created)
        )
        if {node for _, node, _ in reads} == WORKERS:
            break
    assert all(status == 200 for status, _, _ in reads)
    assert {node for _, node, _ in reads} == WORKERS
    numbers = {b["case_number"] for _, _, b in reads}
    assert numbers == {p["case_number"] for p in payloads}

    # Two participants of one session, entering by different workers, meet in the room's worker.
    session_id = demo["session"]["id"]
    tokens = {k: v.split("#", 1)[1] for k, v in demo["session"]["links"].items()}
    mediator = RoomPeer()
    await mediator.connect(base, session_id, tokens["mediator"])
    worker = RoomPeer()
    try:
        for _ in range(60):
            await worker.connect(base, session_id, tokens["worker"])
            if worker.entry[0] != mediator.entry[0]:
                break
            await worker.close()
            worker = RoomPeer()
        assert {mediator.entry[0], worker.entry[0]} == WORKERS
        assert mediator.entry[1] == worker.entry[1]  # one room, on one worker
        room = await mediator.latest_room(lambda r: len(r["participants"]) == 2)
        assert {p["role"] for p in room["participants"]} == {"mediator", "applicant"}
    finally:
        await worker.close()
        await mediator.close()

    # A worker that dies is restarted; both answer again.
    victim = _children(pid)[0]
    os.kill(victim, signal.SIGKILL)
    seen: set[str] = set()
    for _ in range(400):
        with contextlib.suppress(aiohttp.ClientError):
            status, node, _ = await _fresh("GET", f"{base}/healthz")
            assert status == 200
            seen.add(node)
        if seen == WORKERS and victim not in _children(pid) and len(_children(pid)) == 2:
            break
        await asyncio.sleep(0.05)  # polling for the restart, not for readiness of anything we started
    assert seen == WORKERS
    assert victim not in _children(pid)
