"""``tiaojie serve --workers N``: bind the listening socket once and run N worker processes that share it.

The supervisor migrates the database and settles the secret key before any worker starts, starts the workers
(:mod:`cluster.worker`) with the socket and a control socket each, prints where it listens once every worker
said ``ready``, restarts a worker that dies (waiting longer after each quick crash), and on SIGTERM or SIGINT
asks every worker to stop (SIGTERM) and waits for them. Workers watch their control socket and stop when the
supervisor is gone, even after ``kill -9``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import signal
import socket
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from cluster.serving import wait_for_stop
from cluster.tasks import first_of
from tiaojie.errors import TiaojieError

__all__ = ["Supervisor", "WorkerFailed", "bind"]

log = logging.getLogger(__name__)

STOP_SECONDS = 30.0
_QUICK_CRASH_SECONDS = 10.0
_MAX_BACKOFF_SECONDS = 30.0


class WorkerFailed(TiaojieError):
    code = "worker_failed"


def bind(host: str, port: int, backlog: int = 1024) -> socket.socket:
    """The listening socket the workers share (port 0: a free port)."""
    info = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    sock = socket.socket(info[0], socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(info[4])
    sock.listen(backlog)
    return sock


@dataclass
class _Worker:
    index: int
    process: asyncio.subprocess.Process
    control: asyncio.StreamWriter
    started: float
    node: str = ""


class Supervisor:
    def __init__(self, listener: socket.socket, count: int, *, python: str = sys.executable) -> None:
        self.listener = listener
        self.count = count
        self.python = python
        self.run_dir = Path(tempfile.mkdtemp(prefix="tiaojie-"))  # short: unix socket paths are limited
        self.workers: dict[int, _Worker] = {}
        self.restarts = 0

    async def _spawn(self, index: int) -> _Worker:
        ours, theirs = socket.socketpair()
        try:
            process = await asyncio.create_subprocess_exec(
                self.python,
                "-m",
                "cluster.worker",
                f"--index={index}",
                f"--count={self.count}",
                f"--listen-fd={self.listener.fileno()}",
                f"--control-fd={theirs.fileno()}",
                f"--run-dir={self.run_dir}",
                stdin=asyncio.subprocess.DEVNULL,
                pass_fds=(self.listener.fileno(), theirs.fileno()),
            )
        finally:
            theirs.close()
        reader, writer = await asyncio.open_unix_connection(sock=ours)
        line = (await reader.readline()).decode().split()
        if line[:1] != ["ready"]:
            code = await process.wait()
            writer.close()
            raise WorkerFailed(f"worker {index} exited with status {code} before it was ready")
        worker = _Worker(index, process, writer, time.monotonic(), line[1] if len(line) > 1 else "")
        self.workers[index] = worker
        log.info("worker %d ready (pid %d, %s)", index, process.pid, worker.node)
        return worker

    async def start(self) -> None:
        """Every worker started and ready; WorkerFailed (and the others stopped) when one is not."""
        try:
            await asyncio.gather(*(self._spawn(i) for i in range(self.count)))
        except BaseException:
            await self.stop()
            raise

    async def _watch(self, index: int) -> None:
        """Restart worker ``index`` whenever it exits, until cancelled."""
        backoff = 0.0
        while True:
            worker = self.workers[index]
            code = await worker.process.wait()
            worker.control.close()
            lived = time.monotonic() - worker.started
            backoff = (
                min(_MAX_BACKOFF_SECONDS, max(0.5, backoff * 2)) if lived < _QUICK_CRASH_SECONDS else 0.0
            )
            log.error("worker %d (pid %d) exited with status %s; restarting", index, worker.process.pid, code)
            if backoff:
                await asyncio.sleep(backoff)
            try:
                await self._spawn(index)
                self.restarts += 1
            except (WorkerFailed, OSError):
                log.exception("worker %d could not be restarted", index)
                self.workers[index].started = time.monotonic()  # the dead one: wait() returns at once

    async def run(self) -> None:
        """Watch the workers until SIGTERM or SIGINT, then stop them."""
        try:
            await first_of(
                wait_for_stop((signal.SIGINT, signal.SIGTERM)), *map(self._watch, range(self.count))
            )
        finally:
            await self.stop()

    async def stop(self, grace: float = STOP_SECONDS) -> None:
        """SIGTERM to every worker, SIGKILL to those still running after ``grace`` seconds."""
        workers = list(self.workers.values())
        for worker in workers:
            if worker.process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    worker.process.send_signal(signal.SIGTERM)
        waits = [w.process.wait() for w in workers]
        try:
            await asyncio.wait_for(asyncio.gather(*waits), grace)
        except TimeoutError:
            for worker in workers:
                if worker.process.returncode is None:
                    log.error("worker %d did not stop in %.0f s: killed", worker.index, grace)
                    with contextlib.suppress(ProcessLookupError):
                        worker.process.kill()
            await asyncio.gather(*(w.process.wait() for w in workers))
        for worker in workers:
            worker.control.close()
        self.listener.close()
        shutil.rmtree(self.run_dir, ignore_errors=True)
