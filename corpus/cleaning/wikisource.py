"""Stage 3: the Wikisource licence footer, footnote marks, and link fragments split onto their own lines.
"""

from __future__ import annotations

from . import rules as R
from .lines import Ctx, Line


def wikisource(lines: list[Line], ctx: Ctx) -> list[Line]:
    """Drop the licence footer (from its first line to 'Public domain / false'), footnotes and [n] refs."""
    text_idx = [i for i, ln in enumerate(lines) if ln.kind == "text"]
    if text_idx and R.WIKISOURCE_END.match(lines[text_idx[-1]].text):
        k = len(text_idx) - 1
        while k > 0 and R.WIKISOURCE_END.match(lines[text_idx[k - 1]].text):
            k -= 1
        cut = text_idx[k]
        for j in range(k - 1, max(-1, k - 61), -1):
            if R.WIKISOURCE_LICENCE_START.match(lines[text_idx[j]].text):
                cut = text_idx[j]
        for ln in lines[cut:]:
            if ln.kind == "text":
                ctx.drop(ln.text, "footer.wikisource", ln.no)
        lines = lines[:cut]
        ctx.wikisource = True
    if not any(ln.text in ("↑", "[") for ln in lines):
        return lines
    out: list[Line] = []
    i = 0
    n = len(lines)
    while i < n:
        ln = lines[i]
        if ln.text == R.WIKISOURCE_FOOTNOTE_MARK:
            ctx.drop(ln.text, "wikisource.footnote", ln.no)
            if i + 1 < n and lines[i + 1].kind == "text":
                ctx.drop(lines[i + 1].text, "wikisource.footnote", lines[i + 1].no)
                i += 1
            i += 1
            continue
        if ln.text == "[" and i + 2 < n and lines[i + 2].text == "]" and len(lines[i + 1].text) <= 12:
            ctx.drop("[" + lines[i + 1].text + "]", "wikisource.ref", ln.no)
            if i + 3 < n:
                lines[i + 3].join_prev = True
            i += 3
            continue
        out.append(ln)
        i += 1
    return out


def join_fragments(lines: list[Line], blank_separated: bool = False) -> list[Line]:
    """Rejoin text that a link or reference split onto its own lines ('所作的' / '政府工作报告' / '。会议…').

    `blank_separated`: paragraphs are separated by blank lines (Wikisource), so every line break
    inside a block is a fragment break ('广义货币M' / '2' / '和社会融资…').
    """
    out: list[Line] = []
    n = len(lines)
    for i, ln in enumerate(lines):
        prev = out[-1] if out else None
        if ln.kind == "text" and prev is not None and prev.kind == "text" and not ln.after_blank \
                and prev.md_level is None and ln.md_level is None:
            if blank_separated or ln.join_prev or R.CONTINUATION_START.match(ln.text):
                prev.text += ln.text
                continue
            nxt = lines[i + 1] if i + 1 < n else None
            if (len(ln.text) <= 30 and R.NON_TERMINAL_END.search(prev.text) and nxt is not None
                    and nxt.kind == "text" and not nxt.after_blank and R.CONTINUATION_START.match(nxt.text)):
                prev.text += ln.text
                continue
        out.append(ln)
    return out
