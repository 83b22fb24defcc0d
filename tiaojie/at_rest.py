"""Secrets the service must be able to read back (webhook signing keys) kept encrypted in the database.

A hash will not do for a key the service signs with, so such values are sealed with AES-256-GCM under a key
derived from the configured ``TIAOJIE_SECRET_KEY`` (never stored beside the data): a copy of the database
alone does not let anyone sign as the service. Each value is bound to a context (its row's id) as associated
data, so a sealed value copied into another row does not open. Pure: the secret is passed in.

Format: ``v1.<base64url(nonce ‖ ciphertext ‖ tag)>``. Changing ``TIAOJIE_SECRET_KEY`` makes sealed values
unreadable (:class:`SecretUnreadable`): whatever they protect must be issued again.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tiaojie.errors import TiaojieError

__all__ = ["PREFIX", "SecretBox", "SecretUnreadable"]

PREFIX = "v1."
_NONCE = 12
_PURPOSE = b"tiaojie at-rest secrets v1"


class SecretUnreadable(TiaojieError):
    """A sealed value that does not open: the secret key changed, or the value was altered or moved."""

    code = "secret_unreadable"


class SecretBox:
    def __init__(self, secret_key: str) -> None:
        if not secret_key:
            raise ValueError("a secret key is needed")
        self._aead = AESGCM(hmac.new(secret_key.encode(), _PURPOSE, hashlib.sha256).digest())

    def seal(self, data: bytes, context: str) -> str:
        nonce = os.urandom(_NONCE)
        sealed = nonce + self._aead.encrypt(nonce, data, context.encode())
        return PREFIX + base64.urlsafe_b64encode(sealed).rstrip(b"=").decode("ascii")

    def open(self, value: str, context: str) -> bytes:
        if not value.startswith(PREFIX):
            raise SecretUnreadable("not a sealed value")
        text = value.removeprefix(PREFIX)
        try:
            sealed = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        except (binascii.Error, ValueError):
            raise SecretUnreadable("not a sealed value") from None
        if len(sealed) < _NONCE + 16:
            raise SecretUnreadable("not a sealed value")
        try:
            return self._aead.decrypt(sealed[:_NONCE], sealed[_NONCE:], context.encode())
        except InvalidTag:
            raise SecretUnreadable("a sealed secret does not open: was TIAOJIE_SECRET_KEY changed?") from None
