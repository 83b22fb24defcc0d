"""Tests for tiaojie.masking: the maskers, scrub() on free text, and the logging filter.

ID numbers and credit codes are generated with their check characters computed here, or deliberately made
invalid, so no real person's or organisation's identifier appears.
"""

from __future__ import annotations

import io
import logging
import random
import uuid
from collections.abc import Iterator
from datetime import date

import pytest

import tiaojie.masking
from cases.identity import validate_credit_code, validate_resident_id
from tiaojie.errors import InvalidInput
from tiaojie.masking import (
    ScrubbingFilter,
    mask_address,
    mask_credit_code,
    mask_id_number,
    mask_phone,
    scrub,
)

CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def resident_id(region: str = "410102", birth: str = "19900307", sequence: str = "123") -> str:
    body = region + birth + sequence
    total = sum(int(digit) * (2 ** (17 - i) % 11) for i, digit in enumerate(body))
    check = (12 - total % 11) % 11
    return body + ("X" if check == 10 else str(check))


def credit_code(body: str = "91410100MA44PQ7R2") -> str:
    total = sum(CREDIT_ALPHABET.index(char) * pow(3, i, 31) for i, char in enumerate(body))
    return body + CREDIT_ALPHABET[-total % 31]


# An ID-shaped number whose check character is wrong: it cannot belong to anyone.
NOT_AN_ID = "41010219900307123X"
# A credit-code-shaped string whose check character is wrong.
NOT_A_CREDIT_CODE = "91410100MA44PQ7R2Y"


def test_public_names() -> None:
    assert len(set(tiaojie.masking.__all__)) == len(tiaojie.masking.__all__)
    assert set(tiaojie.masking.__all__) == {
        "ScrubbingFilter",
        "mask_address",
        "mask_credit_code",
        "mask_id_number",
        "mask_name",
        "mask_phone",
        "scrub",
    }


def test_fixtures_are_what_they_claim() -> None:
    with pytest.raises(InvalidInput):
        validate_resident_id(NOT_AN_ID)
    with pytest.raises(InvalidInput):
        validate_credit_code(NOT_A_CREDIT_CODE)
    assert validate_resident_id(resident_id(), today=date(2025, 1, 1)) == resident_id()
    assert validate_credit_code(credit_code()) == credit_code()


# --- maskers -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (NOT_AN_ID, "410***********123X"),
        ("41010219900307123x", "410***********123X"),
        ("410102 19900307 123X", "410***********123X"),
        ("E12345678", "*******78"),  # a passport: last two only
        ("H1234567801", "*********01"),
        ("AB12", "****12"),  # at least four stars
        ("A12", "****12"),
        ("12", "****"),  # too short to show anything
        ("", ""),
    ],
)
def test_mask_id_number(value: str, expected: str) -> None:
    assert mask_id_number(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("13812345678", "138****5678"),
        ("+86 138 1234 5678", "138****5678"),
        ("8613812345678", "138****5678"),
        ("138-1234-5678", "138****5678"),
        ("0371-12345678", "0371-******78"),
        ("037112345678", "0371-******78"),
        ("010-1234567", "010-*****67"),
        ("(020) 8765 4321", "020-******21"),
        ("+86 10 12345678", "010-******78"),
        ("0371-12345678-8001", "0371-******78"),
        ("0371-12345678转8001", "0371-******78"),
        ("0371-12345678 ext. 8001", "0371-******78"),
        ("12345", "****45"),  # not a phone number: last two only
        ("", ""),
    ],
)
def test_mask_phone(value: str, expected: str) -> None:
    assert mask_phone(value) == expected


def test_mask_credit_code() -> None:
    code = credit_code()
    assert mask_credit_code(code) == code[:2] + "*" * 12 + code[-4:]
    assert mask_credit_code(NOT_A_CREDIT_CODE) == "91************7R2Y"
    assert mask_credit_code(NOT_A_CREDIT_CODE.lower()) == "91************7R2Y"
    assert mask_credit_code("12345") == "****45"
    assert mask_credit_code("") == ""


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("河南省郑州市金水区花园路100号3单元", "河南省郑州市****"),
        ("北京市东城区某某胡同1号", "北京市东城区****"),
        ("  上海市浦东新区世纪大道  ", "上海市浦东新****"),
        ("No. 1 Renmin Road", "No. 1 ****"),
        ("北京市东城区", "北京市****"),  # six characters or fewer: only the first half
        ("郑州", "郑****"),
        ("", ""),
        ("   ", ""),
    ],
)
def test_mask_address(value: str, expected: str) -> None:
    assert mask_address(value) == expected


# --- scrub ---------------------------------------------------------------------------------------------


def test_scrub_mixed_chinese_text() -> None:
    worker_id = resident_id()
    employer_code = credit_code()
    text = (
        f"申请人张三，身份证号{worker_id}，手机13812345678，住河南省郑州市。"
        f"被申请人河南某某科技有限公司（统一社会信用代码：{employer_code}），联系电话+86 139 8765 4321。"
    )
    assert scrub(text) == (
        f"申请人张三，身份证号{worker_id[:3]}***********{worker_id[-4:]}，手机138****5678，住河南省郑州市。"
        f"被申请人河南某某科技有限公司（统一社会信用代码：{employer_code[:2]}************{employer_code[-4:]}），"
        "联系电话139****4321。"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"id={NOT_AN_ID}", "id=410***********123X"),  # a mistyped ID is still personal data
        (f"id={NOT_AN_ID.lower()}", "id=410***********123X"),
        (f"({NOT_AN_ID})", "(410***********123X)"),
        (f"{NOT_AN_ID}\n", "410***********123X\n"),
        ("phone:13812345678;", "phone:138****5678;"),
        ("电话13812345678", "电话138****5678"),
        ("13812345678", "138****5678"),
        ("tel 138 1234 5678 ok", "tel 138****5678 ok"),
        ("tel 138-1234-5678", "tel 138****5678"),
        ("+8613812345678", "138****5678"),
        ("008613812345678", "138****5678"),
        ("a, 13812345678. b", "a, 138****5678. b"),  # a full stop after the number
        ("两个号码13812345678和15987654321", "两个号码138****5678和159****4321"),
    ],
)
def test_scrub_finds(text: str, expected: str) -> None:
    assert scrub(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        # timestamps
        "2024-01-15T13:45:30.123456+08:00",
        "2024-01-15 13:45:30,123 INFO",
        "at 1705297530 seconds",
        "at 1705297530123 ms",
        "at 1705297530123456789 ns",
        "20240115134530123456",
        "20240115134530",
        # amounts
        "欠薪¥13,800.00元，加班费138000元，经济补偿金1,380,000.50元",
        "amount 13812345678.50",
        "ratio 0.13812345678",
        "1.5e13",
        # hexadecimal identifiers and digests
        "550e8400-e29b-41d4-a716-446655440000",
        "550E8400-E29B-41D4-A716-446655440000",
        "trace 4bf92f3577b34da6a3ce929d0e0e4736 span 00f067aa0ba902b7",
        "sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "blob ab13812345678cd",
        "a1b2c3d4e5f6a7b8c9",
        # longer digit runs and other numbers
        "order 913812345678",
        "order 138123456789",
        "card 6222021234567890123",
        "court case (2024)豫0105民初12345号",
        "12812345678",
        # 18 digits that are neither ID-shaped nor a valid credit code
        "201803071234567891",
    ],
)
def test_scrub_leaves_alone(text: str) -> None:
    assert scrub(text) == text


def test_scrub_only_masks_credit_codes_that_pass_the_check() -> None:
    code = credit_code()
    wrong = code[:-1] + ("0" if code[-1] != "0" else "1")
    assert scrub(f"code {code}") == f"code {mask_credit_code(code)}"
    assert scrub(f"code {wrong}") == f"code {wrong}"
    assert scrub(f"code {code.lower()}") == f"code {code.lower()}"  # credit codes are written in capitals


def test_scrub_agrees_with_the_credit_code_validator() -> None:
    rng = random.Random(20250615)
    letters = "ABCDEFGHJKLMNPQRTUWXY"
    for _ in range(200):
        body = rng.choice(letters) + "".join(rng.choice(CREDIT_ALPHABET) for _ in range(16))
        for check in CREDIT_ALPHABET:
            token = body + check
            try:
                validate_credit_code(token)
            except InvalidInput:
                valid = False
            else:
                valid = True
            assert (scrub(token) != token) is valid, token


def test_scrub_is_idempotent() -> None:
    text = f"身份证{resident_id()}，电话13812345678，代码{credit_code()}"
    once = scrub(text)
    assert once != text
    assert scrub(once) == once


def test_scrub_long_text() -> None:
    case = uuid.UUID(int=7)
    line = f"第{{}}行：申请人身份证号{resident_id()}，手机13812345678，金额13800.00元，编号{case}。\n"
    text = "".join(line.format(i) for i in range(20_000))
    scrubbed = scrub(text)
    assert scrubbed.count("410***********") == 20_000
    assert scrubbed.count("138****5678") == 20_000
    assert resident_id() not in scrubbed
    assert "13812345678" not in scrubbed
    # long runs of candidate characters are handled in one pass
    for run in ("1" * 200_000, "A" * 200_000, "13812345678" * 20_000):
        assert scrub(run) == run


# --- logging filter ------------------------------------------------------------------------------------


class ListHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def logger() -> Iterator[tuple[logging.Logger, io.StringIO, ListHandler]]:
    log = logging.getLogger(f"tests.masking.{uuid.uuid4().hex}")
    log.setLevel(logging.DEBUG)
    log.propagate = False
    stream = io.StringIO()
    scrubbing = logging.StreamHandler(stream)
    scrubbing.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    scrubbing.addFilter(ScrubbingFilter())
    later = ListHandler()  # sees the record after the scrubbing handler has filtered it
    log.addHandler(scrubbing)
    log.addHandler(later)
    try:
        yield log, stream, later
    finally:
        log.removeHandler(scrubbing)
        log.removeHandler(later)
        scrubbing.close()


def test_filter_scrubs_arguments(logger: tuple[logging.Logger, io.StringIO, ListHandler]) -> None:
    log, stream, later = logger
    number = resident_id()
    log.info("party %s verified, phone %s, employer %s", number, "13812345678", credit_code())
    output = stream.getvalue()
    assert output.startswith("INFO tests.masking.")
    assert output.endswith(
        f"party 410***********{number[-4:]} verified, phone 138****5678, employer "
        f"91************{credit_code()[-4:]}\n"
    )
    assert number not in output
    assert "13812345678" not in output
    [record] = later.records
    assert record.args is None
    assert number not in record.getMessage()


def test_filter_scrubs_the_message_itself(logger: tuple[logging.Logger, io.StringIO, ListHandler]) -> None:
    log, stream, _ = logger
    log.warning(f"call 13812345678 about case {uuid.UUID(int=1)}")
    assert stream.getvalue().endswith(f"call 138****5678 about case {uuid.UUID(int=1)}\n")


def test_filter_with_mapping_arguments(logger: tuple[logging.Logger, io.StringIO, ListHandler]) -> None:
    log, stream, _ = logger
    log.info("phone %(phone)s amount %(amount).2f", {"phone": "13812345678", "amount": 13800})
    assert stream.getvalue().endswith("phone 138****5678 amount 13800.00\n")


def test_filter_keeps_clean_messages(logger: tuple[logging.Logger, io.StringIO, ListHandler]) -> None:
    log, stream, _ = logger
    log.debug("session %s started at %s with %d participants", uuid.UUID(int=2), "2024-01-15 13:45:30", 3)
    assert stream.getvalue().endswith(
        f"session {uuid.UUID(int=2)} started at 2024-01-15 13:45:30 with 3 participants\n"
    )


def test_filter_survives_bad_arguments(
    logger: tuple[logging.Logger, io.StringIO, ListHandler], capsys: pytest.CaptureFixture[str]
) -> None:
    log, stream, later = logger
    log.info("phone 13812345678 count %d", "not a number")
    assert stream.getvalue().endswith("phone 138****5678 count %d (log arguments could not be formatted)\n")
    assert later.records[0].args is None
    assert "Logging error" not in capsys.readouterr().err


def test_filter_with_exception(logger: tuple[logging.Logger, io.StringIO, ListHandler]) -> None:
    log, stream, _ = logger
    try:
        raise ValueError("boom")
    except ValueError:
        log.exception("failed for phone %s", "13812345678")
    output = stream.getvalue()
    assert "failed for phone 138****5678\n" in output
    assert "ValueError: boom" in output
    assert "13812345678" not in output


def test_filter_returns_true() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "phone %s", ("13812345678",), None)
    assert ScrubbingFilter().filter(record) is True
    assert record.msg == "phone 138****5678"
    assert record.args is None
