"""Masking of personal data (PIPL) for lists, logs and error messages.

The ``mask_*`` functions turn one known value into a form that is safe to show to people who may not see it
in full (``"410***********123X"``, ``"138****5678"``). :func:`scrub` finds resident ID numbers, unified social
credit codes and mobile numbers inside free text and masks them, and :class:`ScrubbingFilter` does the same
to every log record that passes through a handler. Names are not masked for the people who handle a case
(parties must be recognisable); only pages anyone may open, such as the public verify page, show
:func:`mask_name`.

This module depends on nothing else in the project, so any package (including logging set-up) may use it.
"""

from __future__ import annotations

import logging
import re

__all__ = [
    "ScrubbingFilter",
    "mask_address",
    "mask_credit_code",
    "mask_id_number",
    "mask_name",
    "mask_phone",
    "scrub",
]

_STAR = "*"
_MIN_STARS = 4
_ADDRESS_KEEP = 6

_WHITESPACE_RE = re.compile(r"\s+")
_NON_DIGIT_RE = re.compile(r"[^0-9]")
_MOBILE_RE = re.compile(r"1[3-9][0-9]{9}")
# Where an explicit phone extension begins: "转8001", "分机8001", "ext. 8001", "x8001", "#8001".
_EXTENSION_MARK_RE = re.compile(r"转|分机|ext|x|#", re.IGNORECASE)

# The 31 characters of GB 32100-2015 in the order of their values, and the weights 3**i mod 31.
_CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_CODE_VALUES = {char: value for value, char in enumerate(_CREDIT_CODE_ALPHABET)}
_CREDIT_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_CREDIT_CODE_RE = re.compile(r"[0-9A-HJ-NP-RT-UW-Y]{18}")

# What a resident ID number looks like (province code, birth date 18xx-20xx, sequence, check character);
# the check character is not verified, so a mistyped number is masked too.
_RESIDENT_ID_SHAPE_RE = re.compile(
    r"(?:1[1-5]|2[1-3]|3[1-7]|4[1-6]|5[0-4]|6[1-5]|71|8[12])[0-9]{4}"
    r"(?:18|19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])[0-9]{3}[0-9Xx]"
)

# One pass over the text finds both kinds of candidate; ``_replace`` decides what each one is. Only ASCII
# letters and digits count as neighbours, so a number written right next to Chinese text is still found.
_SCRUB_RE = re.compile(
    r"(?<![0-9A-Za-z])"
    r"(?:"
    # an 18-character token: resident ID number or credit code
    r"(?P<token>[0-9A-Za-z]{18})"
    # a mobile number, optionally with +86 / 0086 / 86 and with 3-4-4 groups separated by a space or hyphen,
    # not the fraction of a decimal number
    r"|(?<![0-9]\.)(?P<mobile>(?:(?:\+|00)?86[ -]?)?1[3-9][0-9](?:[ -]?[0-9]{4}){2})(?!\.[0-9])"
    r")"
    r"(?![0-9A-Za-z])"
)


def _mask_generic(text: str) -> str:
    """Keep the last two characters behind at least four stars; values of two characters or fewer vanish."""
    if not text:
        return ""
    if len(text) <= 2:
        return _STAR * _MIN_STARS
    return _STAR * max(_MIN_STARS, len(text) - 2) + text[-2:]


def mask_id_number(value: str) -> str:
    """Mask an ID document number: ``"410***********123X"`` for 18 characters, ``"*******78"`` otherwise.

    An 18-character number keeps its first three (the province and city) and its last four characters. Any
    other length keeps only its last two characters, behind at least four stars.
    """
    number = _WHITESPACE_RE.sub("", value).upper()
    if len(number) == 18:
        return number[:3] + _STAR * 11 + number[-4:]
    return _mask_generic(number)


def mask_credit_code(value: str) -> str:
    """Mask a unified social credit code, keeping its first two and last four characters."""
    code = _WHITESPACE_RE.sub("", value).upper()
    if len(code) == 18:
        return code[:2] + _STAR * 12 + code[-4:]
    return _mask_generic(code)


def _mobile_digits(digits: str) -> str | None:
    for prefix in ("", "86", "0086"):
        if digits.startswith(prefix) and _MOBILE_RE.fullmatch(digits[len(prefix) :]):
            return digits[len(prefix) :]
    return None


def _landline_parts(main: str) -> tuple[str, str] | None:
    """Area code (with the trunk 0) and local number of a landline written without an extension marker."""
    digits = _NON_DIGIT_RE.sub("", main)
    if main.lstrip().startswith("+") or digits.startswith("00"):
        digits = digits.removeprefix("00").removeprefix("86")
        digits = digits if digits.startswith("0") else "0" + digits
    if len(digits) < 10 or digits[0] != "0" or digits[1] == "0":
        return None
    area_length = 3 if digits[1] in "12" else 4
    area, local = digits[:area_length], digits[area_length:]
    groups = [group for group in _NON_DIGIT_RE.split(main) if group]
    if len(local) > 8 and len(groups) > 1 and len(groups[-1]) <= 6:
        # "0371-12345678-8001": the last group is an extension
        local = local[: len(local) - len(groups[-1])]
    if len(local) not in (7, 8):
        return None
    return area, local


def mask_phone(value: str) -> str:
    """Mask a phone number: ``"138****5678"`` for a mobile, ``"0371-******78"`` for a landline.

    A mobile number (also written with ``+86`` or separators) keeps its first three and last four digits. A
    landline keeps its area code and the last two digits of the local number, and loses any extension.
    Anything else keeps only its last two digits, behind at least four stars.
    """
    main = _EXTENSION_MARK_RE.split(value, maxsplit=1)[0]
    digits = _NON_DIGIT_RE.sub("", main)
    mobile = _mobile_digits(digits)
    if mobile is not None:
        return mobile[:3] + _STAR * 4 + mobile[-4:]
    parts = _landline_parts(main)
    if parts is not None:
        area, local = parts
        return f"{area}-{_STAR * (len(local) - 2)}{local[-2:]}"
    return _mask_generic(digits)


def mask_address(value: str) -> str:
    """Keep the first six characters of an address (province, city, district) and replace the rest with stars.

    An address of six characters or fewer keeps only its first half.
    """
    address = value.strip()
    if not address:
        return ""
    keep = _ADDRESS_KEEP if len(address) > _ADDRESS_KEEP else len(address) // 2
    return address[:keep] + _STAR * 4


def mask_name(value: str) -> str:
    """Mask a name for a public page: ``"张*"``, ``"王**"`` for a person's name (up to four characters, the
    family name kept); a longer name (an employer's, or one in Latin letters) keeps its first two and last
    two characters: ``"焦作*****公司"``."""
    name = _WHITESPACE_RE.sub(" ", value.strip())
    if not name:
        return ""
    if len(name) <= 4:
        return name[0] + _STAR * max(1, len(name) - 1)
    return name[:2] + _STAR * (len(name) - 4) + name[-2:]


def _is_credit_code(token: str) -> bool:
    if not _CREDIT_CODE_RE.fullmatch(token):
        return False
    total = sum(
        _CREDIT_CODE_VALUES[char] * weight
        for char, weight in zip(token[:17], _CREDIT_CODE_WEIGHTS, strict=True)
    )
    return _CREDIT_CODE_VALUES[token[17]] == (31 - total % 31) % 31


def _replace(match: re.Match[str]) -> str:
    token = match["token"]
    if token is None:
        return mask_phone(match["mobile"])
    if _RESIDENT_ID_SHAPE_RE.fullmatch(token):
        return mask_id_number(token)
    if _is_credit_code(token):
        return mask_credit_code(token)
    return token


def scrub(text: str) -> str:
    """Mask every resident ID number, unified social credit code and mobile number found in ``text``.

    A candidate counts only when no ASCII letter or digit touches it, so longer numbers, hexadecimal strings
    and timestamps are left alone. Resident ID numbers are recognised by their shape (region code and birth
    date) even when the check character is wrong; credit codes only when their check character is right.
    """
    return _SCRUB_RE.sub(_replace, text)


class ScrubbingFilter(logging.Filter):
    """A logging filter that masks personal data in each record's message before any formatter sees it.

    The message is rendered with its arguments (``record.getMessage()``), scrubbed, and stored back as
    ``record.msg`` with no arguments. Exception text and extra attributes are not touched. Attach it to
    handlers (filters on a logger do not see records propagated from its children)::

        handler.addFilter(ScrubbingFilter())
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # the arguments do not fit the format: keep the format, drop the arguments
            message = f"{record.msg} (log arguments could not be formatted)"
        record.msg = scrub(message)
        record.args = None
        return True
