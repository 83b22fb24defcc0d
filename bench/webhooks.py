"""Webhook benchmark: events per second from a case change to its verified delivery, and what the outbox
adds to the API call that made the change.

For each backend (the embedded default, SQLite; PostgreSQL when reachable) the real server runs as a
subprocess (``tiaojie serve``, loopback endpoints allowed). A receiver in this process, on 127.0.0.1,
verifies every delivery's Standard Webhooks signature and notes when it arrived. Cases are seeded, then
``--events`` of them are assigned by ``--concurrency`` clients twice over: first with no endpoint
registered, then with one. Each assignment is one event. Figures: the API latency of the assignments in both
phases, the delay from each API answer to the verified delivery of its event, and the events per second from
the first change to the last delivery. Then, in this process, the cost of the outbox itself: a transaction
changing a case with and without ``emit`` (one event, one delivery), on a fresh database of each backend.

    python -m bench.webhooks [--events 400] [--concurrency 20] [--backend sqlite|postgres|all]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import os
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from bench.api import CaseFactory
from bench.common import Server, format_table, machine_info, percentile, run_demo, temporary_postgres_database

__all__ = ["main"]

API = "/api/v1"
DEFAULT_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1/postgres"


# --- the receiver ---------------------------------------------------------------------------------------


class Receiver:
    """Verifies every delivery (HMAC-SHA256 over id.timestamp.body) and notes its arrival time."""

    def __init__(self) -> None:
        self.secret = b""
        self.arrivals: dict[str, tuple[float, dict[str, Any]]] = {}
        self.bad = 0
        self.duplicates = 0
        self.changed = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.url = ""

    def use(self, secret: str) -> None:
        self.secret = base64.b64decode(secret.removeprefix("whsec_"))

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/hook", self._handle)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}/hook"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        msg_id = request.headers.get("webhook-id", "")
        stamp = request.headers.get("webhook-timestamp", "")
        expected = base64.b64encode(
            hmac.new(self.secret, f"{msg_id}.{stamp}.".encode() + body, hashlib.sha256).digest()
        ).decode()
        offered = [s.partition(",")[2] for s in request.headers.get("webhook-signature", "").split(" ")]
        if not any(hmac.compare_digest(expected, s) for s in offered) or abs(time.time() - int(stamp)) > 300:
            self.bad += 1
            return web.Response(status=400)
        if msg_id in self.arrivals:
            self.duplicates += 1
        else:
            self.arrivals[msg_id] = (time.perf_counter(), json.loads(body))
        self.changed.set()
        return web.Response(status=204)


# --- the load ---------------------------------------------------------------------------------------------


@dataclass
class Phase:
    name: str
    latencies: list[float] = field(default_factory=list)  # seconds per API call
    answered: dict[str, float] = field(default_factory=dict)  # case id → when its API call answered
    errors: list[str] = field(default_factory=list)
    started: float = 0.0
    ended: float = 0.0


async def _bounded(concurrency: int, jobs: list[Callable[[], Awaitable[None]]]) -> None:
    queue = list(reversed(jobs))

    async def lane() -> None:
        while queue:
            await queue.pop()()

    await asyncio.gather(*(lane() for _ in range(concurrency)))


async def _create_cases(http: aiohttp.ClientSession, base: str, count: int, concurrency: int) -> list[str]:
    factory = CaseFactory()
    ids: list[str] = []

    async def one() -> None:
        async with http.post(
            f"{base}{API}/cases", data=factory.body(), headers={"Content-Type": "application/json"}
        ) as response:
            body = await response.json()
            if response.status != 201:
                raise RuntimeError(f"creating a case: {response.status} {body}")
            ids.append(body["id"])

    await _bounded(concurrency, [one] * count)
    return ids


async def _assign(
    http: aiohttp.ClientSession, base: str, cases: list[str], mediator: str, concurrency: int, phase: Phase
) -> None:
    def job(case_id: str) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            sent = time.perf_counter()
            async with http.post(
                f"{base}{API}/cases/{case_id}/assignment", json={"mediator_id": mediator}
            ) as r:
                await r.read()
                done = time.perf_counter()
                if r.status != 200:
                    phase.errors.append(f"{r.status}")
                    return
            phase.latencies.append(done - sent)
            phase.answered[case_id] = done

        return run

    phase.started = time.perf_counter()
    await _bounded(concurrency, [job(c) for c in cases])
    phase.ended = time.perf_counter()


def _ms(values: list[float]) -> list[str]:
    ordered = sorted(values)
    return [f"{percentile(ordered, p) * 1000:.1f}" for p in (50, 95, 99)] + [f"{ordered[-1] * 1000:.1f}"]


@dataclass
class Report:
    backend: str
    rows: list[list[str]] = field(default_factory=list)
    outbox: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


async def bench_backend(
    backend: str, database_url: str | None, args: argparse.Namespace, work: Path
) -> Report:
    report = Report(backend)
    data_dir = work / backend
    data_dir.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIAOJIE_")}
    env.update(TIAOJIE_DATA_DIR=str(data_dir), TIAOJIE_WEBHOOK_ALLOWED_NETWORKS="127.0.0.0/8")
    if database_url:
        env["TIAOJIE_DATABASE_URL"] = database_url
    info = run_demo(env)
    receiver = Receiver()
    await receiver.start()
    server = Server(env, work / f"{backend}-server.log")
    try:
        base = server.start()
        headers = {"Authorization": f"Bearer {info['api_keys']['court']}"}
        connector = aiohttp.TCPConnector(limit=args.concurrency)
        async with aiohttp.ClientSession(headers=headers, connector=connector) as http:
            cases = await _create_cases(http, base, 2 * args.events, args.concurrency)
            mediator = info["mediator"]["id"]
            without = Phase("assign, no endpoint")
            await _assign(http, base, cases[: args.events], mediator, args.concurrency, without)
            async with http.post(f"{base}{API}/webhooks/endpoints", json={"url": receiver.url}) as response:
                endpoint = await response.json()
                assert response.status == 201, endpoint
            receiver.use(endpoint["secret"])
            with_endpoint = Phase("assign, 1 endpoint")
            await _assign(http, base, cases[args.events :], mediator, args.concurrency, with_endpoint)
            deadline = time.perf_counter() + 120
            while len(receiver.arrivals) < len(with_endpoint.answered) and time.perf_counter() < deadline:
                receiver.changed.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(receiver.changed.wait(), 5)
        delays = []
        last = 0.0
        for arrived, payload in receiver.arrivals.values():
            case_id = payload["data"]["case_id"]
            if case_id in with_endpoint.answered:
                delays.append(arrived - with_endpoint.answered[case_id])
                last = max(last, arrived)
        missing = len(with_endpoint.answered) - len(delays)
        for phase in (without, with_endpoint):
            report.rows.append(
                [
                    phase.name,
                    str(len(phase.latencies)),
                    str(len(phase.errors)),
                    f"{len(phase.latencies) / (phase.ended - phase.started):.0f}",
                    *_ms(phase.latencies),
                ]
            )
        report.rows.append(["answer → verified delivery", str(len(delays)), str(missing), "", *_ms(delays)])
        span = last - with_endpoint.started
        report.notes.append(
            f"{len(delays)} events from the first change to the last verified delivery in {span:.2f} s: "
            f"{len(delays) / span:.0f} events/s; bad signatures {receiver.bad}, "
            f"duplicates {receiver.duplicates}"
        )
    except BaseException:
        print(f"  server output (tail):\n{server.log_tail()}", file=sys.stderr)
        raise
    finally:
        server.stop()
        await receiver.stop()
    report.outbox = await _outbox_cost(
        database_url or f"sqlite+aiosqlite:///{work / (backend + '-outbox.db')}", args
    )
    return report


async def _outbox_cost(url: str, args: argparse.Namespace) -> list[str]:
    """Mean and p50 of a transaction that updates a row, without and with one emitted event."""
    if url.startswith("postgresql"):
        async with temporary_postgres_database(url) as fresh:
            return await _outbox_cost_on(fresh, args)
    return await _outbox_cost_on(url, args)


async def _outbox_cost_on(url: str, args: argparse.Namespace) -> list[str]:
    from datetime import UTC, datetime

    from sqlalchemy import update

    from accounts.service import create_court
    from accounts.tables import Court
    from store.database import Database
    from store.migrate import upgrade
    from webhooks.events import EventType
    from webhooks.outbox import emit
    from webhooks.tables import WebhookEndpoint

    db = Database(url)
    try:
        await upgrade(db)
        now = datetime.now(UTC)
        async with db.session() as s:
            court = await create_court(
                s, name="基准法院", code=f"B{time.time_ns() % 10**8}", level="basic", now=now
            )
            s.add(
                WebhookEndpoint(
                    id="whe_00000000000000000000000001",
                    court_id=court.id,
                    url="http://127.0.0.1:9/",
                    description=None,
                    event_types=[],
                    status="disabled",
                    disabled_reason=None,
                    secret="whsec_" + "A" * 44,
                    previous_secrets=[],
                    created_at=now,
                    updated_at=now,
                    created_by="bench",
                )
            )
        timings: dict[str, list[float]] = {"change only": [], "change + event": []}
        for n in range(args.outbox_rounds):
            for name in timings:
                started = time.perf_counter()
                async with db.session() as s:
                    await s.execute(update(Court).where(Court.id == court.id).values(region=str(n)))
                    if name != "change only":
                        await emit(
                            s,
                            court_id=court.id,
                            case_id=None,
                            event_type=EventType.CASE_ACCEPTED,
                            data={"n": n},
                            occurred_at=now,
                        )
                timings[name].append(time.perf_counter() - started)
        plain, with_event = (sorted(v) for v in timings.values())
        return [
            f"transaction changing a row: mean {_mean_ms(plain):.2f} ms, "
            f"p50 {percentile(plain, 50) * 1000:.2f} ms",
            f"the same with one event and one delivery in the outbox: mean {_mean_ms(with_event):.2f} ms, "
            f"p50 {percentile(with_event, 50) * 1000:.2f} ms "
            f"(+{_mean_ms(with_event) - _mean_ms(plain):.2f} ms)",
        ]
    finally:
        await db.dispose()


def _mean_ms(values: list[float]) -> float:
    return sum(values) / len(values) * 1000


def print_report(report: Report) -> None:
    print(f"\n== {report.backend}")
    headers = ["", "n", "errors", "per s", "p50 ms", "p95 ms", "p99 ms", "max ms"]
    print(format_table(headers, report.rows))
    for line in report.notes + report.outbox:
        print(f"  {line}")


async def run(args: argparse.Namespace) -> int:
    info = machine_info()
    print("webhook benchmark — " + ", ".join(f"{k} {v}" for k, v in info.items()))
    print(f"{args.events} events per phase, {args.concurrency} concurrent API clients")
    with tempfile.TemporaryDirectory(prefix="tiaojie-bench-hooks-") as tmp:
        work = Path(tmp)
        if args.backend in ("sqlite", "all"):
            print_report(await bench_backend("sqlite", None, args, work))
        if args.backend in ("postgres", "all"):
            try:
                async with temporary_postgres_database(args.postgres_url) as url:
                    print_report(await bench_backend("postgres", url, args, work))
            except ConnectionError as exc:
                print(f"\n== postgres skipped: {exc}")
    return 0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.webhooks", description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=400, help="assignments (events) per phase")
    parser.add_argument("--concurrency", type=int, default=20, help="concurrent API clients")
    parser.add_argument("--backend", choices=("sqlite", "postgres", "all"), default="all")
    parser.add_argument("--outbox-rounds", type=int, default=300, help="transactions per outbox measurement")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("TIAOJIE_BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL),
        help="an existing database to create the temporary one from",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    return asyncio.run(run(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
