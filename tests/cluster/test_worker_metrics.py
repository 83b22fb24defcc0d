"""``/metrics`` of ``tiaojie serve --workers 2`` (a real subprocess): whichever worker takes the scrape
answers for both, each worker's series under its ``node`` label, the database figures once."""

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
from tests.test_metrics import TOKEN, parse, value

WORKERS = ("worker-0", "worker-1")


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[str, dict[str, Any]]]:
    env = processes.clean_env(tmp_path / "var", METRICS_TOKEN=TOKEN)
    demo = await processes.demo(env)
    async with processes.serving(env, "--workers", "2") as server:
        yield server.base, demo
        with contextlib.suppress(ProcessLookupError):
            os.kill(server.process.pid, signal.SIGTERM)
        assert await asyncio.wait_for(server.process.wait(), 40) == 0


async def _fresh(url: str, headers: dict[str, str]) -> tuple[int, str, str]:
    """One request on a new connection (the kernel picks the worker that accepts it)."""
    async with (
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as http,
        http.get(url, headers=headers) as response,
    ):
        return response.status, response.headers[NODE_HEADER], await response.text()


@pytest.mark.timeout(120)
async def test_any_worker_answers_for_all(served: tuple[str, dict[str, Any]]) -> None:
    base, demo = served
    court = {"Authorization": f"Bearer {demo['api_keys']['court']}"}
    scrape = {"Authorization": f"Bearer {TOKEN}"}
    status, _, _ = await _fresh(f"{base}/metrics", {})
    assert status == 401
    # Requests land on both workers; then scrapes, until each worker has answered one.
    answered: dict[str, str] = {}
    for _ in range(40):
        await asyncio.gather(*(_fresh(f"{base}/api/v1/cases", court) for _ in range(4)))
        status, node, text = await _fresh(f"{base}/metrics", scrape)
        assert status == 200, text
        answered[node] = text
        if set(answered) == set(WORKERS):
            break
    assert set(answered) == set(WORKERS)
    for node, text in answered.items():
        samples = parse(text)
        for worker in WORKERS:
            assert value(samples, "tiaojie_metrics_node_up", node=worker) == 1, (node, worker)
            assert value(samples, "tiaojie_rooms_open", node=worker) == 0
            assert value(samples, "process_cpu_seconds_total", node=worker) > 0
        # Each worker counts the requests it served, under its own name.
        listed = {
            dict(labels)["node"]: count
            for (name, labels), count in samples.items()
            if name == "tiaojie_http_requests_total" and dict(labels)["route"] == "/api/v1/cases"
        }
        assert set(listed) <= set(WORKERS)
        assert sum(listed.values()) >= 4, listed
        # The queues in the database are read once, without a node label.
        deliveries = [labels for (name, labels) in samples if name == "tiaojie_webhook_deliveries"]
        assert deliveries
        assert all("node" not in dict(labels) for labels in deliveries)
