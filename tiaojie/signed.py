"""Signed, versioned tokens for links sent to people without accounts: ``<version>.<payload>.<signature>``.

The payload is base64url JSON; the signature is base64url HMAC-SHA256 over ``<version>.<payload>`` with a key
derived from the service's secret and a purpose string, so a token made for one purpose (joining a room,
confirming an application) is never accepted for another. Pure: the secret is passed in. The callers keep
their own claims, expiry rules and error codes; this module says only whether a token is well formed
(:class:`Malformed`) and genuine (:class:`NotGenuine`); :func:`open_link` adds what every kind of link does
next — its claims read from the payload, the expiry checked, each failure as that kind's own error.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVar

__all__ = ["MAX_LENGTH", "LinkKind", "Malformed", "NotGenuine", "open_link", "seal", "unseal"]

MAX_LENGTH = 1024


class Malformed(ValueError):
    """Not a token of this version: wrong shape, bad base64, or a payload that is not a JSON object."""


class NotGenuine(ValueError):
    """Well formed, but not signed with this secret for this purpose."""


def _key(secret: str, purpose: bytes) -> bytes:
    return hmac.new(secret.encode(), purpose, hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def seal(payload: Mapping[str, Any], *, version: str, purpose: bytes, secret: str) -> str:
    body = f"{version}.{_b64(json.dumps(dict(payload), separators=(',', ':')).encode())}"
    return f"{body}.{_b64(hmac.new(_key(secret, purpose), body.encode(), hashlib.sha256).digest())}"


def unseal(token: str, *, version: str, purpose: bytes, secret: str) -> dict[str, Any]:
    """The payload of a genuine token; :class:`Malformed` or :class:`NotGenuine` otherwise."""
    if not token or len(token) > MAX_LENGTH or token.count(".") != 2:
        raise Malformed
    got_version, payload_text, signature_text = token.split(".")
    if got_version != version:
        raise Malformed
    try:
        signature = _unb64(signature_text)
        payload_bytes = _unb64(payload_text)
    except (binascii.Error, ValueError):
        raise Malformed from None
    expected = hmac.new(_key(secret, purpose), f"{version}.{payload_text}".encode(), hashlib.sha256).digest()
    if not hmac.compare_digest(signature, expected):
        raise NotGenuine
    try:
        payload = json.loads(payload_bytes)
    except ValueError:
        raise Malformed from None
    if not isinstance(payload, dict):
        raise Malformed
    return payload


class _Expiring(Protocol):
    @property
    def expires_at(self) -> int: ...  # unix seconds


C = TypeVar("C", bound=_Expiring)


@dataclass(frozen=True, slots=True)
class LinkKind:
    """One kind of link: its token version and purpose, the error it raises, and the message and code of each
    failure (``error(message, code=...)``)."""

    version: str
    purpose: bytes
    error: Callable[..., Exception]
    malformed: tuple[str, str]
    not_genuine: tuple[str, str]
    expired: tuple[str, str]

    def fail(self, what: tuple[str, str]) -> Exception:
        message, code = what
        return self.error(message, code=code)


def open_link(
    token: str, kind: LinkKind, *, secret: str, now: datetime, claims: Callable[[Mapping[str, Any]], C]
) -> C:
    """The claims of a genuine, unexpired link of ``kind``. ``claims`` reads them from the payload; a
    KeyError, TypeError or ValueError there means a malformed link."""
    try:
        payload = unseal(token, version=kind.version, purpose=kind.purpose, secret=secret)
    except Malformed:
        raise kind.fail(kind.malformed) from None
    except NotGenuine:
        raise kind.fail(kind.not_genuine) from None
    try:
        found = claims(payload)
    except (KeyError, TypeError, ValueError):
        raise kind.fail(kind.malformed) from None
    if now.timestamp() >= found.expires_at:
        raise kind.fail(kind.expired)
    return found
