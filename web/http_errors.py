"""Requests too malformed to reach a handler (an over-long URL or header, a broken request line) answered
like every other error: JSON with a machine-readable code, not aiohttp's plain text.

aiohttp answers what its HTTP parser refuses from ``RequestHandler.handle_error``, before any middleware
runs. :func:`json_parse_errors` makes the runner's server create handlers of a subclass that answers those
(status 400 with an ``HttpProcessingError``) itself: 414 ``uri_too_long``, 431 ``headers_too_large``, 400
``malformed_request``; anything else goes to aiohttp's own. The connection is closed after the answer, as
aiohttp does.
"""

from __future__ import annotations

import logging

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError, LineTooLong
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_request import BaseRequest

from web.errors import error_response

__all__ = ["MAX_FIELD_BYTES", "MAX_URL_BYTES", "json_parse_errors", "parse_error"]

log = logging.getLogger(__name__)


MAX_URL_BYTES = 8190
"""The longest request line (method, URL, version) the parser takes: aiohttp's default."""
MAX_FIELD_BYTES = 8192
"""The longest header (name and value) the parser takes. It differs from :data:`MAX_URL_BYTES` so that a
refusal tells which one was too long: aiohttp's ``LineTooLong`` carries the limit it broke and the first
100 bytes of the line, and a header value may look like a URL (a long ``Referer: http://…``)."""


def parse_error(exc: HttpProcessingError) -> tuple[int, str, str]:
    """Status, code and message for what the HTTP parser refused."""
    if isinstance(exc, LineTooLong):
        limit = str(exc.args[1]) if len(exc.args) > 1 else ""
        if limit == str(MAX_URL_BYTES):  # the request line: the URL
            return 414, "uri_too_long", "the request's URL is too long"
        return 431, "headers_too_large", "a header of the request is too long"
    text = str(exc).lower()
    if "too many headers" in text:
        return 431, "headers_too_large", "the request has too many headers"
    return 400, "malformed_request", "the request is not valid HTTP/1.1"


class _JsonErrorsHandler(RequestHandler):
    __slots__ = ()

    def handle_error(
        self,
        request: BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        if status != 400 or not isinstance(exc, HttpProcessingError):
            response: web.StreamResponse = super().handle_error(request, status, exc, message)
            return response
        code_status, code, text = parse_error(exc)
        log.debug("refused a malformed request from %s: %s", request.remote, code)
        answer = error_response(code_status, code, text)
        answer.force_close()
        return answer


class _JsonErrorsServer(web.Server):
    def __call__(self) -> RequestHandler:
        handler = super().__call__()
        handler.__class__ = _JsonErrorsHandler
        return handler


def json_parse_errors(runner: web.BaseRunner) -> None:
    """After ``runner.setup()``: its connections answer malformed requests with JSON errors (make the runner
    with ``max_line_size=MAX_URL_BYTES, max_field_size=MAX_FIELD_BYTES``, so that a long URL and a long
    header are told apart)."""
    server = runner.server
    if type(server) is not web.Server:
        raise RuntimeError(f"expected aiohttp's web.Server, found {type(server).__name__}")
    server.__class__ = _JsonErrorsServer
