"""Mapping errors to responses at the edge: one JSON shape for the API, a page for the console.

Every error body is ``{"error": {"code", "message", "field"?, "errors"?, ...details}}`` with a stable
machine-readable ``code``. Input never produces a 500: anything unexpected is logged with a reference that
the response carries, and is a bug to fix.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any, get_args

from aiohttp import web
from pydantic import ValidationError
from pydantic_core.core_schema import ErrorType
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from tiaojie.errors import (
    Conflict,
    IdempotencyConflict,
    IllegalTransition,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    PermissionDenied,
    RateLimited,
    TiaojieError,
    Unauthenticated,
    UnsupportedMediaType,
)

__all__ = [
    "error_for",
    "error_middleware",
    "error_response",
    "invalid_input",
    "status_for",
    "validation_errors",
]

log = logging.getLogger(__name__)

_STATUS: tuple[tuple[type[TiaojieError], int], ...] = (
    (Unauthenticated, 401),
    (PermissionDenied, 403),
    (NotFound, 404),
    (IllegalTransition, 409),
    (IdempotencyConflict, 422),
    (Conflict, 409),
    (PayloadTooLarge, 413),
    (UnsupportedMediaType, 415),
    (InvalidInput, 422),
    (RateLimited, 429),
)


def status_for(exc: TiaojieError) -> int:
    for cls, status in _STATUS:
        if isinstance(exc, cls):
            return status
    return 400


def validation_errors(exc: ValidationError, *, prefix: str = "") -> list[dict[str, str]]:
    """Pydantic's errors as ``{field, code, message}``, never echoing the rejected input."""
    out = []
    for error in exc.errors(include_input=False, include_url=False):
        loc = ".".join(str(part) for part in error["loc"])
        out.append(
            {
                "field": f"{prefix}{loc}" if loc else prefix.rstrip("."),
                "code": error["type"],
                "message": error["msg"],
            }
        )
    return out


_PYDANTIC_ERROR_TYPES = frozenset(get_args(ErrorType))


def invalid_input(exc: ValidationError) -> InvalidInput:
    """A request's validation failure: names the first offending field, and carries that field's code when
    it is one of the service's own rules (``invalid_id_number``, ``invalid_phone`` …) rather than one of
    pydantic's generic ones (``missing``, ``string_too_long`` …, reported as ``validation_failed``)."""
    errors = validation_errors(exc)
    if not errors:
        return InvalidInput("invalid input")
    first = errors[0]
    code = None if first["code"] in _PYDANTIC_ERROR_TYPES else first["code"]
    return InvalidInput(first["message"], field=first["field"], code=code, errors=errors)


def error_response(status: int, code: str, message: str, **extra: Any) -> web.Response:
    body: dict[str, Any] = {"code": code, "message": message}
    body.update({k: v for k, v in extra.items() if v is not None})
    headers = {"WWW-Authenticate": 'Bearer realm="tiaojie"'} if status == 401 else None
    return web.json_response({"error": body}, status=status, headers=headers, dumps=_dumps)


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def error_for(exc: TiaojieError) -> web.Response:
    """The response for ``exc``; a RateLimited with ``retry_after`` (seconds) says so in ``Retry-After``."""
    # Details become fields of the error; none may take the place of the answer's own status, code or message.
    extra: dict[str, Any] = {k: v for k, v in exc.details.items() if k not in ("status", "code", "message")}
    if isinstance(exc, InvalidInput) and exc.field:
        extra["field"] = exc.field
    response = error_response(status_for(exc), exc.code, exc.message, **extra)
    if isinstance(exc, RateLimited) and isinstance(exc.details.get("retry_after"), int):
        response.headers["Retry-After"] = str(exc.details["retry_after"])
    return response


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    429: "rate_limited",
}


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turns every error into the JSON error shape (the console installs its own page renderer first)."""
    try:
        return await handler(request)
    except TiaojieError as exc:
        return error_for(exc)
    except ValidationError as exc:
        return error_for(invalid_input(exc))
    except StaleDataError:
        return error_response(
            409, "concurrent_update", "the resource changed meanwhile; read it again and retry"
        )
    except IntegrityError:
        log.info("integrity error on %s %s", request.method, request.path, exc_info=True)
        return error_response(409, "conflict", "the change conflicts with stored data")
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        if exc.content_type == "application/json":
            raise
        code = _HTTP_CODES.get(exc.status, "http_error")
        message = exc.reason
        if exc.status == 413:
            message = "request body too large"
        response = error_response(exc.status, code, message)
        for name in ("Allow",):
            if name in exc.headers:
                response.headers[name] = exc.headers[name]
        return response
    except Exception:
        ref = secrets.token_hex(6)
        log.exception("internal error %s on %s %s", ref, request.method, request.path)
        return error_response(
            500, "internal_error", "internal error; quote this reference to support", ref=ref
        )
