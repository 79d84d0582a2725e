"""The one search function: `search(settings, request) -> SearchResult`, and `iter_hits` for export.

Two lists, one truth. The main list is the *literal* matches of the query language, with a true count:
every paragraph holding each clause (one of its OR alternatives) as an exact substring of its folded
text (single characters and parts of words too; in one sentence for 同句), none of the exclusions, in
documents passing the filters. Meaning never adds to it. Paragraphs that share only some of the words,
or only the meaning, form a second, labelled, bounded list (`SearchResult.related`), never counted.

How a query runs
1. `indexer.query.parse` -> required clauses, exclusions, filters.
2. Literal rows from the character index (indexer.keyword: every occurrence, checked against the folded
   text held in memory); clauses combine as sorted row arrays; filters against an in-memory document
   table; 同句 with the sentence ends the index precomputed (no SQLite reads).
3. Ranking (indexer.rank): several words typed apart rank first where they are written together;
   fragments last; within a tier BM25 x title boost x a length/heading prior. In hybrid mode (the default
   once embeddings exist) the first RERANK_TOP are re-ordered by fusing keyword and semantic rank.
4. Related list (unquoted words of 2+ characters, or when asked): partial matches (most of the finest
   words, function words of a question dropped: indexer.questions) fused with meaning neighbours from
   the embedding index (no fragments, headings or literal hits).
5. Reposts fold: the best-ranked paragraph of each near-duplicate cluster stands for it and lists the
   other places it appears (Hit.copies). Totals and facets count folded hits.
6. Nothing found: did-you-mean suggestions from the corpus vocabulary (indexer.suggest).
Semantic mode lists meaning neighbours only (labelled as such by the front ends).
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from corpus.errors import CorpusError, QueryError
from corpus.store import Store

from . import analysis, budget, questions, rank
from .analysis import RUN, SENTENCE_END, fold, sentence_bounds
from .api import MODES, SCOPES, Copy, Hit, SearchRequest, SearchResult, Span
from .charindex import intersect_sorted
from .facets import unit_level
from .keyword import IndexView, open_view
from .query import HELP, Query, parse, parse_year
from .query import Term as QTerm
from .snippets import find_spans, snippet
from .terms import query_tokenizer

log = logging.getLogger(__name__)

SEMANTIC_CANDIDATES = 500  # semantic mode: meaning neighbours listed
RELATED_LIMIT = 20  # the labelled second list ("意思相近 / 部分匹配"), never counted in the total
RELATED_POOL = 60  # candidates of each side fused into it
RELATED_MIN_CHARS = 15  # shorter lines never join it (e5 ranks short lines high)
PARTIAL_SHARE = 0.6  # a partial match holds at least this share of the word groups (2 of 3, 3 of 4...)
PARTS_CREDIT = 0.6  # a word found only as its parts apart (要素 ... 保障) counts this share of its weight
PARTIAL_BM25 = 0.3  # weight of BM25 beside the coverage in the partial ranking
MAX_PER_PAGE = 200
MAX_COPIES = 50
TITLE_BOOST = 1.5
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
    relation: str | None = None
    tier: int = 0  # literal hits: 2 written together, 1 apart, -1 fragment (rank.rerank keeps tiers)
    prior: float = 1.0  # literal hits: rank.prior of the paragraph (the semantic side's penalty too)


@dataclass
class _Rows:
    """Matched index rows with what ranking needs of each: document slot, date rank, title boost."""

    rows: np.ndarray
    inv: np.ndarray  # row -> index into udocs
    udocs: np.ndarray
    drank: np.ndarray  # per udoc
    tboost: np.ndarray  # per udoc


def _with_docs(view: IndexView, arr: DocArrays, q: Query, rows: np.ndarray, filtered: bool) -> _Rows:
    """Rows whose documents pass the filters, with each document's date rank and title boost
    (computed per distinct document, vectorised)."""
    rows = np.asarray(rows, dtype=np.int64)
    didx = view.docidx[rows]
    present = np.zeros(len(view.doc_ids), dtype=bool)
    present[didx] = True
    uidx = np.flatnonzero(present)
    slot = np.zeros(len(view.doc_ids), dtype=np.int64)
    slot[uidx] = np.arange(len(uidx))
    udocs, inv = view.doc_ids[uidx], slot[didx]
    pos = np.searchsorted(arr.ids, udocs)
    pos[pos >= len(arr.ids)] = 0
    ok = (arr.ids[pos] == udocs) if len(arr.ids) else np.zeros(len(udocs), dtype=bool)
    if filtered:
        allowed = arr.allowed(q)
        if allowed is not None:
            ok &= allowed[pos]
    terms_f = [t.folded for t in q.positive_terms]
    tboost = np.ones(len(udocs), dtype=np.float64)
    ok_pos = np.flatnonzero(ok)
    tb = [any(t in arr.ftitle[p] for t in terms_f) for p in pos[ok_pos].tolist()]
    tboost[ok_pos[np.asarray(tb, dtype=bool)]] = TITLE_BOOST
    sel = ok[inv]
    return _Rows(rows=rows[sel], inv=inv[sel], udocs=udocs, drank=arr.date_rank[pos], tboost=tboost)


def _row_lengths(view: IndexView, rows: np.ndarray) -> np.ndarray:
    toff = view.chars.toff
    return np.asarray(toff[rows + 1]) - np.asarray(toff[rows]) - 1


def _bm25_words(q: Query, tokenizer) -> list[str]:
    words: list[str] = []
    for t in q.positive_terms:
        words += analysis.cut_words(t.text, tokenizer)
        if not t.exact:
            words += analysis.fine_words(t.text, tokenizer)
    return words


def _literal_query(q: Query) -> Query:
    """The query with every term exact: what the 同句 check applies to literal candidates."""
    return Query(clauses=[type(c)([QTerm(t.text, exact=True) for t in c.alternatives]) for c in q.clauses],
                 excluded=q.excluded, filters=q.filters, text=q.text)


def _literal_ranked(view: IndexView, arr: DocArrays, q: Query, scope: str, tokenizer) -> list[Cand]:
    """The literal matches: paragraphs holding every clause (one of its alternatives, as an exact
    substring of the folded text; in one sentence for 同句), none of the exclusions, in documents
    passing the filters. Ranked: words written together first (several words typed apart), fragments
    last; within a tier BM25 x title boost x length/heading prior."""
    matched: np.ndarray | None = None
    for c in q.clauses:
        m_c = _EMPTY
        for t in c.alternatives:
            m_c = _union(m_c, _exact_rows(view, t))
        matched = m_c if matched is None else _intersect(matched, m_c)
        if not len(matched):
            return []
    for t in q.excluded:
        ex = _exact_rows(view, t)
        if len(ex):
            matched = np.setdiff1d(matched, ex, assume_unique=True)
    if matched is None or not len(matched):
        return []
    r = _with_docs(view, arr, q, matched, filtered=bool(q.filters))
    rows, inv = r.rows, r.inv
    if not len(rows):
        return []
    if scope == "sentence":
        sel = _same_sentence_rows(view, _literal_query(q), tokenizer, rows)
        rows, inv = rows[sel], inv[sel]
        if not len(rows):
            return []
    words = _bm25_words(q, tokenizer)
    score = (view.bm25(words, rows) if words else np.zeros(len(rows))) + 0.001
    heads = np.asarray(view.head[rows])
    lengths = _row_lengths(view, rows)
    priors = rank.prior(lengths, heads)
    score *= r.tboost[inv] * priors
    jt = _joined_term(q)
    if jt is not None:
        tier = np.where(np.isin(rows, _exact_rows(view, jt), assume_unique=True), 2, 1)
    else:
        tier = np.full(len(rows), 2)
    tier = np.where(rank.is_fragment(lengths, heads), -1, tier)
    pids = np.asarray(view.pid[rows])
    order = np.lexsort((pids, r.drank[inv], -np.round(score, 4), -tier))
    final = (score + 1000.0 * tier)[order].tolist()  # the tier shows in the score too (exports sort by it)
    return [Cand(p, d, cl, sc, tier=t, prior=pr) for p, d, cl, sc, t, pr in zip(
        pids[order].tolist(), r.udocs[inv[order]].tolist(), np.asarray(view.cluster[rows])[order].tolist(), final,
        tier[order].tolist(), priors[order].tolist(), strict=True)]


def _partial_words(q: Query, tokenizer) -> list[tuple[str, list[str]]]:
    """The word groups a partial match is sought by: each unquoted term's jieba words (question and
    function words dropped: indexer.questions; single characters do not count), each with its finest
    dictionary parts (要素保障 -> 要素 保障), which may stand for it when they appear apart."""
    stop = questions.stopwords()
    groups: list[tuple[str, list[str]]] = []
    seen: set[str] = set()
    for t in q.positive_terms:
        if t.exact or t.is_char:
            continue
        for w in analysis.cut_words(t.text, tokenizer):
            if len(w) < 2 or w in stop or w in seen:
                continue
            seen.add(w)
            parts = [p for p in analysis.fine_words(w, tokenizer) if len(p) >= 2 and p not in stop]
            groups.append((w, parts if len(parts) > 1 else []))
    return groups


def _partial_need(groups: list) -> int:
    n = len(groups)
    return n if n <= 2 else max(2, math.ceil(PARTIAL_SHARE * n))


def _partial_ranked(view: IndexView, arr: DocArrays, q: Query, groups: list[tuple[str, list[str]]],
                    literal: set[int], limit: int, tokenizer) -> list[Cand]:
    """Paragraphs (not literal hits) holding enough of the word groups (a group: its word, or all its
    parts apart), ranked by the inverse document frequency of the groups held (parts apart count
    PARTS_CREDIT of it) plus a little BM25, x the length prior."""
    need = _partial_need(groups)
    if not groups or need <= 0:
        return []
    chunks, weights = [], []
    for word, parts in groups:
        intact = np.asarray(view.phrase_rows(analysis.fold(word)), dtype=np.int64)
        idf = math.log(view.n / (len(intact) + 1)) + 1
        chunks.append(intact)
        weights.append(np.full(len(intact), idf))
        if parts:
            apart = intersect_sorted([np.asarray(view.phrase_rows(analysis.fold(p)), dtype=np.int64) for p in parts])
            apart = np.setdiff1d(apart, intact, assume_unique=True)
            chunks.append(apart)
            weights.append(np.full(len(apart), PARTS_CREDIT * idf))
    allrows = np.concatenate(chunks)
    if not len(allrows):
        return []
    uniq, inverse, counts = np.unique(allrows, return_inverse=True, return_counts=True)
    cover = np.zeros(len(uniq))
    np.add.at(cover, inverse, np.concatenate(weights))
    keep = counts >= need
    rows, cover = uniq[keep], cover[keep]
    for t in q.excluded:
        ex = _exact_rows(view, t)
        if len(ex):
            sel = ~np.isin(rows, ex)
            rows, cover = rows[sel], cover[sel]
    if literal and len(rows):
        sel = ~np.isin(np.asarray(view.pid[rows]), np.fromiter(literal, dtype=np.int64, count=len(literal)))
        rows, cover = rows[sel], cover[sel]
    if not len(rows):
        return []
    r = _with_docs(view, arr, q, rows, filtered=bool(q.filters))
    if not len(r.rows):
        return []
    sel_cover = cover[np.searchsorted(rows, r.rows)]
    words = [w for w, parts in groups for w in (w, *parts)]
    bm = view.bm25(words, r.rows)
    heads = np.asarray(view.head[r.rows])
    lengths = _row_lengths(view, r.rows)
    score = (sel_cover + PARTIAL_BM25 * bm) * rank.prior(lengths, heads) * r.tboost[r.inv]
    score = np.where(rank.is_fragment(lengths, heads) | (lengths < RELATED_MIN_CHARS), score * 0.01, score)
    order = np.lexsort((r.drank[r.inv], -np.round(score, 4)))[:limit]
    pids = np.asarray(view.pid[r.rows])[order]
    return [Cand(int(p), int(d), int(cl), float(s), relation="partial") for p, d, cl, s in zip(
        pids.tolist(), r.udocs[r.inv[order]].tolist(), np.asarray(view.cluster[r.rows])[order].tolist(),
        score[order].tolist(), strict=True)]


def _neg_date(date: str) -> tuple:
    # newer first: compare on the digits, inverted
    return tuple(-ord(ch) for ch in date) + (1,)


def _view_rows(view: IndexView, pids: list[int]) -> np.ndarray:
    """Index rows of paragraph ids (-1 where the keyword index does not hold the id)."""
    p = np.asarray(pids, dtype=np.int64)
    vp = np.asarray(view.pid)
    pos = np.searchsorted(vp, p)
    pos[pos >= len(vp)] = 0
    return np.where(vp[pos] == p, pos, -1) if len(vp) else np.full(len(p), -1)


def _meaning_ranked(view: IndexView, arr: DocArrays, q: Query, docs, keep, scores, store, skip: set[int],
                    k: int) -> list[Cand]:
    """Meaning neighbours from the embedding index: never a literal hit, a fragment, a heading or a
    line shorter than RELATED_MIN_CHARS (e5 ranks short lines high), nor an excluded term."""
    found = scores.top(store, k * 3 + 20, skip=skip)
    rows = _view_rows(view, [p for p, _, _ in found])
    lengths = _row_lengths(view, np.maximum(rows, 0)).tolist()
    out = []
    for (pid, score, window), row, length in zip(found, rows.tolist(), lengths, strict=True):
        if row < 0:
            continue
        if view.head[row] or length < RELATED_MIN_CHARS:
            continue
        if length > rank.LONG_CHARS:  # a flattened speech matches many topics by one window: demoted
            score += rank.SEMANTIC_PRIOR_WEIGHT * math.log(rank.LONG_CHARS / length)
        doc_id = int(view.docid[row])
        d = docs.get(doc_id)
        if d is None or (keep is not None and not keep(d)):
            continue
        if q.excluded:
            t0, t1 = int(view.chars.toff[row]), int(view.chars.toff[row + 1])
            text = view.chars.text[t0:t1]
            if any(t.folded in text for t in q.excluded):
                continue
        out.append(Cand(pid, doc_id, int(view.cluster[row]), float(score), window, relation="meaning"))
    out.sort(key=lambda c: -c.score)
    return out[:k]


def _semantic_text(q: Query) -> str:
    return " ".join(t.text for t in q.positive_terms)


@dataclass
class _Plan:
    """What a request resolves to before hits are built."""

    q: Query
    store: Store
    docs: dict[int, DocInfo]
    cands: list[Cand]  # the main list, ranked (literal matches; semantic mode: meaning neighbours)
    related: list[Cand]
    related_words: list[str]
    mode: str
    notice: str | None
    suggestions: list[str]


def _wants_related(request: SearchRequest, q: Query) -> bool:
    if request.related is not None:
        return request.related
    return any(not t.exact and not t.is_char for t in q.positive_terms)


def _semantic_scores(settings, q: Query, notices: list[str]):
    from .semantic import QueryScores

    try:
        return QueryScores(settings, _semantic_text(q))
    except CorpusError as e:  # a broken or missing embedding index must not break literal search
        notices.append(f"semantic ranking unavailable ({e}): keyword order shown")
        return None


def _plan(settings, request: SearchRequest, *, with_related: bool = True) -> _Plan:
    """The ranked candidates of a request; the related list only when `with_related` (it costs a
    partial pass and a nearest-neighbour scan, and only page 1 or an export asking for it shows it)."""
    _validate(request)
    q = parse(request.query, max_chars=settings.max_query_chars, filters=request.filters)
    analysis.configure(settings)
    store = _store(settings)
    docs, arr = _doc_state(store)
    view: IndexView = open_view(settings)
    tokenizer = query_tokenizer(settings)
    keep = _filter_fn(q)
    mode = request.mode or "keyword"
    notices: list[str] = []
    if mode in ("semantic", "hybrid"):
        ok, why = _semantic_status(settings)
        if not ok:
            notices.append(f"{why}: keyword results shown")
            mode = "keyword"
    scores = _semantic_scores(settings, q, notices) if mode in ("semantic", "hybrid") else None
    if mode != "keyword" and scores is None:
        mode = "keyword"
    if mode == "semantic":
        main = _meaning_ranked(view, arr, q, docs, keep, scores, store, set(), SEMANTIC_CANDIDATES)
        for c in main:
            c.relation = None
        cands = _fold(main, request.fold)
        related: list[Cand] = []
        words: list[str] = []
    else:
        lit = _literal_ranked(view, arr, q, request.scope, tokenizer)
        if scores is not None and len(lit) > 1:
            lit = _reranked(lit, scores)
        cands = _fold(lit, request.fold)
        related, words = [], []
        if with_related and _wants_related(request, q):
            related, words = _related(view, arr, q, docs, keep, scores, store, tokenizer, lit, request.fold)
    if request.sort == "date":
        cands.sort(key=lambda c: _neg_date((docs[c.doc_id].date or "") if c.doc_id in docs else ""))
    suggestions = _suggestions(view, q) if not cands else []
    return _Plan(q=q, store=store, docs=docs, cands=cands, related=related, related_words=words, mode=mode,
                 notice="; ".join(notices) or None, suggestions=suggestions)


def _reranked(lit: list[Cand], scores) -> list[Cand]:
    """The literal hits re-ordered by meaning within their tiers (the first RERANK_TOP of them)."""
    head = lit[:rank.RERANK_TOP]
    sem = scores.best([c.pid for c in head])
    order = rank.rerank([c.tier for c in head], sem, np.array([c.prior for c in head]))
    return [head[i] for i in order] + lit[rank.RERANK_TOP:]


def _related(view, arr, q, docs, keep, scores, store, tokenizer, lit: list[Cand], fold_reposts: bool):
    """The labelled second list: partial matches (some of the words) and meaning neighbours, fused."""
    literal = {c.pid for c in lit}
    lit_clusters = {c.cluster for c in lit}
    groups = _partial_words(q, tokenizer)
    words = list(dict.fromkeys(x for w, parts in groups for x in (w, *parts)))
    partial = _partial_ranked(view, arr, q, groups, literal, RELATED_POOL, tokenizer)
    meaning = _meaning_ranked(view, arr, q, docs, keep, scores, store, literal, RELATED_POOL) if scores else []
    if meaning:
        from .hybrid import fuse

        by_pid = {c.pid: c for c in partial}
        for c in meaning:
            if c.pid in by_pid:  # both: keep the best sentence e5 found, it is a partial match
                by_pid[c.pid].best_sentence = c.best_sentence
            else:
                by_pid[c.pid] = c
        fused = fuse([(c.pid, c.score) for c in partial], [(c.pid, c.score) for c in meaning], len(by_pid))
        merged = [by_pid[p] for p, _ in fused]
    else:
        merged = partial
    if fold_reposts:
        merged = [c for c in _fold(merged, True) if c.cluster not in lit_clusters]
    return merged[:RELATED_LIMIT], words


def _suggestions(view: IndexView, q: Query) -> list[str]:
    """Did you mean: the query with a term that matched nothing replaced by a frequent corpus word
    one edit away (要素包障 -> 要素保障)."""
    from .suggest import suggest

    out: list[str] = []
    for t in q.positive_terms:
        if len(_exact_rows(view, t)):
            continue
        for s in suggest(view, t.folded):
            fixed = q.text.replace(t.text, s, 1) if t.text in q.text else s
            if fixed not in out and fixed != q.text:
                out.append(fixed)
    return out[:3]


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

def _needles(q: Query, text_folded: str, related_words: list[str] | None) -> list[str]:
    """What to mark in a hit: the query's terms where the text holds them whole; in the related list
    also the whole partial-match words (never single characters)."""
    needles = [t.folded for t in q.positive_terms if t.folded in text_folded]
    if related_words:
        needles += [w for w in related_words if len(w) >= 2 and w in text_folded]
    return needles


def _make_hits(settings, store: Store, docs, q: Query, cands: list[Cand], start_rank: int,
               fold_reposts: bool, related_words: list[str] | None = None) -> list[Hit]:
    if not cands:
        return []
    rows = store.paragraphs_by_ids([c.pid for c in cands])
    hits = []
    for i, c in enumerate(cands):
        r = rows.get(c.pid)
        d = docs.get(c.doc_id)
        if r is None or d is None:  # deleted since the index was built
            continue
        text = r["text"]
        f = fold(text)
        needles = _needles(q, f, related_words)
        spans = find_spans(text, needles, folded=f)
        best = _best_sentence(text, c.best_sentence, q)
        relation = c.relation
        if relation == "meaning" and any(w in f for w in (related_words or []) if len(w) >= 2):
            relation = "partial"
        if relation == "meaning" and best:  # a meaning neighbour shows the sentence that matched best
            snip, snip_spans = best, []
        else:
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
        body = store.section_body(c.doc_id, r["position"]) if r["kind"] == "heading" else []
        hits.append(Hit(
            paragraph_id=c.pid, doc_id=c.doc_id, position=r["position"], text=text,
            spans=[Span(s, e) for s, e in spans], snippet=snip, snippet_spans=[Span(s, e) for s, e in snip_spans],
            title=d.title, site=d.site, url=d.url, date=d.date, year=d.year, unit=d.unit, doc_type=d.doc_type,
            truncated=bool(d.truncated), section=json.loads(r["section"] or "[]"), kind=r["kind"],
            score=round(c.score, 4), rank=start_rank + i, cluster_id=r["cluster_id"], copies=copies,
            best_sentence=best, relation=relation, body=body,
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


def search(settings, request: SearchRequest) -> SearchResult:
    """One page of hits with the true total, facets and highlight terms, plus the labelled related
    list (first page only). Raises QueryError/IndexMissing."""
    t0 = time.perf_counter()
    plan = _plan(settings, request, with_related=request.page == 1)
    start = (request.page - 1) * request.per_page
    page = plan.cands[start:start + request.per_page]
    hits = _make_hits(settings, plan.store, plan.docs, plan.q, page, start + 1, request.fold)
    related = _make_hits(settings, plan.store, plan.docs, plan.q, plan.related, 1, request.fold, plan.related_words)
    notice = plan.notice
    if budget.was_cut():
        notice = f"{notice}; {budget.NOTICE}" if notice else budget.NOTICE
    return SearchResult(
        request=request, hits=hits, total=len(plan.cands), facets=_facets(plan.cands, plan.docs),
        took_ms=(time.perf_counter() - t0) * 1000, mode=plan.mode, terms=plan.q.highlight_terms(),
        notice=notice, related=related, related_words=plan.related_words, suggestions=plan.suggestions,
    )


def iter_hits(settings, request: SearchRequest, batch: int = 200, *, include_related: bool = False) -> Iterator[Hit]:
    """Every hit of the request in rank order (page/per_page ignored), built `batch` at a time; the
    related list after them only when asked (an export holds what the count says)."""
    plan = _plan(settings, request, with_related=include_related)
    for i in range(0, len(plan.cands), batch):
        yield from _make_hits(settings, plan.store, plan.docs, plan.q, plan.cands[i:i + batch], i + 1, request.fold)
    if include_related and plan.related:
        yield from _make_hits(settings, plan.store, plan.docs, plan.q, plan.related, len(plan.cands) + 1,
                              request.fold, plan.related_words)


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
    plan = _plan(settings, request, with_related=False)
    return Matches(settings, request, plan.q, plan.store, plan.docs, plan.cands)


def substring_scan(settings, phrase: str) -> set[int]:
    """Paragraph ids whose text contains `phrase` (folded): the ground truth tests and the bench
    compare the index with."""
    store = _store(settings)
    needle = fold(phrase)
    return {pid for pid, text in store.iter_paragraph_texts() if needle in fold(text)}
