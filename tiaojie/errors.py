"""The exception tree shared by every package.

Domain code raises these; only the edges (``web/``, ``signaling/``) map them to HTTP statuses or socket
error events. Every error has a stable machine-readable ``code``.

::

    TiaojieError
    ├── Unauthenticated            401 unauthenticated
    ├── PermissionDenied           403 forbidden
    ├── NotFound                   404 not_found
    ├── InvalidInput               422 validation_failed (and more specific codes), names the field
    ├── Conflict                   409 conflict
    │   ├── IllegalTransition      409 illegal_transition, names the current state
    │   └── IdempotencyConflict    409 idempotency_key_reused / idempotency_in_progress
    ├── PayloadTooLarge            413 payload_too_large
    ├── UnsupportedMediaType       415 unsupported_media_type
    └── RateLimited                429 rate_limited
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "Conflict",
    "IdempotencyConflict",
    "IllegalTransition",
    "InvalidInput",
    "NotFound",
    "PayloadTooLarge",
    "PermissionDenied",
    "RateLimited",
    "TiaojieError",
    "Unauthenticated",
    "UnsupportedMediaType",
]


class TiaojieError(Exception):
    """Root of every error the service raises on purpose."""

    code = "error"

    def __init__(self, message: str, *, code: str | None = None, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details: dict[str, Any] = details


class Unauthenticated(TiaojieError):
    code = "unauthenticated"


class PermissionDenied(TiaojieError):
    code = "forbidden"


class NotFound(TiaojieError):
    code = "not_found"


class InvalidInput(TiaojieError):
    """The request is well-formed but a value is not acceptable; ``field`` names the offending field."""

    code = "validation_failed"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None, **details: Any):
        super().__init__(message, code=code, **details)
        self.field = field


class Conflict(TiaojieError):
    code = "conflict"


class IllegalTransition(Conflict):
    """An event that the current state does not allow."""

    code = "illegal_transition"

    def __init__(self, message: str, *, current_state: str, event: str) -> None:
        super().__init__(message, current_state=current_state, event=event)
        self.current_state = current_state
        self.event = event


class IdempotencyConflict(Conflict):
    code = "idempotency_key_reused"


class PayloadTooLarge(TiaojieError):
    code = "payload_too_large"


class UnsupportedMediaType(TiaojieError):
    code = "unsupported_media_type"


class RateLimited(TiaojieError):
    code = "rate_limited"
