"""The labelled second list ("意思相近 / 部分匹配", `SearchResult.related`), never counted.

Paragraphs that share only some of the query's words (partial matches: most of the finest words,
function words of a question dropped: indexer.questions) fused with meaning neighbours from the
embedding index (no fragments, headings or literal hits), reposts folded, at most RELATED_LIMIT.
Asked for by unquoted words of 2+ characters, or explicitly (`SearchRequest.related`)."""

from __future__ import annotations

import math

import numpy as np

from .. import analysis, questions, rank
from ..api import SearchRequest
from ..charindex import intersect_sorted
from ..keyword import IndexView
from ..query import Query
from .candidates import RELATED_MIN_CHARS, Cand, exact_rows, one_per_cluster, row_lengths, with_docs
from .docs import DocArrays
from .hybrid import fuse, meaning_ranked

RELATED_LIMIT = 20  # the labelled second list ("意思相近 / 部分匹配"), never counted in the total
RELATED_POOL = 60  # candidates of each side fused into it
PARTIAL_SHARE = 0.6  # a partial match holds at least this share of the word groups (2 of 3, 3 of 4...)
PARTS_CREDIT = 0.6  # a word found only as its parts apart (要素 ... 保障) counts this share of its weight
PARTIAL_BM25 = 0.3  # weight of BM25 beside the coverage in the partial ranking

__all__ = ["RELATED_LIMIT", "RELATED_MIN_CHARS", "RELATED_POOL", "related", "wants_related"]


def wants_related(request: SearchRequest, q: Query) -> bool:
    if request.related is not None:
        return request.related
    return any(not t.exact and not t.is_char for t in q.positive_terms)


def related(view, arr, q, docs, keep, scores, store, tokenizer, lit: list[Cand], fold_reposts: bool):
    """The labelled second list: partial matches (some of the words) and meaning neighbours, fused."""
    literal = {c.pid for c in lit}
    lit_clusters = {c.cluster for c in lit}
    groups = partial_words(q, tokenizer)
    words = list(dict.fromkeys(x for w, parts in groups for x in (w, *parts)))
    partial = partial_ranked(view, arr, q, groups, literal, RELATED_POOL, tokenizer)
    meaning = meaning_ranked(view, arr, q, docs, keep, scores, store, literal, RELATED_POOL) if scores else []
    if meaning:
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
        merged = [c for c in one_per_cluster(merged, True) if c.cluster not in lit_clusters]
    return merged[:RELATED_LIMIT], words


def partial_words(q: Query, tokenizer) -> list[tuple[str, list[str]]]:
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


def partial_need(groups: list) -> int:
    n = len(groups)
    return n if n <= 2 else max(2, math.ceil(PARTIAL_SHARE * n))


def partial_ranked(view: IndexView, arr: DocArrays, q: Query, groups: list[tuple[str, list[str]]],
                    literal: set[int], limit: int, tokenizer) -> list[Cand]:
    """Paragraphs (not literal hits) holding enough of the word groups (a group: its word, or all its
    parts apart), ranked by the inverse document frequency of the groups held (parts apart count
    PARTS_CREDIT of it) plus a little BM25, x the length prior."""
    need = partial_need(groups)
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
        ex = exact_rows(view, t)
        if len(ex):
            sel = ~np.isin(rows, ex, assume_unique=True)  # (both unique: and numpy.ma stays unimported)
            rows, cover = rows[sel], cover[sel]
    if literal and len(rows):
        sel = ~np.isin(np.asarray(view.pid[rows]), np.fromiter(literal, dtype=np.int64, count=len(literal)),
                       assume_unique=True)
        rows, cover = rows[sel], cover[sel]
    if not len(rows):
        return []
    r = with_docs(view, arr, q, rows, filtered=bool(q.filters))
    if not len(r.rows):
        return []
    sel_cover = cover[np.searchsorted(rows, r.rows)]
    words = [w for w, parts in groups for w in (w, *parts)]
    bm = view.bm25(words, r.rows)
    heads = np.asarray(view.head[r.rows])
    lengths = row_lengths(view, r.rows)
    score = (sel_cover + PARTIAL_BM25 * bm) * rank.prior(lengths, heads) * r.tboost[r.inv]
    score = np.where(rank.is_fragment(lengths, heads) | (lengths < RELATED_MIN_CHARS), score * 0.01, score)
    order = np.lexsort((r.drank[r.inv], -np.round(score, 4)))[:limit]
    pids = np.asarray(view.pid[r.rows])[order]
    return [Cand(int(p), int(d), int(cl), float(s), relation="partial") for p, d, cl, s in zip(
        pids.tolist(), r.udocs[r.inv[order]].tolist(), np.asarray(view.cluster[r.rows])[order].tolist(),
        score[order].tolist(), strict=True)]

