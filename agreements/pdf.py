"""A frozen version's text rendered to PDF, deterministically: the same version gives the same bytes.

Nothing in the file depends on when or where it is rendered: the creation date is the version's
``frozen_at``, the document id is derived from the content (fpdf2's default), the producer is fixed, and the
CJK font is embedded as a subset of the one font file given (a TTC face or a TTF). The same font file is
needed to reproduce the bytes; the SHA-256 stored at freezing is what signatures bind to, not a re-rendering.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import Align, XPos, YPos

from agreements.money import capital, figures
from agreements.text import PAYMENT_LABELS, AgreementText, PartyInfo, Settlement, Term, total
from cases.deadlines import SHANGHAI
from cases.identity import ID_TYPE_LABELS_ZH, IdType
from cases.vocab import label

__all__ = ["DEFAULT_FONT", "FONT", "PagedPdf", "render"]

DEFAULT_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
FONT = "cjk"  # the name the CJK font is added under
_NUMERALS = "一二三四五六七八九十"


def _numeral(n: int) -> str:
    """Chinese ordinal for list items: 一 … 十, 十一 … 九十九."""
    if n <= 10:
        return _NUMERALS[n - 1]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else _NUMERALS[tens - 1]) + "十" + (_NUMERALS[ones - 1] if ones else "")


def _day(value: date) -> str:
    return f"{value.year}年{value.month}月{value.day}日"


def _party_line(party: PartyInfo, principals: dict[str, PartyInfo]) -> str:
    if party.role == "principal":
        head = f"{label(party.side)}（{label(party.party_type)}）：{party.name}"
    else:
        of = principals.get(party.represents_id or "")
        head = f"{label(party.role)}：{party.name}" + (f"（代理{of.name}）" if of else "")
    id_label = ID_TYPE_LABELS_ZH.get(IdType(party.id_type), party.id_type)
    line = f"{head}，{id_label}：{party.id_number}"
    if party.address:
        line += f"，住所：{party.address}"
    return line + "。"


def _term_line(index: int, term: Term) -> str:
    line = f"{_numeral(index)}、{term.description}"
    if term.amount is not None:
        line += f"，金额人民币{figures(term.amount)}元（大写：{capital(term.amount)}）"
    if term.due_date is not None:
        line += f"，于{_day(term.due_date)}前履行"
    if term.payment_method is not None:
        line += f"，以{PAYMENT_LABELS[term.payment_method]}支付"
    return line + "。"


class PagedPdf(FPDF):
    """An A4 document whose every page ends with ``footer`` and its page number (第n页/共m页)."""

    def __init__(self, footer: str) -> None:
        super().__init__(format="A4")
        self._footer_text = footer

    def footer(self) -> None:
        self.set_y(-15)
        self.set_font(FONT, size=8)
        self.cell(0, 8, f"{self._footer_text}　第{self.page_no()}页/共{{nb}}页", align=Align.C)


def render(text: AgreementText, *, number: int, frozen_at: datetime, font: Path = DEFAULT_FONT) -> bytes:
    """The agreement as PDF bytes. ``font``: a TTF, or a TTC whose first face has CJK glyphs."""
    if frozen_at.tzinfo is None:
        raise ValueError("frozen_at must be aware")
    local = frozen_at.astimezone(SHANGHAI)
    doc = PagedPdf(f"案号 {text.case.case_number}　协议第{number}版　定稿于{local:%Y-%m-%d %H:%M}")
    doc.set_creation_date(frozen_at.astimezone(UTC).replace(microsecond=0))
    doc.set_producer("tiaojie")
    doc.set_creator("tiaojie")
    doc.set_title(f"调解协议书 {text.case.case_number} 第{number}版")
    doc.set_lang("zh-CN")
    doc.set_margins(20, 20, 20)
    doc.set_auto_page_break(True, margin=22)
    doc.add_font(FONT, fname=str(font), collection_font_number=0)
    doc.add_page()

    def heading(words: str) -> None:
        doc.ln(3)
        doc.set_font(FONT, size=12)
        doc.multi_cell(0, 8, words, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        doc.set_font(FONT, size=11)

    def paragraphs(lines: Iterable[str]) -> None:
        for line in lines:
            doc.multi_cell(0, 7, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    doc.set_font(FONT, size=18)
    doc.cell(0, 12, "调解协议书", align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    doc.set_font(FONT, size=10)
    case = text.case
    doc.cell(
        0,
        7,
        f"案号：{case.case_number}　案由：{label(case.cause)}　{label(case.kind)}",
        align=Align.C,
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    doc.set_font(FONT, size=11)
    heading("当事人基本情况")
    principals = {p.party_id: p for p in text.parties if p.role == "principal"}
    ordered = sorted(text.parties, key=lambda p: (p.side != "applicant", p.role != "principal"))
    paragraphs(_party_line(p, principals) for p in ordered)

    content = text.content
    heading("主要事实")
    paragraphs(content.facts.splitlines() or [""])
    heading("争议事项")
    paragraphs(f"{_numeral(i)}、{issue}" for i, issue in enumerate(content.disputed_issues, 1))
    heading("调解结果")
    host = f"经{case.court_name}特邀调解员{case.mediator_name}" if case.mediator_name else "经调解"
    paragraphs([f"{host}主持调解，各方当事人自愿达成如下协议："])
    paragraphs(_term_line(i, term) for i, term in enumerate(content.terms, 1))
    amount = total(content.terms)
    if amount > 0:
        paragraphs([f"以上款项合计人民币{figures(amount)}元（大写：{capital(amount)}）。"])
    if content.settlement is Settlement.FULL:
        paragraphs(["本协议就申请人的全部请求达成调解，各方就本案再无其他争议。"])
    else:
        paragraphs(["本协议就申请人的部分请求达成调解。以下请求未达成调解：", content.unsettled_claims or ""])
    heading("协议效力")
    closing = ["本协议经各方当事人签名后，自最后一方当事人签名之时起生效。"]
    if case.kind == "delegated":
        closing.append("各方当事人可以自本协议生效之日起三十日内，共同向人民法院申请司法确认。")
    paragraphs(closing)
    heading("签名")
    signers = [f"{label(p.side)}：{p.name}" for p in ordered if p.role == "principal"]
    if case.mediator_name:
        signers.append(f"调解员：{case.mediator_name}")
    paragraphs(f"{who}　　（电子签名）" for who in signers)
    return bytes(doc.output())
