"""A benchmark's server under test as a child process, driven by JSON lines over its stdin and stdout.

The child runs :func:`serve_lines` with a handler: each request ``{"id", "op", ...}`` gets a reply
``{"id", "result"}`` or ``{"id", "error"}``, and the child may write events ``{"event", ...}`` at any time
with the ``emit`` it is given. The parent's :class:`PipeServer` starts it (``python -m <module> --serve``),
matches replies to calls, hands events to ``on_event``, reads its CPU time and memory from ``/proc``, and
stops it by its PID. Used where the thing measured is not the tiaojie server itself: the engine alone
(:mod:`bench.media_fanout`) and aiortc's re-encoding relay (:mod:`bench.media_relay`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from collections.abc import Awaitable, Callable
from typing import Any

__all__ = ["Emit", "Handler", "PipeServer", "serve_lines"]

Emit = Callable[[dict[str, Any]], None]
Handler = Callable[[str, dict[str, Any], Emit], Awaitable[Any]]
"""``handler(op, request, emit)`` → the result (JSON-serialisable); op ``close`` ends the loop."""


async def serve_lines(handler: Handler, on_close: Callable[[], Awaitable[None]] | None = None) -> None:
    """In the child: answer requests from stdin until ``close`` or end of input."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    tasks: set[asyncio.Task[None]] = set()

    def emit(message: dict[str, Any]) -> None:
        sys.stdout.write(json.dumps(message) + "\n")
        sys.stdout.flush()

    async def answer(request: dict[str, Any]) -> None:
        try:
            emit({"id": request["id"], "result": await handler(request["op"], request, emit)})
        except Exception as exc:
            emit({"id": request["id"], "error": repr(exc)})

    while line := await reader.readline():
        request = json.loads(line)
        if request["op"] == "close":
            emit({"id": request["id"], "result": None})
            break
        task = asyncio.ensure_future(answer(request))  # requests of different participants overlap
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    await asyncio.gather(*tasks, return_exceptions=True)
    if on_close is not None:
        await on_close()


class PipeServer:
    """The child process and a tiny RPC to it."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.on_event: Callable[[dict[str, Any]], None] | None = None
        self._waiting: dict[int, asyncio.Future[Any]] = {}
        self._next = 0
        self._reader = asyncio.ensure_future(self._read())

    @classmethod
    async def start(cls, module: str, *arguments: str) -> PipeServer:
        """Run ``python -m module --serve *arguments`` as the child."""
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            module,
            "--serve",
            *arguments,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=1 << 22,  # SDP offers of many m-sections
        )
        return cls(process)

    @property
    def pid(self) -> int:
        return self.process.pid

    async def _read(self) -> None:
        assert self.process.stdout is not None
        while line := await self.process.stdout.readline():
            message = json.loads(line)
            if "event" in message:
                if self.on_event is not None:
                    self.on_event(message)
                continue
            future = self._waiting.pop(message["id"], None)
            if future is None or future.done():
                continue
            if "error" in message:
                future.set_exception(RuntimeError(message["error"]))
            else:
                future.set_result(message["result"])

    async def call(self, op: str, **arguments: Any) -> Any:
        assert self.process.stdin is not None
        self._next += 1
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting[self._next] = future
        self.process.stdin.write((json.dumps({"id": self._next, "op": op, **arguments}) + "\n").encode())
        await self.process.stdin.drain()
        return await asyncio.wait_for(future, 60)

    async def stop(self) -> None:
        with contextlib.suppress(TimeoutError, RuntimeError, ConnectionError):
            await asyncio.wait_for(self.call("close"), 10)
        if self.process.returncode is None:
            try:
                await asyncio.wait_for(self.process.wait(), 15)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader
