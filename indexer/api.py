"""The shapes of a search: what the CLI, the web UI and export pass in and get back.

There is one search function, `indexer.search.search(settings, request) -> SearchResult`, and one
streaming variant for export, `indexer.search.iter_hits(settings, request) -> Iterator[Hit]`
(every hit, not one page). Both take a `SearchRequest`.

Highlighting is returned as character spans, never as HTML: each front end escapes the text and
marks the spans itself (the web UI with <mark>, the terminal with colour, export with 【】).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

MODES = ("keyword", "semantic", "hybrid")
SCOPES = ("paragraph", "sentence")  # 同段 (default), 同句


@dataclass
class SearchRequest:
    query: str
    mode: str = "keyword"  # "keyword" | "semantic" | "hybrid" (hybrid is the default once embeddings exist)
    scope: str = "paragraph"  # "paragraph" (同段) | "sentence" (同句)
    filters: dict[str, str] = field(default_factory=dict)  # same keys as the query language: title site type unit year
    page: int = 1
    per_page: int = 10
    fold: bool = True  # collapse reposts to one hit
    sort: str = "relevance"  # "relevance" | "date" (newest first)
    # The labelled second list of paragraphs found by meaning or by some of the words only (never
    # counted in `total`): None = when it helps (unquoted words of 2+ characters), True/False = always/never.
    related: bool | None = None


@dataclass
class Span:
    start: int
    end: int


@dataclass
class Copy:
    """Another place the same paragraph appears (a repost)."""

    paragraph_id: int
    doc_id: int
    title: str
    site: str | None
    date: str | None
    unit: str | None = None
    url: str | None = None


@dataclass
class Hit:
    paragraph_id: int
    doc_id: int
    position: int  # paragraph's order in its document (0-based)
    text: str  # the whole paragraph
    spans: list[Span]  # matched phrase occurrences in `text`
    snippet: str  # the sentences around the hit for long paragraphs, else the whole text
    snippet_spans: list[Span]
    title: str
    site: str | None = None
    url: str | None = None
    date: str | None = None
    year: int | None = None
    unit: str | None = None
    doc_type: str | None = None
    truncated: bool = False
    section: list[str] = field(default_factory=list)  # outline headings above the paragraph
    kind: str = "body"
    score: float = 0.0
    rank: int = 0  # 1-based rank in the whole result set
    cluster_id: int | None = None
    copies: list[Copy] = field(default_factory=list)  # folded reposts (not including this hit)
    best_sentence: str | None = None  # semantic hits: the sentence that matched best
    # related-list hits only: "partial" (some of the query's words) or "meaning" (none of them literally)
    relation: str | None = None
    # a heading hit: the start of the section beneath it, what a drafter reads ([{paragraph_id, text}])
    body: list[dict] = field(default_factory=list)

    @property
    def copy_count(self) -> int:
        return len(self.copies)

    def to_json(self) -> dict:
        d = asdict(self)
        d["spans"] = [[s.start, s.end] for s in self.spans]
        d["snippet_spans"] = [[s.start, s.end] for s in self.snippet_spans]
        d["copy_count"] = self.copy_count
        return d


@dataclass
class SearchResult:
    request: SearchRequest
    hits: list[Hit]
    total: int  # hits in the whole result set (after folding reposts)
    facets: dict[str, list[tuple[str, int]]]  # "year", "site", "type", "unit" -> [(value, count)], most first
    took_ms: float
    mode: str  # the mode actually used
    terms: list[str] = field(default_factory=list)  # the phrases/words highlighted
    notice: str | None = None  # e.g. "semantic index missing: keyword results shown"
    # The labelled second list (request.related): paragraphs that do not hold the query literally but
    # share some of its words or its meaning, best first, at most RELATED_LIMIT, never in `total`.
    related: list[Hit] = field(default_factory=list)
    related_words: list[str] = field(default_factory=list)  # the words the partial matches were sought by
    suggestions: list[str] = field(default_factory=list)  # did you mean: corpus words near a term that found nothing

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // max(1, self.request.per_page)))

    def to_json(self) -> dict:
        return {
            "query": self.request.query,
            "mode": self.mode,
            "scope": self.request.scope,
            "filters": self.request.filters,
            "page": self.request.page,
            "per_page": self.request.per_page,
            "pages": self.pages,
            "total": self.total,
            "took_ms": round(self.took_ms, 2),
            "terms": self.terms,
            "notice": self.notice,
            "facets": {k: [[v, n] for v, n in vs] for k, vs in self.facets.items()},
            "hits": [h.to_json() for h in self.hits],
            "related_total": len(self.related),
            "related_words": self.related_words,
            "related": [h.to_json() for h in self.related],
            "suggestions": self.suggestions,
        }
