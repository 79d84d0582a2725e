"""Word (.docx) files a drafter pastes from: collected passages with their citations, a search's
results, a whole document. Built with python-docx; text only (no fields, no macros, no links that
run anything), every string cleaned of the control characters XML cannot hold.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import BinaryIO

from .citation import PREFIX

BODY_FONT = "宋体"
HEADING_FONT = "黑体"
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def xml_text(value) -> str:
    """`value` as text Word can store: XML 1.0 has no place for most control characters."""
    return _NOT_XML.sub("", "" if value is None else str(value))


@dataclass
class Passage:
    text: str
    cite: str
    note: str = ""
    number: str = ""  # what the passage is numbered with (a search hit's rank); default: its place in its group


def _new_document(title: str):
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Pt

    doc = Document()
    for name, font, size in (("Normal", BODY_FONT, 12), ("Title", HEADING_FONT, 18), ("Heading 1", HEADING_FONT, 15),
                             ("Heading 2", HEADING_FONT, 13), ("Heading 3", HEADING_FONT, 12)):
        style = doc.styles[name]
        style.font.name = font
        style.font.size = Pt(size)
        rpr = style.element.get_or_add_rPr()
        rpr.get_or_add_rFonts().set(qn("w:eastAsia"), font)
    doc.core_properties.title = xml_text(title)[:200]
    head = doc.add_paragraph(xml_text(title), style="Title")
    head.alignment = WD_ALIGN_PARAGRAPH.CENTER
    return doc


def _small(paragraph, text: str, *, grey: bool = True, italic: bool = False, size: float = 10.5):
    from docx.shared import Pt, RGBColor

    run = paragraph.add_run(xml_text(text))
    run.font.size = Pt(size)
    run.italic = italic
    if grey:
        run.font.color.rgb = RGBColor(0x55, 0x5B, 0x63)
    return run


def _passage(doc, p: Passage, number: str) -> None:
    from docx.shared import Pt

    para = doc.add_paragraph()
    if number:
        para.add_run(f"{number}. ")
    para.add_run(xml_text(p.text).strip())
    para.paragraph_format.space_after = Pt(2)
    if p.note.strip():
        note = doc.add_paragraph()
        _small(note, "批注：" + p.note.strip(), italic=True)
        note.paragraph_format.space_after = Pt(2)
    cite = doc.add_paragraph()
    _small(cite, PREFIX + p.cite)
    cite.paragraph_format.space_after = Pt(10)


def write_passages(stream: BinaryIO, title: str, groups: Iterable[tuple[str | None, list[Passage]]],
                   *, lead: Iterable[str] = ()) -> None:
    """Passages under group headings (a None heading: no heading), numbered within each group
    (or by their own `number`)."""
    doc = _new_document(title)
    lines = [*lead, f"导出时间：{dt.datetime.now().strftime('%Y-%m-%d %H:%M')}"]
    for line in lines:
        _small(doc.add_paragraph(), line)
    for heading, passages in groups:
        if heading is not None:
            doc.add_paragraph(xml_text(heading), style="Heading 1")
        for i, p in enumerate(passages, 1):
            _passage(doc, p, p.number or str(i))
    doc.save(stream)


def write_document(stream: BinaryIO, doc_fields: dict, paragraphs: Iterable[dict], cite: str,
                   *, notices: Iterable[str] = ()) -> None:
    """A whole document: its title, its citation, its notices, then its headings and paragraphs."""
    from docx.shared import Pt

    doc = _new_document(doc_fields.get("title") or "")
    _small(doc.add_paragraph(), "出处：" + cite)
    for n in notices:
        _small(doc.add_paragraph(), n, grey=False)
    for p in paragraphs:
        if p.get("omitted_before") is not None:
            _small(doc.add_paragraph(), "〔此处原文有省略〕", italic=True)
        text = xml_text(p.get("text")).strip()
        if not text:
            continue
        if p.get("kind") == "heading":
            level = min(max(int(p.get("level") or 1), 1), 3)
            doc.add_paragraph(text, style=f"Heading {level}")
        else:
            para = doc.add_paragraph(text)
            para.paragraph_format.first_line_indent = Pt(24)
    doc.save(stream)
