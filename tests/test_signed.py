"""tiaojie.signed: tokens round-trip, and one made for another purpose, secret or version is refused."""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

import pytest

from tiaojie import signed

SECRET = "s" * 40


def seal(payload: dict[str, Any]) -> str:
    return signed.seal(payload, version="v1", purpose=b"join", secret=SECRET)


def unseal(token: str, version: str = "v1", purpose: bytes = b"join", secret: str = SECRET) -> dict[str, Any]:
    return signed.unseal(token, version=version, purpose=purpose, secret=secret)


def test_round_trip() -> None:
    assert unseal(seal({"p": "par_1", "exp": 5})) == {"p": "par_1", "exp": 5}


def test_other_purpose_secret_or_version_refused() -> None:
    token = seal({"p": "par_1"})
    with pytest.raises(signed.NotGenuine):
        unseal(token, purpose=b"judicial")
    with pytest.raises(signed.NotGenuine):
        unseal(token, secret="t" * 40)
    with pytest.raises(signed.Malformed):
        unseal(token, version="v2")


@pytest.mark.parametrize("token", ["", "a.b", "v2.e30.AAAA", "v1.a.AAAA", "v1." + "x" * 2000 + ".y"])
def test_malformed(token: str) -> None:
    with pytest.raises(signed.Malformed):
        unseal(token)


def test_a_genuine_token_whose_payload_is_not_an_object_is_malformed() -> None:
    body = "v1." + base64.urlsafe_b64encode(b"[1]").rstrip(b"=").decode()
    key = hmac.new(SECRET.encode(), b"join", hashlib.sha256).digest()
    mac = hmac.new(key, body.encode(), hashlib.sha256).digest()
    with pytest.raises(signed.Malformed):
        unseal(body + "." + base64.urlsafe_b64encode(mac).rstrip(b"=").decode())
