"""The engine behind the search: one interface between `plan` and whatever holds the indexes.

`plan` (modes and their fallbacks, the hybrid re-rank, repost folding, date order) and `hits` (text,
spans and snippets read from the store) are the same whatever engine answers; a Backend answers the
engine's questions, each as candidates (`Cand`: paragraph id, document, repost cluster, score):

- `literal(q, scope, docs, keep)`: every paragraph holding each clause exactly (one of its
  alternatives), in one sentence for 同句, none of the exclusions, in documents `keep` accepts;
  ranked (tier: written together 2, apart 1, fragment -1; then score). The count of the main list is
  the length of this list, so a backend must return all of them, verified, never a top-k.
- `meaning_status()`, `query_scores(q, notices)`: whether meaning can be used, and the query's
  scores against the embedding vectors (`best(pids)`, `top(store, k, skip)`), or None with a notice.
- `meaning(q, docs, keep, scores, k)`: meaning neighbours (semantic mode; no headings or short lines).
- `related(q, docs, keep, scores, literal, fold)`: the labelled second list and the words it used.
- `suggestions(q)`: did-you-mean for a query that matched nothing.

Which backend runs is `settings.search_backend`; `BACKENDS` maps the names to classes. Adding an
engine (Qdrant, OpenSearch: docs/scale.md) is a class here and an entry there: the CLI, the web UI and
the export call `search()` and never see it. `local` is this package's own numpy index
(indexer.keyword + indexer.semantic).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from corpus.errors import ConfigError
from corpus.store import Store

from ..keyword import IndexView, open_view
from ..query import Query
from ..terms import query_tokenizer
from .candidates import Cand, exact_rows
from .docs import DocArrays, DocInfo
from .hybrid import meaning_ranked, semantic_scores, semantic_status
from .literal import literal_ranked
from .related import related as related_list

Keep = Callable[[DocInfo], bool] | None


class Backend(Protocol):
    name: str

    def literal(self, q: Query, scope: str, docs: dict[int, DocInfo], keep: Keep) -> list[Cand]: ...

    def meaning_status(self) -> tuple[bool, str]: ...

    def query_scores(self, q: Query, notices: list[str]): ...

    def meaning(self, q: Query, docs: dict[int, DocInfo], keep: Keep, scores, k: int) -> list[Cand]: ...

    def related(self, q: Query, docs: dict[int, DocInfo], keep: Keep, scores, literal: list[Cand],
                fold: bool) -> tuple[list[Cand], list[str]]: ...

    def suggestions(self, q: Query) -> list[str]: ...


class LocalBackend:
    """This package's own indexes: the keyword view (character and word postings in numpy) and the
    embedding index's vectors, both memory-mapped in this process."""

    name = "local"

    def __init__(self, settings, store: Store | None = None, arrays: DocArrays | None = None):
        self.settings, self.store, self.arr = settings, store, arrays
        self._view: IndexView | None = None
        self._tokenizer = None

    @property
    def view(self) -> IndexView:
        if self._view is None:
            self._view = open_view(self.settings)
        return self._view

    @property
    def tokenizer(self):
        if self._tokenizer is None:
            self._tokenizer = query_tokenizer(self.settings)
        return self._tokenizer

    def literal(self, q, scope, docs, keep):
        return literal_ranked(self.view, self.arr, q, scope, self.tokenizer)  # filters: self.arr

    def meaning_status(self):
        return semantic_status(self.settings)

    def query_scores(self, q, notices):
        return semantic_scores(self.settings, q, notices)

    def meaning(self, q, docs, keep, scores, k):
        return meaning_ranked(self.view, self.arr, q, docs, keep, scores, self.store, set(), k)

    def related(self, q, docs, keep, scores, literal, fold):
        return related_list(self.view, self.arr, q, docs, keep, scores, self.store, self.tokenizer, literal, fold)

    def suggestions(self, q):
        from ..suggest import suggest

        out: list[str] = []
        for t in q.positive_terms:
            if len(exact_rows(self.view, t)):
                continue
            for s in suggest(self.view, t.folded):
                fixed = q.text.replace(t.text, s, 1) if t.text in q.text else s
                if fixed not in out and fixed != q.text:
                    out.append(fixed)
        return out[:3]


# name -> the class, or "module:Class" for a backend whose client library is an optional extra
BACKENDS: dict[str, type | str] = {"local": LocalBackend, "qdrant": "indexer.search.qdrant:QdrantBackend"}


def open_backend(settings, store: Store | None = None, arrays: DocArrays | None = None) -> Backend:
    """The configured backend; `store` and `arrays` (the document table) are needed for searching,
    not for asking `meaning_status()`."""
    name = (getattr(settings, "search_backend", None) or "local").strip().lower()
    cls = BACKENDS.get(name)
    if cls is None:
        raise ConfigError(f"unknown search backend {name!r} (settings.search_backend): use one of "
                          f"{', '.join(sorted(BACKENDS))}", zh=f"未知的检索后端「{name}」")
    if isinstance(cls, str):
        import importlib

        module, _, attr = cls.partition(":")
        cls = getattr(importlib.import_module(module), attr)
    return cls(settings, store, arrays)


def default_mode(settings) -> str:
    """'hybrid' once the backend can rank by meaning (an embedding index exists), else 'keyword'."""
    ok, _ = open_backend(settings).meaning_status()
    return "hybrid" if ok else "keyword"
