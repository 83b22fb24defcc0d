"""API benchmark: the real server as a subprocess, driven by N concurrent lean HTTP/1.1 clients on 127.0.0.1.

Scenarios (each bounded by a request count and a time limit): creating cases (POST /api/v1/cases),
listing them (GET /api/v1/cases?limit=20) and getting one (GET /api/v1/cases/{id}), on the embedded default
(SQLite) and on PostgreSQL when one is reachable. Goal: p99 under 50 ms for reads at 100 concurrent clients
on the embedded default.

    python -m bench.api [--concurrency 100] [--requests 2000] [--seconds 15] [--backend sqlite|postgres|all]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import secrets
import signal
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.client import ConnectionPool, HttpError, build_request
from bench.common import (
    ProcessCpu,
    Profiler,
    ScenarioResult,
    Server,
    credit_code,
    format_table,
    machine_info,
    resident_id,
    run_demo,
    summarise_collapsed,
    temporary_postgres_database,
)

__all__ = ["main"]

API = "/api/v1"
READ_GOAL_MS = 50.0
GOAL_CONCURRENCY = 100
DEFAULT_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1/postgres"


@dataclass
class BackendReport:
    backend: str
    database: str
    seeded: int = 0
    seed_seconds: float = 0.0
    cases_at_read_time: int = 0
    results: list[ScenarioResult] = field(default_factory=list)
    skipped: str | None = None
    failed: str | None = None
    profiles: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "backend": self.backend,
            "database": self.database,
            "seeded_cases": self.seeded,
            "seed_seconds": round(self.seed_seconds, 2),
            "cases_at_read_time": self.cases_at_read_time,
            "skipped": self.skipped,
            "failed": self.failed,
            "scenarios": [r.as_dict() for r in self.results],
        }


# --- request bodies ---------------------------------------------------------------------------------------


class CaseFactory:
    """Valid case bodies with case numbers unique to this run, and fictional parties."""

    def __init__(self) -> None:
        self.run = secrets.token_hex(3).upper()
        self.n = 0

    def body(self) -> bytes:
        self.n += 1
        n = self.n
        payload = {
            "case_number": f"（2026）豫0802民诉前调B{self.run}-{n}号",
            "kind": "delegated",
            "procedure": "ordinary",
            "cause": "wages",
            "claims": "请求支付拖欠工资人民币32,000元及经济补偿金8,000元。",
            "amount": "40000.00",
            "parties": [
                {
                    "key": "worker",
                    "side": "applicant",
                    "party_type": "worker",
                    "name": "张三",
                    "id_type": "resident_id",
                    "id_number": resident_id(n),
                    "phone": "13800138000",
                    "service_address": "zhangsan@example.cn",
                    "address": "河南省焦作市解放区民主路1号",
                },
                {
                    "key": "employer",
                    "side": "respondent",
                    "party_type": "employer",
                    "name": "焦作某机械有限公司",
                    "id_type": "credit_code",
                    "id_number": credit_code(n),
                    "phone": "0391-3456789",
                },
                {
                    "side": "respondent",
                    "role": "agent",
                    "party_type": "person",
                    "name": "李律师",
                    "id_type": "resident_id",
                    "id_number": resident_id(n + 500_000),
                    "phone": "13912345678",
                    "represents": "employer",
                    "authorisation": "特别授权",
                },
            ],
        }
        return json.dumps(payload, ensure_ascii=False).encode()


class Requests:
    """Builds the bytes of API requests with the caller's key (the headers are the same for every one)."""

    def __init__(self, host: str, token: str) -> None:
        self.host = host
        self.headers = {"Authorization": f"Bearer {token}"}
        self.json_headers = {**self.headers, "Content-Type": "application/json"}

    def __call__(self, method: str, path: str, body: bytes | None = None) -> bytes:
        headers = self.headers if body is None else self.json_headers
        return build_request(method, API + path, self.host, headers, body)


# --- the load generator -----------------------------------------------------------------------------------


def _request_line(request: bytes) -> str:
    return request.split(b"\r\n", 1)[0].rsplit(b" ", 1)[0].decode("latin-1")


async def run_load(
    pool: ConnectionPool,
    name: str,
    prepare: Callable[[int], bytes],
    *,
    requests: int,
    seconds: float,
    concurrency: int,
    rate: float | None = None,
    on_success: Callable[[bytes], None] | None = None,
    server_pid: int | None = None,
) -> ScenarioResult:
    """Send up to ``requests`` requests (``prepare(index)`` gives each one's bytes), for at most ``seconds``
    (requests in flight then finish and are counted), with at most ``concurrency`` in flight.

    Closed loop (``rate`` None): ``concurrency`` clients each send a request, wait for the whole response and
    send the next one at once; latency runs from just before sending to the last byte of the response.
    Open loop (``rate`` requests/s): requests are due at a fixed pace whatever the answers; latency runs from
    the moment a request was due, so time spent waiting for a free client counts too."""
    result = ScenarioResult(name)
    issued = 0
    deadline = time.monotonic() + seconds
    server_cpu = ProcessCpu(server_pid) if server_pid else None
    client_cpu = ProcessCpu(os.getpid(), children=False)

    async def send(index: int, start: float) -> None:
        request = prepare(index)
        within = max(5.0, min(60.0, deadline - time.monotonic() + 10.0))
        try:
            response = await pool.send(request, within)
        except (HttpError, OSError, TimeoutError) as exc:
            result.latencies.append(time.perf_counter() - start)
            result.add_error(f"{_request_line(request)}: {type(exc).__name__}: {exc}")
            return
        result.latencies.append(time.perf_counter() - start)
        if 200 <= response.status < 300:
            if on_success is not None:
                on_success(response.body)
        else:
            result.add_error(
                f"{_request_line(request)}: HTTP {response.status}: "
                f"{response.body[:500].decode(errors='replace')}"
            )

    async def client() -> None:
        nonlocal issued
        while issued < requests and time.monotonic() < deadline:
            issued += 1
            await send(issued - 1, time.perf_counter())

    async def paced(interval: float) -> None:
        slots = asyncio.Semaphore(concurrency)
        tasks: set[asyncio.Task[None]] = set()

        async def one(index: int, due: float) -> None:
            async with slots:
                await send(index, due)

        origin = time.perf_counter()
        for index in range(requests):
            due = origin + index * interval
            if time.monotonic() >= deadline:
                break
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            task = asyncio.create_task(one(index, due))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        if tasks:
            await asyncio.gather(*tasks)

    if server_cpu:
        server_cpu.mark()
    client_cpu.mark()
    started = time.perf_counter()
    # A safety net on top of the per-request timeouts: the scenario always ends by itself.
    async with asyncio.timeout(seconds + 90):
        if rate:
            await paced(1.0 / rate)
        else:
            await asyncio.gather(*(client() for _ in range(max(1, min(concurrency, requests)))))
    result.elapsed = time.perf_counter() - started
    result.client_cpu = client_cpu.shares()[0]
    if server_cpu:
        result.server_cpu, result.server_loop_cpu = server_cpu.shares()
    return result


# --- one backend ------------------------------------------------------------------------------------------


def _clean_env() -> dict[str, str]:
    """This environment without any TIAOJIE_* setting, so that every run is configured the same way."""
    return {k: v for k, v in os.environ.items() if not k.startswith("TIAOJIE_")}


async def bench_backend(
    backend: str, database_url: str | None, args: argparse.Namespace, work: Path, report: BackendReport
) -> None:
    data_dir = work / backend
    data_dir.mkdir()
    env = _clean_env()
    env["TIAOJIE_DATA_DIR"] = str(data_dir)
    if database_url:
        env["TIAOJIE_DATABASE_URL"] = database_url
    info = run_demo(env)  # in this thread: the server must be a child of the main thread (see Server)
    token = info["api_keys"]["court"]
    server = Server(env, work / f"{backend}-server.log", args.server_arg)
    try:
        base_url = server.start()
        processes = ProcessCpu(server.pid).processes
        print(
            f"  server pid {server.pid} on {base_url}, {processes} process{'es' if processes > 1 else ''} "
            f"(log: {server.log_path})",
            flush=True,
        )
        host, _, port = base_url.removeprefix("http://").partition(":")
        pool = ConnectionPool(host, int(port))
        try:
            await _scenarios(pool, Requests(f"{host}:{port}", token), server, args, report)
        finally:
            pool.close()
    except BaseException:
        print(f"  server output (tail):\n{server.log_tail()}", file=sys.stderr)
        raise
    finally:
        server.stop()


async def _scenarios(
    pool: ConnectionPool,
    build: Requests,
    server: Server,
    args: argparse.Namespace,
    report: BackendReport,
) -> None:
    factory = CaseFactory()
    case_ids: list[str] = []
    rng = random.Random(20261128)
    listing = build("GET", "/cases?limit=20")

    def create(_index: int) -> bytes:
        return build("POST", "/cases", factory.body())

    def created(payload: bytes) -> None:
        case_ids.append(json.loads(payload)["id"])

    def list_page(_index: int) -> bytes:
        return listing

    def get_one(_index: int) -> bytes:
        return build("GET", f"/cases/{rng.choice(case_ids)}")

    common: dict[str, Any] = {"concurrency": args.concurrency, "server_pid": server.pid}

    # Seeding: a few hundred cases through the API (also warms up the create path), always closed loop.
    seed = await run_load(pool, "seed", create, requests=args.seed, seconds=120, on_success=created, **common)
    common["rate"] = args.rate
    report.seeded, report.seed_seconds = len(case_ids), seed.elapsed
    print(f"  seeded {len(case_ids)} cases in {seed.elapsed:.1f} s", flush=True)
    if seed.errors or not case_ids:
        report.results.append(seed)
        raise RuntimeError("seeding failed: " + "; ".join(seed.error_samples))

    scenarios: list[tuple[str, str, Callable[[int], bytes], Callable[[bytes], None] | None]] = [
        ("create", "create (POST /cases)", create, created),
        ("list", "list (GET /cases?limit=20)", list_page, None),
        ("get", "get (GET /cases/{id})", get_one, None),
    ]
    for key, label, prepare, on_success in scenarios:
        if key != "create":
            report.cases_at_read_time = len(case_ids)
            if args.warmup:  # not counted: first connections, caches, the server's first code paths
                warm = await run_load(pool, "warm-up", prepare, requests=args.warmup, seconds=30, **common)
                for sample in warm.error_samples:
                    print(f"  error while warming up: {sample}", flush=True)
        with _maybe_profile(args, server.pid, report, key):
            result = await run_load(
                pool,
                label,
                prepare,
                requests=args.requests,
                seconds=args.seconds,
                on_success=on_success,
                **common,
            )
        report.results.append(result)
        lat = result.latency_ms()
        print(
            f"  {label}: {result.requests} requests, {result.errors} errors, {result.throughput:.0f} req/s, "
            f"p50 {lat['p50']:.1f} ms, p99 {lat['p99']:.1f} ms",
            flush=True,
        )


@contextlib.contextmanager
def _maybe_profile(args: argparse.Namespace, pid: int, report: BackendReport, key: str) -> Iterator[None]:
    if not args.profile:
        yield
        return
    out = Path(args.profile) / f"{report.backend}-{key}.collapsed"
    with Profiler(pid, out):
        yield
    summary = summarise_collapsed(out)
    (out.with_suffix(".txt")).write_text(summary + "\n")
    report.profiles[key] = str(out.with_suffix(".txt"))


# --- output -----------------------------------------------------------------------------------------------


def print_report(report: BackendReport, args: argparse.Namespace) -> None:
    title = {"sqlite": "SQLite (embedded default)", "postgres": "PostgreSQL"}[report.backend]
    print(f"\n{title} — {report.database}")
    if report.skipped:
        print(f"  skipped: {report.skipped}")
        return
    if report.failed:
        print(f"  FAILED: {report.failed}")
    print(
        f"  {_load_text(args)}; {report.seeded} cases seeded, "
        f"{report.cases_at_read_time} when reads were measured\n"
    )
    headers = ["scenario", "requests", "errors", "req/s", "p50 ms", "p95 ms", "p99 ms", "max ms"]
    headers += ["srv CPU", "srv loop", "srv CPU ms/req", "client CPU"]
    rows = []
    for r in report.results:
        lat = r.latency_ms()
        rows.append(
            [r.name, str(r.requests), str(r.errors), f"{r.throughput:.0f}"]
            + [f"{lat[k]:.1f}" for k in ("p50", "p95", "p99", "max")]
            + [
                f"{r.server_cpu:.0%}",
                f"{r.server_loop_cpu:.0%}",
                f"{r.server_cpu_ms:.1f}",
                f"{r.client_cpu:.0%}",
            ]
        )
    if rows:
        print("\n".join("  " + line for line in format_table(headers, rows).splitlines()))
        print(
            "  (srv CPU: the server process, all threads, 100 % = one core; srv loop: its event-loop thread "
            "alone;\n   client CPU: this load generator — both on the same cores)"
        )
    if report.results:
        per = ", ".join(f"{r.name.split(' ')[0]} {r.client_cpu_ms:.2f} ms" for r in report.results)
        print(f"  client CPU per request: {per}")
    for r in report.results:
        for sample in r.error_samples:
            print(f"  error in {r.name}: {sample}")
    reads = [r for r in report.results if r.name.startswith(("list", "get"))]
    if reads:
        worst = max(r.latency_ms()["p99"] for r in reads)
        verdict = "MET" if worst < READ_GOAL_MS and all(r.errors == 0 for r in reads) else "NOT MET"
        note = (
            ""
            if args.concurrency == GOAL_CONCURRENCY
            else f" (the goal is stated for {GOAL_CONCURRENCY} clients)"
        )
        print(f"  reads p99 < {READ_GOAL_MS:g} ms: {verdict} — worst read p99 {worst:.1f} ms{note}")
    for key, path in report.profiles.items():
        print(f"  profile of {key}: {path}")


def _load_text(args: argparse.Namespace) -> str:
    per = f"each scenario up to {args.requests} requests or {args.seconds:g} s"
    if args.rate:
        return f"open loop at {args.rate:g} requests/s, at most {args.concurrency} in flight; {per}"
    return f"closed loop, {args.concurrency} concurrent clients; {per}"


def print_header(args: argparse.Namespace) -> None:
    m = machine_info()
    print("tiaojie API benchmark")
    print(f"  date:    {m['date']}")
    print(f"  CPU:     {m['cpu']}, {m['cores']} cores available, {m['memory']} memory")
    print(f"  Python:  {m['python']} on {m['os']}")
    print(f"  load:    {m['load']} (1, 5, 15 min) before the run", end="")
    busy = float(m["load"].split()[0]) > 0.5
    print(" — other work is running on this machine: figures will be lower and noisier" if busy else "")
    print(
        "  note:    the load generator (this process: lean HTTP/1.1 keep-alive connections, one event loop) "
        "and the server share these "
        f"{m['cores']} cores;\n"
        "           latencies are measured in the client (send → last byte), closed loop, on 127.0.0.1."
    )
    print(
        f"  run:     {_load_text(args)};\n"
        f"           {args.seed} cases seeded first; {args.warmup} uncounted warm-up requests before each "
        "read scenario"
    )
    if args.server_arg:
        print(f"  server:  tiaojie serve {' '.join(args.server_arg)}")
    if args.profile:
        print(
            f"  profile: py-spy attached to the server in every scenario ({args.profile}); it costs CPU, "
            "so these figures are not the benchmark's"
        )
    sys.stdout.flush()


# --- main -------------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench.api", description=__doc__.split("\n\n")[0] if __doc__ else None
    )
    parser.add_argument("--concurrency", type=int, default=100, help="concurrent clients (default 100)")
    parser.add_argument(
        "--requests", type=int, default=2000, help="requests per scenario at most (default 2000)"
    )
    parser.add_argument(
        "--seconds", type=float, default=15.0, help="seconds per scenario at most (default 15)"
    )
    parser.add_argument(
        "--rate",
        type=float,
        help="open loop: send this many requests per second in total (at most --concurrency in flight) "
        "instead of each client sending its next request as soon as the last one is answered",
    )
    parser.add_argument("--backend", choices=["sqlite", "postgres", "all"], default="all")
    parser.add_argument(
        "--seed", type=int, default=300, help="cases created before the scenarios (default 300)"
    )
    parser.add_argument(
        "--warmup", type=int, default=200, help="uncounted requests before each read scenario"
    )
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("TIAOJIE_BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL),
        help="an existing database to create the temporary one from (env TIAOJIE_BENCH_POSTGRES_URL; "
        f"default {DEFAULT_POSTGRES_URL})",
    )
    parser.add_argument(
        "--profile", metavar="DIR", help="attach py-spy to the server; write profiles into DIR"
    )
    parser.add_argument(
        "--server-arg",
        metavar="ARG",
        action="append",
        default=[],
        help="one more argument for `tiaojie serve` (repeatable; write it as --server-arg=--workers=2)",
    )
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    args = parser.parse_args(argv)
    for name in ("concurrency", "requests", "seed"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")
    if args.seconds <= 0 or args.warmup < 0 or (args.rate is not None and args.rate <= 0):
        parser.error("--seconds and --rate must be positive, --warmup not negative")
    return args


async def run(args: argparse.Namespace) -> list[BackendReport]:
    reports: list[BackendReport] = []
    backends = ["sqlite", "postgres"] if args.backend == "all" else [args.backend]
    with tempfile.TemporaryDirectory(prefix="tiaojie-bench-") as tmp:
        work = Path(tmp)
        for backend in backends:
            print(f"\n[{backend}]", flush=True)
            if backend == "sqlite":
                report = BackendReport("sqlite", "sqlite+aiosqlite, file in a fresh temporary data directory")
                reports.append(report)
                await _guarded(bench_backend("sqlite", None, args, work, report), report)
                continue
            report = BackendReport("postgres", "postgresql+asyncpg, a temporary database tiaojie_bench_*")
            reports.append(report)
            try:
                async with temporary_postgres_database(args.postgres_url) as url:
                    print(f"  temporary database {url.rsplit('/', 1)[-1]} (dropped afterwards)", flush=True)
                    await _guarded(bench_backend("postgres", url, args, work, report), report)
            except ConnectionError as exc:
                report.skipped = f"{exc} (set TIAOJIE_BENCH_POSTGRES_URL or --postgres-url)"
                print(f"  skipped: {report.skipped}", flush=True)
    return reports


async def _guarded(work: Awaitable[None], report: BackendReport) -> None:
    try:
        await work
    except Exception as exc:
        report.failed = f"{type(exc).__name__}: {exc}"
        print(f"  FAILED: {report.failed}", file=sys.stderr, flush=True)


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt  # SIGTERM too unwinds: the server is stopped, the temporary database dropped


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)
    if args.profile:
        Path(args.profile).mkdir(parents=True, exist_ok=True)
    print_header(args)
    try:
        reports = asyncio.run(run(args))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    print("\n" + "=" * 100)
    for report in reports:
        print_report(report, args)
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "machine": machine_info(),
                    "settings": vars(args),
                    "backends": [r.as_dict() for r in reports],
                },
                ensure_ascii=False,
                indent=2,
            )
            + "\n"
        )
        print(f"\nresults written to {args.json}")
    bad = any(r.failed or any(s.errors for s in r.results) for r in reports)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
