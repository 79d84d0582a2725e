"""A request resolved into ranked candidates, before any hit is built: the query parsed, the mode
settled (semantic/hybrid fall back to keyword with a notice when the embedding index cannot be
used), the main list ranked and reposts folded, the related list when it is shown, date order,
did-you-mean suggestions when nothing matched."""

from __future__ import annotations

from dataclasses import dataclass

from corpus.errors import QueryError
from corpus.store import Store

from .. import analysis
from ..api import MODES, SCOPES, SearchRequest
from ..query import Query, parse
from .backend import open_backend
from .candidates import Cand, one_per_cluster
from .docs import DocArrays, DocInfo, doc_state, filter_fn, neg_date
from .hybrid import SEMANTIC_CANDIDATES, reranked
from .related import wants_related

MAX_PER_PAGE = 200


@dataclass
class Plan:
    """What a request resolves to before hits are built."""

    q: Query
    store: Store
    docs: dict[int, DocInfo]
    arrays: DocArrays
    cands: list[Cand]  # the main list, ranked (literal matches; semantic mode: meaning neighbours)
    related: list[Cand]
    related_words: list[str]
    mode: str
    notice: str | None
    suggestions: list[str]


def plan(settings, store: Store, request: SearchRequest, *, with_related: bool = True) -> Plan:
    """The ranked candidates of a request; the related list only when `with_related` (it costs a
    partial pass and a nearest-neighbour scan, and only page 1 or an export asking for it shows it)."""
    validate(request)
    q = parse(request.query, max_chars=settings.max_query_chars, filters=request.filters)
    analysis.configure(settings)
    docs, arr = doc_state(store)
    engine = open_backend(settings, store, arr)
    keep = filter_fn(q)
    mode = request.mode or "keyword"
    notices: list[str] = []
    if mode in ("semantic", "hybrid"):
        ok, why = engine.meaning_status()
        if not ok:
            notices.append(f"{why}: keyword results shown")
            mode = "keyword"
    scores = engine.query_scores(q, notices) if mode in ("semantic", "hybrid") else None
    if mode != "keyword" and scores is None:
        mode = "keyword"
    if mode == "semantic":
        main = engine.meaning(q, docs, keep, scores, SEMANTIC_CANDIDATES)
        for c in main:
            c.relation = None
        cands = one_per_cluster(main, request.fold)
        related: list[Cand] = []
        words: list[str] = []
    else:
        lit = engine.literal(q, request.scope, docs, keep)
        if scores is not None and len(lit) > 1:
            lit = reranked(lit, scores)
        cands = one_per_cluster(lit, request.fold)
        related, words = [], []
        if with_related and wants_related(request, q):
            related, words = engine.related(q, docs, keep, scores, lit, request.fold)
    if request.sort == "date":
        cands.sort(key=lambda c: neg_date((docs[c.doc_id].date or "") if c.doc_id in docs else ""))
    suggestions = engine.suggestions(q) if not cands else []
    return Plan(q=q, store=store, docs=docs, arrays=arr, cands=cands, related=related, related_words=words, mode=mode,
                notice="; ".join(notices) or None, suggestions=suggestions)


def validate(request: SearchRequest) -> None:
    if request.mode not in MODES and request.mode is not None:
        raise QueryError(f"unknown mode {request.mode!r}: use one of {', '.join(MODES)}",
                         zh="检索方式只能是 关键词/语义/混合（keyword、semantic、hybrid）")
    if request.scope not in SCOPES:
        raise QueryError(f"unknown scope {request.scope!r}: use paragraph (同段) or sentence (同句)",
                         zh="范围只能是 同段 或 同句")
    if request.page < 1:
        raise QueryError("page must be 1 or more", zh="页码应从 1 开始")
    if not 1 <= request.per_page <= MAX_PER_PAGE:
        raise QueryError(f"per_page must be between 1 and {MAX_PER_PAGE}", zh=f"每页条数应在 1 到 {MAX_PER_PAGE} 之间")
    if request.sort not in ("relevance", "date"):
        raise QueryError(f"unknown sort {request.sort!r}: use relevance or date", zh="排序只能是 相关度 或 日期")
