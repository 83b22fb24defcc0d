"""A lean HTTP/1.1 keep-alive client for load generation, on asyncio protocols.

A general client (aiohttp's) costs about 0.6 ms of CPU per request; on a 2-core machine that comes out of
the server's share. This one sends requests built in advance as bytes, one at a time per connection, and
reads each response by its status line and ``Content-Length`` only: what the service under test sends. Any
other framing (chunked bodies, a body that runs to the end of the connection) is a protocol error, as is a
byte the server sends when no request is waiting.

    ResponseParser   pure: bytes in, (status, body) out; no sockets
    Connection       one keep-alive connection (an asyncio.Protocol), one request in flight at a time
    ConnectionPool   idle connections to one host, opened on demand

Errors: ``HttpError`` (a protocol error, a closed connection) and ``TimeoutError``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["Connection", "ConnectionPool", "HttpError", "Response", "ResponseParser", "build_request"]

_MAX_HEAD = 64 * 1024


class HttpError(Exception):
    """The server broke the protocol or closed the connection before a whole response arrived."""


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    body: bytes


def build_request(
    method: str, target: str, host: str, headers: Mapping[str, str] | None = None, body: bytes | None = None
) -> bytes:
    """The bytes of one request. ``target`` is the path and query; a body gets its ``Content-Length``."""
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host}"]
    lines.extend(f"{name}: {value}" for name, value in (headers or {}).items())
    if body is not None:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b"")


class ResponseParser:
    """Splits a byte stream into responses framed by ``Content-Length`` (no body for 1xx, 204 and 304)."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._status = 0
        self._remaining = -1  # body bytes still expected; -1 while reading the head

    @property
    def idle(self) -> bool:
        """No partial response is buffered."""
        return self._remaining < 0 and not self._buffer

    def feed(self, data: bytes) -> list[Response]:
        """The responses completed by ``data`` (usually none or one). Raises HttpError on bad framing."""
        self._buffer += data
        done: list[Response] = []
        while True:
            if self._remaining < 0:
                end = self._buffer.find(b"\r\n\r\n")
                if end < 0:
                    if len(self._buffer) > _MAX_HEAD:
                        raise HttpError("response head too long")
                    return done
                self._status, self._remaining = _parse_head(bytes(self._buffer[:end]))
                del self._buffer[: end + 4]
            if len(self._buffer) < self._remaining:
                return done
            body = bytes(self._buffer[: self._remaining])
            del self._buffer[: self._remaining]
            done.append(Response(self._status, body))
            self._remaining = -1


def _parse_head(head: bytes) -> tuple[int, int]:
    """(status, body length) from a response head without its final blank line."""
    lines = head.split(b"\r\n")
    parts = lines[0].split(b" ", 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit() or len(parts[1]) != 3:
        raise HttpError(f"bad status line: {lines[0][:100]!r}")
    status = int(parts[1])
    length = -1
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            value = value.strip()
            if not value.isdigit():
                raise HttpError(f"bad Content-Length: {value[:40]!r}")
            length = int(value)
        elif name == b"transfer-encoding":
            raise HttpError("chunked or otherwise encoded bodies are not supported")
    if status < 200 or status in (204, 304):
        return status, 0
    if length < 0:
        raise HttpError(f"HTTP {status} without Content-Length")
    return status, length


class Connection(asyncio.Protocol):
    """One keep-alive connection; ``send`` writes a request and waits for its whole response."""

    def __init__(self) -> None:
        self._parser = ResponseParser()
        self._transport: asyncio.Transport | None = None
        self._waiter: asyncio.Future[Response] | None = None
        self.closed = False

    @classmethod
    async def open(cls, host: str, port: int) -> Connection:
        loop = asyncio.get_running_loop()
        _, protocol = await loop.create_connection(cls, host, port)
        return protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        try:
            responses = self._parser.feed(data)
            if len(responses) > 1 or (responses and self._waiter is None):
                raise HttpError("the server sent a response nobody asked for")
        except HttpError as exc:
            self._fail(exc)
            self.close()
            return
        if responses and self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(responses[0])

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._fail(HttpError(f"connection closed{f': {exc}' if exc else ''}"))

    def _fail(self, exc: BaseException) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(exc)

    async def send(self, request: bytes, within: float) -> Response:
        """Write ``request`` and wait for its response; TimeoutError (and the connection closed) after
        ``within`` seconds. (A timer, not ``asyncio.timeout``: cheaper, and this runs per request.)"""
        if self.closed or self._transport is None:
            raise HttpError("connection closed")
        if self._waiter is not None and not self._waiter.done():
            raise RuntimeError("one request at a time on a connection")
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[Response] = loop.create_future()
        self._waiter = waiter
        timer = loop.call_later(within, self._expire, waiter)
        self._transport.write(request)
        try:
            return await waiter
        finally:
            timer.cancel()
            self._waiter = None

    def _expire(self, waiter: asyncio.Future[Response]) -> None:
        if not waiter.done():
            waiter.set_exception(TimeoutError("no response in time"))
            self.close()  # a late response would be taken for the next request's

    def close(self) -> None:
        self.closed = True
        if self._transport is not None:
            self._transport.close()


class ConnectionPool:
    """Idle keep-alive connections to one host and port; a connection that failed is not reused."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self._idle: list[Connection] = []
        self._all: set[Connection] = set()

    async def send(self, request: bytes, within: float) -> Response:
        connection = self._idle.pop() if self._idle else None
        if connection is not None and connection.closed:
            self._all.discard(connection)
            connection = None
        if connection is None:
            connection = await asyncio.wait_for(Connection.open(self.host, self.port), within)
            self._all.add(connection)
        try:
            response = await connection.send(request, within)
        except BaseException:
            connection.close()
            self._all.discard(connection)
            raise
        self._idle.append(connection)
        return response

    def close(self) -> None:
        for connection in self._all:
            connection.close()
        self._all.clear()
        self._idle.clear()
