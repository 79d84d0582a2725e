"""What the document page and /api/documents/<id> show: the cleaned speech, its outline, notices
where the source was cut or text omitted, its sources and its reposts. Built from corpus.store."""

from __future__ import annotations

from corpus.store import Store
from indexer.snippets import find_spans

from .highlight import sentence_at

# What the document page and its JSON show of each stored paragraph.
PARAGRAPH_FIELDS = ("id", "position", "text", "kind", "level", "section", "omitted_before", "cluster_id")


def document_view(store: Store, doc: dict, *, hit: int | None = None, terms: list[str] | None = None) -> dict:
    """The document `doc` (a store row) with paragraphs, outline, notices and reposts.

    `hit` is the paragraph id a search result points at; `terms` the phrases to mark.
    """
    paragraphs = store.get_paragraphs(doc["id"])
    requested = hit
    terms = [t for t in (terms or []) if t.strip()]
    paras = []
    outline = []
    for p in paragraphs:
        spans = find_spans(p["text"], terms) if terms else []
        item = {
            **{k: p[k] for k in PARAGRAPH_FIELDS},
            "spans": spans,
            "is_hit": hit is not None and p["id"] == hit,
            "sentence": sentence_at(p["text"], spans[0][0]) if spans else None,
        }
        paras.append(item)
        if p["kind"] == "heading":
            outline.append({"id": p["id"], "text": p["text"], "level": p["level"] or 1})

    missing_hit = hit is not None and not any(p["is_hit"] for p in paras)
    if missing_hit:  # a stale or mistyped link: the document is still worth showing
        hit = None

    reposts = []
    if doc.get("cluster_id") is not None:
        reposts = [m for m in store.cluster_members(doc["cluster_id"], kind="d") if m["doc_id"] != doc["id"]]

    char_count = doc.get("char_count") or sum(len(p["text"]) for p in paragraphs)
    notices = []
    if missing_hit:
        notices.append(f"链接指向的段落（编号 {requested}）不在这篇文稿中：可能已重新整理或删除，下面显示全文。")
    if doc.get("truncated"):
        if doc.get("claimed_length"):
            notices.append(
                f"来源网页只给出了部分内容：原文称全文共 {doc['claimed_length']} 字，此处收录 {char_count} 字。"
            )
        else:
            notices.append("来源网页只给出了部分内容，此处收录的文稿不完整。")
    omitted = sum(1 for p in paragraphs if p["omitted_before"] is not None)
    if omitted:
        notices.append(f"原文有 {omitted} 处内容因付费等原因被省略，已在文中标出。")

    return {
        "doc": doc,
        "paragraphs": paras,
        "outline": outline,
        "reposts": reposts,
        "sources": doc.get("sources", []),
        "notices": notices,
        "char_count": char_count,
        "hit": hit,
        "terms": terms,
    }


def document_json(view: dict) -> dict:
    doc = dict(view["doc"])
    return {
        "document": doc,
        "notices": view["notices"],
        "outline": view["outline"],
        "reposts": view["reposts"],
        "hit": view["hit"],
        "paragraphs": [
            {**{k: p[k] for k in PARAGRAPH_FIELDS}, "spans": [list(s) for s in p["spans"]]}
            for p in view["paragraphs"]
        ],
    }
