"""Fusing keyword and semantic rankings into one.

Reciprocal rank fusion: score(p) = sum over rankings of w / (K + rank). It needs no score calibration,
which matters here: BM25 scores are unbounded and e5's cosines sit in a narrow band (0.80-0.90), so
adding raw scores would let one side drown the other.

Measured on the evaluation set (34 topic queries, bench/eval_search.py --fusion-grid, int8 vectors, top
100 of each side): nDCG@10 / Recall@20 = 0.800 / 0.731 with the textbook K=60, 0.810 / 0.762 with K=20,
0.818 / 0.776 with K=10; down-weighting either side never helped. K=20, not 10: the judged pool came
from the top 10 of each side, which flatters a small K (it rewards top ranks of each list).
"""

from __future__ import annotations

RRF_K = 20
KEYWORD_WEIGHT = 1.0
SEMANTIC_WEIGHT = 1.0


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
