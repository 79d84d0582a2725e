"""The rule-based cleaner: collected text (plus source metadata) -> documents, paragraphs, removals.

Why rule-based: the boilerplate is a small, known set per site (see rules.py and
../shared/notes/boilerplate-patterns.md) and a drafter must be able to see *why* text disappeared
(`corpus clean --explain`), so every dropped line or fragment is recorded with the rule that dropped it.

Pipeline (each step works on a list of `Line`s, never on the joined text, so removals keep line numbers):
  1. split lines: HTML tags/entities/comments, markdown headings, "　　" paragraph separators
  2. paywall: markers, inline omissions (split the paragraph), truncation tails (everything after is chrome)
  3. wikisource footer, footnote marks, link fragments split onto their own lines
  4. line rules: site chrome, ads, subscription blurbs, disclaimers, related-article lists, metadata lines
  5. title (source meta > 标题: > first line), repeated titles
  6. news: photo captions, datelines, speech headers, wire tails
  7. structure: table of contents, compilations (one Document per speech), 新闻联播 items
  8. outline: headings, levels, section paths (outline.py)
"""

from __future__ import annotations

import html
import logging
import re
from dataclasses import dataclass, field

from ..models import CleanResult, Document, Removal
from . import metadata as M
from . import rules as R
from .outline import Block, build_paragraphs

log = logging.getLogger(__name__)

__all__ = ["clean_text"]

# date sources, most trusted first
_DATE_PRIORITY = ["meta", "published", "datetime", "header", "paren", "promulgated", "edition", "md_title", "title_year"]


@dataclass
class Line:
    text: str
    no: int | None
    kind: str = "text"  # "text" | "omission" (paywall omitted n chars here) | "tail" (truncated here) | "link"
    n: int | None = None
    md_level: int | None = None
    after_blank: bool = False
    join_prev: bool = False


@dataclass
class _Ctx:
    meta: dict
    removed: list[Removal] = field(default_factory=list)
    dates: dict[str, str] = field(default_factory=dict)
    urls: list[str] = field(default_factory=list)
    title_prefix: str | None = None
    speaker: str | None = None
    meeting: str | None = None
    wikisource: bool = False
    header_title: str | None = None  # a speech's own title found in its header ('…讲话（2020年9月8日）习近平')
    claimed_length: int | None = None
    truncated: bool = False

    def drop(self, text: str, rule: str, no: int | None) -> None:
        text = text.strip()
        if text:
            self.removed.append(Removal(text=text, rule=rule, line_no=no))

    def date(self, source: str, value: str | None) -> None:
        if value and source not in self.dates:
            self.dates[source] = value

    def best_date(self) -> str | None:
        for src in _DATE_PRIORITY:
            if src in self.dates:
                return self.dates[src]
        return None


# ---------------------------------------------------------------------------------------------
# 1. lines
# ---------------------------------------------------------------------------------------------

def _split_lines(text: str, ctx: _Ctx) -> list[Line]:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\ufeff", "").replace("\u200b", "")
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


# ---------------------------------------------------------------------------------------------
# 2. paywall
# ---------------------------------------------------------------------------------------------

def _after_tail(lines: list[Line], ctx: _Ctx) -> None:
    """Everything after a paywall tail is page chrome; record each line under its most specific rule."""
    for ln in lines:
        if ln.kind != "text":
            continue
        t = ln.text
        m = R.SOURCE_URL.search(t)
        if m:
            ctx.urls.insert(0, m.group("url"))
        rule = "paywall.after_tail"
        if len(t) <= R.LINE_RULE_MAX_LEN:
            mm = R.LINE_RULE_RE.search(t)
            if mm:
                rule = R.LINE_RULE_NAMES[mm.lastgroup]
            elif R.PAYWALL_END_LINE.match(t):
                rule = "paywall.tail"
        ctx.drop(t, rule, ln.no)


def _paywall(lines: list[Line], ctx: _Ctx) -> list[Line]:
    out: list[Line] = []
    for i, ln in enumerate(lines):
        t = ln.text
        if "paid" in t or "pagebreak" in t:
            for m in R.PAYWALL_MARKER.finditer(t):
                ctx.drop(m.group(0), "paywall.marker", ln.no)
            t = R.PAYWALL_MARKER.sub("", t).strip()
            if not t:
                continue
            ln.text = t
        if "未完" in t:
            m = R.PAYWALL_TAIL.search(t)
            if m:
                before = t[: m.start()].strip()
                ctx.drop(m.group(0), "paywall.tail", ln.no)
                if m.group("total"):
                    ctx.claimed_length = int(m.group("total"))
                ctx.truncated = True
                if before:
                    ln.text = before
                    out.append(ln)
                out.append(Line("", ln.no, kind="tail", n=ctx.claimed_length))
                _after_tail(lines[i + 1:], ctx)
                return out
        if "结束" in t and len(t) <= 80 and R.PAYWALL_END_LINE.match(t):
            ctx.drop(t, "paywall.tail", ln.no)
            ctx.truncated = True
            m = R.CLAIMED_LENGTH.search(t)
            if m:
                ctx.claimed_length = int(m.group(1))
            out.append(Line("", ln.no, kind="tail", n=ctx.claimed_length))
            _after_tail(lines[i + 1:], ctx)
            return out
        if "省略" in t:
            pos = 0
            pieces: list[Line] = []
            for m in R.PAYWALL_OMISSION.finditer(t):
                ctx.drop(m.group(0), "paywall.omission", ln.no)
                before = t[pos: m.start()].strip()
                if before:
                    pieces.append(Line(before, ln.no, after_blank=ln.after_blank if not pieces else False))
                pieces.append(Line("", ln.no, kind="omission", n=int(m.group("n"))))
                pos = m.end()
            if pieces:
                rest = t[pos:].strip()
                if rest:
                    pieces.append(Line(rest, ln.no))
                out.extend(pieces)
                continue
        out.append(ln)
    return out


# ---------------------------------------------------------------------------------------------
# 3. wikisource
# ---------------------------------------------------------------------------------------------

def _wikisource(lines: list[Line], ctx: _Ctx) -> list[Line]:
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


def _join_fragments(lines: list[Line], blank_separated: bool = False) -> list[Line]:
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


# ---------------------------------------------------------------------------------------------
# 4. line rules
# ---------------------------------------------------------------------------------------------

def _looks_like_item_title(item: str) -> bool:
    return 0 < len(item) <= 60 and not R.SENTENCE_END.search(item)


def _line_rules(lines: list[Line], ctx: _Ctx) -> list[Line]:
    out: list[Line] = []
    in_related = False
    text_seen = 0
    for ln in lines:
        if ln.kind != "text":
            out.append(ln)
            continue
        t = ln.text
        text_seen += 1
        if in_related:
            m = R.RELATED_ITEM.match(t)
            if m:
                item = m.group("item").strip()
                if _looks_like_item_title(item):
                    ctx.drop(t, "related.list", ln.no)
                    continue
                ctx.drop(t[: m.start("item")], "related.bullet", ln.no)
                ln.text = item
                in_related = False
                out.append(ln)
                continue
            in_related = False
        if len(t) <= R.LINE_RULE_MAX_LEN:
            if text_seen <= 12:
                m = R.TITLE_PREFIX.match(t)
                if m:
                    ctx.title_prefix = ctx.title_prefix or m.group("title").strip()
                    ctx.drop(t, "title.prefix", ln.no)
                    continue
                m = R.DATETIME_LINE.match(t)
                if m:
                    ctx.date("datetime", M.iso_date(m.group("y"), m.group("m"), m.group("d")))
                    ctx.drop(t, "meta.date", ln.no)
                    continue
            m = R.DATE_LINE.match(t)
            if m:
                ctx.date("published", M.iso_date(m.group("y"), m.group("m"), m.group("d")))
                ctx.drop(t, "meta.date", ln.no)
                continue
            m = R.URL_LINE.match(t) if text_seen <= R.URL_LINE_MAX_POS else None
            if m:
                ctx.urls.append(m.group("url"))
                ctx.drop(t, "meta.url", ln.no)
                continue
            m = R.MARKDOWN_LINK_ONLY.match(t)
            if m:
                ctx.drop(t, "chrome.source_link", ln.no)
                out.append(Line(m.group("url"), ln.no, kind="link"))
                continue
            if R.JAMMER_LINE.match(t) and len(R.JAMMER_PUNCT.findall(t)) >= 3:
                ctx.drop(t, "jammer.line", ln.no)
                continue
            m = R.LINE_RULE_RE.search(t)
            if m:
                rule = R.LINE_RULE_NAMES[m.lastgroup]
                mu = R.SOURCE_URL.search(t)
                if mu:
                    ctx.urls.insert(0, mu.group("url"))
                ctx.drop(t, rule, ln.no)
                if rule == R.RELATED_HEADER_RULE:
                    in_related = True
                continue
        if t[:1].isascii() and t[:1] not in "“(（":
            m = R.JAMMER_PREFIX.match(t)
            if m and len(R.JAMMER_PUNCT.findall(m.group(1))) >= 3:
                ctx.drop(m.group(1), "jammer.prefix", ln.no)
                ln.text = t[m.end():]
        out.append(ln)
    return out


# ---------------------------------------------------------------------------------------------
# 5. title
# ---------------------------------------------------------------------------------------------

def _norm(s: str) -> str:
    return re.sub(r"[\s\u3000#]+", "", s)


def _looks_like_title(t: str) -> bool:
    return 2 <= len(t) <= 100 and not t.endswith(("。", "！", "？", "：", ":", "；", "，")) \
        and not R.SALUTATION_START.match(t) and not R.SENTENCE_END.search(t[:-1] if t else t)


def _take_title(lines: list[Line], ctx: _Ctx) -> tuple[str | None, list[Line]]:
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
        elif _looks_like_title(first.text):
            title = first.text
            lines = [ln for ln in lines if ln is not first]
    if title:
        m = R.SPEAKER_PREFIX.match(title)
        if m and m.group("speaker") in R.KNOWN_SPEAKERS:
            ctx.speaker = m.group("speaker")
        elif len(title) <= 60:
            ctx.speaker = next((k for k in R.KNOWN_SPEAKERS if k in title[:12]), None)
        keys = {_norm(title)}
        if m:
            keys.add(_norm(m.group("rest")))
        kept: list[Line] = []
        for ln in lines:
            if ln.kind == "text" and len(ln.text) <= 120 and _norm(ln.text) in keys:
                ctx.drop(ln.text, "title.repeat", ln.no)
                continue
            kept.append(ln)
        lines = kept
    return title, lines


def _header_lines(lines: list[Line], ctx: _Ctx, title: str | None) -> list[Line]:
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
        if seen <= 2 and title and 4 <= len(t) < len(title) and title.endswith(t):
            ctx.drop(t, "title.repeat", ln.no)
            continue
        out.append(ln)
    return out


# ---------------------------------------------------------------------------------------------
# 6. news
# ---------------------------------------------------------------------------------------------

def _speech_header(t: str, ctx: _Ctx, no: int | None, title: str | None) -> str:
    """Drop a speech's own header glued before its body: title, (date), role, speaker."""
    m = R.SPEECH_HEADER.match(t)
    end = None
    if m:
        ctx.date("header", M.iso_date(m.group("y"), m.group("m"), m.group("d")))
        end = m.end()
    elif (mr := R.ROLE_SPEAKER.match(t)) and any(t[mr.end():].startswith(k) for k in R.KNOWN_SPEAKERS):
        m = mr
        end = mr.end()
    else:
        if "※" not in t[:130]:
            return t
        head, _, _ = t.partition("※")
        if len(head) > 120 or R.SENTENCE_END.search(head):
            return t
        end = len(head) + 1
    rest = t[end:]
    speaker = None
    for name in R.KNOWN_SPEAKERS:
        if rest.startswith(name):
            speaker = name
            break
    if speaker is None:
        for k in (2, 3, 4):
            if len(rest) == k or (len(rest) > k and R.SALUTATION_START.match(rest[k:])):
                speaker = rest[:k]
                break
    if speaker is None and m is None:
        return t
    if speaker:
        ctx.speaker = ctx.speaker or speaker
        end += len(speaker)
    if m is not None and m.re is R.SPEECH_HEADER and m.group("title"):
        ctx.header_title = ctx.header_title or m.group("title").strip()
    elif m is None:
        ctx.header_title = ctx.header_title or t[: end - len(speaker or "") - 1].strip()
    ctx.drop(t[:end], "news.speech_header", no)
    return t[end:].strip()



def _news_head(t: str, ln: Line, ctx: _Ctx, out: list[Line], title: str | None, seen: int) -> str:
    """Peel dateline, 央视网 lead, speech header and photo caption off the start, in whatever order they come."""
    for _ in range(5):
        before = t
        if seen <= 4 and t:
            t = _speech_header(t, ctx, ln.no, title)
            # header split over two lines: the speech title line just before '（2023年11月21日，北京）…'
            if t != before and before[:1] in "(（" and out and out[-1].kind == "text" \
                    and _looks_like_title(out[-1].text):
                prev = out.pop()
                ctx.drop(prev.text, "news.speech_header", prev.no)
        if t.startswith(("新华社", "人民日报", "中新社", "央视网")):
            m = R.DATELINE.match(t)
            if m:
                ctx.drop(m.group(0), "news.dateline", ln.no)
                t = t[m.end():].strip()
            m = R.CCTV_LEAD.match(t)
            if m:
                ctx.drop(m.group(0), "news.cctv_lead", ln.no)
                t = t[m.end():].strip()
        if t == before and "摄" in t[:330]:
            m = R.PHOTO_CAPTION.match(t) or R.PHOTO_CAPTION_ALT.match(t)
            if m:
                ctx.drop(m.group("cap"), "news.caption", ln.no)
                t = t[m.end():].strip()
        if t == before:
            break
    return t


def _news(lines: list[Line], ctx: _Ctx, title: str | None) -> list[Line]:
    out: list[Line] = []
    seen = 0
    text_total = sum(len(ln.text) for ln in lines if ln.kind == "text")
    consumed = 0
    wire_cut = False
    for ln in lines:
        if ln.kind != "text":
            out.append(ln)
            continue
        if wire_cut:
            ctx.drop(ln.text, "news.source_tail" if R.PEOPLES_DAILY_TAIL.search(ln.text) else "news.wire_tail", ln.no)
            continue
        seen += 1
        t = ln.text
        consumed += len(t)
        t = _news_head(t, ln, ctx, out, title, seen)
        if "人民日报" in t[-40:]:
            m = R.PEOPLES_DAILY_TAIL.search(t)
            if m:
                ctx.date("edition", M.iso_date(m.group("y"), m.group("m"), m.group("d")))
                ctx.drop(m.group(0), "news.source_tail", ln.no)
                t = t[: m.start()].strip()
        if "新华社" in t:
            tails = list(R.WIRE_TAIL.finditer(t))
            m = tails[-1] if tails else None
            if m is not None:
                after = len(t) - m.end() + (text_total - consumed)
                if after <= 600:
                    ctx.drop(t[m.start():], "news.wire_tail", ln.no)
                    t = t[: m.start()].strip()
                    wire_cut = True
        if not t:
            continue
        ln.text = t
        out.append(ln)
    return out


# ---------------------------------------------------------------------------------------------
# 7. structure: TOC, compilations, news items
# ---------------------------------------------------------------------------------------------

@dataclass
class _Segment:
    title: str | None
    lines: list[Line]
    unit: str | None = None
    url: str | None = None


def _toc_block(lines: list[Line], ctx: _Ctx, title: str | None) -> list[Line]:
    """'目录/提纲:……' then the outline, ended by '……' or by the body's first heading/title."""
    texts = [i for i, ln in enumerate(lines) if ln.kind == "text"][:15]
    start = next((i for i in texts if R.TOC_START.match(lines[i].text)), None)
    if start is None:
        return lines
    seen: set[str] = set()
    end = start + 1
    tkey = _norm(title) if title else None
    while end < len(lines):
        ln = lines[end]
        if ln.kind != "text":
            end += 1
            continue
        key = _norm(ln.text)
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


def _unit_after(seg_lines: list[Line], ctx: _Ctx) -> tuple[str | None, list[Line]]:
    for j, ln in enumerate(seg_lines):
        if ln.kind != "text":
            continue
        if len(ln.text) <= 16 and R.UNIT_LINE.match(ln.text):
            ctx.drop(ln.text, "meta.unit", ln.no)
            return ln.text, seg_lines[:j] + seg_lines[j + 1:]
        return None, seg_lines
    return None, seg_lines


def _compilation(lines: list[Line], ctx: _Ctx, title: str | None) -> list[_Segment] | None:
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
            key = _norm(R.NUMBERED_ITEM.match(lines[i].text).group("text"))
            for j in range(pos, len(lines)):
                if lines[j].kind == "text" and _norm(lines[j].text) == key:
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
                    if j is not None and _looks_like_title(lines[j].text):
                        t = lines[j].text
                        lines[j].kind = "consumed"
                ctx.drop(lines[i].text, "compilation.marker", lines[i].no)
                starts.append((i, t or f"篇{m.group('n')}"))
    if not starts:
        return None
    segs: list[_Segment] = []
    head = [ln for ln in lines[: starts[0][0]] if ln.kind == "text" and ln.no not in {lines[i].no for i in items}]
    for k, (i, t) in enumerate(starts):
        end = starts[k + 1][0] if k + 1 < len(starts) else len(lines)
        body = [ln for ln in lines[i + 1: end] if ln.kind != "consumed"]
        unit, body = _unit_after(body, ctx)
        if k == 0 and head:
            body = head + body
        segs.append(_Segment(title=t, lines=body, unit=unit))
    return segs


def _next_text(lines: list[Line], i: int) -> int | None:
    for j in range(i + 1, len(lines)):
        if lines[j].kind == "text":
            return j
    return None


def _news_items(lines: list[Line], ctx: _Ctx) -> list[_Segment] | None:
    """新闻联播 day files: '## 新闻摘要' (a list of the items: dropped) then '## 详细新闻' with '### item' each."""
    detail = next((i for i, ln in enumerate(lines) if ln.md_level == 2 and R.NEWS_DETAIL_HEADING.match(ln.text)), None)
    if detail is None:
        return None
    for ln in lines[:detail + 1]:
        if ln.kind == "text":
            ctx.drop(ln.text, "toc", ln.no)
    segs: list[_Segment] = []
    for ln in lines[detail + 1:]:
        if ln.kind == "text" and ln.md_level == 3:
            segs.append(_Segment(title=ln.text, lines=[]))
        elif segs:
            if ln.kind == "link":
                segs[-1].url = segs[-1].url or ln.text
            else:
                segs[-1].lines.append(ln)
    return segs or None


# ---------------------------------------------------------------------------------------------
# the public function
# ---------------------------------------------------------------------------------------------

def clean_text(text: str, *, meta: dict | None = None) -> CleanResult:
    """Clean one collected text into documents (several for a compilation) and a list of removals.

    `meta` carries what the source said (title, url, date, site, unit, doc_type, speaker, meeting);
    it wins over what the text says; the text fills what the source left out.
    """
    meta = {k: v for k, v in (meta or {}).items() if v not in (None, "")}
    ctx = _Ctx(meta=meta)
    if meta.get("date"):
        ctx.date("meta", M.normalize_date(str(meta["date"])) or str(meta["date"]))
    if not text or not text.strip():
        return CleanResult(documents=[], removed=[])

    lines = _split_lines(text, ctx)
    lines = _paywall(lines, ctx)
    lines = _wikisource(lines, ctx)
    lines = _join_fragments(lines, blank_separated=ctx.wikisource)
    lines = _line_rules(lines, ctx)
    title, lines = _take_title(lines, ctx)
    lines = _header_lines(lines, ctx, title)
    lines = _news(lines, ctx, title)
    lines = _toc_block(lines, ctx, title)

    segments = _news_items(lines, ctx)
    is_news_day = segments is not None
    if segments is None:
        segments = _compilation(lines, ctx, title)
    compiled = segments is not None and not is_news_day
    if segments is None:
        segments = [_Segment(title=title, lines=lines)]
    elif title and not meta.get("title"):
        # the compilation's own title is not any speech's title; it survives as their `meeting`
        ctx.drop(title, "compilation.title", None)

    # metadata shared by every document of this text
    removed_text = "\n".join(r.text for r in ctx.removed)
    url = meta.get("url") or (ctx.urls[0] if ctx.urls else None)
    site = meta.get("site") or M.site_from_text(removed_text + "\n" + (url or ""))
    if title:
        mt = R.MD_TITLE_DATE.search(title)
        if mt:
            ctx.date("md_title", M.iso_date(mt.group("y"), mt.group("m"), mt.group("d")))
        ctx.date("title_year", M.year_from_title(title))
    date = ctx.best_date()
    head_type = M.doc_type_from_title(title or ctx.header_title)
    head_meeting = ctx.meeting or M.meeting_from_title(title)

    docs: list[Document] = []
    for seg in segments:
        blocks: list[Block] = []
        pending: int | None = None
        truncated = False
        seg_date = None
        for ln in seg.lines:
            if ln.kind == "omission":
                pending = (pending or 0) + (ln.n or 0) if ln.n is not None else -1
                continue
            if ln.kind == "tail":
                truncated = True
                continue
            if ln.kind == "link":
                seg.url = seg.url or ln.text
                continue
            if ln.kind != "text" or not ln.text:
                continue
            if seg_date is None and len(ln.text) <= 20:
                m = R.DATE_PAREN_LINE.match(ln.text)
                if m:
                    seg_date = M.iso_date(m.group("y"), m.group("m"), m.group("d"))
                    ctx.drop(ln.text, "meta.date", ln.no)
                    continue
            blocks.append(Block(text=ln.text, md_level=ln.md_level, omitted_before=pending))
            pending = None
        paragraphs = build_paragraphs(blocks)
        if not paragraphs and not seg.title:
            continue
        dtitle = seg.title if (compiled or is_news_day) else (title or ctx.header_title or _fallback_title(paragraphs))
        if is_news_day:
            dtype = meta.get("doc_type") or "新闻"
        elif compiled:
            dtype = meta.get("doc_type") or M.doc_type_from_title(dtitle, at_end=True) or M.doc_type_from_title(title)
        else:
            dtype = meta.get("doc_type") or head_type
        doc = Document(
            title=dtitle or "",
            paragraphs=paragraphs,
            site=site,
            url=(seg.url or url) if (compiled or is_news_day) else url,
            date=(meta.get("date") and date) or seg_date or date,
            unit=meta.get("unit") or seg.unit,
            meeting=meta.get("meeting") or ((head_meeting if compiled else ctx.meeting)
                                            or M.meeting_from_title(dtitle)),
            doc_type=dtype,
            truncated=truncated,
            claimed_length=ctx.claimed_length if truncated else None,
            speaker=meta.get("speaker") or ctx.speaker,
        )
        docs.append(doc)
    if ctx.truncated and docs and not any(d.truncated for d in docs):
        docs[-1].truncated = True
        docs[-1].claimed_length = ctx.claimed_length
    ctx.removed.sort(key=lambda r: r.line_no if r.line_no is not None else 0)
    return CleanResult(documents=docs, removed=ctx.removed)


def _fallback_title(paragraphs: list) -> str:
    """No title anywhere: the first sentence of the text, shortened."""
    if not paragraphs:
        return ""
    first = paragraphs[0].text
    m = re.match(r"^(.{4,40}?)[。！？：:]", first)
    return m.group(1) if m else first[:40]
