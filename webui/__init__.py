"""The web UI drafters use: search, read in context, collect phrasing, export.

`create_app(settings)` builds the Flask application. Views are thin: they parse the URL into a
library request (webui.params), call the library (indexer.search, indexer.kwic, indexer.semantic,
indexer.export, corpus.store) and render. Document text is untrusted: Jinja autoescape is on and
highlights are built by escaping the segments between match spans (webui.highlight).
"""

from __future__ import annotations

import logging
import threading

from flask import Flask

from corpus.errors import NotFound
from corpus.settings import Settings
from corpus.store import Store

log = logging.getLogger(__name__)

SQLITE_MAX_ID = 2**63 - 1


class Services:
    """What the views share: the settings and one read-only store (a connection per thread)."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._store: Store | None = None
        self._lock = threading.Lock()

    @property
    def store(self) -> Store:
        if self._store is None:
            with self._lock:
                if self._store is None:
                    if not self.settings.db_path.exists():
                        raise NotFound("语料库为空：请先运行 `corpus ingest 路径`（或 `corpus demo`）导入文稿，再运行 `corpus index` 建立索引。")
                    self._store = Store(self.settings.db_path, readonly=True)
        return self._store

    def document(self, doc_id: int) -> dict:
        if not 0 < doc_id <= SQLITE_MAX_ID:
            raise NotFound(f"没有编号为 {doc_id} 的文稿")
        return self.store.get_document(doc_id)

    def paragraph(self, paragraph_id: int) -> dict:
        if not 0 < paragraph_id <= SQLITE_MAX_ID:
            raise NotFound(f"没有编号为 {paragraph_id} 的段落")
        return self.store.get_paragraph(paragraph_id)

    def similar(self, paragraph_id: int, k: int) -> list[dict]:
        """The nearest paragraphs of other speeches with their documents, for the page and the API:
        [{"paragraph", "doc", "score"}]; one deleted since the vectors were built is left out."""
        from indexer.semantic import similar_paragraphs

        out = []
        for pid, score in similar_paragraphs(self.settings, paragraph_id, k):
            try:
                p = self.paragraph(pid)
                d = self.document(p["doc_id"])
            except NotFound:
                continue
            out.append({"paragraph": p, "doc": d, "score": float(score)})
        return out

    def warm_up(self) -> None:
        """Load what the first requests would otherwise all wait for (the index view, the
        document table, the tokenizer, the vocabulary dict) before the server takes requests."""
        from indexer.api import SearchRequest
        from indexer.keyword import open_view
        from indexer.search import search

        try:
            search(self.settings, SearchRequest(query="一", mode="keyword", per_page=1), store=self.store)
            open_view(self.settings).vocab  # noqa: B018 - built now, not in the first request past a few lookups
        except Exception as e:  # a broken index shows on the pages; serving must still start
            log.warning("warm-up search failed: %s", e)

    def semantic_available(self) -> bool:
        """Whether semantic/hybrid search can run now: the search backend's answer (for the local
        one: the embedding index is built and usable), so the pages and `search()` never disagree."""
        from indexer.search.backend import open_backend

        return open_backend(self.settings).meaning_status()[0]

    def modes(self) -> list[str]:
        return ["keyword", "semantic", "hybrid"] if self.semantic_available() else ["keyword"]

    def default_mode(self) -> str:
        from indexer.search import default_mode

        return default_mode(self.settings)


def create_app(settings: Settings | None = None) -> Flask:
    """The application for one data directory. `settings` defaults to Settings.from_env()."""
    settings = settings or Settings.from_env()
    app = Flask(__name__, static_folder="static", template_folder="templates")
    app.config.update(JSON_AS_ASCII=False, MAX_CONTENT_LENGTH=2 * 1024 * 1024)
    app.json.ensure_ascii = False
    app.extensions["corpus"] = Services(settings)
    from .exporting import ExportPool

    app.extensions["corpus_exports"] = ExportPool(settings.export_workers, settings.export_queue)

    from . import api, errors, filters, tifa, views

    filters.register(app)
    errors.register(app)
    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp, url_prefix="/api")
    app.register_blueprint(tifa.bp)
    app.register_blueprint(tifa.api, url_prefix="/api")

    @app.after_request
    def security_headers(resp):
        # Defence in depth on top of escaping: no inline script or style can run.
        resp.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
        )
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("Referrer-Policy", "same-origin")
        return resp

    return app


def limit_requests(app, threads: int):
    """The WSGI application a server with `threads` request threads (plus threads for exports) runs:
    at most `threads` requests other than exports are inside the app at once, the others wait for a
    turn. Requests are CPU-bound Python; more of them at once only share the interpreter lock in 5 ms
    slices and all finish late (bench/load.py --mix reviewer, 20 clients: search p95 212-296 ms with 3
    and this limit, 301-354 ms with 8 threads and none). Exports (/export) pass: they have their own
    pool and threads (webui.exporting)."""
    gate = threading.Semaphore(max(1, threads))

    def wsgi(environ, start_response):
        if environ.get("PATH_INFO") == "/export":
            return app(environ, start_response)
        with gate:  # the body of every response but an export's is made inside the app call
            return app(environ, start_response)

    return wsgi


def budgeted(view):
    """Run a search-side view under the request time budget (settings.request_budget)."""
    import functools

    from indexer.budget import time_budget

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        with time_budget(services().settings.request_budget):
            return view(*args, **kwargs)

    return wrapper


def services() -> Services:
    from flask import current_app

    return current_app.extensions["corpus"]
