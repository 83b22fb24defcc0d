"""Verification codes of sealed agreements: 16 Crockford base32 characters (80 random bits), printed in
groups of four (``7KQ2-M9XD-4RTA-0HZB``). Typed back, case, spaces and hyphens do not matter, and the letters
people confuse with digits (O, I, L) are read as 0 and 1. Pure."""

from __future__ import annotations

import re
import secrets

__all__ = ["CODE_LENGTH", "grouped", "new_code", "normalise"]

CODE_LENGTH = 16
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_SEPARATORS = re.compile(r"[\s\-]+")
_VALID = re.compile(rf"^[{_ALPHABET}]{{{CODE_LENGTH}}}$")
_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})


def new_code() -> str:
    """A new code, ungrouped."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(CODE_LENGTH))


def normalise(typed: str) -> str | None:
    """The code as stored, or None when ``typed`` cannot be a code."""
    if len(typed) > 64:
        return None
    code = _SEPARATORS.sub("", typed).upper().translate(_READ_AS)
    return code if _VALID.match(code) else None


def grouped(code: str) -> str:
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))
