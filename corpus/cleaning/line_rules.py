"""Stage 4: whole-line rules (site chrome, ads, subscription blurbs, disclaimers, related lists, metadata lines).
"""

from __future__ import annotations

from . import metadata as M
from . import rules as R
from .lines import Ctx, Line


def _looks_like_item_title(item: str) -> bool:
    return 0 < len(item) <= 60 and not R.SENTENCE_END.search(item)


def line_rules(lines: list[Line], ctx: Ctx) -> list[Line]:
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
