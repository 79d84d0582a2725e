"""Ranking priors and the semantic re-rank of literal hits: what puts paragraphs that discuss a topic
above bare headings and fragments.

A drafter searching 要素保障 wants the paragraphs that say how land, funds and energy quotas follow the
projects, not a column of headings such as "（十五）强化要素保障。": BM25 alone favours such short lines
(length normalisation), and so does e5 (short lines sit close to short queries). Three mechanisms:
- `prior(length, heading)`: a multiplier on the keyword score. Fragments (a body paragraph of a few
  characters: table cells, the tail of a hard-wrapped line) go below everything else (tier -1 in the
  search), headings rank below paragraphs of similar score (they come with their section body, see
  `Store.section_body`), short lines are damped smoothly.
- `rerank()`: within each tier the keyword order and the semantic order of the same candidates are
  fused by reciprocal rank (the literal set never changes: meaning only reorders it).
- the same prior enters the semantic side as a small additive penalty, so e5's taste for short lines
  does not undo it.
The constants were tuned on the dev half of tests/eval (bench/eval_search.py --split dev) and are
reported on the test half.
"""

from __future__ import annotations

import math

import numpy as np

FRAGMENT_CHARS = 10  # a body paragraph shorter than this is a fragment
FULL_CHARS = 60  # from this length on a paragraph gets the full prior
SHORT_FLOOR = 0.45  # prior of a very short (non-fragment) line
LONG_CHARS = 1500  # past this a "paragraph" is usually a whole speech flattened into one block
LONG_POWER = 0.5  # ... and its prior falls as (LONG_CHARS / length) ** LONG_POWER
HEADING_PRIOR = 0.55
RERANK_TOP = 200  # literal hits re-ranked by meaning (the rest keep keyword order)
RRF_K = 20
SEMANTIC_WEIGHT = 1.0
SEMANTIC_PRIOR_WEIGHT = 0.03  # cosine points per unit of log prior


def prior(lengths: np.ndarray, heading: np.ndarray) -> np.ndarray:
    """Multiplier on the keyword score of each paragraph (1.0 for an ordinary paragraph)."""
    lengths = np.asarray(lengths, dtype=np.float64)
    p = SHORT_FLOOR + (1 - SHORT_FLOOR) * np.clip(lengths / FULL_CHARS, 0.0, 1.0)
    p = p * np.minimum(1.0, LONG_CHARS / np.maximum(lengths, 1.0)) ** LONG_POWER
    p = np.where(np.asarray(heading) != 0, np.minimum(p, HEADING_PRIOR), p)
    return p


def long_damping(length: int) -> float:
    """What a meaning neighbour's cosine loses for its length: 0 up to LONG_CHARS, then
    SEMANTIC_PRIOR_WEIGHT * log(LONG_CHARS / length) (a flattened speech matches many topics by one window)."""
    return SEMANTIC_PRIOR_WEIGHT * math.log(LONG_CHARS / length) if length > LONG_CHARS else 0.0


def is_fragment(lengths: np.ndarray, heading: np.ndarray) -> np.ndarray:
    return (np.asarray(lengths) < FRAGMENT_CHARS) & (np.asarray(heading) == 0)


def rerank(tiers: list[int], semantic: np.ndarray, priors: np.ndarray, *, rrf_k: int = RRF_K,
           weight: float = SEMANTIC_WEIGHT) -> list[int]:
    """New order (indices into the input, which is in keyword order) of candidates: within each tier,
    keyword rank and semantic rank fused by reciprocal rank; tiers keep their order. A candidate
    without a vector (NaN) keeps its keyword rank and gets the worst semantic rank."""
    n = len(tiers)
    sem = np.where(np.isnan(semantic), -np.inf, semantic + SEMANTIC_PRIOR_WEIGHT * np.log(np.maximum(priors, 1e-6)))
    out: list[int] = []
    i = 0
    while i < n:
        j = i
        while j < n and tiers[j] == tiers[i]:
            j += 1
        idx = np.arange(i, j)
        kw_rank = np.arange(1, j - i + 1)
        order = np.argsort(-sem[i:j], kind="stable")
        sem_rank = np.empty(j - i, dtype=np.int64)
        sem_rank[order] = np.arange(1, j - i + 1)
        fused = 1.0 / (rrf_k + kw_rank) + weight / (rrf_k + sem_rank)
        out.extend(idx[np.lexsort((kw_rank, -fused))].tolist())
        i = j
    return out
