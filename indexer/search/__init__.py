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

Where each part lives (this package):
- `docs`       the document table (fields by id and as arrays), filters, date order, facets
- `candidates` a candidate paragraph, exact rows of a term, rows joined with their documents, reposts folded
- `literal`    the main list: literal matches and their ranking
- `sentence`   同句: every clause within one sentence
- `hybrid`     the meaning side: semantic status, meaning neighbours, the hybrid re-rank, rank fusion
- `related`    the labelled second list: partial matches fused with meaning neighbours
- `plan`       a request resolved into ranked candidates (mode, folding, order, suggestions)
- `backend`    the engine interface plan calls (literal, meaning, related, suggestions); `local` = ours
- `hits`       candidates into Hits: text, spans, snippet, best sentence, copies, a heading's section

The store is the caller's (one per CLI process, one per web app, `store=`); without one, a call
opens a read-only store for itself and closes it (corpus.store.reading).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

from corpus.store import Store, reading

from .. import budget
from ..analysis import fold
from ..api import MODES, SCOPES, Copy, Hit, SearchRequest, SearchResult, Span
from ..query import HELP, Query
from .backend import default_mode
from .candidates import Cand
from .docs import DocArrays, DocInfo, doc_state, facets
from .hits import make_hits
from .plan import MAX_PER_PAGE, plan
from .related import RELATED_LIMIT

QUERY_HELP = HELP

__all__ = [
    "MAX_PER_PAGE", "MODES", "QUERY_HELP", "RELATED_LIMIT", "SCOPES", "Copy", "DocArrays", "DocInfo", "Hit",
    "Matches", "SearchRequest", "SearchResult", "Span", "default_mode", "doc_state", "iter_hits", "matches",
    "search", "substring_scan",
]


def search(settings, request: SearchRequest, *, store: Store | None = None) -> SearchResult:
    """One page of hits with the true total, facets and highlight terms, plus the labelled related
    list (first page only). Raises QueryError/IndexMissing."""
    t0 = time.perf_counter()
    with reading(settings, store) as st:
        p = plan(settings, st, request, with_related=request.page == 1)
        start = (request.page - 1) * request.per_page
        page = p.cands[start:start + request.per_page]
        hits = make_hits(st, p.docs, p.q, page, start + 1, request.fold)
        related = make_hits(st, p.docs, p.q, p.related, 1, request.fold, p.related_words)
    notice = p.notice
    if budget.was_cut():
        notice = f"{notice}; {budget.NOTICE}" if notice else budget.NOTICE
    return SearchResult(
        request=request, hits=hits, total=len(p.cands), facets=facets(p.cands, p.docs, p.arrays),
        took_ms=(time.perf_counter() - t0) * 1000, mode=p.mode, terms=p.q.highlight_terms(),
        notice=notice, related=related, related_words=p.related_words, suggestions=p.suggestions,
    )


def iter_hits(settings, request: SearchRequest, batch: int = 200, *, include_related: bool = False,
              store: Store | None = None) -> Iterator[Hit]:
    """Every hit of the request in rank order (page/per_page ignored), built `batch` at a time; the
    related list after them only when asked (an export holds what the count says)."""
    with reading(settings, store) as st:
        p = plan(settings, st, request, with_related=include_related)
        for i in range(0, len(p.cands), batch):
            yield from make_hits(st, p.docs, p.q, p.cands[i:i + batch], i + 1, request.fold)
        if include_related and p.related:
            yield from make_hits(st, p.docs, p.q, p.related, len(p.cands) + 1, request.fold, p.related_words)


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
        return make_hits(self.store, self.docs, self.query, self.cands[start:stop], start + 1, self.request.fold)


def matches(settings, request: SearchRequest, *, store: Store) -> Matches:
    """The request's matches; hits are read from `store` (the caller's) when asked for."""
    p = plan(settings, store, request, with_related=False)
    return Matches(settings, request, p.q, store, p.docs, p.cands)


def substring_scan(settings, phrase: str, *, store: Store | None = None) -> set[int]:
    """Paragraph ids whose text contains `phrase` (folded): the ground truth tests and the bench
    compare the index with."""
    needle = fold(phrase)
    with reading(settings, store) as st:
        return {pid for pid, text in st.iter_paragraph_texts() if needle in fold(text)}
