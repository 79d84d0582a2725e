"""Outline (提纲): which paragraphs are headings, their level, and each paragraph's section path.

Why: drafters search by structure ("what do people write under 三、保障措施"), so each paragraph
carries the headings above it. Heading numbering conventions: 一、 (level 1) （一） (2) 1. (3) （1） (4);
第一章 / 第一节 for laws (第一条 articles stay body text); markdown #'s; and a short unnumbered line
followed by longer text. "一是…" opens an enumerated body paragraph, never a heading.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..models import Paragraph
from . import rules as R


@dataclass
class Block:
    """A cleaned line on its way to becoming a paragraph."""

    text: str
    md_level: int | None = None  # markdown heading level (# = 1)
    kind: str = "text"  # "text" | "table" (a table row: never a heading)
    omitted_before: int | None = None


def heading_level(text: str) -> int | None:
    """Outline level if `text` opens with a heading number, else None."""
    if R.LAW_ARTICLE.match(text) or R.ENUM_BODY.match(text):
        return None
    for rx, level in R.HEADING_PATTERNS:
        if rx.match(text):
            return level
    return None


def _is_short_heading(text: str, nxt: str | None) -> bool:
    if len(text) > R.SHORT_HEADING_MAX_LEN or len(text) < 2 or nxt is None:
        return False
    if R.SHORT_HEADING_BAD.search(text):
        return False
    return len(nxt) >= max(2 * len(text), 30)


def build_paragraphs(blocks: list[Block]) -> list[Paragraph]:
    """Turn cleaned blocks into paragraphs with kind/level/section; split 'heading sentence + body'."""
    items: list[tuple[str, str, int, int | None]] = []  # (text, kind, level, omitted_before)
    texts = [b.text for b in blocks]
    has_numbered = any(heading_level(t) is not None for t in texts)
    for i, b in enumerate(blocks):
        t = b.text
        nxt = texts[i + 1] if i + 1 < len(texts) else None
        if b.kind == "table":
            items.append((t, "table", 0, b.omitted_before))
            continue
        if b.md_level is not None:
            lvl = heading_level(t)
            items.append((t, "heading", lvl if lvl is not None else max(1, b.md_level - 1), b.omitted_before))
            continue
        lvl = heading_level(t)
        if lvl is not None:
            if len(t) <= R.HEADING_MAX_LEN and not t.endswith(("；", ";", "，", ",")) and nxt is not None:
                items.append((t, "heading", lvl, b.omitted_before))
                continue
            m = R.LEAD_SENTENCE.match(t)
            if m and len(t) > R.HEADING_MAX_LEN:
                items.append((m.group("lead"), "heading", lvl, b.omitted_before))
                items.append((m.group("rest").strip(), "body", 0, None))
                continue
            items.append((t, "body", 0, b.omitted_before))
            continue
        if _is_short_heading(t, nxt):
            items.append((t, "heading", -1, b.omitted_before))  # level fixed below
            continue
        items.append((t, "body", 0, b.omitted_before))

    paragraphs: list[Paragraph] = []
    stack: list[tuple[int, str]] = []
    short_level: int | None = None  # unnumbered headings of one document share one level
    for text, kind, level, omitted in items:
        if kind == "heading":
            if level == -1:
                if short_level is None:
                    short_level = 1 if not has_numbered else min(5, (stack[-1][0] + 1) if stack else 1)
                level = short_level
            while stack and stack[-1][0] >= level:
                stack.pop()
            paragraphs.append(Paragraph(text=text, kind="heading", level=level,
                                        section=[s for _, s in stack], omitted_before=omitted))
            stack.append((level, text))
        else:
            paragraphs.append(Paragraph(text=text, kind=kind, level=0,
                                        section=[s for _, s in stack], omitted_before=omitted))
    return paragraphs
