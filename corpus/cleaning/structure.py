"""Stage 7: structure: table of contents, compilations (one Document per speech), 新闻联播 items.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import rules as R
from .header import looks_like_title, norm_key
from .lines import Ctx, Line


@dataclass
class Segment:
    title: str | None
    lines: list[Line]
    unit: str | None = None
    url: str | None = None


def toc_block(lines: list[Line], ctx: Ctx, title: str | None) -> list[Line]:
    """'目录/提纲:……' then the outline, ended by '……' or by the body's first heading/title."""
    texts = [i for i, ln in enumerate(lines) if ln.kind == "text"][:15]
    start = next((i for i in texts if R.TOC_START.match(lines[i].text)), None)
    if start is None:
        return lines
    seen: set[str] = set()
    end = start + 1
    tkey = norm_key(title) if title else None
    while end < len(lines):
        ln = lines[end]
        if ln.kind != "text":
            end += 1
            continue
        key = norm_key(ln.text)
        if R.TOC_END.match(ln.text):
            end += 1
            break
        if key == tkey or key in seen or len(ln.text) > 80 or end - start > 120:
            break
        seen.add(key)
        end += 1
    for ln in lines[start:end]:
        if ln.kind == "text":
            ctx.drop(ln.text, "toc", ln.no)
    return lines[:start] + lines[end:]


def _unit_after(seg_lines: list[Line], ctx: Ctx) -> tuple[str | None, list[Line]]:
    for j, ln in enumerate(seg_lines):
        if ln.kind != "text":
            continue
        if len(ln.text) <= 16 and R.UNIT_LINE.match(ln.text):
            ctx.drop(ln.text, "meta.unit", ln.no)
            return ln.text, seg_lines[:j] + seg_lines[j + 1:]
        return None, seg_lines
    return None, seg_lines


def compilation(lines: list[Line], ctx: Ctx, title: str | None) -> list[Segment] | None:
    """Split a 发言汇编 / 精选N篇 into one segment per piece, using its numbered TOC or 篇N: markers."""
    text_pos = [i for i, ln in enumerate(lines) if ln.kind == "text"]
    is_comp_title = bool(title and R.COMPILATION_TITLE.search(title))
    # count line "（6篇）"
    if text_pos and R.COMPILATION_COUNT_LINE.match(lines[text_pos[0]].text):
        ctx.drop(lines[text_pos[0]].text, "compilation.count", lines[text_pos[0]].no)
        lines = lines[: text_pos[0]] + lines[text_pos[0] + 1:]
        text_pos = [i for i, ln in enumerate(lines) if ln.kind == "text"]
        is_comp_title = True
    # numbered list of titles at the top, each repeated later as a standalone line
    items: list[int] = []
    for i in text_pos[:60]:
        m = R.NUMBERED_ITEM.match(lines[i].text)
        if m and not R.SENTENCE_END.search(m.group("text")):
            if items and i != _next_text(lines, items[-1]):
                break
            items.append(i)
        elif items:
            break
    starts: list[tuple[int, str]] = []
    if len(items) >= 2:
        pos = items[-1] + 1
        for i in items:
            key = norm_key(R.NUMBERED_ITEM.match(lines[i].text).group("text"))
            for j in range(pos, len(lines)):
                if lines[j].kind == "text" and norm_key(lines[j].text) == key:
                    starts.append((j, lines[j].text))
                    pos = j + 1
                    break
        if len(starts) >= 2 or (starts and is_comp_title):
            for i in items:
                ctx.drop(lines[i].text, "toc", lines[i].no)
        else:
            starts = []
    if not starts:
        markers = [(i, R.PIECE_MARKER.match(lines[i].text)) for i in text_pos]
        markers = [(i, m) for i, m in markers if m]
        if len(markers) >= 2:
            for i, m in markers:
                t = m.group("title").strip()
                if not t:
                    j = _next_text(lines, i)
                    if j is not None and looks_like_title(lines[j].text):
                        t = lines[j].text
                        lines[j].kind = "consumed"
                ctx.drop(lines[i].text, "compilation.marker", lines[i].no)
                starts.append((i, t or f"篇{m.group('n')}"))
    if not starts:
        return None
    segs: list[Segment] = []
    head = [ln for ln in lines[: starts[0][0]] if ln.kind == "text" and ln.no not in {lines[i].no for i in items}]
    for k, (i, t) in enumerate(starts):
        end = starts[k + 1][0] if k + 1 < len(starts) else len(lines)
        body = [ln for ln in lines[i + 1: end] if ln.kind != "consumed"]
        unit, body = _unit_after(body, ctx)
        if k == 0 and head:
            body = head + body
        segs.append(Segment(title=t, lines=body, unit=unit))
    return segs


def _next_text(lines: list[Line], i: int) -> int | None:
    for j in range(i + 1, len(lines)):
        if lines[j].kind == "text":
            return j
    return None


def news_items(lines: list[Line], ctx: Ctx) -> list[Segment] | None:
    """新闻联播 day files: '## 新闻摘要' (a list of the items: dropped) then '## 详细新闻' with '### item' each."""
    detail = next((i for i, ln in enumerate(lines) if ln.md_level == 2 and R.NEWS_DETAIL_HEADING.match(ln.text)), None)
    if detail is None:
        return None
    for ln in lines[:detail + 1]:
        if ln.kind == "text":
            ctx.drop(ln.text, "toc", ln.no)
    segs: list[Segment] = []
    for ln in lines[detail + 1:]:
        if ln.kind == "text" and ln.md_level == 3:
            segs.append(Segment(title=ln.text, lines=[]))
        elif segs:
            if ln.kind == "link":
                segs[-1].url = segs[-1].url or ln.text
            else:
                segs[-1].lines.append(ln)
    return segs or None
