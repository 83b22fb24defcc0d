"""Validation and normalisation of the identifiers parties prove their identity with (OMR 17; OLR 7).

Each ``validate_*`` function returns the normalised identifier or raises
:class:`~tiaojie.errors.InvalidInput` with a specific ``code``. ID numbers, credit codes and phone numbers
are personal data under PIPL, so no error message or detail ever contains the offending value.

- Resident identity card numbers (居民身份证号码): GB 11643-1999, ISO 7064 MOD 11-2 check character.
- Unified social credit codes (统一社会信用代码) of employers and organisations: GB 32100-2015, MOD 31.
- Phone numbers: mainland mobile numbers and landlines with an area code.
- Other documents (passports, permits): a plain format check only.
"""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum

from tiaojie.errors import InvalidInput

__all__ = [
    "ID_TYPE_LABELS_EN",
    "ID_TYPE_LABELS_ZH",
    "IdType",
    "validate_credit_code",
    "validate_identifier",
    "validate_phone",
    "validate_resident_id",
]


class IdType(StrEnum):
    """The kind of document an identifier comes from."""

    RESIDENT_ID = "resident_id"
    PASSPORT = "passport"
    HK_MACAO_PERMIT = "hk_macao_permit"
    TAIWAN_PERMIT = "taiwan_permit"
    FOREIGN_PERMANENT_RESIDENCE = "foreign_permanent_residence"
    CREDIT_CODE = "credit_code"
    OTHER = "other"


ID_TYPE_LABELS_ZH: dict[IdType, str] = {
    IdType.RESIDENT_ID: "居民身份证",
    IdType.PASSPORT: "护照",
    IdType.HK_MACAO_PERMIT: "港澳居民来往内地通行证/居住证",
    IdType.TAIWAN_PERMIT: "台湾居民来往大陆通行证/居住证",
    IdType.FOREIGN_PERMANENT_RESIDENCE: "外国人永久居留身份证",
    IdType.CREDIT_CODE: "统一社会信用代码",
    IdType.OTHER: "其他证件",
}

ID_TYPE_LABELS_EN: dict[IdType, str] = {
    IdType.RESIDENT_ID: "Resident identity card",
    IdType.PASSPORT: "Passport",
    IdType.HK_MACAO_PERMIT: "Hong Kong/Macao resident permit",
    IdType.TAIWAN_PERMIT: "Taiwan resident permit",
    IdType.FOREIGN_PERMANENT_RESIDENCE: "Foreign permanent residence ID card",
    IdType.CREDIT_CODE: "Unified social credit code",
    IdType.OTHER: "Other document",
}

# Full-width ASCII forms (typed with a Chinese input method) and the ideographic space, mapped to ASCII.
_FULL_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
_WHITESPACE_RE = re.compile(r"\s+")
# Longer inputs are rejected before any further parsing.
_MAX_INPUT_LENGTH = 64

# --- resident ID (GB 11643-1999) ---------------------------------------------------------------------

_RESIDENT_ID_RE = re.compile(r"[0-9]{17}[0-9X]")
# Weight of position i is 2**(17 - i) mod 11.
_RESIDENT_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
# Check character indexed by (weighted sum mod 11).
_RESIDENT_ID_CHECK = "10X98765432"
# Province-level division codes (GB/T 2260): the first two digits of every resident ID number.
_PROVINCE_CODES = frozenset(
    {
        *range(11, 16),  # 北京 天津 河北 山西 内蒙古
        *range(21, 24),  # 辽宁 吉林 黑龙江
        *range(31, 38),  # 上海 江苏 浙江 安徽 福建 江西 山东
        *range(41, 47),  # 河南 湖北 湖南 广东 广西 海南
        *range(50, 55),  # 重庆 四川 贵州 云南 西藏
        *range(61, 66),  # 陕西 甘肃 青海 宁夏 新疆
        71,  # 台湾
        81,  # 香港
        82,  # 澳门
    }
)
_EARLIEST_BIRTH_DATE = date(1900, 1, 1)
_ID_NUMBER_CODE = "invalid_id_number"

# --- unified social credit code (GB 32100-2015) --------------------------------------------------------

# The 31 characters allowed, in the order of their numeric values 0..30 (no I, O, Z, S, V).
_CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_CODE_VALUES = {char: value for value, char in enumerate(_CREDIT_CODE_ALPHABET)}
# Weight of position i is 3**i mod 31.
_CREDIT_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_CREDIT_CODE_RE = re.compile(r"[0-9A-HJ-NP-RT-UW-Y]{18}")
_CREDIT_CODE_CODE = "invalid_credit_code"

# --- phone numbers -------------------------------------------------------------------------------------

_MOBILE_RE = re.compile(r"1[3-9][0-9]{9}")
# Digits with the separators people write between groups; an optional leading "+".
_PHONE_BODY_RE = re.compile(r"\+?[0-9(][0-9()\-]*")
# An extension at the end: "-8001", "转8001", "分机8001", "ext. 8001", "x8001", "#8001".
_EXTENSION_RE = re.compile(r"(?P<main>.+?)\s*(?:-|转|分机|ext\.?|x|#)\s*(?P<ext>[0-9]{1,6})", re.IGNORECASE)
_PHONE_CODE = "invalid_phone"

# --- other documents -----------------------------------------------------------------------------------

_OTHER_ID_RE = re.compile(r"[A-Z0-9-]{5,32}")


def _compact(value: object, *, field: str, code: str, what: str) -> str:
    """Map full-width characters to ASCII and drop all whitespace; refuse non-strings and huge inputs."""
    if not isinstance(value, str):
        raise InvalidInput(f"{what} must be a string", field=field, code=code)
    if len(value) > _MAX_INPUT_LENGTH:
        raise InvalidInput(f"{what} is too long", field=field, code=code)
    return _WHITESPACE_RE.sub("", value.translate(_FULL_WIDTH))


def _resident_id_check_char(first17: str) -> str:
    total = sum(int(digit) * weight for digit, weight in zip(first17, _RESIDENT_ID_WEIGHTS, strict=True))
    return _RESIDENT_ID_CHECK[total % 11]


def validate_resident_id(value: str, *, today: date | None = None) -> str:
    """Return an 18-character resident ID number, normalised, or raise ``InvalidInput``.

    Spaces are dropped and a lowercase ``x`` check character is upper-cased. The number must have a
    province code the country uses, a real birth date between 1900-01-01 and ``today`` (default: the
    current date), and a correct ISO 7064 MOD 11-2 check character.
    """

    def invalid(reason: str) -> InvalidInput:
        return InvalidInput(f"resident ID number {reason}", field="id_number", code=_ID_NUMBER_CODE)

    number = _compact(value, field="id_number", code=_ID_NUMBER_CODE, what="resident ID number").upper()
    if len(number) != 18:
        raise invalid("must be 18 characters long")
    if not _RESIDENT_ID_RE.fullmatch(number):
        raise invalid("must be 17 digits followed by a digit or X")
    if int(number[:2]) not in _PROVINCE_CODES:
        raise invalid("has an unknown region code")
    try:
        birth = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise invalid("has an impossible birth date") from None
    if birth < _EARLIEST_BIRTH_DATE:
        raise invalid("has a birth date before 1900")
    if birth > (today if today is not None else date.today()):
        raise invalid("has a birth date in the future")
    if _resident_id_check_char(number[:17]) != number[17]:
        raise invalid("has a wrong check character")
    return number


def _credit_code_check_char(first17: str) -> str:
    total = sum(
        _CREDIT_CODE_VALUES[char] * weight for char, weight in zip(first17, _CREDIT_CODE_WEIGHTS, strict=True)
    )
    return _CREDIT_CODE_ALPHABET[(31 - total % 31) % 31]


def validate_credit_code(value: str) -> str:
    """Return an 18-character unified social credit code, normalised, or raise ``InvalidInput``.

    Spaces are dropped and letters upper-cased; the code must use only the 31 characters of
    GB 32100-2015 (digits and capital letters except I, O, Z, S, V) and end with the right check character.
    """

    def invalid(reason: str) -> InvalidInput:
        return InvalidInput(
            f"unified social credit code {reason}", field="credit_code", code=_CREDIT_CODE_CODE
        )

    code = _compact(value, field="credit_code", code=_CREDIT_CODE_CODE, what="credit code").upper()
    if len(code) != 18:
        raise invalid("must be 18 characters long")
    if not _CREDIT_CODE_RE.fullmatch(code):
        raise invalid("may contain only digits and the letters A-H, J-N, P-R, T-U, W-Y")
    if _credit_code_check_char(code[:17]) != code[17]:
        raise invalid("has a wrong check character")
    return code


def _split_landline(digits: str) -> tuple[str, str] | None:
    """Split ``0`` + area code + local number; ``None`` if the digits are not a landline number.

    Area codes 010 and 020–029 have three digits with the trunk 0, all others four.
    """
    if len(digits) < 3 or digits[0] != "0" or digits[1] == "0":
        return None
    if digits[1] == "1" and digits[2] != "0":
        return None  # 010 is the only area code beginning 01
    area_length = 3 if digits[1] in "12" else 4
    area, local = digits[:area_length], digits[area_length:]
    if len(local) not in (7, 8):
        return None
    return area, local


def _parse_phone(text: str, extension: str | None) -> str | None:
    """The normalised form of ``text`` (no extension marker in it) or ``None``."""
    if not _PHONE_BODY_RE.fullmatch(text):
        return None
    digits = re.sub(r"[^0-9]", "", text)
    international = text.startswith("+") or digits.startswith("0086")
    if international:
        digits = digits.removeprefix("00")
        if not digits.startswith("86"):
            return None
        digits = digits[2:]
    elif len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    if extension is None and _MOBILE_RE.fullmatch(digits):
        return digits
    if international and not digits.startswith("0"):
        digits = "0" + digits  # the trunk prefix is left out after +86
    split = _split_landline(digits)
    if split is None:
        return None
    area, local = split
    return f"{area}-{local}" + (f"-{extension}" if extension else "")


def validate_phone(value: str) -> str:
    """Return a normalised mainland phone number or raise ``InvalidInput``.

    - Mobile numbers (``1[3-9]`` and nine more digits), with an optional ``+86``/``86``/``0086`` prefix and
      spaces, hyphens or parentheses between groups, become the bare 11 digits: ``"13812345678"``.
    - Landlines with an area code (``0`` and two or three digits, then a 7- or 8-digit local number) become
      ``"0371-12345678"``; an extension (``-8001``, ``转8001``, ``ext 8001``, ``x8001``) is kept as
      ``"0371-12345678-8001"``.
    """
    text = _compact(value, field="phone", code=_PHONE_CODE, what="phone number")
    normalised = _parse_phone(text, None)
    if normalised is None and (match := _EXTENSION_RE.fullmatch(text)):
        normalised = _parse_phone(match["main"], match["ext"])
    if normalised is None:
        raise InvalidInput(
            "phone number must be a mainland mobile number or a landline number with its area code",
            field="phone",
            code=_PHONE_CODE,
        )
    return normalised


def validate_identifier(id_type: IdType, value: str, *, today: date | None = None) -> str:
    """Validate ``value`` as an identifier of ``id_type`` and return its normalised form.

    Resident IDs and credit codes get their full checks; every other document number must be 5 to 32
    letters, digits or hyphens once spaces are dropped, and is returned upper-cased.
    """
    try:
        kind = IdType(id_type)
    except ValueError:
        raise InvalidInput("unknown identifier type", field="id_type", code="invalid_id_type") from None
    if kind is IdType.RESIDENT_ID:
        return validate_resident_id(value, today=today)
    if kind is IdType.CREDIT_CODE:
        return validate_credit_code(value)
    number = _compact(value, field="id_number", code=_ID_NUMBER_CODE, what="document number").upper()
    if not _OTHER_ID_RE.fullmatch(number):
        raise InvalidInput(
            f"{ID_TYPE_LABELS_EN[kind].lower()} number must be 5 to 32 letters, digits or hyphens",
            field="id_number",
            code=_ID_NUMBER_CODE,
        )
    return number
