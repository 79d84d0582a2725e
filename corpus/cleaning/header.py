"""Stage 5: the title (source meta > 标题: > first line), repeated titles, and report headers under it.
"""

from __future__ import annotations

import re

from . import metadata as M
from . import rules as R
from .lines import Ctx, Line


def norm_key(s: str) -> str:
    return re.sub(r"[\s\u3000#]+", "", s)


def looks_like_title(t: str) -> bool:
    return 2 <= len(t) <= 100 and not t.endswith(("。", "！", "？", "：", ":", "；", "，")) \
        and not R.SALUTATION_START.match(t) and not R.SENTENCE_END.search(t[:-1] if t else t)


def take_title(lines: list[Line], ctx: Ctx) -> tuple[str | None, list[Line]]:
    title = (ctx.meta.get("title") or "").strip() or None
    text_lines = [ln for ln in lines if ln.kind == "text"]
    first = text_lines[0] if text_lines else None
    if title is None and ctx.title_prefix:
        title = ctx.title_prefix
    if title is None and first is not None:
        md1 = next((ln for ln in text_lines[:5] if ln.md_level == 1), None)
        if md1 is not None:
            title = md1.text
            lines = [ln for ln in lines if ln is not md1]
        elif looks_like_title(first.text):
            title = first.text
            lines = [ln for ln in lines if ln is not first]
    if title:
        m = R.SPEAKER_PREFIX.match(title)
        if m and m.group("speaker") in R.KNOWN_SPEAKERS:
            ctx.speaker = m.group("speaker")
        elif len(title) <= 60:
            ctx.speaker = next((k for k in R.KNOWN_SPEAKERS if k in title[:12]), None)
        keys = {norm_key(title)}
        if m:
            keys.add(norm_key(m.group("rest")))
        kept: list[Line] = []
        for ln in lines:
            if ln.kind == "text" and len(ln.text) <= 120 and norm_key(ln.text) in keys:
                ctx.drop(ln.text, "title.repeat", ln.no)
                continue
            kept.append(ln)
        lines = kept
    return title, lines


def header_lines(lines: list[Line], ctx: Ctx, title: str | None) -> list[Line]:
    """Report headers under the title: '政府工作报告', '——2024年3月5日在…会议上', '国务院总理' / '李　强'."""
    out: list[Line] = []
    seen = 0
    skip_next = False
    for i, ln in enumerate(lines):
        if skip_next:
            skip_next = False
            continue
        if ln.kind != "text" or seen >= 6:
            out.append(ln)
            continue
        seen += 1
        t = ln.text
        mp = R.PROMULGATION_LINE.match(t) if len(t) <= 160 else None
        if mp:
            ctx.date("promulgated", M.iso_date(mp.group("y"), mp.group("m"), mp.group("d")))
        m = R.SUBTITLE_DATE_MEETING.match(t)
        if m:
            ctx.date("header", M.iso_date(m.group("y"), m.group("m"), m.group("d")))
            ctx.meeting = ctx.meeting or m.group("meeting").strip()
            ctx.drop(t, "meta.subtitle", ln.no)
            continue
        mr = R.ROLE_LINE.match(t)
        if mr:
            name = mr.group("name")
            nxt = lines[i + 1] if i + 1 < len(lines) else None
            if name is None and nxt is not None and nxt.kind == "text" and R.NAME_LINE.match(nxt.text):
                name = nxt.text
                skip_next = True
                ctx.drop(nxt.text, "meta.speaker", nxt.no)
            if name:
                ctx.speaker = ctx.speaker or re.sub(r"[\u3000 ]", "", name)
                ctx.drop(t, "meta.speaker", ln.no)
                continue
        if R.SPACED_NAME_LINE.match(t):
            ctx.speaker = ctx.speaker or re.sub(r"[\u3000 ]", "", t)
            ctx.drop(t, "meta.speaker", ln.no)
            continue
        nxt = lines[i + 1] if i + 1 < len(lines) else None
        if seen <= 4 and (name := M.bare_name(t)) and nxt is not None and nxt.kind == "text" \
                and R.SALUTATION_START.match(nxt.text):
            # a bare name between the header and "各位代表：" / "同志们：" is the speaker ("周恩来")
            ctx.speaker = ctx.speaker or name
            ctx.drop(t, "meta.speaker", ln.no)
            continue
        if seen <= 2 and title and 4 <= len(t) < len(title) and title.endswith(t):
            ctx.drop(t, "title.repeat", ln.no)
            continue
        out.append(ln)
    return out
