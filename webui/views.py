"""The pages. Each view parses the URL (webui.params), calls the library and renders a template."""

from __future__ import annotations

import logging

from flask import Blueprint, render_template, request

from corpus.errors import CorpusError, QueryError

from . import budgeted, params, services
from .citing import citations
from .docview import document_view
from .highlight import sentence_at

log = logging.getLogger(__name__)

bp = Blueprint("pages", __name__)

HELP_ZH = """\
要素保障 营商环境          两个词都要出现（同段；选“同句”则须在同一句）；字面连续出现的排在前面
"要素保障跟着项目走"      精确短语（英文或中文引号“…”均可）
-招商引资                 排除含这个词或"短语"的段落
双招双引 OR 招商引资      任一出现即可（OR 大写，或用 |）
标题:营商环境  网站:xxx  类型:讲话  单位:xx区  层级:区    按字段筛选（也可写 title: site: type: unit: level:）
年份:2023  年份:2020..2024  按年份或年份范围筛选
单个字（如 廉）和词的一部分（如 素保）也能检索。"""


def query_help() -> tuple[str, str]:
    """The query language's help: our Chinese summary, and the search library's own reference text."""
    try:
        from indexer.search import QUERY_HELP
    except ImportError:
        QUERY_HELP = ""
    return HELP_ZH, QUERY_HELP


def hit_sentence(hit) -> str:
    """The sentence "收藏本句" takes: the best semantic sentence, or the one holding the first match."""
    if getattr(hit, "best_sentence", None):
        return hit.best_sentence
    if hit.spans:
        return sentence_at(hit.text, hit.spans[0].start)
    return sentence_at(hit.text, 0)


def page_window(page: int, pages: int, width: int = 2) -> list[int | None]:
    """Page numbers to show: first, last and a window around the current page (None = gap)."""
    shown = sorted({1, pages, *range(max(1, page - width), min(pages, page + width) + 1)})
    out: list[int | None] = []
    prev = 0
    for n in shown:
        if n - prev > 1:
            out.append(None)
        out.append(n)
        prev = n
    return out


@bp.get("/")
@bp.get("/search")
@budgeted
def search():
    svc = services()
    args = request.args
    ctx = {"help": query_help(), "modes": svc.modes(), "semantic": svc.semantic_available()}
    has_filters = any((args.get(k) or "").strip() for k in params.FILTER_KEYS)
    if not (args.get("q") or "").strip() and not has_filters:
        stats = None
        try:
            stats = svc.store.stats()
        except CorpusError as e:
            ctx["error"] = e
        return render_template("search.html", req=None, result=None, stats=stats, **ctx)
    status = 200
    req = result = None
    try:
        req = params.search_request(args, svc.settings, default_mode=svc.default_mode())
        from indexer.search import search as run_search

        result = run_search(svc.settings, req, store=svc.store)
        citations(h.doc_id for h in (*result.hits, *result.related))  # the page's citations in one query
    except CorpusError as e:
        ctx["error"] = e
        status = getattr(e, "status", 400)
    form_q = (args.get("q") or "")[: svc.settings.max_query_chars + 100]
    return render_template("search.html", req=req, result=result, stats=None, form_q=form_q,
                           hit_sentence=hit_sentence, query_string=params.query_string,
                           page_window=page_window, **ctx), status


@bp.get("/doc/<int:doc_id>")
def document(doc_id: int):
    svc = services()
    hit = params.get_int(request.args, "p", 0, 0, 2**63 - 1) or None
    hl = (request.args.get("hl") or "")[: svc.settings.max_query_chars]
    terms = [t for t in hl.split() if t]
    doc = svc.document(doc_id)
    view = document_view(svc.store, doc, hit=hit, terms=terms)
    from .filters import back_args, back_state, back_url

    back = request.args.get("back")
    return render_template("document.html", semantic=svc.semantic_available(), back=back_url(back),
                           back_args=back_args(back), search_state=back_state(back), **view)


@bp.get("/doc/<int:doc_id>/docx")
def document_docx(doc_id: int):
    """The document as a Word file (title, citation, headings, paragraphs)."""
    from .citing import cite_doc
    from .word import document_docx as build

    svc = services()
    view = document_view(svc.store, svc.document(doc_id))
    return build(view, cite_doc(doc_id))


@bp.get("/p/<int:paragraph_id>")
def paragraph(paragraph_id: int):
    """A paragraph's permanent link: its document, scrolled to it."""
    from flask import redirect

    from .filters import doc_link

    p = services().paragraph(paragraph_id)
    return redirect(doc_link(p["doc_id"], p["id"]))


# The KWIC page's collocation table reads every occurrence's window (about 1-2 s for 的, 190k
# occurrences, 0.25 s for 建设, 18k, on a busy 2-core machine; kept per index generation like the
# concordance); above this many the page links to the table's export instead, so that the page
# itself stays bounded.
KWIC_COLLOCATION_MAX = 5_000


@bp.get("/kwic")
@budgeted
def kwic():
    svc = services()
    phrase = params.get_query(request.args, svc.settings, "q")
    sort = (request.args.get("sort") or "left").strip()
    width = params.get_int(request.args, "width", 20, 5, 60)
    limit = params.get_int(request.args, "limit", 200, 10, 2000)
    filters = params.get_filters(request.args, svc.settings)
    result = colloc = None
    error = None
    status = 200
    if phrase:
        try:
            from indexer.kwic import kwic as run_kwic

            result = run_kwic(svc.settings, phrase, width=width, sort=sort, limit=limit, filters=filters,
                              store=svc.store)
            if result.total <= KWIC_COLLOCATION_MAX:  # (a full pass over every occurrence's window)
                from indexer.kwic import cached

                from .tifa import kwic_collocations

                key = ("colloc", phrase, request.args.get("window", ""), tuple(sorted(filters.items())), result.total)
                colloc = cached(svc.settings, key, lambda: kwic_collocations(svc.settings, phrase, result.total,
                                                                             request.args, filters), store=svc.store)
        except CorpusError as e:
            error, status = e, getattr(e, "status", 400)
    sentences = kwic_sentences(svc.store, result.lines) if result else []
    return render_template("kwic.html", phrase=phrase, sort=sort, width=width, limit=limit, filters=filters,
                           result=result, error=error, sentences=sentences,
                           colloc=colloc, colloc_max=KWIC_COLLOCATION_MAX), status


def kwic_sentences(store, lines) -> list[str]:
    """For each KWIC line, the whole sentence around the match: what its copy/collect buttons take."""
    texts = store.paragraph_texts(ln.paragraph_id for ln in lines)
    out = []
    for ln in lines:
        text = texts.get(ln.paragraph_id)
        out.append(sentence_at(text, ln.offset) if text else ln.left + ln.match + ln.right)
    return out


@bp.get("/similar/<int:paragraph_id>")
def similar(paragraph_id: int):
    svc = services()
    para = svc.paragraph(paragraph_id)
    doc = svc.document(para["doc_id"])
    items = []
    error = None
    if not svc.semantic_available():
        error = "语义索引尚未建立，无法查找相似段落。运行 `corpus index`（启用语义检索）后再试。"
    else:
        k = params.get_int(request.args, "k", 10, 1, 50)
        try:
            items = svc.similar(paragraph_id, k)
        except CorpusError as e:
            error = e.message_zh
    return render_template("similar.html", para=para, doc=doc, items=items, error=error)


@bp.get("/collection")
def collection():
    return render_template("collection.html")


@bp.post("/collection/docx")
def collection_docx():
    """The 素材篮 the page posts ({items, categories}) as a Word file grouped by category."""
    from .word import MAX_POST_BYTES
    from .word import collection_docx as build

    request.max_content_length = MAX_POST_BYTES  # a big 素材篮 is more than the app's 2 MB default
    payload = request.get_json(silent=True)
    if payload is None:
        raise QueryError("素材篮数据有误：应为 JSON。")
    return build(payload)


def _export_request(svc):
    """The search an export route writes out (the same URL arguments as the results page); a whole
    corpus with neither query nor filter is the command line's `corpus export --all`, not a download."""
    req = params.search_request(request.args, svc.settings, default_mode=svc.default_mode())
    if not req.query and not req.filters:
        raise QueryError("导出需要一个查询或筛选条件。")
    return req


@bp.get("/search/docx")
def search_docx():
    """The results shown on one page of a search (same URL arguments) as a Word file."""
    from indexer.search import search as run_search

    from .citing import citations
    from .filters import MODE_LABELS, SCOPE_LABELS
    from .word import results_docx

    svc = services()
    req = _export_request(svc)
    result = run_search(svc.settings, req, store=svc.store)
    labels = {"mode": MODE_LABELS.get(req.mode, req.mode), "scope": SCOPE_LABELS.get(req.scope, req.scope)}
    shown = [*result.hits, *(getattr(result, "related", None) or [])]
    return results_docx(req, result, citations(h.doc_id for h in shown), labels)


@bp.get("/help")
def help_page():
    return render_template("help.html", help=query_help())


@bp.get("/export")
def export():
    from .exporting import export_response

    svc = services()
    req = _export_request(svc)
    fmt = (request.args.get("fmt") or "csv").strip().lower()
    from flask import current_app

    return export_response(svc.settings, req, fmt, current_app.extensions["corpus_exports"])


@bp.get("/favicon.ico")
def favicon():
    """Browsers ask for /favicon.ico whatever the page links; the same icon as static/favicon.svg."""
    from flask import current_app, send_from_directory

    return send_from_directory(current_app.static_folder, "favicon.ico", mimetype="image/vnd.microsoft.icon",
                               max_age=7 * 24 * 3600)
