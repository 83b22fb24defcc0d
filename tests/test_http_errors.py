"""Requests the HTTP parser refuses (before any handler) get a JSON error with a code, like every other error,
on the server as ``tiaojie serve`` runs it (cluster.serving.start)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from cluster.serving import start


async def _healthz(request: web.Request) -> web.Response:
    return web.json_response({"ok": True})


@pytest.fixture
async def port() -> AsyncIterator[int]:
    """The parser's errors come before any route: a bare application, served as ``tiaojie serve`` serves
    the real one (cluster.serving.start)."""
    app = web.Application()
    app.router.add_get("/healthz", _healthz)
    runner, bound = await start(app, public=("127.0.0.1", 0), internal=None, tls=None)
    try:
        yield bound
    finally:
        await runner.cleanup()


async def _raw(port: int, request: bytes) -> tuple[int, dict[str, str], bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        await writer.drain()
        data = await asyncio.wait_for(reader.read(), 10)  # the server closes after a parse error
    finally:
        writer.close()
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    return int(lines[0].split()[1]), {k.lower(): v for k, v in headers.items()}, body


@pytest.mark.parametrize(
    ("request_bytes", "status", "code"),
    [
        (b"GET /api/v1/cases?q=" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414, "uri_too_long"),
        (
            b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 9000 + b"\r\n\r\n",
            431,
            "headers_too_large",
        ),
        (
            b"GET /healthz HTTP/1.1\r\nHost: x\r\nReferer: http://x/" + b"c" * 9000 + b"\r\n\r\n",
            431,
            "headers_too_large",
        ),
        (
            b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Path: /" + b"d" * 9000 + b"\r\n\r\n",
            431,
            "headers_too_large",
        ),
        (b"GET http://x/" + b"e" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414, "uri_too_long"),
        (b"HELLO THERE\r\n\r\n", 400, "malformed_request"),
        (b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n", 400, "malformed_request"),
    ],
    ids=[
        "long-url",
        "long-header",
        "long-header-like-a-url",
        "long-header-like-a-path",
        "long-absolute-url",
        "not-http",
        "bad-content-length",
    ],
)
async def test_what_the_parser_refuses_is_answered_in_json(
    port: int, request_bytes: bytes, status: int, code: str
) -> None:
    got, headers, body = await _raw(port, request_bytes)
    assert got == status
    assert headers["content-type"].startswith("application/json")
    assert json.loads(body)["error"]["code"] == code


async def test_a_good_request_on_the_same_server_is_answered(port: int) -> None:
    got, _, body = await _raw(port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert got == 200, body
