"""Standard Webhooks signatures. Pure: secrets, ids and times are passed in.

A secret is ``whsec_`` followed by the base64 of 32 random bytes; the signature of a message is
``v1,<base64 HMAC-SHA256(secret bytes, "{webhook-id}.{webhook-timestamp}.{body}")>``. While a rotated
secret's overlap lasts, the ``webhook-signature`` header carries one signature per valid secret, separated
by spaces, so a receiver with either secret accepts the message.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Sequence

from tiaojie.at_rest import SecretBox

__all__ = [
    "SECRET_PREFIX",
    "headers",
    "new_secret",
    "open_secret",
    "seal_secret",
    "secret_bytes",
    "sign",
    "signature_header",
]

SECRET_PREFIX = "whsec_"  # noqa: S105 - the prefix every secret carries, not a secret


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def secret_bytes(secret: str) -> bytes:
    """The key bytes of a ``whsec_`` secret; ValueError if it is not one."""
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError("a webhook secret starts with whsec_")
    try:
        key = base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except binascii.Error:
        raise ValueError("a webhook secret is base64 after whsec_") from None
    if len(key) < 24:
        raise ValueError("a webhook secret has at least 24 bytes")
    return key


def seal_secret(box: SecretBox, secret: str, endpoint_id: str) -> str:
    """How a secret is stored: its key bytes sealed (:mod:`tiaojie.at_rest`), bound to its endpoint."""
    return box.seal(secret_bytes(secret), endpoint_id)


def open_secret(box: SecretBox, stored: str, endpoint_id: str) -> str:
    """The ``whsec_`` secret of a stored value; one stored in the clear before sealing is taken as it is."""
    if stored.startswith(SECRET_PREFIX):
        return stored
    return SECRET_PREFIX + base64.b64encode(box.open(stored, endpoint_id)).decode("ascii")


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """``v1,<signature>`` of one message with one secret."""
    content = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_bytes(secret), content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def signature_header(valid_secrets: Sequence[str], msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value: one signature per secret, the newest first."""
    if not valid_secrets:
        raise ValueError("no secret to sign with")
    return " ".join(sign(s, msg_id, timestamp, body) for s in valid_secrets)


def headers(valid_secrets: Sequence[str], msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """Every header of a delivery attempt."""
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(valid_secrets, msg_id, timestamp, body),
        "Content-Type": "application/json",
    }
