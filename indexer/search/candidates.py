"""What every ranking of the search works with: a candidate paragraph (`Cand`), the index rows
holding a term exactly, matched rows joined with their documents (filters, date rank, title
boost), row lengths, paragraph ids back to rows, and the folding of reposts."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..analysis import RUN
from ..keyword import IndexView
from ..query import Query
from ..query import Term as QTerm
from .docs import DocArrays

TITLE_BOOST = 1.5
RELATED_MIN_CHARS = 15  # shorter lines never join the related list or the meaning neighbours (e5 ranks short lines high)

EMPTY = np.zeros(0, dtype=np.int64)


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


def exact_rows(view: IndexView, term: QTerm) -> np.ndarray:
    """Rows holding the term exactly (every occurrence of the substring; see indexer.charindex)."""
    folded = term.folded
    if not RUN.search(folded):
        return EMPTY
    return view.phrase_rows(folded)


@dataclass
class Rows:
    """Matched index rows with what ranking needs of each: document slot, date rank, title boost."""

    rows: np.ndarray
    inv: np.ndarray  # row -> index into udocs
    udocs: np.ndarray
    drank: np.ndarray  # per udoc
    tboost: np.ndarray  # per udoc


def with_docs(view: IndexView, arr: DocArrays, q: Query, rows: np.ndarray, filtered: bool) -> Rows:
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
    if len(ok_pos):
        tboost[ok_pos[arr.titles_with(terms_f)[pos[ok_pos]]]] = TITLE_BOOST
    sel = ok[inv]
    return Rows(rows=rows[sel], inv=inv[sel], udocs=udocs, drank=arr.date_rank[pos], tboost=tboost)


def row_lengths(view: IndexView, rows: np.ndarray) -> np.ndarray:
    toff = view.chars.toff
    return np.asarray(toff[rows + 1]) - np.asarray(toff[rows]) - 1


def view_rows(view: IndexView, pids: list[int]) -> np.ndarray:
    """Index rows of paragraph ids (-1 where the keyword index does not hold the id)."""
    p = np.asarray(pids, dtype=np.int64)
    vp = np.asarray(view.pid)
    pos = np.searchsorted(vp, p)
    pos[pos >= len(vp)] = 0
    return np.where(vp[pos] == p, pos, -1) if len(vp) else np.full(len(p), -1)


def one_per_cluster(cands: list[Cand], fold: bool) -> list[Cand]:
    """The first (best-ranked) candidate of each near-duplicate cluster, when `fold`."""
    if not fold:
        return cands
    seen: set[int] = set()
    out = []
    for c in cands:
        if c.cluster in seen:
            continue
        seen.add(c.cluster)
        out.append(c)
    return out
