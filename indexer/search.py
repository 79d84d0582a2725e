"""The one search function: `search(settings, request) -> SearchResult`, and `iter_hits` for export.

How a keyword query runs
1. `indexer.query.parse` -> required clauses (each: alternatives joined by OR), exclusions, filters.
2. Each term becomes a Whoosh query: its exact form is a phrase over the character-bigram field
   (every occurrence of the substring, single characters by prefix); an unquoted term also matches
   "scattered" (all its jieba words somewhere in the paragraph, scored BM25 over the word field).
3. Ranking tiers: paragraphs containing every term exactly (and, for several words, the words
   written together) come first, then exact-but-apart, then scattered; within a tier BM25, boosted
   when the document title or the heading paragraph itself carries a term; ties by newer date.
4. Filters (title/site/type/unit/year/level) are checked against an in-memory table of document
   fields; scope 同句 checks the sentence of each candidate against the stored text.
5. Reposts fold: the best-ranked paragraph of each near-duplicate cluster stands for it and lists
   the other places it appears (Hit.copies). Totals and facets count folded hits.
Semantic and hybrid modes get candidates from indexer.semantic / indexer.hybrid and then share
steps 4-5; when those are unavailable the keyword result comes back with a notice.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from whoosh.query import And, Or, Phrase, Prefix, Term

from corpus.errors import QueryError
from corpus.store import Store

from . import analysis
from .analysis import fold, query_char_terms, sentence_bounds
from .api import MODES, SCOPES, Copy, Hit, SearchRequest, SearchResult, Span
from .facets import unit_level
from .keyword import IndexView, open_view
from .query import HELP, Query, parse, parse_year
from .query import Term as QTerm
from .snippets import find_spans, snippet
from .terms import get_tokenizer

log = logging.getLogger(__name__)

SEMANTIC_CANDIDATES = 500
HYBRID_KEYWORD = 500
MAX_PER_PAGE = 200
MAX_COPIES = 50
TITLE_BOOST = 1.5
HEADING_BOOST = 1.3
FACET_LIMIT = 30

QUERY_HELP = HELP


# --- shared read-side state -----------------------------------------------------------------

@dataclass
class DocInfo:
    id: int
    title: str
    ftitle: str
    site: str | None
    url: str | None
    date: str | None
    year: int | None
    unit: str | None
    doc_type: str | None
    truncated: bool
    level: str | None


_stores: dict[str, Store] = {}
_docs: dict[str, tuple[tuple, dict[int, DocInfo]]] = {}
_state_lock = threading.Lock()


def _store(settings) -> Store:
    key = str(Path(settings.db_path).resolve())
    st = _stores.get(key)
    if st is None:
        st = Store(settings.db_path, readonly=True)
        _stores[key] = st
    return st


def _doc_table(settings, store: Store) -> dict[int, DocInfo]:
    """Document fields by id, reloaded only when the documents table changed."""
    key = str(store.path)
    sig = tuple(store.db.execute("SELECT count(*), max(id), max(updated_at) FROM documents").fetchone())
    cached = _docs.get(key)
    if cached and cached[0] == sig:
        return cached[1]
    with _state_lock:
        table = {}
        for d in store.iter_documents():
            table[d["id"]] = DocInfo(
                id=d["id"], title=d["title"] or "", ftitle=fold(d["title"] or ""), site=d["site"], url=d["url"],
                date=d["date"], year=d["year"], unit=d["unit"], doc_type=d["doc_type"], truncated=d["truncated"],
                level=unit_level(d["unit"]),
            )
        _docs[key] = (sig, table)
        return table


def default_mode(settings) -> str:
    """'hybrid' once an embedding index exists, else 'keyword'."""
    ok, _ = _semantic_status(settings)
    return "hybrid" if ok else "keyword"


def _semantic_status(settings) -> tuple[bool, str]:
    if not getattr(settings, "semantic", True):
        return False, "semantic search is switched off (settings.semantic)"
    try:
        from .semantic import semantic_available
    except ImportError:
        return False, "semantic search is not installed"
    try:
        if semantic_available(settings):
            return True, ""
    except Exception as e:  # a broken embedding index must not break keyword search
        log.warning("semantic_available failed: %s", e)
        return False, f"semantic index unusable ({e})"
    return False, "no semantic index yet (run `corpus index`)"


# --- whoosh queries ----------------------------------------------------------------------------

def _exact_query(term: QTerm):
    grams = query_char_terms(term.text)
    if not grams:
        return None
    if len(grams) == 1:
        g = grams[0]
        return Prefix("chars", g) if len(g) == 1 else Term("chars", g)
    return Phrase("chars", grams)


def _joined(q: Query):
    """Several single-alternative words typed apart (优化 营商环境): the text written together."""
    if len(q.clauses) < 2 or any(len(c.alternatives) > 1 for c in q.clauses):
        return None
    return _exact_query(QTerm("".join(c.alternatives[0].text for c in q.clauses), exact=True))


# --- filters ------------------------------------------------------------------------------------

def _filter_fn(q: Query):
    """A predicate over DocInfo from the query's filters (values of one key: any of them)."""
    if not q.filters:
        return None
    checks = []
    for key, values in q.filters.items():
        if key == "year":
            ranges = [parse_year(v) for v in values]
            checks.append(lambda d, r=ranges: d.year is not None and any(lo <= d.year <= hi for lo, hi in r))
        elif key == "level":
            vals = set(values)
            checks.append(lambda d, v=vals: d.level in v)
        else:
            attr = {"title": "title", "site": "site", "type": "doc_type", "unit": "unit"}[key]
            needles = [fold(v).strip() for v in values]
            checks.append(lambda d, a=attr, n=needles: any(x in fold(getattr(d, a) or "") for x in n))
    return lambda d: all(c(d) for c in checks)


def _texts(store: Store, pids: list[int]) -> dict[int, str]:
    out = {}
    for i in range(0, len(pids), 900):
        chunk = pids[i:i + 900]
        rows = store.db.execute(f"SELECT id, text FROM paragraphs WHERE id IN ({','.join('?' * len(chunk))})", chunk)
        out.update({r[0]: r[1] for r in rows})
    return out


def _sentence_checker(q: Query, tokenizer):
    """A predicate text -> bool: some sentence holds every clause (exactly, or its words apart).
    The words of each term are cut once per query, not once per sentence."""
    clauses = []
    for c in q.clauses:
        alts = []
        for t in c.alternatives:
            fine = [] if t.exact else analysis.fine_words(t.text, tokenizer)
            alts.append((t.folded, fine))
        clauses.append(alts)

    def holds(sent: str) -> bool:
        return all(any(exact in sent or (fine and all(w in sent for w in fine)) for exact, fine in alts)
                   for alts in clauses)

    def check(text: str) -> bool:
        f = fold(text)
        return any(holds(f[s:e]) for s, e in sentence_bounds(f))

    return check


# --- candidates ------------------------------------------------------------------------------

@dataclass
class Cand:
    pid: int
    doc_id: int
    cluster: int
    score: float
    best_sentence: str | None = None


def _docnums(s, query) -> set[int]:
    found = s.docs_for_query(query)
    return found if isinstance(found, set) else set(found)


def _scattered_query(term: QTerm, tokenizer):
    """Term-only (no positions) query for an unquoted term's words apart, or None."""
    if term.exact or term.is_char:
        return None
    fine = analysis.fine_words(term.text, tokenizer)
    if not fine:
        return None
    return And([Term("content", w) for w in fine]) if len(fine) > 1 else Term("content", fine[0])


def _keyword_ranked(settings, q: Query, scope: str, store: Store, docs: dict[int, DocInfo],
                    keep) -> list[Cand]:
    """Each phrase query (the costly part: positions) runs once; the rest is set algebra over
    document numbers and one BM25 pass over the candidates' words."""
    view: IndexView = open_view(settings)
    tokenizer = get_tokenizer(settings)
    s = view.searcher
    exact_all: set[int] | None = None
    matched: set[int] | None = None
    words: list[str] = []
    for c in q.clauses:
        e_c: set[int] = set()
        m_c: set[int] = set()
        for t in c.alternatives:
            ex = _exact_query(t)
            e_t = _docnums(s, ex) if ex is not None else set()
            e_c |= e_t
            m_c |= e_t
            sc = _scattered_query(t, tokenizer)
            if sc is not None:
                m_c |= _docnums(s, sc)
            words += analysis.cut_words(t.text, tokenizer)
            if not t.exact:
                words += analysis.fine_words(t.text, tokenizer)
        exact_all = e_c if exact_all is None else exact_all & e_c
        matched = m_c if matched is None else matched & m_c
        if not matched:
            return []
    for t in q.excluded:
        ex = _exact_query(t)
        if ex is not None:
            matched -= _docnums(s, ex)
    if not matched:
        return []
    exact_all &= matched
    jq = _joined(q)
    joined = (_docnums(s, jq) & exact_all) if jq is not None and exact_all else exact_all
    scores: dict[int, float] = {}
    if words:
        wq = Or([Term("content", w) for w in dict.fromkeys(words)])
        for score, dn in s.search(wq, filter=matched, limit=None, scored=True).top_n:
            scores[dn] = score
    terms_f = [t.folded for t in q.positive_terms]
    pid_col, doc_col, cl_col, head_col = view.pid, view.docid, view.cluster, view.head
    rows = []
    for dn in matched:
        doc_id = doc_col[dn]
        d = docs.get(doc_id)
        if d is None or (keep is not None and not keep(d)):
            continue
        score = scores.get(dn, 0.0) + 0.001
        if any(t in d.ftitle for t in terms_f):
            score *= TITLE_BOOST
        if head_col[dn]:
            score *= HEADING_BOOST
        tier = (2 if dn in joined else 1) if dn in exact_all else 0
        rows.append((tier, round(score, 4), d.date or "", pid_col[dn], doc_id, cl_col[dn], score))
    if scope == "sentence":
        texts = _texts(store, [r[3] for r in rows])
        check = _sentence_checker(q, tokenizer)
        rows = [r for r in rows if r[3] in texts and check(texts[r[3]])]
    rows.sort(key=lambda r: (-r[0], -r[1], _neg_date(r[2]), r[3]))
    return [Cand(pid=r[3], doc_id=r[4], cluster=r[5], score=r[6] + 1000.0 * r[0]) for r in rows]


def _neg_date(date: str) -> tuple:
    # newer first: compare on the digits, inverted
    return tuple(-ord(ch) for ch in date) + (1,)


def _pid_info(store: Store, pids: list[int]) -> dict[int, tuple[int, int]]:
    out = {}
    for i in range(0, len(pids), 900):
        chunk = pids[i:i + 900]
        rows = store.db.execute(
            f"SELECT id, doc_id, cluster_id FROM paragraphs WHERE id IN ({','.join('?' * len(chunk))})", chunk)
        out.update({r[0]: (r[1], r[2] if r[2] is not None else r[0]) for r in rows})
    return out


def _semantic_ranked(settings, q: Query, store, docs, keep, query_text: str) -> list[Cand]:
    from .semantic import semantic_search

    found = semantic_search(settings, query_text, SEMANTIC_CANDIDATES)
    info = _pid_info(store, [p for p, _, _ in found])
    out = []
    texts = _texts(store, [p for p, _, _ in found]) if q.excluded else {}
    for pid, score, sentence in found:
        if pid not in info:
            continue
        doc_id, cluster = info[pid]
        d = docs.get(doc_id)
        if d is None or (keep is not None and not keep(d)):
            continue
        if q.excluded and any(t.folded in fold(texts.get(pid, "")) for t in q.excluded):
            continue
        out.append(Cand(pid, doc_id, cluster, float(score), sentence))
    return out


def _semantic_text(q: Query) -> str:
    return " ".join(t.text for t in q.positive_terms)


def _ranked(settings, q: Query, request: SearchRequest, store, docs) -> tuple[list[Cand], str, str | None]:
    keep = _filter_fn(q)
    mode = request.mode or "keyword"
    notice = None
    if mode in ("semantic", "hybrid"):
        ok, why = _semantic_status(settings)
        if not ok:
            notice = f"{why}: keyword results shown"
            mode = "keyword"
    if mode == "keyword":
        return _keyword_ranked(settings, q, request.scope, store, docs, keep), mode, notice
    if mode == "semantic":
        return _semantic_ranked(settings, q, store, docs, keep, _semantic_text(q)), mode, notice
    # hybrid
    from .hybrid import fuse

    kw = _keyword_ranked(settings, q, request.scope, store, docs, keep)
    sem = _semantic_ranked(settings, q, store, docs, keep, _semantic_text(q))
    head = kw[:HYBRID_KEYWORD]
    by_pid = {c.pid: c for c in head}
    for c in sem:
        if c.pid in by_pid:
            by_pid[c.pid].best_sentence = c.best_sentence
        else:
            by_pid[c.pid] = c
    fused = fuse([(c.pid, c.score) for c in head], [(c.pid, c.score) for c in sem], len(by_pid))
    out = []
    for pid, score in fused:
        c = by_pid.get(pid)
        if c is not None:
            out.append(Cand(c.pid, c.doc_id, c.cluster, float(score), c.best_sentence))
    seen = {c.pid for c in out}
    out += [c for c in kw[HYBRID_KEYWORD:] if c.pid not in seen]
    return out, mode, notice


def _fold(cands: list[Cand], fold_reposts: bool) -> list[Cand]:
    if not fold_reposts:
        return cands
    seen: set[int] = set()
    out = []
    for c in cands:
        if c.cluster in seen:
            continue
        seen.add(c.cluster)
        out.append(c)
    return out


def _facets(cands: list[Cand], docs: dict[int, DocInfo]) -> dict[str, list[tuple[str, int]]]:
    counters = {"year": Counter(), "site": Counter(), "type": Counter(), "unit": Counter()}
    for c in cands:
        d = docs.get(c.doc_id)
        if d is None:
            continue
        if d.year:
            counters["year"][str(d.year)] += 1
        if d.site:
            counters["site"][d.site] += 1
        if d.doc_type:
            counters["type"][d.doc_type] += 1
        if d.level:
            counters["unit"][d.level] += 1
    out = {}
    for k, cnt in counters.items():
        items = sorted(cnt.items(), key=(lambda kv: (-int(kv[0]),)) if k == "year" else (lambda kv: (-kv[1], kv[0])))
        out[k] = items[:FACET_LIMIT]
    return out


# --- hits ---------------------------------------------------------------------------------------

def _needles(q: Query, text_folded: str, tokenizer) -> list[str]:
    needles = []
    for t in q.positive_terms:
        if t.folded in text_folded:
            needles.append(t.folded)
        elif not t.exact:
            needles.extend(analysis.fine_words(t.text, tokenizer))
    return needles


def _make_hits(settings, store: Store, docs, q: Query, cands: list[Cand], start_rank: int,
               fold_reposts: bool) -> list[Hit]:
    if not cands:
        return []
    pids = [c.pid for c in cands]
    rows = {}
    for i in range(0, len(pids), 900):
        chunk = pids[i:i + 900]
        for r in store.db.execute(
            "SELECT id, doc_id, position, text, kind, section, cluster_id FROM paragraphs "
            f"WHERE id IN ({','.join('?' * len(chunk))})", chunk,
        ):
            rows[r[0]] = r
    tokenizer = get_tokenizer(settings) if any(not t.exact for t in q.positive_terms) else None
    hits = []
    import json

    for i, c in enumerate(cands):
        r = rows.get(c.pid)
        d = docs.get(c.doc_id)
        if r is None or d is None:  # deleted since the index was built
            continue
        text = r["text"]
        f = fold(text)
        needles = _needles(q, f, tokenizer) if tokenizer else [t.folded for t in q.positive_terms]
        spans = find_spans(text, needles, folded=f)
        snip, snip_spans = snippet(text, spans)
        copies = []
        if fold_reposts and r["cluster_id"] is not None:
            for m in store.cluster_members(r["cluster_id"]):
                if m["id"] == c.pid:
                    continue
                copies.append(Copy(paragraph_id=m["id"], doc_id=m["doc_id"], title=m["title"], site=m["site"],
                                   date=m["date"], unit=m["unit"], url=m["url"]))
                if len(copies) >= MAX_COPIES:
                    break
        hits.append(Hit(
            paragraph_id=c.pid, doc_id=c.doc_id, position=r["position"], text=text,
            spans=[Span(s, e) for s, e in spans], snippet=snip, snippet_spans=[Span(s, e) for s, e in snip_spans],
            title=d.title, site=d.site, url=d.url, date=d.date, year=d.year, unit=d.unit, doc_type=d.doc_type,
            truncated=bool(d.truncated), section=json.loads(r["section"] or "[]"), kind=r["kind"],
            score=round(c.score, 4), rank=start_rank + i, cluster_id=r["cluster_id"], copies=copies,
            best_sentence=c.best_sentence,
        ))
    return hits


def _validate(request: SearchRequest) -> None:
    if request.mode not in MODES and request.mode is not None:
        raise QueryError(f"unknown mode {request.mode!r}: use one of {', '.join(MODES)}")
    if request.scope not in SCOPES:
        raise QueryError(f"unknown scope {request.scope!r}: use paragraph (同段) or sentence (同句)")
    if request.page < 1:
        raise QueryError("page must be 1 or more")
    if not 1 <= request.per_page <= MAX_PER_PAGE:
        raise QueryError(f"per_page must be between 1 and {MAX_PER_PAGE}")
    if request.sort not in ("relevance", "date"):
        raise QueryError(f"unknown sort {request.sort!r}: use relevance or date")


def _prepare(settings, request: SearchRequest):
    _validate(request)
    q = parse(request.query, max_chars=settings.max_query_chars, filters=request.filters)
    analysis.configure(settings)
    store = _store(settings)
    docs = _doc_table(settings, store)
    cands, mode, notice = _ranked(settings, q, request, store, docs)
    cands = _fold(cands, request.fold)
    if request.sort == "date":
        cands.sort(key=lambda c: _neg_date((docs[c.doc_id].date or "") if c.doc_id in docs else ""))
    return q, store, docs, cands, mode, notice


def search(settings, request: SearchRequest) -> SearchResult:
    """One page of hits with total, facets and highlight terms. Raises QueryError/IndexMissing."""
    t0 = time.perf_counter()
    q, store, docs, cands, mode, notice = _prepare(settings, request)
    start = (request.page - 1) * request.per_page
    page = cands[start:start + request.per_page]
    hits = _make_hits(settings, store, docs, q, page, start + 1, request.fold)
    return SearchResult(
        request=request, hits=hits, total=len(cands), facets=_facets(cands, docs),
        took_ms=(time.perf_counter() - t0) * 1000, mode=mode, terms=q.highlight_terms(), notice=notice,
    )


def iter_hits(settings, request: SearchRequest, batch: int = 200) -> Iterator[Hit]:
    """Every hit of the request in rank order (page/per_page ignored), built `batch` at a time."""
    q, store, docs, cands, _, _ = _prepare(settings, request)
    for i in range(0, len(cands), batch):
        yield from _make_hits(settings, store, docs, q, cands[i:i + batch], i + 1, request.fold)


def substring_scan(settings, phrase: str) -> set[int]:
    """Paragraph ids whose text contains `phrase` (folded): the ground truth tests and the bench
    compare the index with."""
    store = _store(settings)
    needle = fold(phrase)
    return {pid for pid, text in store.db.execute("SELECT id, text FROM paragraphs") if needle in fold(text)}
