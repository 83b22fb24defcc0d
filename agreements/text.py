"""The labor-dispute agreement template, without I/O: what a mediator edits, what a version stores, what is
still missing before it can be frozen, and the prefill from the case.

A version's text is :class:`AgreementText`: a snapshot of the case header and of its parties' basic
information (taken from the case when the draft is saved, never edited by hand) and the mediator's
:class:`AgreementContent` — main facts, disputed issues, the terms and whether they settle all or part of
the claims (OMR 19). Field types and limits are checked when a draft is saved; completeness
(:func:`problems`) when it is frozen, so a mediator can save unfinished work.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "PAYMENT_LABELS",
    "AgreementContent",
    "AgreementText",
    "CaseHeader",
    "PartyInfo",
    "PaymentMethod",
    "Problem",
    "Settlement",
    "Term",
    "prefill",
    "problems",
    "total",
]


class Settlement(StrEnum):
    FULL = "full"  # 全部达成调解
    PARTIAL = "partial"  # 部分达成调解


class PaymentMethod(StrEnum):
    BANK_TRANSFER = "bank_transfer"  # 银行转账
    CASH = "cash"  # 现金
    ONLINE = "online_payment"  # 网上支付
    OTHER = "other"  # 其他


PAYMENT_LABELS: dict[PaymentMethod, str] = {
    PaymentMethod.BANK_TRANSFER: "银行转账",
    PaymentMethod.CASH: "现金",
    PaymentMethod.ONLINE: "网上支付",
    PaymentMethod.OTHER: "其他方式",
}

Line = Annotated[str, Field(min_length=1, max_length=2000)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


class Term(_Model):
    """One obligation. A payment has an amount (yuan, CNY), a due date and a method; a term without an
    amount is a non-monetary obligation (e.g. issuing a certificate of separation)."""

    description: Line = Field(description="What is to be done, e.g. 被申请人向申请人支付拖欠工资.")
    amount: Decimal | None = Field(None, gt=0, max_digits=14, decimal_places=2, description="Yuan (CNY).")
    due_date: date | None = Field(None, description="Asia/Shanghai calendar date; not before today.")
    payment_method: PaymentMethod | None = None


class AgreementContent(_Model):
    """What the mediator writes. Everything may be incomplete in a draft (see :func:`problems`)."""

    facts: str = Field("", max_length=20000, description="Main facts (主要事实).")
    disputed_issues: list[Line] = Field(default_factory=list, max_length=50, description="争议事项.")
    terms: list[Term] = Field(default_factory=list, max_length=50, description="协议内容.")
    settlement: Settlement = Field(Settlement.FULL, description="Settles all claims, or part of them.")
    unsettled_claims: str | None = Field(
        None, max_length=4000, description="For a partial settlement: the claims it leaves open."
    )


class PartyInfo(_Model):
    """A party's basic information as printed in the agreement (taken from the case)."""

    party_id: str
    side: str
    role: str
    party_type: str
    name: str
    id_type: str
    id_number: str
    address: str | None = None
    represents_id: str | None = None


class CaseHeader(_Model):
    case_id: str
    case_number: str
    court_name: str
    kind: str
    cause: str
    mediator_name: str | None = None


class AgreementText(_Model):
    """A version's whole text: the header and parties from the case, the content from the mediator."""

    case: CaseHeader
    parties: list[PartyInfo]
    content: AgreementContent


@dataclass(frozen=True, slots=True)
class Problem:
    """Why a text cannot be frozen yet: the field (``content.terms.0.due_date``) and a stable code."""

    field: str
    code: str
    message: str


def problems(text: AgreementText, today: date) -> list[Problem]:
    """Everything that stops ``text`` from being frozen on ``today`` (Asia/Shanghai); empty when complete."""
    out: list[Problem] = []
    sides = {p.side for p in text.parties if p.role == "principal"}
    for side in ("applicant", "respondent"):
        if side not in sides:
            out.append(Problem("parties", "party_missing", f"the agreement needs a {side} party"))
    content = text.content
    if not content.facts.strip():
        out.append(Problem("content.facts", "facts_missing", "state the main facts"))
    if not content.disputed_issues:
        out.append(Problem("content.disputed_issues", "issues_missing", "list the disputed issues"))
    if not content.terms:
        out.append(Problem("content.terms", "terms_missing", "the agreement needs at least one term"))
    for index, term in enumerate(content.terms):
        where = f"content.terms.{index}"
        if term.amount is not None:
            if term.due_date is None:
                out.append(Problem(f"{where}.due_date", "due_date_missing", "a payment needs a due date"))
            if term.payment_method is None:
                out.append(Problem(f"{where}.payment_method", "payment_method_missing", "say how it is paid"))
        if term.due_date is not None and term.due_date < today:
            out.append(Problem(f"{where}.due_date", "due_date_past", "the due date is before today"))
    unsettled = (content.unsettled_claims or "").strip()
    if content.settlement is Settlement.PARTIAL and not unsettled:
        out.append(
            Problem(
                "content.unsettled_claims",
                "unsettled_claims_missing",
                "a partial settlement names the claims it leaves open",
            )
        )
    if content.settlement is Settlement.FULL and unsettled:
        out.append(
            Problem(
                "content.unsettled_claims",
                "unsettled_claims_not_allowed",
                "a full settlement leaves no claims open",
            )
        )
    return out


def total(terms: Iterable[Term]) -> Decimal:
    """The sum of the terms' amounts (yuan)."""
    return sum((t.amount for t in terms if t.amount is not None), Decimal("0.00"))


def prefill(
    *, summary: str | None, claims: str, amount: Decimal | None, employer_pays: str | None
) -> AgreementContent:
    """A first draft from the case: its summary as the facts, each line of the claims as a disputed issue,
    and, when the case names an amount, one payment term for it (due date and method left to fill in)."""
    issues = [line.strip()[:2000] for line in claims.splitlines() if line.strip()][:50]
    terms: list[Term] = []
    if amount is not None and amount > 0:
        payer = employer_pays or "被申请人"
        terms.append(Term(description=f"{payer}向申请人支付款项", amount=amount))
    return AgreementContent(facts=(summary or "").strip()[:20000], disputed_issues=issues, terms=terms)
