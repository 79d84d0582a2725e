"""The main list: the literal matches of the query language and their ranking.

Every paragraph holding each clause (one of its OR alternatives) as an exact substring of its
folded text (in one sentence for 同句), none of the exclusions, in documents passing the filters.
Ranked (indexer.rank): several words typed apart rank first where they are written together;
fragments last; within a tier BM25 x title boost x a length/heading prior."""

from __future__ import annotations

import numpy as np

from .. import analysis, rank
from ..keyword import IndexView
from ..query import Query
from ..query import Term as QTerm
from .candidates import EMPTY, Cand, exact_rows, row_lengths, with_docs
from .docs import DocArrays
from .sentence import same_sentence_rows


def joined_term(q: Query) -> QTerm | None:
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
        return EMPTY
    return np.intersect1d(a, b, assume_unique=True)


# --- filters ------------------------------------------------------------------------------------

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


def literal_ranked(view: IndexView, arr: DocArrays, q: Query, scope: str, tokenizer) -> list[Cand]:
    """The literal matches: paragraphs holding every clause (one of its alternatives, as an exact
    substring of the folded text; in one sentence for 同句), none of the exclusions, in documents
    passing the filters. Ranked: words written together first (several words typed apart), fragments
    last; within a tier BM25 x title boost x length/heading prior."""
    matched: np.ndarray | None = None
    for c in q.clauses:
        m_c = EMPTY
        for t in c.alternatives:
            m_c = _union(m_c, exact_rows(view, t))
        matched = m_c if matched is None else _intersect(matched, m_c)
        if not len(matched):
            return []
    for t in q.excluded:
        ex = exact_rows(view, t)
        if len(ex):
            matched = np.setdiff1d(matched, ex, assume_unique=True)
    if matched is None or not len(matched):
        return []
    r = with_docs(view, arr, q, matched, filtered=bool(q.filters))
    rows, inv = r.rows, r.inv
    if not len(rows):
        return []
    if scope == "sentence":
        sel = same_sentence_rows(view, _literal_query(q), tokenizer, rows)
        rows, inv = rows[sel], inv[sel]
        if not len(rows):
            return []
    words = _bm25_words(q, tokenizer)
    score = (view.bm25(words, rows) if words else np.zeros(len(rows))) + 0.001
    heads = np.asarray(view.head[rows])
    lengths = row_lengths(view, rows)
    priors = rank.prior(lengths, heads)
    score *= r.tboost[inv] * priors
    jt = joined_term(q)
    if jt is not None:
        tier = np.where(np.isin(rows, exact_rows(view, jt), assume_unique=True), 2, 1)
    else:
        tier = np.full(len(rows), 2)
    tier = np.where(rank.is_fragment(lengths, heads), -1, tier)
    pids = np.asarray(view.pid[rows])
    order = np.lexsort((pids, r.drank[inv], -np.round(score, 4), -tier))
    final = (score + 1000.0 * tier)[order].tolist()  # the tier shows in the score too (exports sort by it)
    return [Cand(p, d, cl, sc, tier=t, prior=pr) for p, d, cl, sc, t, pr in zip(
        pids[order].tolist(), r.udocs[inv[order]].tolist(), np.asarray(view.cluster[rows])[order].tolist(), final,
        tier[order].tolist(), priors[order].tolist(), strict=True)]
