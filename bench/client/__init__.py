"""The load generator's HTTP client: lean HTTP/1.1 keep-alive connections on asyncio protocols."""

from bench.client.http1 import Connection, ConnectionPool, HttpError, Response, ResponseParser, build_request

__all__ = ["Connection", "ConnectionPool", "HttpError", "Response", "ResponseParser", "build_request"]
