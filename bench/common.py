"""What the benchmarks share: the machine's description, latency statistics and tables, fictional identifiers,
the server under test as a subprocess, a throw-away PostgreSQL database, and an optional py-spy profile."""

from __future__ import annotations

import contextlib
import ctypes
import datetime as dt
import json
import os
import platform
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "REPO",
    "ProcessCpu",
    "Profiler",
    "ScenarioResult",
    "Server",
    "credit_code",
    "die_with_parent",
    "format_table",
    "machine_info",
    "percentile",
    "resident_id",
    "run_demo",
    "summarise_collapsed",
    "temporary_postgres_database",
]

REPO = Path(__file__).resolve().parent.parent
_CLK_TCK = os.sysconf("SC_CLK_TCK")


# --- the machine ------------------------------------------------------------------------------------------


def machine_info() -> dict[str, str]:
    """CPU model, cores, memory, Python and operating system, today's date (UTC), and the load average (1, 5
    and 15 minutes: anything else running skews the figures)."""
    cpu = platform.processor() or platform.machine()
    memory = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 0
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu,
        "cores": str(cores),
        "memory": memory or "unknown",
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "os": f"{platform.system()} {platform.release()}",
        "load": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


# --- statistics -------------------------------------------------------------------------------------------


def percentile(sorted_values: Sequence[float], p: float) -> float:
    """The nearest-rank percentile ``p`` (0-100) of values sorted ascending; 0.0 for no values."""
    if not sorted_values:
        return 0.0
    rank = max(1, -(-len(sorted_values) * p // 100))  # ceil(n * p / 100), at least 1
    return sorted_values[min(len(sorted_values), int(rank)) - 1]


@dataclass
class ScenarioResult:
    """One scenario's outcome. Latencies are in seconds, one per completed request (errors included)."""

    name: str
    elapsed: float = 0.0
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    server_cpu: float = 0.0  # cores used, 1.0 = one core busy
    server_loop_cpu: float = 0.0  # the server's main thread (its event loop) alone
    client_cpu: float = 0.0

    @property
    def requests(self) -> int:
        return len(self.latencies)

    @property
    def throughput(self) -> float:
        return self.requests / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def server_cpu_ms(self) -> float:
        """Server CPU time per request, all threads, in milliseconds."""
        return self.server_cpu * self.elapsed / self.requests * 1000 if self.requests else 0.0

    @property
    def client_cpu_ms(self) -> float:
        """The load generator's CPU time per request, in milliseconds."""
        return self.client_cpu * self.elapsed / self.requests * 1000 if self.requests else 0.0

    def latency_ms(self) -> dict[str, float]:
        ordered = sorted(self.latencies)
        return {
            "p50": percentile(ordered, 50) * 1000,
            "p95": percentile(ordered, 95) * 1000,
            "p99": percentile(ordered, 99) * 1000,
            "max": (ordered[-1] if ordered else 0.0) * 1000,
        }

    def add_error(self, text: str, keep: int = 5) -> None:
        self.errors += 1
        if len(self.error_samples) < keep:
            self.error_samples.append(text)

    def as_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.name,
            "requests": self.requests,
            "errors": self.errors,
            "seconds": round(self.elapsed, 3),
            "throughput_rps": round(self.throughput, 1),
            "latency_ms": {k: round(v, 2) for k, v in self.latency_ms().items()},
            "server_cpu_percent": round(self.server_cpu * 100),
            "server_event_loop_cpu_percent": round(self.server_loop_cpu * 100),
            "server_cpu_ms_per_request": round(self.server_cpu_ms, 2),
            "client_cpu_percent": round(self.client_cpu * 100),
            "client_cpu_ms_per_request": round(self.client_cpu_ms, 3),
            "error_samples": self.error_samples,
        }


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain-text table: the first column left-aligned, the others right-aligned."""
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            str(c).ljust(w) if i == 0 else str(c).rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(r) for r in rows)])


class ProcessCpu:
    """CPU time (user + system) used by a process and the processes it started (a server with one worker
    per core), from /proc: all their threads, and their main threads alone (the event loops). ``shares()``:
    cores used since ``mark()`` (1.0 = one core busy). A child that ended meanwhile counts once its parent
    has reaped it (the parent's ``cutime``)."""

    def __init__(self, pid: int, *, children: bool = True) -> None:
        self.pid = pid
        self.children = children  # False for the load generator: the server under test is its child
        self._cpu: dict[int, tuple[float, float]] = {}
        self._wall = 0.0

    @staticmethod
    def _stat(path: str, children: bool = False) -> float:
        try:
            stat = Path(path).read_text()
        except OSError:
            return 0.0
        fields = stat.rsplit(")", 1)[1].split()
        # utime, stime (fields 14, 15 of stat); cutime, cstime of its reaped children (16, 17)
        ticks = int(fields[11]) + int(fields[12])
        if children:
            ticks += int(fields[13]) + int(fields[14])
        return ticks / _CLK_TCK

    def _tree(self) -> list[int]:
        if not self.children:
            return [self.pid]
        found, todo = [], [self.pid]
        while todo:
            pid = todo.pop()
            found.append(pid)
            with contextlib.suppress(OSError):
                for task in Path(f"/proc/{pid}/task").iterdir():
                    with contextlib.suppress(OSError):
                        todo.extend(int(c) for c in (task / "children").read_text().split())
        return found

    def _read(self) -> dict[int, tuple[float, float]]:
        return {
            pid: (
                self._stat(f"/proc/{pid}/stat", children=self.children and pid == self.pid),
                self._stat(f"/proc/{pid}/task/{pid}/stat"),
            )
            for pid in self._tree()
        }

    @property
    def processes(self) -> int:
        return len(self._tree())

    def mark(self) -> None:
        self._cpu = self._read()
        self._wall = time.monotonic()

    def shares(self) -> tuple[float, float]:
        """(all threads, main threads), in cores, since ``mark()``."""
        wall = time.monotonic() - self._wall
        if wall <= 0:
            return 0.0, 0.0
        total = main = 0.0
        for pid, (all_threads, main_thread) in self._read().items():
            before = self._cpu.get(pid, (0.0, 0.0))
            total += all_threads - before[0]
            main += main_thread - before[1]
        return total / wall, main / wall


# --- fictional identifiers --------------------------------------------------------------------------------

_CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def resident_id(n: int) -> str:
    """A resident ID number (GB 11643) with a correct check character, for nobody in particular."""
    birth = dt.date(1970, 1, 1) + dt.timedelta(days=(n * 37) % 12000)
    body = f"410802{birth:%Y%m%d}{n % 1000:03d}"
    total = sum(int(d) * pow(2, 17 - i, 11) for i, d in enumerate(body))
    return body + "10X98765432"[total % 11]


def credit_code(n: int) -> str:
    """A unified social credit code (GB 32100) with a correct check character."""
    body = f"91410800MA{n % 10_000_000:07d}"
    total = sum(_CREDIT_ALPHABET.index(c) * pow(3, i, 31) for i, c in enumerate(body))
    return body + _CREDIT_ALPHABET[(31 - total % 31) % 31]


# --- the server under test --------------------------------------------------------------------------------


def _tiaojie() -> str:
    exe = Path(sys.executable).parent / "tiaojie"
    if exe.exists():
        return str(exe)
    found = shutil.which("tiaojie")
    if found is None:
        raise RuntimeError("the tiaojie command is not installed: run ./scripts/bench (it sets up .venv)")
    return found


def die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Linux: the server gets SIGTERM if the benchmark process dies without stopping it."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def run_demo(env: Mapping[str, str]) -> dict[str, Any]:
    """``tiaojie demo --json`` against the configured database: a court, a union, a mediator and API keys."""
    done = subprocess.run(  # noqa: S603 - our own command, no shell
        [_tiaojie(), "demo", "--json"],
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"tiaojie demo failed ({done.returncode}):\n{done.stderr[-3000:]}")
    info: dict[str, Any] = json.loads(done.stdout)
    return info


class Server:
    """``tiaojie serve --port 0`` as a subprocess; its output goes to a log file. Stopped by its PID, and on
    Linux also when the thread that started it ends: start it from the main thread."""

    def __init__(self, env: Mapping[str, str], log_path: Path, args: Sequence[str] = ()) -> None:
        self.env = dict(env)
        self.log_path = log_path
        self.args = list(args)  # more arguments for `tiaojie serve`, e.g. --workers=2
        self.process: subprocess.Popen[bytes] | None = None
        self.base_url = ""

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self, timeout: float = 60.0) -> str:
        """Start the server and wait for the line that names its port; returns the base URL."""
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(  # noqa: S603 - our own command, no shell
                [_tiaojie(), "serve", "--host", "127.0.0.1", "--port", "0", *self.args],
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=die_with_parent,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.log_path.read_text(errors="replace").splitlines():
                if " serving on " in line:
                    url = line.split(" serving on ", 1)[1].split()[0].rstrip("/")
                    if not url.startswith("http://127.0.0.1:"):
                        self.stop()
                        raise RuntimeError(f"the server is not on 127.0.0.1: {line}")
                    self.base_url = url
                    return url
            status = self.process.poll()
            if status is not None:
                self.process = None
                raise RuntimeError(
                    f"`tiaojie serve {' '.join(self.args)}` exited with status {status} before serving; "
                    f"its output:\n{self.log_tail()}"
                )
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"the server did not start within {timeout:g} s; its output:\n{self.log_tail()}")

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM by PID (the server shuts down cleanly), SIGKILL if it does not exit in time."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGKILL)
            process.wait()

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return "(no output)"

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


# --- PostgreSQL ----------------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def temporary_postgres_database(admin_url: str) -> AsyncIterator[str]:
    """Create ``tiaojie_bench_<random>`` through ``admin_url`` (a postgresql+asyncpg:// URL of an existing
    database), yield the URL of the new database, and drop it afterwards, also on failure. Raises
    ``ConnectionError`` when the server cannot be reached."""
    from sqlalchemy import text
    from sqlalchemy.engine import make_url
    from sqlalchemy.ext.asyncio import create_async_engine

    name = f"tiaojie_bench_{secrets.token_hex(4)}"
    engine = create_async_engine(admin_url, isolation_level="AUTOCOMMIT", connect_args={"timeout": 5})
    try:
        try:
            conn = await engine.connect()
        except Exception as exc:
            raise ConnectionError(f"PostgreSQL at {_hide(admin_url)} is unreachable: {exc}") from exc
        try:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
        finally:
            await conn.close()
        try:
            yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
        finally:
            async with engine.connect() as conn:
                await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await engine.dispose()


def _hide(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


# --- profiling --------------------------------------------------------------------------------------------


class Profiler:
    """``py-spy record`` attached to the server for the length of a ``with`` block; writes collapsed stacks.
    Sampling costs CPU on a small machine, so figures taken while profiling are not the benchmark's."""

    def __init__(self, pid: int, out: Path, rate: int = 200) -> None:
        self.pid = pid
        self.out = out
        self.rate = rate
        self.process: subprocess.Popen[bytes] | None = None

    @staticmethod
    def available() -> str | None:
        exe = Path(sys.executable).parent / "py-spy"
        return str(exe) if exe.exists() else shutil.which("py-spy")

    def __enter__(self) -> Profiler:
        exe = self.available()
        if exe is None:
            raise RuntimeError("py-spy is not installed (.venv/bin/python -m pip install py-spy)")
        self.out.parent.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(  # noqa: S603 - our own command, no shell
            [
                exe,
                "record",
                "--pid",
                str(self.pid),
                "--rate",
                str(self.rate),
                "--format",
                "raw",
                "--threads",
                "--subprocesses",  # the workers of `serve --workers N`
                "--nonblocking",
                "--output",
                str(self.out),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            preexec_fn=die_with_parent,
            start_new_session=True,
        )
        time.sleep(0.5)  # let it attach
        return self

    def __exit__(self, *_exc: object) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            os.kill(process.pid, signal.SIGINT)  # py-spy writes its output on SIGINT
        try:
            _, err = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            _, err = process.communicate()
        if not self.out.exists():
            raise RuntimeError(f"py-spy wrote no profile: {err.decode(errors='replace')[-2000:]}")


def _frame_name(frame: str) -> str:
    """``handler (web/router.py:120)`` -> ``handler (web/router.py)``."""
    name, _, where = frame.partition(" (")
    where = where.rstrip(")").rsplit(":", 1)[0]
    return f"{name} ({where})" if where else name


def _package(name: str) -> str:
    """The top-level package of a frame named by ``_frame_name``: ``sqlalchemy``, ``aiohttp``, ``cases``…"""
    where = name.rpartition(" (")[2].rstrip(")")
    top = where.split("/", 1)[0]
    if top in ("asyncio", "json", "threading", "logging", "ssl", "socket", "selectors", "concurrent"):
        return f"stdlib ({top})"
    return top.removesuffix(".py") or "?"


def _thread_group(frame: str) -> str:
    name = frame.split(": ", 1)[1] if ": " in frame else frame
    if name == "MainThread":
        return "main thread (event loop)"
    if "_connection_worker_thread" in name:
        return "aiosqlite connection threads"
    return "other threads"


def summarise_collapsed(path: Path, top: int = 25) -> str:
    """A py-spy raw (collapsed, ``--threads``) profile summarised per thread group (the event loop's main
    thread; aiosqlite's connection threads; others): inclusive and self share of the samples by function, and
    self share by package."""
    threads: Counter[str] = Counter()
    inclusive: dict[str, Counter[str]] = {}
    own: dict[str, Counter[str]] = {}
    packages: dict[str, Counter[str]] = {}
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        group = "other threads"
        if frames[0].startswith("thread ("):
            group = _thread_group(frames[0])
            frames = frames[1:]
        names = [_frame_name(f) for f in frames]
        threads[group] += count
        incl = inclusive.setdefault(group, Counter())
        for n in set(names):
            incl[n] += count
        if names:
            own.setdefault(group, Counter())[names[-1]] += count
            packages.setdefault(group, Counter())[_package(names[-1])] += count
    total = sum(threads.values())
    if total == 0:
        return "(no samples)"
    shares = ", ".join(f"{g}: {c / total:.0%}" for g, c in threads.most_common())
    out = [f"{total} samples (non-idle, all threads); {shares}"]
    for group, group_total in threads.most_common():
        out.append(f"\n== {group}: {group_total} samples")
        out.append("self % by package:")
        out.extend(
            f"  {c / group_total:6.1%}  {n}" for n, c in packages.get(group, Counter()).most_common(12)
        )
        out.append("inclusive % by function (the function and what it calls):")
        out.extend(f"  {c / group_total:6.1%}  {n}" for n, c in inclusive[group].most_common(top))
        out.append("self % by function (where the samples land):")
        out.extend(f"  {c / group_total:6.1%}  {n}" for n, c in own.get(group, Counter()).most_common(top))
    return "\n".join(out)
