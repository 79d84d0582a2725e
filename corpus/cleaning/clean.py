"""Placeholder until the rule-based cleaner lands: splits lines into paragraphs, first line is the title."""

from __future__ import annotations

from ..models import CleanResult, Document, Paragraph


def clean_text(text: str, *, meta: dict | None = None) -> CleanResult:
    meta = meta or {}
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if not lines:
        return CleanResult(documents=[])
    title = meta.get("title") or lines[0]
    body = lines[1:] if not meta.get("title") else lines
    doc = Document(title=title, paragraphs=[Paragraph(t) for t in body], url=meta.get("url"), date=meta.get("date"),
                   site=meta.get("site"), unit=meta.get("unit"), doc_type=meta.get("doc_type"))
    return CleanResult(documents=[doc])
