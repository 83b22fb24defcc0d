"""The pages added to a signed agreement: the signature page and the completion certificate (完成证书).

Rendered with fpdf2 and the same CJK font as the agreement, in Simplified Chinese with English beside it.
The signature page shows each signer's drawn signature with name, role and time; the certificate lists the
signers with how each re-confirmed their identity, the timeline from the audit trail, the document's
SHA-256, the version, the verification code and a QR code of the verify URL (drawn as vector squares from
``segno``'s matrix, nothing rasterised). Pure: the same inputs give the same bytes.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import segno
from fpdf import FPDF
from fpdf.enums import Align, XPos, YPos
from fpdf.fonts import FontFace
from PIL import Image

from agreements.evidence import AuthMethod, Evidence
from agreements.pdf import FONT, PagedPdf
from cases.deadlines import SHANGHAI
from cases.vocab import label
from tiaojie.errors import InvalidInput

__all__ = ["AUTH_LABELS", "ROLE_LABELS", "SealFacts", "local_time", "render_pages", "role_label"]


ROLE_LABELS: dict[str, tuple[str, str]] = {
    "mediator": ("调解员", "Mediator"),
    "organisation_seal": ("调解组织电子印章", "Organisation's seal"),
}
AUTH_LABELS: dict[str, tuple[str, str]] = {
    AuthMethod.ONE_TIME_CODE: ("短信验证码", "One-time code by SMS"),
    AuthMethod.IN_SESSION: ("调解员当场核验身份", "Identity checked by the mediator in session"),
    AuthMethod.ACCOUNT: ("账户登录", "Signed-in account"),
}


@dataclass(frozen=True, slots=True)
class SealFacts:
    """What the seal adds to the evidence: when it was sealed and how to verify it."""

    code: str  # the verification code as printed (grouped)
    verify_url: str  # what the QR code holds
    sealed_at: datetime  # aware


def role_label(role: str) -> tuple[str, str]:
    if role in ROLE_LABELS:
        return ROLE_LABELS[role]
    return label(role), label(role, "en")


def local_time(moment: datetime) -> str:
    """``2026-03-02 10:00:05 (UTC+8)``: Beijing time, to the second."""
    return f"{moment.astimezone(SHANGHAI):%Y-%m-%d %H:%M:%S} (UTC+8)"


def _auth(method: str | None) -> str:
    if not method:
        return "—"
    zh, en = AUTH_LABELS.get(method, (method, method))
    return f"{zh} {en}"


def _qr(doc: FPDF, url: str, x: float, y: float, size: float) -> None:
    """The QR code of ``url`` as filled squares (one rectangle per run of dark modules in a row)."""
    rows = [list(row) for row in segno.make(url, error="m", micro=False).matrix_iter(scale=1, border=4)]
    module = size / len(rows)
    doc.set_fill_color(0, 0, 0)
    for r, row in enumerate(rows):
        c = 0
        while c < len(row):
            if not row[c]:
                c += 1
                continue
            start = c
            while c < len(row) and row[c]:
                c += 1
            doc.rect(x + start * module, y + r * module, (c - start) * module, module, style="F")


def _check_images(evidence: Evidence) -> None:
    """Every signature image is a PNG that decodes (checked before rendering starts)."""
    for signature in evidence.signatures:
        try:
            with Image.open(io.BytesIO(signature.image_png), formats=["PNG"]) as image:
                image.load()
        except Exception as exc:  # Pillow raises many kinds for a damaged image
            raise InvalidInput(
                f"the signature image of {signature.signer_id} is not a readable PNG",
                code="bad_signature_image",
                field="image_png",
            ) from exc


def _signature_page(doc: PagedPdf, evidence: Evidence) -> None:
    doc.add_page()
    doc.set_font(FONT, size=16)
    doc.cell(0, 10, "签名页", align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    doc.set_font(FONT, size=10)
    doc.cell(0, 6, "Signatures", align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    doc.cell(
        0,
        6,
        f"案号 Case {evidence.case_number}　"
        f"协议第{evidence.version_number}版 Version {evidence.version_number}",
        align=Align.C,
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    doc.ln(4)
    box_w, box_h = 62.0, 26.0
    for signature in evidence.signatures:
        if doc.get_y() + box_h + 6 > doc.h - doc.b_margin:
            doc.add_page()
        top = doc.get_y()
        left = doc.l_margin
        doc.set_draw_color(160, 160, 160)
        doc.rect(left, top, box_w, box_h)
        doc.image(
            io.BytesIO(signature.image_png),
            x=left + 1,
            y=top + 1,
            w=box_w - 2,
            h=box_h - 2,
            keep_aspect_ratio=True,
        )
        zh, en = role_label(signature.role)
        text_x = left + box_w + 6
        width = doc.w - doc.r_margin - text_x
        doc.set_xy(text_x, top + 1)
        doc.set_font(FONT, size=12)
        doc.multi_cell(width, 7, signature.name, new_x=XPos.LEFT, new_y=YPos.NEXT)
        doc.set_font(FONT, size=9)
        for line in (
            f"{zh} {en}",
            f"签署时间 Signed at: {local_time(signature.signed_at)}",
            f"身份确认 Identity: {_auth(signature.auth_method)}",
        ):
            doc.multi_cell(width, 4.5, line, new_x=XPos.LEFT, new_y=YPos.NEXT)
        doc.set_xy(left, top + box_h + 6)


def _field(doc: FPDF, name: str, value: str, *, mono: bool = False) -> None:
    """One line of the certificate: the label, then the value (hashes in Courier, which has every hex
    digit at the same width)."""
    doc.set_font(FONT, size=9)
    doc.cell(48, 6, name)
    if mono:
        doc.set_font("courier", size=8.5)
    doc.multi_cell(0, 6, value, align=Align.L, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    doc.set_font(FONT, size=9)


def _table(doc: FPDF, head: Sequence[str], rows: Sequence[Sequence[str]], widths: Sequence[int]) -> None:
    doc.set_font(FONT, size=8)
    with doc.table(
        col_widths=tuple(widths),
        text_align="LEFT",
        line_height=4.5,
        headings_style=FontFace(emphasis="", fill_color=(235, 235, 235)),
    ) as table:
        top = table.row()
        for cell in head:
            top.cell(cell)
        for values in rows:
            row = table.row()
            for value in values:
                row.cell(value)


def _certificate(doc: PagedPdf, evidence: Evidence, facts: SealFacts) -> None:
    doc.add_page()
    doc.set_font(FONT, size=16)
    doc.cell(0, 10, "完成证书", align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    doc.set_font(FONT, size=10)
    doc.cell(0, 6, "Certificate of Completion", align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    doc.ln(3)
    qr_size = 38.0
    qr_top = doc.get_y()
    _qr(doc, facts.verify_url, doc.w - doc.r_margin - qr_size, qr_top, qr_size)
    doc.set_right_margin(doc.r_margin + qr_size + 4)
    _field(doc, "案号 Case number", evidence.case_number)
    _field(doc, "法院 Court", evidence.court_name)
    _field(doc, "调解组织 Organisation", evidence.organisation_name)
    _field(doc, "协议版本 Version", f"第{evidence.version_number}版 ({evidence.version_id})")
    _field(doc, "生效时间 Effective at", local_time(evidence.effective_at))
    _field(doc, "封存时间 Sealed at", local_time(facts.sealed_at))
    _field(doc, "验证码 Verification code", facts.code)
    doc.set_right_margin(20)
    doc.set_y(max(doc.get_y(), qr_top + qr_size) + 2)
    _field(doc, "核验网址 Verify at", facts.verify_url)
    _field(doc, "协议文件 Document SHA-256", evidence.document_sha256, mono=True)
    doc.set_font(FONT, size=8)
    doc.multi_cell(
        0,
        4.5,
        "以上哈希值为各方签名所针对的协议文件（本文件第一部分；原始文件作为附件嵌入本文件）的 SHA-256 摘要。"
        "本文件由本平台以电子印章（PAdES）封存，任何改动都会使印章验证失败。"
        "The SHA-256 above is the digest of the agreement every signature binds to (the first part of this "
        "file; the original file is attached to it). The whole file is sealed with the service's PAdES "
        "signature: any change makes its verification fail.",
        align=Align.L,
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    doc.ln(3)
    doc.set_font(FONT, size=11)
    doc.cell(0, 7, "签署人 Signers", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    _table(
        doc,
        ["姓名 Name", "身份 Role", "签署时间 Signed at", "身份确认 Identity", "IP / 浏览器 User agent"],
        [
            (
                s.name,
                " ".join(role_label(s.role)),
                local_time(s.signed_at),
                _auth(s.auth_method),
                f"{s.ip}\n{s.user_agent[:120]}",
            )
            for s in evidence.signatures
        ],
        (26, 26, 32, 34, 52),
    )
    doc.ln(3)
    doc.set_font(FONT, size=11)
    doc.cell(0, 7, "过程记录 Timeline", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    _table(
        doc,
        ["#", "时间 Time", "操作人 Actor", "操作 Action", "身份确认 Identity", "IP"],
        [
            (
                str(t.seq),
                local_time(t.at),
                t.actor,
                t.action,
                _auth(t.auth_method),
                t.ip or "—",
            )
            for t in evidence.trail
        ],
        (8, 32, 36, 34, 30, 30),
    )
    if evidence.trail:
        doc.ln(2)
        _field(doc, "审计链末项 Last trail hash", evidence.trail[-1].entry_hash, mono=True)


def render_pages(evidence: Evidence, facts: SealFacts, *, font: Path) -> bytes:
    """The signature page and the completion certificate, as one PDF."""
    if facts.sealed_at.tzinfo is None:
        raise ValueError("sealed_at must be aware")
    _check_images(evidence)
    doc = PagedPdf(f"案号 {evidence.case_number}　验证码 {facts.code}　附页")
    doc.set_creation_date(facts.sealed_at.astimezone(UTC).replace(microsecond=0))
    doc.set_producer("tiaojie")
    doc.set_creator("tiaojie")
    doc.set_lang("zh-CN")
    doc.set_margins(20, 20, 20)
    doc.set_auto_page_break(True, margin=22)
    doc.add_font(FONT, fname=str(font), collection_font_number=0)
    _signature_page(doc, evidence)
    _certificate(doc, evidence, facts)
    return bytes(doc.output())
