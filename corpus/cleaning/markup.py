"""Stage 1: raw text -> lines (HTML tags/entities/comments, front matter, markdown headings, '　　' separators).
"""

from __future__ import annotations

import html
import re

from ..textnorm import strip_invisible
from . import rules as R
from .lines import Ctx, Line


def split_lines(text: str, ctx: Ctx) -> list[Line]:
    text = strip_invisible(text.replace("\r\n", "\n").replace("\r", "\n"))
    if "<!--" in text:
        def _comment(m: re.Match) -> str:
            ctx.drop(m.group(0), "markup.comment", text.count("\n", 0, m.start()) + 1)
            return "\n" * m.group(0).count("\n")
        text = R.HTML_COMMENT.sub(_comment, text)
    raw = text.split("\n")
    start = 0
    if raw and raw[0].strip() == R.FRONT_MATTER_DELIM:
        for j in range(1, min(len(raw), 40)):
            if raw[j].strip() == R.FRONT_MATTER_DELIM:
                for k in range(0, j + 1):
                    ctx.drop(raw[k], "markup.front_matter", k + 1)
                start = j + 1
                break
    out: list[Line] = []
    blank = False
    for idx in range(start, len(raw)):
        no = idx + 1
        ln = raw[idx]
        pieces = [ln]
        if "<" in ln:
            tags: list[str] = R.HTML_INLINE_TAG.findall(ln)
            ln = R.HTML_INLINE_TAG.sub("", ln)
            parts = R.HTML_BREAK_TAG.split(ln)
            tags.extend(R.HTML_BREAK_TAG.findall(ln))
            if tags:
                ctx.drop("".join(tags), "markup.html", no)
            pieces = parts
        for piece in pieces:
            if "&" in piece and R.HTML_ENTITY.search(piece):
                piece = html.unescape(piece)
            piece = piece.replace("\xa0", " ")
            segs = R.PARA_SEPARATOR.split(piece) if ("\u3000" in piece or "\u2003" in piece) else [piece]
            for seg in segs:
                s = seg.strip()
                if not s:
                    blank = True
                    continue
                md = None
                if s.startswith("#"):
                    m = R.MARKDOWN_HEADING.match(s)
                    if m:
                        md, s = len(m.group(1)), m.group(2).strip()
                        if not s:
                            continue
                out.append(Line(s, no, md_level=md, after_blank=blank))
                blank = False
        if not ln.strip():
            blank = True
    return out
