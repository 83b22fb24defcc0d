"""One delivery attempt over HTTP: POST the signed body, follow no redirect, give up after the timeout, and
connect only to allowed addresses (checked on every connection, not only at registration)."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Sequence

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver

from tiaojie import __version__
from tiaojie.errors import InvalidInput
from webhooks.addresses import IpNetwork, address_allowed, literal_address, parse_url
from webhooks.schedule import AttemptResult

__all__ = ["GuardedResolver", "Sender", "resolve_host"]

_EXCERPT_BYTES = 500
USER_AGENT = f"tiaojie-webhooks/{__version__}"


class GuardedResolver(AbstractResolver):
    """Resolves host names and keeps only the addresses the service may connect to."""

    def __init__(self, allowed: Sequence[IpNetwork]) -> None:
        self.allowed = tuple(allowed)
        self._inner = ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        kept = [r for r in results if _allowed(r["host"], self.allowed)]
        if not kept:
            raise OSError(f"{host} resolves only to addresses webhooks may not be sent to")
        return kept

    async def close(self) -> None:
        await self._inner.close()


def _allowed(host: str, allowed: Sequence[IpNetwork]) -> bool:
    address = literal_address(host.split("%", 1)[0])
    return address is not None and address_allowed(address, allowed)


async def resolve_host(host: str, port: int, *, within: float = 2.0) -> list[str]:
    """Every address ``host`` resolves to (an IP literal resolves to itself); OSError if none, TimeoutError
    after ``within`` seconds (a registering court system waits for it)."""
    if literal_address(host) is not None:
        return [host]
    loop = asyncio.get_running_loop()
    infos = await asyncio.wait_for(loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), within)
    return sorted({str(info[4][0]) for info in infos})


class Sender:
    """Sends attempts through one connection pool; use as an async context manager."""

    def __init__(self, allowed: Sequence[IpNetwork], *, timeout: float, connections: int = 8) -> None:
        self.allowed = tuple(allowed)
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self.connections = connections
        self._client: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Sender:
        connector = aiohttp.TCPConnector(
            resolver=GuardedResolver(self.allowed), limit=self.connections, limit_per_host=0
        )
        self._client = aiohttp.ClientSession(
            connector=connector, timeout=self.timeout, headers={"User-Agent": USER_AGENT}
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None

    async def send(self, url: str, headers: dict[str, str], body: bytes) -> AttemptResult:
        assert self._client is not None, "use the Sender as an async context manager"
        started = time.monotonic()

        def failed(error: str) -> AttemptResult:
            return AttemptResult(None, int((time.monotonic() - started) * 1000), error=error[:300])

        try:
            host = parse_url(url).host
        except InvalidInput:
            return failed("invalid URL")
        address = literal_address(host)
        if address is not None and not address_allowed(address, self.allowed):
            return failed("address not allowed")
        try:
            async with self._client.post(url, data=body, headers=headers, allow_redirects=False) as response:
                excerpt = await response.content.read(_EXCERPT_BYTES)
                return AttemptResult(
                    status=response.status,
                    latency_ms=int((time.monotonic() - started) * 1000),
                    retry_after=response.headers.get("Retry-After"),
                    # Stored in the log: no NUL (PostgreSQL text refuses it), invalid UTF-8 replaced.
                    response_excerpt=excerpt.decode("utf-8", "replace").replace("\x00", "\ufffd") or None,
                )
        except TimeoutError:
            return failed("timeout")
        except aiohttp.ClientConnectorDNSError as exc:
            return failed(f"cannot resolve or not allowed: {exc.os_error}")
        except aiohttp.ClientError as exc:
            return failed(f"{exc.__class__.__name__}: {exc}")
        except OSError as exc:
            return failed(f"{exc.__class__.__name__}: {exc.strerror or exc}")
