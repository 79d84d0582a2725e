"""The one search function: `search(settings, request) -> SearchResult`, and `iter_hits` for export.

How a keyword query runs
1. `indexer.query.parse` -> required clauses (each: alternatives joined by OR), exclusions, filters.
2. Each term is looked up in the keyword index (indexer.keyword, all numpy): its exact form in the
   character index (every occurrence of the substring, single characters too, checked against the
   folded text held in memory); an unquoted term also matches "scattered" (all its jieba words
   somewhere in the paragraph, from the word postings). Clauses combine as sorted row arrays.
3. Ranking tiers: paragraphs containing every term exactly (and, for several words, the words
   written together) come first, then exact-but-apart, then scattered; within a tier BM25, boosted
   when the document title or the heading paragraph itself carries a term; ties by newer date.
4. Filters (title/site/type/unit/year/level) are checked against an in-memory table of document
   fields (once per document); scope 同句 checks each candidate's folded text in memory, using
   the sentence ends the index precomputed (no SQLite reads).
5. Reposts fold: the best-ranked paragraph of each near-duplicate cluster stands for it and lists
   the other places it appears (Hit.copies). Totals and facets count folded hits.
Semantic and hybrid modes get candidates from indexer.semantic / indexer.hybrid and then share
steps 4-5; when those are unavailable the keyword result comes back with a notice.
"""

from __future__ import annotations

import logging
import threading
import time
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from corpus.errors import QueryError
from corpus.store import Store

from . import analysis, budget
from .analysis import RUN, SENTENCE_END, fold, sentence_bounds
from .api import MODES, SCOPES, Copy, Hit, SearchRequest, SearchResult, Span
from .facets import unit_level
from .keyword import IndexView, open_view
from .query import HELP, Query, parse, parse_year
from .query import Term as QTerm
from .snippets import find_spans, snippet
from .terms import query_tokenizer

log = logging.getLogger(__name__)

SEMANTIC_CANDIDATES = 500
HYBRID_KEYWORD = 500
# In hybrid mode the topic neighbours join the keyword hits; more than a few pages of them only
# inflates the total a drafter sees ("114 hits" for a phrase 5 paragraphs contain). With a filter
# more are fetched, since the filter drops some after retrieval.
HYBRID_SEMANTIC = 100
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
    date_rank: int = 0  # position in newest-first date order (undated last)


@dataclass
class DocArrays:
    """The document table as arrays (sorted ids) and value groups: filters and date order for
    thousands of matched documents without a Python call per document."""

    ids: np.ndarray
    year: np.ndarray  # -1: unknown
    date_rank: np.ndarray
    ftitle: list[str]
    groups: dict[str, dict[str, np.ndarray]]  # filter key -> folded value -> positions in ids

    @classmethod
    def of(cls, table: dict[int, DocInfo]) -> DocArrays:
        ds = [table[i] for i in sorted(table)]
        groups: dict[str, dict[str, list[int]]] = {k: {} for k in ("title", "site", "type", "unit", "level")}
        for i, d in enumerate(ds):
            for key, value in (("title", d.ftitle), ("site", fold(d.site or "")), ("type", fold(d.doc_type or "")),
                               ("unit", fold(d.unit or "")), ("level", d.level)):
                groups[key].setdefault(value, []).append(i)
        return cls(
            ids=np.array([d.id for d in ds], dtype=np.int64),
            year=np.array([d.year if d.year is not None else -1 for d in ds], dtype=np.int64),
            date_rank=np.array([d.date_rank for d in ds], dtype=np.int64),
            ftitle=[d.ftitle for d in ds],
            groups={k: {v: np.array(ix, dtype=np.int64) for v, ix in g.items()} for k, g in groups.items()},
        )

    def allowed(self, q: Query) -> np.ndarray | None:
        """Which documents pass the query's filters (the same rules as `_filter_fn`), or None."""
        if not q.filters:
            return None
        mask = np.ones(len(self.ids), dtype=bool)
        for key, values in q.filters.items():
            m = np.zeros(len(self.ids), dtype=bool)
            if key == "year":
                known = self.year >= 0
                for lo, hi in (parse_year(v) for v in values):
                    m |= known & (self.year >= lo) & (self.year <= hi)
            elif key == "level":
                for v in set(values):
                    if v in self.groups["level"]:
                        m[self.groups["level"][v]] = True
            else:
                needles = [fold(v).strip() for v in values]
                for value, ix in self.groups[key].items():
                    if any(x in value for x in needles):
                        m[ix] = True
            mask &= m
        return mask


_stores: dict[str, Store] = {}
_docs: dict[str, tuple[tuple, dict[int, DocInfo], DocArrays]] = {}
_seen: dict[int, tuple[object, int, tuple]] = {}  # id(connection) -> (connection, data_version, signature)
_state_lock = threading.Lock()


def _store(settings) -> Store:
    key = str(Path(settings.db_path).resolve())
    st = _stores.get(key)
    if st is None:
        st = Store(settings.db_path, readonly=True)
        _stores[key] = st
    return st


def _doc_state(store: Store) -> tuple[dict[int, DocInfo], DocArrays]:
    """Document fields by id (and as arrays), reloaded only when the documents table changed.

    `PRAGMA data_version` (microseconds; it changes when another connection commits) decides
    whether the table signature (a scan of the documents table, ~2 ms) must be read again."""
    key = str(store.path)
    conn = store.db
    version = conn.execute("PRAGMA data_version").fetchone()[0]
    cached = _docs.get(key)
    seen = _seen.get(id(conn))
    if cached and seen and seen[0] is conn and seen[1] == version and seen[2] == cached[0]:
        return cached[1], cached[2]
    sig = tuple(conn.execute("SELECT count(*), max(id), max(updated_at) FROM documents").fetchone())
    if not (cached and cached[0] == sig):
        with _state_lock:
            table = {}
            for d in store.iter_documents():
                table[d["id"]] = DocInfo(
                    id=d["id"], title=d["title"] or "", ftitle=fold(d["title"] or ""), site=d["site"], url=d["url"],
                    date=d["date"], year=d["year"], unit=d["unit"], doc_type=d["doc_type"],
                    truncated=d["truncated"], level=d.get("level") or unit_level(d["unit"]),
                )
            order = sorted({d.date or "" for d in table.values()}, key=_neg_date)
            ranks = {v: i for i, v in enumerate(order)}
            for d in table.values():
                d.date_rank = ranks[d.date or ""]
            cached = (sig, table, DocArrays.of(table))
            _docs[key] = cached
    _seen[id(conn)] = (conn, version, sig)
    return cached[1], cached[2]


def _doc_table(settings, store: Store) -> dict[int, DocInfo]:
    """Document fields by id, reloaded only when the documents table changed."""
    return _doc_state(store)[0]


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


# --- matching over the index -----------------------------------------------------------------

_EMPTY = np.zeros(0, dtype=np.int64)


def _exact_rows(view: IndexView, term: QTerm) -> np.ndarray:
    """Rows holding the term exactly (every occurrence of the substring; see indexer.charindex)."""
    folded = term.folded
    if not RUN.search(folded):
        return _EMPTY
    return view.phrase_rows(folded)


def _joined_term(q: Query) -> QTerm | None:
    """Several single-alternative words typed apart (优化 营商环境): the text written together."""
    if len(q.clauses) < 2 or any(len(c.alternatives) > 1 for c in q.clauses):
        return None
    return QTerm("".join(c.alternatives[0].text for c in q.clauses), exact=True)


def _union(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if not len(a):
        return np.asarray(b)
    if not len(b):
        return np.asarray(a)
    return np.union1d(a, b)


def _intersect(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if not len(a) or not len(b):
        return _EMPTY
    return np.intersect1d(a, b, assume_unique=True)


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
            memo: dict = {}  # field values repeat across documents: fold and test each once

            def check(d, a=attr, n=needles, memo=memo):
                v = getattr(d, a) or ""
                r = memo.get(v)
                if r is None:
                    r = memo[v] = any(x in fold(v) for x in n)
                return r

            checks.append(check)
    return lambda d: all(c(d) for c in checks)


def _texts(store: Store, pids: list[int]) -> dict[int, str]:
    out = {}
    for i in range(0, len(pids), 900):
        chunk = pids[i:i + 900]
        rows = store.db.execute(f"SELECT id, text FROM paragraphs WHERE id IN ({','.join('?' * len(chunk))})", chunk)
        out.update({r[0]: r[1] for r in rows})
    return out


_CLOSERS = "”’」』）)"  # may continue a sentence end (see analysis.SENTENCE_END)


def _sentence_checker(q: Query, tokenizer, text: str):
    """A predicate (start, end, sentence ends) -> bool over `text` (the index's joined folded
    texts): some sentence of text[start:end] (as `analysis.sentence_bounds` cuts it; `ends` are
    the sentence ends inside, precomputed by the index) holds every clause, exactly or with its
    words apart. The words of each term are cut once per query; a paragraph is checked by where
    the needles occur (sentence numbers by bisection), never by slicing every sentence."""
    clauses = []
    for c in q.clauses:
        alts = []
        for t in c.alternatives:
            fine = [] if t.exact else analysis.fine_words(t.text, tokenizer)
            alts.append((t.folded, fine))
        clauses.append(alts)
    find = text.find

    def sentences_with(needle: str, start: int, end: int, ends: list[int]) -> set[int]:
        out = set()
        n = len(needle)
        i = find(needle, start, end)
        while i >= 0:
            k = bisect_right(ends, i)
            if i + n <= (ends[k] if k < len(ends) else end):
                out.add(k)
            i = find(needle, i + 1, end)
        return out

    def same_sentence_quick(start: int, end: int) -> bool:
        # the first exact occurrence of each clause, with no sentence end in between: holds
        lo, hi = end, start
        for alts in clauses:
            for exact, _ in alts:
                i = find(exact, start, end)
                if i >= 0:
                    lo, hi = min(lo, i), max(hi, i + len(exact))
                    break
            else:
                return False
        return text[lo] not in _CLOSERS and SENTENCE_END.search(text, lo, hi) is None

    simple = all(not fine or fine == [exact] for alts in clauses for exact, fine in alts)
    needles = [list(dict.fromkeys(exact for exact, _ in alts)) for alts in clauses]
    first, rest = needles[0], needles[1:]

    def check_simple(start: int, end: int, ends: list[int]) -> bool:
        # each clause is "any of these substrings": walk the sentences holding the first clause
        for needle in first:
            n = len(needle)
            i = find(needle, start, end)
            while i >= 0:
                k = bisect_right(ends, i)
                s0 = ends[k - 1] if k else start
                e0 = ends[k] if k < len(ends) else end
                if i + n <= e0:
                    if all(any(find(x, s0, e0) >= 0 for x in alts) for alts in rest):
                        return True
                    i = find(needle, e0, end)  # the rest of this sentence cannot do better
                else:
                    i = find(needle, i + 1, end)
        return False

    if simple:
        return check_simple

    def check(start: int, end: int, ends: list[int]) -> bool:
        if not ends:  # a single sentence
            return same_paragraph(start, end)
        if same_sentence_quick(start, end):
            return True
        common: set[int] | None = None
        for alts in clauses:
            found: set[int] = set()
            for exact, fine in alts:
                found |= sentences_with(exact, start, end, ends)
                if fine:
                    sets = [sentences_with(w, start, end, ends) for w in fine]
                    found |= set.intersection(*sets)
            common = found if common is None else common & found
            if not common:
                return False
        return True

    def same_paragraph(start: int, end: int) -> bool:
        # one sentence: every clause somewhere in it
        return all(any(find(exact, start, end) >= 0
                       or (fine and all(find(w, start, end) >= 0 for w in fine)) for exact, fine in alts)
                   for alts in clauses)

    return check


def _same_sentence_rows(view: IndexView, q: Query, tokenizer, rows: np.ndarray) -> np.ndarray:
    """Which of `rows` hold every clause within one sentence."""
    ci = view.chars
    starts = np.asarray(ci.toff[rows])
    stops = np.asarray(ci.toff[rows + 1]) - 1
    se = view.sent_ends
    a = np.searchsorted(se, starts, side="right")
    b = np.searchsorted(se, stops, side="left")  # an end exactly at the row end closes its last sentence
    check = _sentence_checker(q, tokenizer, ci.text)
    keep = np.zeros(len(rows), dtype=bool)
    for k, (s, e, i, j) in enumerate(zip(starts.tolist(), stops.tolist(), a.tolist(), b.tolist(), strict=True)):
        if k % 1024 == 1023 and budget.expired():  # the rest unchecked: a partial result with a notice
            break
        keep[k] = check(s, e, se[i:j].tolist())
    return keep


# --- candidates ------------------------------------------------------------------------------

@dataclass(slots=True)
class Cand:
    pid: int
    doc_id: int
    cluster: int
    score: float
    best_sentence: str | None = None


def _scattered_words(term: QTerm, tokenizer) -> list[str]:
    """The jieba words of an unquoted term that may appear apart (none for quoted or one character)."""
    if term.exact or term.is_char:
        return []
    return analysis.fine_words(term.text, tokenizer)


def _keyword_ranked(settings, q: Query, scope: str, store: Store, docs: dict[int, DocInfo],
                    keep) -> list[Cand]:
    """Set algebra over sorted row arrays (exact phrases from the character index, scattered words
    from the word postings), one vectorised BM25 pass over the matches, then a numpy sort."""
    view: IndexView = open_view(settings)
    tokenizer = query_tokenizer(settings)
    exact_all: np.ndarray | None = None
    matched: np.ndarray | None = None
    words: list[str] = []
    for c in q.clauses:
        e_c = m_c = _EMPTY
        for t in c.alternatives:
            e_t = _exact_rows(view, t)
            e_c = _union(e_c, e_t)
            m_c = _union(m_c, e_t)
            fine = _scattered_words(t, tokenizer)
            if fine:
                m_c = _union(m_c, view.rows_with_words(fine))
            words += analysis.cut_words(t.text, tokenizer)
            if not t.exact:
                words += analysis.fine_words(t.text, tokenizer)
        exact_all = e_c if exact_all is None else _intersect(exact_all, e_c)
        matched = m_c if matched is None else _intersect(matched, m_c)
        if not len(matched):
            return []
    for t in q.excluded:
        ex = _exact_rows(view, t)
        if len(ex):
            matched = np.setdiff1d(matched, ex, assume_unique=True)
    if not len(matched):
        return []
    rows = np.asarray(matched, dtype=np.int64)
    # documents: filters, title boost, date order (per distinct document, vectorised)
    didx = view.docidx[rows]
    present = np.zeros(len(view.doc_ids), dtype=bool)
    present[didx] = True
    uidx = np.flatnonzero(present)
    slot = np.zeros(len(view.doc_ids), dtype=np.int64)
    slot[uidx] = np.arange(len(uidx))
    udocs, inv = view.doc_ids[uidx], slot[didx]
    arr = _doc_state(store)[1]
    pos = np.searchsorted(arr.ids, udocs)
    pos[pos >= len(arr.ids)] = 0
    ok = (arr.ids[pos] == udocs) if len(arr.ids) else np.zeros(len(udocs), dtype=bool)
    if keep is not None:
        allowed = arr.allowed(q)
        if allowed is not None:
            ok &= allowed[pos]
    terms_f = [t.folded for t in q.positive_terms]
    ftitle = arr.ftitle
    tboost = np.ones(len(udocs), dtype=np.float64)
    ok_pos = np.flatnonzero(ok)
    tb = [any(t in ftitle[p] for t in terms_f) for p in pos[ok_pos].tolist()]
    tboost[ok_pos[np.asarray(tb, dtype=bool)]] = TITLE_BOOST
    drank = arr.date_rank[pos]
    sel = ok[inv]
    rows, inv = rows[sel], inv[sel]
    if not len(rows):
        return []
    if scope == "sentence":
        sel = _same_sentence_rows(view, q, tokenizer, rows)
        rows, inv = rows[sel], inv[sel]
        if not len(rows):
            return []
    score = (view.bm25(words, rows) if words else np.zeros(len(rows))) + 0.001
    score *= tboost[inv]
    score = np.where(np.asarray(view.head[rows]) != 0, score * HEADING_BOOST, score)
    exact_all = _intersect(exact_all, rows)
    jt = _joined_term(q)
    joined = _intersect(_exact_rows(view, jt), exact_all) if jt is not None and len(exact_all) else exact_all
    tier = np.where(np.isin(rows, exact_all, assume_unique=True),
                    np.where(np.isin(rows, joined, assume_unique=True), 2, 1), 0)
    pids = np.asarray(view.pid[rows])
    order = np.lexsort((pids, drank[inv], -np.round(score, 4), -tier))
    final = (score + 1000.0 * tier)[order].tolist()
    return [Cand(p, d, cl, sc) for p, d, cl, sc in zip(
        pids[order].tolist(), udocs[inv[order]].tolist(), np.asarray(view.cluster[rows])[order].tolist(), final,
        strict=True)]


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


def _semantic_ranked(settings, q: Query, store, docs, keep, query_text: str,
                     k: int = SEMANTIC_CANDIDATES) -> list[Cand]:
    from .semantic import semantic_search

    found = semantic_search(settings, query_text, k)
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
    sem = _semantic_ranked(settings, q, store, docs, keep, _semantic_text(q),
                           SEMANTIC_CANDIDATES if keep is not None else HYBRID_SEMANTIC)
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
    tokenizer = query_tokenizer(settings) if any(not t.exact for t in q.positive_terms) else None
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
            best_sentence=_best_sentence(text, c.best_sentence, q),
        ))
    return hits


def _best_sentence(text: str, window: str | None, q: Query) -> str | None:
    """The sentence to show for a semantic match, or None when it would only repeat the paragraph.

    The embedding index scores windows of up to a few sentences; within the best window the
    sentence sharing most character pairs with the query is shown (the window's first sentence
    when none does). A window that is (nearly) the whole paragraph and one sentence long adds
    nothing to the card, so it is dropped.
    """
    if not window:
        return None
    f = fold(window)
    bounds = [(a, b) for a, b in sentence_bounds(f) if f[a:b].strip()]
    if len(bounds) <= 1:
        return window.strip() if len(window) < 0.9 * len(text) else None
    pairs = {t.folded[i:i + 2] for t in q.positive_terms for i in range(max(1, len(t.folded) - 1))}
    best = max(bounds, key=lambda ab: (sum(1 for pr in pairs if pr and pr in f[ab[0]:ab[1]]), -ab[0]))
    sentence = window[best[0]:best[1]].strip()
    return sentence if len(sentence) < 0.9 * len(text) else None


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
    if budget.was_cut():
        notice = f"{notice}; {budget.NOTICE}" if notice else budget.NOTICE
    return SearchResult(
        request=request, hits=hits, total=len(cands), facets=_facets(cands, docs),
        took_ms=(time.perf_counter() - t0) * 1000, mode=mode, terms=q.highlight_terms(), notice=notice,
    )


def iter_hits(settings, request: SearchRequest, batch: int = 200) -> Iterator[Hit]:
    """Every hit of the request in rank order (page/per_page ignored), built `batch` at a time."""
    q, store, docs, cands, _, _ = _prepare(settings, request)
    for i in range(0, len(cands), batch):
        yield from _make_hits(settings, store, docs, q, cands[i:i + batch], i + 1, request.fold)


@dataclass
class Matches:
    """Every match of a request in rank order (reposts folded as asked), hits built on demand:
    for callers that count over all matches but show only some (KWIC)."""

    settings: object
    request: SearchRequest
    query: Query
    store: Store
    docs: dict
    cands: list[Cand]

    @property
    def paragraph_ids(self) -> list[int]:
        return [c.pid for c in self.cands]

    def hits(self, start: int, stop: int) -> list[Hit]:
        return _make_hits(self.settings, self.store, self.docs, self.query, self.cands[start:stop], start + 1,
                          self.request.fold)


def matches(settings, request: SearchRequest) -> Matches:
    q, store, docs, cands, _, _ = _prepare(settings, request)
    return Matches(settings, request, q, store, docs, cands)


def substring_scan(settings, phrase: str) -> set[int]:
    """Paragraph ids whose text contains `phrase` (folded): the ground truth tests and the bench
    compare the index with."""
    store = _store(settings)
    needle = fold(phrase)
    return {pid for pid, text in store.db.execute("SELECT id, text FROM paragraphs") if needle in fold(text)}
