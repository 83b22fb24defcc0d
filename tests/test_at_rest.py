"""Sealed secrets (tiaojie/at_rest.py): they open with the same key and context only, and tampering shows."""

from __future__ import annotations

import pytest

from tiaojie.at_rest import PREFIX, SecretBox, SecretUnreadable

KEY = "k" * 40


def test_a_sealed_value_opens_with_its_key_and_context_only() -> None:
    box = SecretBox(KEY)
    sealed = box.seal(b"\x00secret bytes\xff", "whe_1")
    assert sealed.startswith(PREFIX)
    assert box.open(sealed, "whe_1") == b"\x00secret bytes\xff"
    assert box.seal(b"same", "whe_1") != box.seal(b"same", "whe_1")  # a fresh nonce every time
    with pytest.raises(SecretUnreadable):
        box.open(sealed, "whe_2")
    with pytest.raises(SecretUnreadable):
        SecretBox("x" * 40).open(sealed, "whe_1")


@pytest.mark.parametrize(
    "value",
    ["", "whsec_abc", PREFIX, PREFIX + "!!!", PREFIX + "AAAA", "v2.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"],
)
def test_anything_else_does_not_open(value: str) -> None:
    with pytest.raises(SecretUnreadable):
        SecretBox(KEY).open(value, "whe_1")


def test_a_changed_byte_does_not_open() -> None:
    box = SecretBox(KEY)
    sealed = box.seal(b"0123456789abcdef", "c")
    body = sealed.removeprefix(PREFIX)
    for index in (0, len(body) // 2, len(body) - 2):
        flipped = body[:index] + ("A" if body[index] != "A" else "B") + body[index + 1 :]
        with pytest.raises(SecretUnreadable):
            box.open(PREFIX + flipped, "c")


def test_a_key_is_needed() -> None:
    with pytest.raises(ValueError, match="secret key"):
        SecretBox("")
