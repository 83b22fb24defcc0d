"""The agreement's pure parts: the template's completeness, prefill, amounts in words, version steps, and
the PDF (deterministic, with its Chinese text really in it)."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from agreements.money import capital, figures
from agreements.pdf import DEFAULT_FONT, render
from agreements.text import (
    AgreementContent,
    AgreementText,
    CaseHeader,
    PartyInfo,
    Settlement,
    Term,
    prefill,
    problems,
    total,
)
from agreements.versions import Plan, Step, VersionStatus, plan
from tiaojie.errors import Conflict

TODAY = date(2026, 3, 2)


def party(pid: str, side: str, **kw: str) -> PartyInfo:
    base = {"role": "principal", "party_type": "worker" if side == "applicant" else "employer"}
    base.update(kw)
    return PartyInfo(party_id=pid, side=side, name=f"当事人{pid}", id_type="other", id_number="X1", **base)


def text_of(content: AgreementContent, parties: list[PartyInfo] | None = None) -> AgreementText:
    header = CaseHeader(
        case_id="cas_1",
        case_number="（2026）豫0802民诉前调7号",
        court_name="焦作市解放区人民法院",
        kind="delegated",
        cause="wages",
        mediator_name="王调解",
    )
    return AgreementText(
        case=header,
        parties=parties if parties is not None else [party("p1", "applicant"), party("p2", "respondent")],
        content=content,
    )


COMPLETE = AgreementContent(
    facts="申请人于2024年入职，被拖欠工资三个月。",
    disputed_issues=["拖欠工资数额"],
    terms=[
        Term(
            description="被申请人向申请人支付拖欠工资",
            amount=Decimal("32000.00"),
            due_date=TODAY,
            payment_method="bank_transfer",
        ),
        Term(description="被申请人为申请人出具离职证明"),
    ],
)


def codes(content: AgreementContent, parties: list[PartyInfo] | None = None) -> list[tuple[str, str]]:
    return [(p.field, p.code) for p in problems(text_of(content, parties), TODAY)]


def test_a_complete_text_has_no_problems_and_due_today_is_allowed() -> None:
    assert codes(COMPLETE) == []


def test_every_missing_piece_is_named_with_its_field() -> None:
    assert codes(AgreementContent(), parties=[party("p1", "applicant")]) == [
        ("parties", "party_missing"),
        ("content.facts", "facts_missing"),
        ("content.disputed_issues", "issues_missing"),
        ("content.terms", "terms_missing"),
    ]
    payment = Term(description="支付", amount=Decimal("1.00"), due_date=date(2026, 3, 1))
    assert codes(COMPLETE.model_copy(update={"terms": [payment]})) == [
        ("content.terms.0.payment_method", "payment_method_missing"),
        ("content.terms.0.due_date", "due_date_past"),
    ]
    assert codes(COMPLETE.model_copy(update={"terms": [Term(description="支付", amount=Decimal(5))]})) == [
        ("content.terms.0.due_date", "due_date_missing"),
        ("content.terms.0.payment_method", "payment_method_missing"),
    ]
    partial = COMPLETE.model_copy(update={"settlement": Settlement.PARTIAL})
    assert codes(partial) == [("content.unsettled_claims", "unsettled_claims_missing")]
    assert codes(partial.model_copy(update={"unsettled_claims": "加班费"})) == []
    assert codes(COMPLETE.model_copy(update={"unsettled_claims": "加班费"})) == [
        ("content.unsettled_claims", "unsettled_claims_not_allowed")
    ]


@pytest.mark.parametrize("amount", ["0", "-1", "0.001", "1e20"])
def test_amounts_are_positive_yuan_with_at_most_two_decimals(amount: str) -> None:
    with pytest.raises(ValueError, match="amount"):
        Term(description="支付", amount=Decimal(amount))


def test_prefill_takes_the_summary_each_claim_line_and_the_amount() -> None:
    content = prefill(
        summary=" 事实 ",
        claims="支付工资\n\n 支付补偿 \n",
        amount=Decimal("32000.00"),
        employer_pays="某公司",
    )
    assert content.facts == "事实"
    assert content.disputed_issues == ["支付工资", "支付补偿"]
    assert [(t.description, t.amount, t.due_date) for t in content.terms] == [
        ("某公司向申请人支付款项", Decimal("32000.00"), None)
    ]
    assert prefill(summary=None, claims="x", amount=None, employer_pays=None).terms == []
    assert total(COMPLETE.terms) == Decimal("32000.00")


@pytest.mark.parametrize(
    ("amount", "words", "digits"),
    [
        ("12345.67", "壹万贰仟叁佰肆拾伍元陆角柒分", "12,345.67"),
        ("1010", "壹仟零壹拾元整", "1,010.00"),
        ("100.05", "壹佰元零伍分", "100.05"),
        ("0.5", "伍角", "0.50"),
        ("0.07", "柒分", "0.07"),
        ("0", "零元整", "0.00"),
        ("100005", "壹拾万零伍元整", "100,005.00"),
        ("1000000001", "壹拾亿零壹元整", "1,000,000,001.00"),
        ("20000000.10", "贰仟万元壹角", "20,000,000.10"),
        ("10200300", "壹仟零贰拾万零叁佰元整", "10,200,300.00"),
    ],
)
def test_amounts_in_capital_words_and_figures(amount: str, words: str, digits: str) -> None:
    assert capital(Decimal(amount)) == words
    assert figures(Decimal(amount)) == digits


D, F, S = VersionStatus.DRAFT, VersionStatus.FROZEN, VersionStatus.SUPERSEDED


@pytest.mark.parametrize(
    ("latest", "step", "expected"),
    [
        (None, Step.EDIT, Plan(False, new_status=D)),
        (D, Step.EDIT, Plan(False, to_status=D)),
        (F, Step.EDIT, Plan(True, new_status=D)),
        (D, Step.FREEZE, Plan(False, to_status=F)),
        (None, Step.UPLOAD, Plan(False, new_status=F)),
        (D, Step.UPLOAD, Plan(True, new_status=F)),
        (F, Step.UPLOAD, Plan(True, new_status=F)),
    ],
)
def test_each_step_on_each_latest_status(latest: VersionStatus | None, step: Step, expected: Plan) -> None:
    assert plan(latest, step) == expected


@pytest.mark.parametrize("latest", [None, F])
def test_only_a_draft_freezes(latest: VersionStatus | None) -> None:
    with pytest.raises(Conflict) as caught:
        plan(latest, Step.FREEZE)
    assert caught.value.code == "version_not_draft"


def test_an_older_version_never_changes_and_the_latest_is_never_superseded() -> None:
    with pytest.raises(Conflict):
        plan(D, Step.FREEZE, target_is_latest=False)
    with pytest.raises(ValueError, match="never superseded"):
        plan(S, Step.EDIT)


needs_font = pytest.mark.skipif(not DEFAULT_FONT.is_file(), reason="fonts-wqy-microhei is not installed")
needs_pdftotext = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils missing")


def pdftotext(data: bytes, tmp_path: Path) -> str:
    path = tmp_path / "a.pdf"
    path.write_bytes(data)
    out = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=True, timeout=30)  # noqa: S607
    return out.stdout.decode()


@needs_font
@needs_pdftotext
def test_the_pdf_is_deterministic_and_carries_the_chinese_text(tmp_path: Path) -> None:
    partial = COMPLETE.model_copy(update={"settlement": Settlement.PARTIAL, "unsettled_claims": "加班费请求"})
    text = text_of(partial)
    at = datetime(2026, 3, 2, 1, 0, 5, tzinfo=UTC)
    first = render(text, number=3, frozen_at=at)
    assert first.startswith(b"%PDF-")
    assert render(text, number=3, frozen_at=at) == first
    assert b"/CreationDate (D:20260302010005Z)" in first
    words = "".join(pdftotext(first, tmp_path).split())
    for expected in (
        "调解协议书",
        "（2026）豫0802民诉前调7号",
        "追索劳动报酬",
        "当事人p1",
        "申请人于2024年入职，被拖欠工资三个月。",
        "金额人民币32,000.00元（大写：叁万贰仟元整）",
        "于2026年3月2日前履行，以银行转账支付",
        "被申请人为申请人出具离职证明",
        "以下请求未达成调解：加班费请求",
        "共同向人民法院申请司法确认",
        "协议第3版",
        "定稿于2026-03-0209:00",
    ):
        assert expected in words, expected
    other = render(text, number=4, frozen_at=at)
    assert hashlib.sha256(other).digest() != hashlib.sha256(first).digest()
