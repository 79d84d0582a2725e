"""The meaning side of the search and its merges with the literal side.

- Whether semantic search can run (`semantic_status`), the query's embedding
  scores (`semantic_scores`, indexer.semantic), the meaning neighbours as candidates
  (`meaning_ranked`: semantic mode's list and one side of the related list).
- Hybrid mode: the literal hits re-ordered by meaning within their tiers (`reranked`, indexer.rank).
- `fuse`: reciprocal rank fusion of a keyword and a semantic ranking (the related list).

Reciprocal rank fusion: score(p) = sum over rankings of w / (K + rank). It needs no score calibration,
which matters here: BM25 scores are unbounded and e5's cosines sit in a narrow band (0.80-0.90), so
adding raw scores would let one side drown the other.

Measured on the evaluation set (34 topic queries, bench/eval_search.py --fusion-grid, int8 vectors, top
100 of each side): nDCG@10 / Recall@20 = 0.800 / 0.731 with the textbook K=60, 0.810 / 0.762 with K=20,
0.818 / 0.776 with K=10; down-weighting either side never helped. K=20, not 10: the judged pool came
from the top 10 of each side, which flatters a small K (it rewards top ranks of each list).
"""

from __future__ import annotations

import logging

import numpy as np

from corpus.errors import CorpusError

from .. import rank
from ..keyword import IndexView
from ..query import Query
from .candidates import RELATED_MIN_CHARS, Cand, row_lengths, view_rows
from .docs import DocArrays

log = logging.getLogger(__name__)

SEMANTIC_CANDIDATES = 500  # semantic mode: meaning neighbours listed
RRF_K = 20
KEYWORD_WEIGHT = 1.0
SEMANTIC_WEIGHT = 1.0


def semantic_status(settings) -> tuple[bool, str]:
    if not getattr(settings, "semantic", True):
        return False, "semantic search is switched off (settings.semantic)"
    try:
        from ..semantic import semantic_available
    except ImportError:
        return False, "semantic search is not installed"
    try:
        if semantic_available(settings):
            return True, ""
    except Exception as e:  # a broken embedding index must not break keyword search
        log.warning("semantic_available failed: %s", e)
        return False, f"semantic index unusable ({e})"
    return False, "no semantic index yet (run `corpus index`)"


def semantic_text(q: Query) -> str:
    return " ".join(t.text for t in q.positive_terms)


def semantic_scores(settings, q: Query, notices: list[str]):
    """The query's scores against the embedding index, or None (with a notice) when it cannot be used."""
    from ..semantic import QueryScores

    try:
        return QueryScores(settings, semantic_text(q))
    except CorpusError as e:  # a broken or missing embedding index must not break literal search
        notices.append(f"semantic ranking unavailable ({e}): keyword order shown")
        return None


def meaning_ranked(view: IndexView, arr: DocArrays, q: Query, docs, keep, scores, store, skip: set[int],
                   k: int) -> list[Cand]:
    """Meaning neighbours from the embedding index: never a literal hit, a fragment, a heading or a
    line shorter than RELATED_MIN_CHARS (e5 ranks short lines high), nor an excluded term."""
    found = scores.top(store, k * 3 + 20, skip=skip)
    rows = view_rows(view, [p for p, _, _ in found])
    lengths = row_lengths(view, np.maximum(rows, 0)).tolist()
    out = []
    for (pid, score, window), row, length in zip(found, rows.tolist(), lengths, strict=True):
        if row < 0:
            continue
        if view.head[row] or length < RELATED_MIN_CHARS:
            continue
        score += rank.long_damping(length)
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


def reranked(lit: list[Cand], scores) -> list[Cand]:
    """The literal hits re-ordered by meaning within their tiers (the first RERANK_TOP of them)."""
    head = lit[:rank.RERANK_TOP]
    sem = scores.best([c.pid for c in head])
    order = rank.rerank([c.tier for c in head], sem, np.array([c.prior for c in head]))
    return [head[i] for i in order] + lit[rank.RERANK_TOP:]


def fuse(keyword: list[tuple[int, float]], semantic: list[tuple[int, float]], k: int, *,
         rrf_k: int = RRF_K, keyword_weight: float = KEYWORD_WEIGHT,
         semantic_weight: float = SEMANTIC_WEIGHT) -> list[tuple[int, float]]:
    """Both inputs best first as (paragraph_id, score); returns the top k (paragraph_id, fused score).
    Ties break by the better single rank, then keyword first (exact wording is the safer bet)."""
    scores: dict[int, float] = {}
    best: dict[int, tuple[int, int]] = {}
    for side, (ranking, w) in enumerate(((keyword, keyword_weight), (semantic, semantic_weight))):
        seen: set[int] = set()
        rank = 0
        for pid, _ in ranking:
            if pid in seen:
                continue
            seen.add(pid)
            rank += 1
            scores[pid] = scores.get(pid, 0.0) + w / (rrf_k + rank)
            if pid not in best or (rank, side) < best[pid]:
                best[pid] = (rank, side)
    order = sorted(scores, key=lambda p: (-scores[p], best[p]))
    return [(p, scores[p]) for p in order[: max(0, k)]]
