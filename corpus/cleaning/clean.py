"""The rule-based cleaner: collected text (plus source metadata) -> documents, paragraphs, removals.

Why rule-based: the boilerplate is a small, known set per site (see rules.py and
../shared/notes/boilerplate-patterns.md) and a drafter must be able to see *why* text disappeared
(`corpus clean --explain`), so every dropped line or fragment is recorded with the rule that dropped it.

Pipeline (clean.py keeps only the order; each stage is its own module and works on a list of
`Line`s (lines.py), never on the joined text, so removals keep line numbers):
  1. markup.py: split lines: HTML tags/entities/comments, markdown headings, "　　" paragraph separators
  2. paywall.py: markers, inline omissions (split the paragraph), truncation tails (everything after is chrome)
  3. wikisource.py: wikisource footer, footnote marks, link fragments split onto their own lines
  4. line_rules.py: site chrome, ads, subscription blurbs, disclaimers, related-article lists, metadata lines
  5. header.py: title (source meta > 标题: > first line), repeated titles, report headers
  6. news.py: photo captions, datelines, speech headers, wire tails
  7. structure.py: table of contents, compilations (one Document per speech), 新闻联播 items
  8. tables.py: tables flattened to one cell per line -> one row per line (kind "table")
  9. reflow.py: hard-wrapped lines joined again (PDF copies), page numbers between them dropped
  10. outline.py: headings, levels, section paths
"""

from __future__ import annotations

import logging
import re

from ..models import CleanResult, Document
from . import metadata as M
from . import rules as R
from .header import header_lines, take_title
from .line_rules import line_rules
from .lines import Ctx
from .markup import split_lines, strip_invisible
from .news import news
from .outline import Block, build_paragraphs
from .paywall import paywall
from .reflow import reflow, wrap_width
from .structure import Segment, compilation, news_items, toc_block
from .tables import tables
from .wikisource import join_fragments, wikisource

log = logging.getLogger(__name__)

__all__ = ["clean_text"]


def clean_text(text: str, *, meta: dict | None = None) -> CleanResult:
    """Clean one collected text into documents (several for a compilation) and a list of removals.

    `meta` carries what the source said (title, url, date, site, unit, doc_type, speaker, meeting);
    it wins over what the text says; the text fills what the source left out.
    """
    meta = {k: (strip_invisible(v).strip() if isinstance(v, str) else v) for k, v in (meta or {}).items()}
    meta = {k: v for k, v in meta.items() if v not in (None, "")}
    ctx = Ctx(meta=meta)
    if meta.get("date"):
        ctx.date("meta", M.normalize_date(str(meta["date"])) or str(meta["date"]))
    if not text or not text.strip():
        return CleanResult(documents=[], removed=[])

    lines = split_lines(text, ctx)
    lines = paywall(lines, ctx)
    lines = wikisource(lines, ctx)
    lines = join_fragments(lines, blank_separated=ctx.wikisource)
    lines = line_rules(lines, ctx)
    title, lines = take_title(lines, ctx)
    lines = header_lines(lines, ctx, title)
    lines = news(lines, ctx, title)
    lines = toc_block(lines, ctx, title)
    width = wrap_width(lines)  # of the whole text: a short compiled piece says little on its own

    segments = news_items(lines, ctx)
    is_news_day = segments is not None
    if segments is None:
        segments = compilation(lines, ctx, title)
    compiled = segments is not None and not is_news_day
    if segments is None:
        segments = [Segment(title=title, lines=lines)]
    elif title and not meta.get("title"):
        # the compilation's own title is not any speech's title; it survives as their `meeting`
        ctx.drop(title, "compilation.title", None)
    for seg in segments:  # after segmenting: a compilation's numbered piece list is not a table
        seg.lines = reflow(tables(seg.lines, ctx), ctx, width=width)

    # metadata shared by every document of this text
    removed_text = "\n".join(r.text for r in ctx.removed)
    url = meta.get("url") or (ctx.urls[0] if ctx.urls else None)
    site = meta.get("site") or M.site_from_text(removed_text + "\n" + (url or ""))
    if title:
        mt = R.MD_TITLE_DATE.search(title)
        if mt:
            ctx.date("md_title", M.iso_date(mt.group("y"), mt.group("m"), mt.group("d")))
        mt = R.TITLE_PAREN_DATE.search(title)
        if mt:
            ctx.date("paren", M.iso_date(mt.group("y"), mt.group("m"), mt.group("d")))
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
        seg_person: tuple[str, str | None] | None = None
        seg_meeting: str | None = None
        seen = 0
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
            if ln.kind == "table":
                blocks.append(Block(text=ln.text, kind="table", omitted_before=pending))
                pending = None
                continue
            if ln.kind != "text" or not ln.text:
                continue
            seen += 1
            if seen <= 3 and not blocks and len(ln.text) <= R.BYLINE_MAX_LEN and seg_person is None \
                    and (person := M.byline(ln.text)):
                seg_person = person  # "县委书记　张三" under the title
                ctx.drop(ln.text, "meta.speaker", ln.no)
                continue
            if seen <= 3 and not blocks and seg_meeting is None and (mm := R.SUBTITLE_MEETING.match(ln.text)):
                seg_meeting = mm.group("meeting").strip()  # "——在全市…会议上的讲话", "——张三同志在…"
                if mm.group("name") and M.bare_name(mm.group("name")) and seg_person is None:
                    seg_person = (mm.group("name"), None)
                ctx.drop(ln.text, "meta.subtitle", ln.no)
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
        t_speaker, t_unit = M.person_from_title(dtitle)
        b_speaker, b_unit = seg_person or (None, None)
        unit = meta.get("unit") or seg.unit or t_unit or b_unit or (None if is_news_day else ctx.unit) \
            or M.unit_from_title(dtitle)
        meeting = meta.get("meeting") or seg_meeting or ((head_meeting if compiled else ctx.meeting)
                                                         or M.meeting_from_title(dtitle))
        doc = Document(
            title=dtitle or "",
            paragraphs=paragraphs,
            site=site,
            url=(seg.url or url) if (compiled or is_news_day) else url,
            date=(meta.get("date") and date) or seg_date or date,
            unit=unit,
            meeting=meeting,
            doc_type=dtype,
            truncated=truncated,
            claimed_length=ctx.claimed_length if truncated else None,
            speaker=meta.get("speaker") or (None if (compiled or is_news_day) else ctx.speaker) or t_speaker
            or b_speaker or (ctx.speaker if compiled else None)
            or (M.signature([p.text for p in paragraphs]) if not is_news_day else None),
            level=meta.get("level") or M.unit_level(unit) or M.level_from_scope(meeting, dtitle),
        )
        docs.append(doc)
    if ctx.truncated and docs and not any(d.truncated for d in docs):
        docs[-1].truncated = True
        docs[-1].claimed_length = ctx.claimed_length
    ctx.removed.sort(key=lambda r: r.line_no if r.line_no is not None else 0)
    return CleanResult(documents=docs, removed=ctx.removed, joins=ctx.joins)


def _fallback_title(paragraphs: list) -> str:
    """No title anywhere: the first sentence of the text, shortened."""
    if not paragraphs:
        return ""
    first = paragraphs[0].text
    m = re.match(r"^(.{4,40}?)[。！？：:]", first)
    return m.group(1) if m else first[:40]
