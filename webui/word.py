"""Word downloads: the 素材篮 (posted by the page, grouped by the user's categories), a search's
on-screen results, a document. The files are built by corpus.wordfile; citations by corpus.citation."""

from __future__ import annotations

import datetime as dt
import io
import re
from urllib.parse import quote

from flask import Response

from corpus.citation import citation
from corpus.errors import QueryError
from corpus.wordfile import Passage, write_document, write_passages

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
MAX_ITEMS = 5000
MAX_POST_BYTES = 32 * 1024 * 1024  # the posted 素材篮: 5,000 long paragraphs with notes fit
UNCATEGORISED = "未分类"


def file_name(stem: str) -> str:
    stem = re.sub(r"[\\/:*?\"<>|\s]+", "_", stem or "").strip("_.")[:40] or "导出"
    return f"{stem}-{dt.date.today().isoformat()}.docx"


def docx_response(write, stem: str) -> Response:
    buf = io.BytesIO()
    write(buf)
    resp = Response(buf.getvalue(), mimetype=DOCX)
    resp.headers["Content-Disposition"] = f"attachment; filename=\"export.docx\"; filename*=UTF-8''{quote(file_name(stem))}"
    return resp


def _text(value, limit: int = 100_000) -> str:
    return value[:limit] if isinstance(value, str) else ""


def collection_groups(payload) -> tuple[list[tuple[str | None, list[Passage]]], int]:
    """The posted 素材篮 ({items, categories}) as groups of passages in the user's category order,
    uncategorised last; (groups, item count). Malformed input is a QueryError."""
    if not isinstance(payload, dict) or not isinstance(payload.get("items"), list):
        raise QueryError("素材篮数据有误：应为 {items: [...], categories: [...]}。")
    items = payload["items"][:MAX_ITEMS]
    cats = [c for c in payload.get("categories") or [] if isinstance(c, dict) and _text(c.get("id"))]
    names = {c["id"]: _text(c.get("name"), 200).strip() or "未命名分类" for c in cats}
    groups: dict[str | None, list[Passage]] = {cid: [] for cid in names}
    groups[None] = []
    count = 0
    for it in items:
        if not isinstance(it, dict) or not _text(it.get("text")).strip():
            continue
        cite = _text(it.get("cite"), 2000).strip() or citation({k: _text(it.get(k), 2000) for k in
                                                               ("title", "unit", "speaker", "meeting", "date", "site", "url")})
        cat = it.get("category") if it.get("category") in names else None
        groups[cat].append(Passage(text=_text(it.get("text")), cite=cite, note=_text(it.get("note"), 20_000)))
        count += 1
    out = [(names[cid], ps) for cid, ps in groups.items() if cid is not None and ps]
    if groups[None]:
        out.append((UNCATEGORISED if out else None, groups[None]))
    return out, count


def collection_docx(payload) -> Response:
    groups, count = collection_groups(payload)
    if not count:
        raise QueryError("素材篮是空的，没有可导出的内容。")
    title = _text(payload.get("title"), 100).strip() or "素材篮"
    return docx_response(lambda f: write_passages(f, title, groups, lead=[f"共 {count} 条"]), title)


RELATED_HEADING = "意思相近（不含检索词）"


def results_docx(req, result, cites: dict[int, str], labels: dict) -> Response:
    """The hits on the page the user sees, each with its citation, under a line saying which search;
    a results page's separate related list (paragraphs without the query) follows under its own heading."""
    def passages(hits, by_rank: bool) -> list[Passage]:
        return [Passage(text=h.text, cite=cites.get(h.doc_id) or citation(h), number=str(h.rank) if by_rank else "")
                for h in hits]

    related = list(getattr(result, "related", None) or [])
    groups = [(None, passages(result.hits, True))]
    if related:
        groups = [("含检索词的段落", groups[0][1]), (RELATED_HEADING, passages(related, False))]
    how = f"方式：{labels['mode']}；范围：{labels['scope']}"
    if req.filters:
        how += "；筛选：" + "，".join(f"{k}={v}" for k, v in req.filters.items())
    shown = f"第 {result.hits[0].rank}–{result.hits[-1].rank} 条" if result.hits else "无结果"
    lead = [f"检索：{req.query or '（仅筛选）'}", how, f"共 {result.total} 条结果，本文件为屏幕上的{shown}"
            + (f"，另附意思相近的 {len(related)} 段" if related else "")]
    title = f"检索结果：{req.query}" if req.query else "检索结果"
    return docx_response(lambda f: write_passages(f, title[:80], groups, lead=lead), req.query or "检索结果")


def document_docx(view: dict, cite: str) -> Response:
    doc = view["doc"]
    return docx_response(lambda f: write_document(f, doc, view["paragraphs"], cite, notices=view["notices"]),
                         doc.get("title") or "文稿")
