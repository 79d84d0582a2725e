"""Re-flow of hard-wrapped text: lines that break inside a sentence are joined again.

Why: text copied from PDFs (many policy documents) breaks every line at the page width,
"…提供传统服务和保障的能" / "力。"; stored as it comes, the halves are separate paragraphs, a phrase
across the break is never found and `力。` turns up as a search result. Rules (rules.py, "Re-flow"):

- reflow.width: in a document whose lines cluster at one width without closing their sentence, a line
  that reaches (nearly) that width and does not end its sentence continues on the next line;
- reflow.orphan: a short line that closes the sentence the previous line left open ("力。");
- reflow.lead_in: "最后，" / "同时，" alone on a line;
- reflow.vertical: one Han character per line (a table header set vertically);
- layout.page_number: page numbers between the halves of a sentence are dropped.

Never joined: a line after a blank line or an indent, an outline heading or list item (一、 （一） 1. ①
第一条, bullets), a signature or date line, a salutation, a line after one that ends its paragraph
(。！？；：), markdown headings. Every join is recorded (`corpus clean --explain`).
"""

from __future__ import annotations

import unicodedata

from . import rules as R
from .lines import Ctx, Line
from .outline import heading_level


def display_width(text: str) -> int:
    """Columns a line takes on the page: Han characters and full-width forms count 2."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _plain(ln: Line | None) -> bool:
    return ln is not None and ln.kind == "text" and ln.md_level is None


def wrap_width(lines: list[Line]) -> int | None:
    """The width a hard-wrapped document breaks its lines at, or None if it is not hard-wrapped."""
    widths = [display_width(ln.text) for ln in lines if _plain(ln)]
    prose = [w for w in widths if w >= R.REFLOW_MIN_WIDTH]
    open_w = sorted(display_width(ln.text) for ln in lines if _plain(ln)
                    and display_width(ln.text) >= R.REFLOW_MIN_WIDTH and not R.PARA_END.search(ln.text))
    if len(open_w) < R.REFLOW_MIN_LINES:
        return None
    best, best_n = None, 0
    lo = 0
    for hi, w in enumerate(open_w):  # the window [w-3, w] holding the most open lines
        while open_w[lo] < w - 3:
            lo += 1
        if hi - lo + 1 >= best_n:
            best, best_n = w, hi - lo + 1
    if best_n < R.REFLOW_MIN_LINES or best_n < R.REFLOW_MIN_SHARE * len(prose):
        return None
    return best


def _starts_own(ln: Line) -> bool:
    """The line opens something of its own (heading, list item, signature, salutation)."""
    t = ln.text
    return ln.after_blank or heading_level(t) is not None or bool(R.REFLOW_NEVER_JOIN_NEXT.match(t)) \
        or bool(R.LAW_ARTICLE.match(t))


def _starts_own_strict(ln: Line) -> bool:
    """Like _starts_own, but a line after a blank may still be the title a label announces."""
    t = ln.text
    return heading_level(t) is not None or bool(R.REFLOW_NEVER_JOIN_NEXT.match(t)) or bool(R.LAW_ARTICLE.match(t)) \
        or bool(R.LABEL_LINE.match(t)) or bool(R.PAGE_NUMBER_LINE.match(t))


def _join_rule(prev: Line, ln: Line, width: int | None, vertical: set[int]) -> str | None:
    p, t = prev.text, ln.text
    if R.VERTICAL_CHAR.match(t) and not ln.after_blank and (R.VERTICAL_CHAR.match(p) or id(prev) in vertical):
        return "reflow.vertical"
    if R.PARA_END.search(p):
        return None
    if ln.after_blank and len(t) <= R.ORPHAN_MAX_LEN and R.PARA_END.search(t) and R.OPEN_END.search(p) \
            and len(p) >= R.ORPHAN_PREV_MIN_LEN and heading_level(p) is None and not _starts_own_strict(ln):
        return "reflow.orphan"  # "…交出合格" / (blank) / "答卷。": the blank line cut a sentence, not a paragraph
    if _starts_own(ln):
        return None
    if width is not None and display_width(p) >= width - R.REFLOW_SLACK \
            and not (heading_level(p) in (1, 2) and not R.SENTENCE_MARK.search(p)):
        return "reflow.width"  # (a heading as wide as the page, without a comma, is still a heading)
    if len(t) <= R.ORPHAN_MAX_LEN and R.PARA_END.search(t) and R.OPEN_END.search(p) \
            and len(p) >= R.ORPHAN_PREV_MIN_LEN:
        return "reflow.orphan"
    if R.LEAD_IN.match(p):
        return "reflow.lead_in"
    return None


def reflow(lines: list[Line], ctx: Ctx, *, width: int | None = -1) -> list[Line]:
    """Join the lines that break inside a sentence. `width`: the text's wrap width if known
    (None: not hard-wrapped); by default measured on `lines`."""
    if width == -1:
        width = wrap_width(lines)
    out: list[Line] = []
    vertical: set[int] = set()
    labelled: set[int] = set()
    n = len(lines)
    for i, ln in enumerate(lines):
        if not _plain(ln):
            out.append(ln)
            continue
        t = ln.text
        prev = out[-1] if out and _plain(out[-1]) else None
        nxt = lines[i + 1] if i + 1 < n else None
        if len(t) <= 16 and R.PAGE_NUMBER_DECORATED.match(t):
            ctx.drop(t, "layout.page_number", ln.no)
            continue
        if width is not None and prev is not None and R.PAGE_NUMBER_LINE.match(t) and _plain(nxt) \
                and not R.PAGE_NUMBER_LINE.match(nxt.text) and display_width(prev.text) >= R.REFLOW_MIN_WIDTH:
            # a page number between two lines of prose (the sentence may go on across it)
            ctx.drop(t, "layout.page_number", ln.no)
            continue
        if prev is not None and R.LABEL_LINE.match(prev.text) and not _starts_own_strict(ln) \
                and len(t) <= R.LABEL_TITLE_MAX_LEN and not R.PARA_END.search(t) and id(prev) not in labelled:
            ctx.join(prev.text, t, "reflow.label", ln.no)
            sep = "" if prev.text.endswith(("：", ":")) else " "
            prev.text = prev.text + sep + t
            labelled.add(id(prev))
            continue
        rule = _join_rule(prev, ln, width, vertical) if prev is not None else None
        if rule is None:
            out.append(ln)
            continue
        ctx.join(prev.text, t, rule, ln.no)
        sep = " " if prev.text[-1:].isascii() and prev.text[-1:].isalnum() and t[:1].isascii() and t[:1].isalnum() else ""
        prev.text += sep + t
        if rule == "reflow.vertical":
            vertical.add(id(prev))
    return out
