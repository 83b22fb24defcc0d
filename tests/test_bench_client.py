"""The benchmark's load generator: the HTTP/1.1 response parser (pure), its connections against a real
aiohttp server on loopback, the server process started with extra arguments, and CPU accounting."""

from __future__ import annotations

import asyncio
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bench.client import ConnectionPool, HttpError, Response, ResponseParser, build_request
from bench.common import ProcessCpu, Server

OK = b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 7\r\n\r\n{"a":1}'


def test_request_bytes() -> None:
    assert build_request("GET", "/x?y=1", "127.0.0.1:8", {"Authorization": "Bearer k"}) == (
        b"GET /x?y=1 HTTP/1.1\r\nHost: 127.0.0.1:8\r\nAuthorization: Bearer k\r\n\r\n"
    )
    body = '{"名":1}'.encode()
    request = build_request("POST", "/c", "h", {"Content-Type": "application/json"}, body)
    assert request.endswith(b"Content-Length: %d\r\n\r\n" % len(body) + body)


def test_parser_reads_responses_fed_in_any_pieces() -> None:
    stream = (
        OK + b"HTTP/1.1 404 Not Found\r\ncontent-length: 2\r\n\r\nno" + b"HTTP/1.1 204 No Content\r\n\r\n"
    )
    expected = [Response(200, b'{"a":1}'), Response(404, b"no"), Response(204, b"")]
    assert ResponseParser().feed(stream) == expected
    parser = ResponseParser()
    got: list[Response] = []
    for i in range(len(stream)):
        got += parser.feed(stream[i : i + 1])
        if i < len(OK) - 1:
            assert got == []
    assert got == expected
    assert parser.idle


@pytest.mark.parametrize(
    ("head", "message"),
    [
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "chunked"),
        (b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n", "without Content-Length"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "bad Content-Length"),
        (b"SMTP 220 hello\r\n\r\n", "bad status line"),
        (b"HTTP/1.1 2000 OK\r\n\r\n", "bad status line"),
    ],
)
def test_parser_refuses_other_framing(head: bytes, message: str) -> None:
    with pytest.raises(HttpError, match=message):
        ResponseParser().feed(head)


def test_parser_refuses_an_endless_head() -> None:
    with pytest.raises(HttpError, match="too long"):
        ResponseParser().feed(b"HTTP/1.1 200 OK\r\n" + b"X: y\r\n" * 20_000)


@pytest.fixture
async def server() -> AsyncIterator[tuple[TestServer, list[object]]]:
    peers: list[object] = []
    never = asyncio.Event()

    async def echo(request: web.Request) -> web.Response:
        peers.append(request.transport.get_extra_info("peername") if request.transport else None)
        body = await request.read()
        return web.json_response(
            {"path": request.path_qs, "body": body.decode(), "auth": request.headers.get("Authorization")}
        )

    async def slow(request: web.Request) -> web.Response:
        await never.wait()
        return web.Response()

    async def hang_up(request: web.Request) -> web.Response:
        assert request.transport is not None
        request.transport.close()
        await never.wait()
        return web.Response()

    app = web.Application()
    app.router.add_route("*", "/echo", echo)
    app.router.add_get("/slow", slow)
    app.router.add_get("/hang-up", hang_up)
    test_server = TestServer(app, host="127.0.0.1", port=0)
    await test_server.start_server()
    yield test_server, peers
    await test_server.close()


async def test_pool_keeps_connections_alive(server: tuple[TestServer, list[object]]) -> None:
    test_server, peers = server
    assert test_server.port is not None
    pool = ConnectionPool("127.0.0.1", test_server.port)
    host = f"127.0.0.1:{test_server.port}"
    try:
        for n in range(3):
            body = f"第{n}".encode()
            response = await pool.send(
                build_request("POST", f"/echo?n={n}", host, {"Authorization": "Bearer t"}, body), 5.0
            )
            assert response.status == 200
            assert json.loads(response.body) == {"path": f"/echo?n={n}", "body": f"第{n}", "auth": "Bearer t"}
        missing = await pool.send(build_request("GET", "/nothing", host), 5.0)
        assert missing.status == 404
    finally:
        pool.close()
    assert len(peers) == 3
    assert len(set(peers)) == 1  # one keep-alive connection for all of them


async def test_a_late_answer_is_a_timeout_and_the_connection_is_dropped(
    server: tuple[TestServer, list[object]],
) -> None:
    test_server, _ = server
    assert test_server.port is not None
    pool = ConnectionPool("127.0.0.1", test_server.port)
    host = f"127.0.0.1:{test_server.port}"
    try:
        with pytest.raises(TimeoutError):
            await pool.send(build_request("GET", "/slow", host), 0.2)
        with pytest.raises(HttpError, match="connection closed"):
            await pool.send(build_request("GET", "/hang-up", host), 5.0)
        ok = await pool.send(build_request("GET", "/echo", host), 5.0)  # a fresh connection
        assert ok.status == 200
    finally:
        pool.close()


def test_server_refusing_an_argument_fails_at_once(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIAOJIE_")}
    env["TIAOJIE_DATA_DIR"] = str(tmp_path)
    server = Server(env, tmp_path / "server.log", ["--no-such-option=1"])
    with pytest.raises(RuntimeError, match=r"exited with status 2 before serving(.|\n)*no-such-option"):
        server.start(timeout=50)
    assert server.process is None


def test_process_cpu_counts_children() -> None:
    """A child that ran and was reaped between mark() and shares() is counted (a worker process)."""
    cpu = ProcessCpu(os.getpid())
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    cpu.mark()
    subprocess.run([sys.executable, "-c", "sum(range(20_000_000))"], check=True, timeout=50)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    child = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    total, main = cpu.shares()
    seconds = total * (time.monotonic() - started)
    assert child > 0.05
    assert seconds >= child * 0.8
    assert main <= total + 0.05


def test_process_cpu_of_the_load_generator_leaves_its_children_out() -> None:
    cpu = ProcessCpu(os.getpid(), children=False)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    cpu.mark()
    subprocess.run([sys.executable, "-c", "sum(range(20_000_000))"], check=True, timeout=50)
    total, _ = cpu.shares()
    seconds = total * (time.monotonic() - started)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    child = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    assert child > 0.05
    assert seconds < child / 2  # this process only waited
    assert cpu.processes == 1
