"""The JSON API: what the pages show, as JSON. Errors are JSON with a 4xx status (webui.errors)."""

from __future__ import annotations

import dataclasses

from flask import Blueprint, jsonify, request, url_for

from corpus.errors import QueryError

from . import budgeted, params, services
from .docview import document_json, document_view

bp = Blueprint("api", __name__)


def to_jsonable(obj):
    """Library results as JSON: their own to_json(), else dataclass fields, recursively."""
    if hasattr(obj, "to_json"):
        return obj.to_json()
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_jsonable(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    return obj


@bp.get("/")
def index():
    return jsonify({
        "endpoints": {
            "search": url_for("api.search") + "?q=要素保障&mode=keyword&scope=paragraph&page=1&year=2025",
            "document": url_for("api.document", doc_id=1) + "?p=<paragraph id>&hl=<terms>",
            "paragraph": url_for("api.paragraph", paragraph_id=1),
            "kwic": url_for("api.kwic") + "?q=要素保障&sort=right&width=20",
            "trend": url_for("tifa_api.trend_json") + "?q=高质量发展 新质生产力&type=工作报告",
            "pattern": url_for("tifa_api.pattern_json") + "?q=以*为抓手&max_gap=8&sort=count",
            "collocations": url_for("tifa_api.collocations_json") + "?q=新质生产力&window=5",
            "compare": url_for("tifa_api.compare_json") + "?a=year:2024&b=year:2023&min_count=5",
            "similar": url_for("api.similar", paragraph_id=1) + "?k=10",
        }
    })


@bp.get("/search")
@budgeted
def search():
    svc = services()
    req = params.search_request(request.args, svc.settings, default_mode=svc.default_mode())
    if not req.query and not req.filters:
        raise QueryError("缺少查询：请给出 q 参数（或筛选条件）。")
    from indexer.search import search as run_search

    return jsonify(to_jsonable(run_search(svc.settings, req, store=svc.store)))


@bp.get("/documents/<int:doc_id>")
def document(doc_id: int):
    svc = services()
    hit = params.get_int(request.args, "p", 0, 0, 2**63 - 1) or None
    terms = (request.args.get("hl") or "")[: svc.settings.max_query_chars].split()
    view = document_view(svc.store, svc.document(doc_id), hit=hit, terms=terms)
    return jsonify(document_json(view))


@bp.get("/paragraphs/<int:paragraph_id>")
def paragraph(paragraph_id: int):
    svc = services()
    p = svc.paragraph(paragraph_id)
    d = svc.document(p["doc_id"])
    from .citing import cite_doc

    return jsonify({"paragraph": p, "document": {k: d[k] for k in ("id", "title", "site", "url", "date", "unit", "doc_type")},
                    "citation": cite_doc(d["id"])})


@bp.get("/kwic")
@budgeted
def kwic():
    svc = services()
    phrase = params.get_query(request.args, svc.settings, "q")
    if not phrase:
        raise QueryError("缺少短语：请给出 q 参数。")
    sort = (request.args.get("sort") or "left").strip()
    width = params.get_int(request.args, "width", 20, 5, 60)
    limit = params.get_int(request.args, "limit", 200, 10, 2000)
    from indexer.kwic import kwic as run_kwic

    result = run_kwic(svc.settings, phrase, width=width, sort=sort, limit=limit,
                      filters=params.get_filters(request.args, svc.settings), store=svc.store)
    return jsonify(to_jsonable(result))


@bp.get("/similar/<int:paragraph_id>")
def similar(paragraph_id: int):
    svc = services()
    svc.paragraph(paragraph_id)  # 404 for an unknown id
    if not svc.semantic_available():
        raise QueryError("语义索引尚未建立：运行 `corpus index`（启用语义检索）后再试。")
    k = params.get_int(request.args, "k", 10, 1, 50)
    out = []
    for item in svc.similar(paragraph_id, k):
        p, d = item["paragraph"], item["doc"]
        out.append({"paragraph_id": p["id"], "score": item["score"], "text": p["text"], "doc_id": d["id"],
                    "title": d["title"], "site": d["site"], "date": d["date"], "unit": d["unit"], "url": d["url"]})
    return jsonify({"paragraph_id": paragraph_id, "similar": out})
