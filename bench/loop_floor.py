"""What one wake-up per datagram costs, before any media work: the floor under the server's receive side.

A child process sends 1,100-byte UDP datagrams on loopback at a steady rate (145 a second by default: one
published VP8 + Opus track); this process receives them in four ways and reports the CPU it spent per
datagram (user + system, from ``resource``) and, with ``--fanout N``, per copy when each datagram is sent on
to N other sockets:

- ``blocking``: a blocking ``recvfrom`` loop (what a C server's thread per socket pays at least),
- ``epoll``: ``select.epoll`` with a 1 s timeout and a non-blocking ``recvfrom``,
- ``asyncio``: the standard library's selector event loop and a ``DatagramProtocol``,
- ``uvloop``: the same protocol on uvloop (if installed).

    python -m bench.loop_floor [--rate 145] [--seconds 8] [--fanout 0] [--runs 2]

Everything binds 127.0.0.1; the sender stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import resource
import select
import socket
import time
from collections.abc import Iterator

from tiaojie import event_loop

__all__ = ["main"]

PAYLOAD = bytes(1100)
WARMUP = 1.0


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _send(port: int, rate: float, seconds: float) -> None:
    """The child: ``rate`` datagrams a second to ``port`` for ``seconds``, paced by the clock."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    start = time.monotonic()
    index = 0
    while (now := time.monotonic()) - start < seconds:
        due = start + index / rate
        if due > now:
            time.sleep(due - now)
        with contextlib.suppress(OSError):
            sock.sendto(PAYLOAD, ("127.0.0.1", port))
        index += 1
    os._exit(0)


class _Sinks:
    """``fanout`` loopback sockets that receive the copies (large buffers, never read)."""

    def __init__(self, fanout: int) -> None:
        self.receivers = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(fanout)]
        for receiver in self.receivers:
            receiver.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
            receiver.bind(("127.0.0.1", 0))
        self.out = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.addresses = [receiver.getsockname() for receiver in self.receivers]

    def forward(self, data: bytes) -> None:
        for address in self.addresses:
            self.out.sendto(data, address)

    def close(self) -> None:
        for receiver in (*self.receivers, self.out):
            receiver.close()


class _Window:
    """Counts datagrams and CPU from the end of the warm-up to the end of the run."""

    def __init__(self, seconds: float) -> None:
        self.started = time.monotonic()
        self.opens = self.started + WARMUP
        self.closes = self.started + WARMUP + seconds
        self.count = 0
        self.cpu_start: float | None = None
        self.cpu_end = 0.0
        self.counted = 0

    def tick(self) -> bool:
        """One datagram arrived; False once the window has closed."""
        now = time.monotonic()
        if now >= self.closes:
            if self.cpu_start is not None and not self.cpu_end:
                self.cpu_end = _cpu()
            return False
        if now >= self.opens:
            if self.cpu_start is None:
                self.cpu_start = _cpu()
            else:
                self.counted += 1
        return True


def _pump(datagrams: Iterator[bytes], window: _Window, sinks: _Sinks) -> None:
    """Forward what arrives until the window closes (or nothing arrives for a second)."""
    for data in datagrams:
        sinks.forward(data)
        if not window.tick():
            break


def _blocking(sock: socket.socket) -> Iterator[bytes]:
    sock.settimeout(1.0)
    with contextlib.suppress(TimeoutError):
        while True:
            yield sock.recv(2048)


def _epoll(sock: socket.socket) -> Iterator[bytes]:
    sock.setblocking(False)
    poller = select.epoll()
    poller.register(sock.fileno(), select.EPOLLIN)
    try:
        while poller.poll(1.0):
            with contextlib.suppress(BlockingIOError):
                yield sock.recv(2048)
    finally:
        poller.close()


def _on_event_loop(
    choice: event_loop.EventLoopChoice, sock: socket.socket, window: _Window, sinks: _Sinks
) -> None:
    async def serve() -> None:
        done = asyncio.get_running_loop().create_future()

        class Protocol(asyncio.DatagramProtocol):
            def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
                sinks.forward(data)
                if not window.tick() and not done.done():
                    done.set_result(None)

        sock.setblocking(False)
        transport, _ = await asyncio.get_running_loop().create_datagram_endpoint(Protocol, sock=sock)
        try:
            await asyncio.wait_for(done, WARMUP + (window.closes - window.opens) + 5)
        finally:
            transport.close()

    event_loop.run(serve(), choice)


def _ways() -> list[str]:
    """The ways of receiving this machine has (uvloop only where it is installed)."""
    return ["blocking", "epoll", "asyncio"] + (["uvloop"] if event_loop.loop_factory("auto") else [])


def measure(way: str, rate: float, seconds: float, fanout: int) -> tuple[float, float]:
    """(datagrams a second received in the window, CPU µs per datagram) for one way of receiving."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sinks = _Sinks(fanout)
    child = os.fork()
    if child == 0:
        _send(sock.getsockname()[1], rate, WARMUP + seconds + 1.0)
    try:
        window = _Window(seconds)
        if way == "blocking":
            _pump(_blocking(sock), window, sinks)
        elif way == "epoll":
            _pump(_epoll(sock), window, sinks)
        else:
            _on_event_loop("uvloop" if way == "uvloop" else "asyncio", sock, window, sinks)
    finally:
        os.waitpid(child, 0)
        sock.close()
        sinks.close()
    if window.cpu_start is None or not window.counted:
        raise RuntimeError(f"{way}: nothing arrived in the window")
    cpu = (window.cpu_end or _cpu()) - window.cpu_start
    return window.counted / seconds, cpu / window.counted * 1e6


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--rate", type=float, default=145.0, help="datagrams a second (145)")
    parser.add_argument("--seconds", type=float, default=8.0, help="measurement window (8)")
    parser.add_argument("--fanout", type=int, default=0, help="copies sent on per datagram (0)")
    parser.add_argument("--runs", type=int, default=2, help="runs of each way, alternating (2)")
    arguments = parser.parse_args(argv)
    load = os.getloadavg()
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} CPUs")
    ways = _ways()
    print(f"{'way':>9} {'rate/s':>7} {'µs CPU per datagram':>20}")
    for _ in range(arguments.runs):
        for way in ways:
            rate, micros = measure(way, arguments.rate, arguments.seconds, arguments.fanout)
            print(f"{way:>9} {rate:>7.0f} {micros:>20.1f}")


if __name__ == "__main__":
    main()
