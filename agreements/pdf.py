"""A frozen version's text rendered to PDF, deterministically: the same version gives the same bytes.

Nothing in the file depends on when or where it is rendered: the creation date is the version's
``frozen_at``, the document id is derived from the content (fpdf2's default), the producer is fixed, and the
CJK font is embedded as a subset of the one font file given (a TTC face or a TTF). The same font file is
needed to reproduce the bytes; the SHA-256 stored at freezing is what signatures bind to, not a re-rendering.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import Align, XPos, YPos

from agreements.layout import TITLE, layout
from agreements.text import AgreementText
from cases.deadlines import SHANGHAI

__all__ = ["DEFAULT_FONT", "FONT", "PagedPdf", "render"]

DEFAULT_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
FONT = "cjk"  # the name the CJK font is added under


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
    doc.set_title(f"{TITLE} {text.case.case_number} 第{number}版")
    doc.set_lang("zh-CN")
    doc.set_margins(20, 20, 20)
    doc.set_auto_page_break(True, margin=22)
    doc.add_font(FONT, fname=str(font), collection_font_number=0)
    doc.add_page()

    words = layout(text)
    doc.set_font(FONT, size=18)
    doc.cell(0, 12, words.title, align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    doc.set_font(FONT, size=10)
    doc.cell(0, 7, words.subtitle, align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    doc.set_font(FONT, size=11)
    for section in words.sections:
        doc.ln(3)
        doc.set_font(FONT, size=12)
        doc.multi_cell(0, 8, section.heading, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        doc.set_font(FONT, size=11)
        for line in section.paragraphs:
            doc.multi_cell(0, 7, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    return bytes(doc.output())
