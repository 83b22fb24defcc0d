"""Login CSRF: a token in the login form bound to a short-lived pre-session cookie.

Before anyone is logged in there is no session to hold a CSRF token, so the login page sets a random
pre-session cookie (``SameSite=Strict``, ``HttpOnly``, only sent to ``/console/login``) and puts into its form
``<issued>.<HMAC(secret, nonce "." issued)>``. A login POST is accepted only with that cookie and a form
token made from it by this server within :data:`LOGIN_TOKEN_SECONDS`. A page on another site can neither
read the cookie nor compute the token, so it cannot log a victim into the attacker's account (login CSRF).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

__all__ = ["LOGIN_COOKIE", "LOGIN_TOKEN_SECONDS", "LoginTokens"]

LOGIN_COOKIE = "tj_prelogin"
LOGIN_TOKEN_SECONDS = 2 * 3600


class LoginTokens:
    """Issues and checks login-form tokens with a key derived from the service's secret."""

    def __init__(self, secret: str, *, max_age: int = LOGIN_TOKEN_SECONDS) -> None:
        self._key = hmac.new(secret.encode(), b"tiaojie console login csrf v1", hashlib.sha256).digest()
        self.max_age = max_age

    @staticmethod
    def new_nonce() -> str:
        return secrets.token_urlsafe(32)

    def _mac(self, nonce: str, issued: int) -> str:
        return hmac.new(self._key, f"{nonce}.{issued}".encode(), hashlib.sha256).hexdigest()

    def token(self, nonce: str, now: float) -> str:
        issued = int(now)
        return f"{issued}.{self._mac(nonce, issued)}"

    def valid(self, nonce: str | None, token: str | None, now: float) -> bool:
        if not nonce or not token or len(nonce) > 100 or len(token) > 100:
            return False
        issued_text, _, mac = token.partition(".")
        if not issued_text.isdigit() or not mac:
            return False
        issued = int(issued_text)
        if not 0 <= now - issued <= self.max_age:
            return False
        return hmac.compare_digest(mac.encode(), self._mac(nonce, issued).encode())
