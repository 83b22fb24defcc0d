"""The words of an agreement, in reading order, without I/O: a title, a line under it, and sections of
paragraphs. The PDF (:mod:`agreements.pdf`) prints exactly this; the console and the session page show it
as HTML, so what a party reads in the room is what will be frozen and signed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from agreements.money import capital, figures
from agreements.text import PAYMENT_LABELS, AgreementText, PartyInfo, Settlement, Term, total
from cases.identity import ID_TYPE_LABELS_ZH, IdType
from cases.vocab import label

__all__ = ["TITLE", "Layout", "Section", "layout"]

TITLE = "调解协议书"
_NUMERALS = "一二三四五六七八九十"


@dataclass(frozen=True, slots=True)
class Section:
    heading: str
    paragraphs: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Layout:
    title: str
    subtitle: str
    sections: tuple[Section, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "subtitle": self.subtitle,
            "sections": [{"heading": s.heading, "paragraphs": list(s.paragraphs)} for s in self.sections],
        }


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


def layout(text: AgreementText) -> Layout:
    """The whole agreement as printed: parties, facts, issues, the terms with their total, the settlement,
    its effect and the signature lines."""
    case = text.case
    principals = {p.party_id: p for p in text.parties if p.role == "principal"}
    ordered = sorted(text.parties, key=lambda p: (p.side != "applicant", p.role != "principal"))
    content = text.content
    host = f"经{case.court_name}特邀调解员{case.mediator_name}" if case.mediator_name else "经调解"
    result = [f"{host}主持调解，各方当事人自愿达成如下协议："]
    result += [_term_line(i, term) for i, term in enumerate(content.terms, 1)]
    amount = total(content.terms)
    if amount > 0:
        result.append(f"以上款项合计人民币{figures(amount)}元（大写：{capital(amount)}）。")
    if content.settlement is Settlement.FULL:
        result.append("本协议就申请人的全部请求达成调解，各方就本案再无其他争议。")
    else:
        result += ["本协议就申请人的部分请求达成调解。以下请求未达成调解：", content.unsettled_claims or ""]
    closing = ["本协议经各方当事人签名后，自最后一方当事人签名之时起生效。"]
    if case.kind == "delegated":
        closing.append("各方当事人可以自本协议生效之日起三十日内，共同向人民法院申请司法确认。")
    issues = tuple(f"{_numeral(i)}、{issue}" for i, issue in enumerate(content.disputed_issues, 1))
    signers = [f"{label(p.side)}：{p.name}" for p in ordered if p.role == "principal"]
    if case.mediator_name:
        signers.append(f"调解员：{case.mediator_name}")
    return Layout(
        title=TITLE,
        subtitle=f"案号：{case.case_number}　案由：{label(case.cause)}　{label(case.kind)}",
        sections=(
            Section("当事人基本情况", tuple(_party_line(p, principals) for p in ordered)),
            Section("主要事实", tuple(content.facts.splitlines() or [""])),
            Section("争议事项", issues),
            Section("调解结果", tuple(result)),
            Section("协议效力", tuple(closing)),
            Section("签名", tuple(f"{who}　　（电子签名）" for who in signers)),
        ),
    )
