"""`corpus index`: the keyword index, then the embedding index, then (search_backend qdrant) the Qdrant
collection, as one command."""

from __future__ import annotations

from corpus.store import open_store

from .keyword import IndexReport, build_index


def update_indexes(settings, *, progress: bool = False, semantic: bool | None = None, rebuild: bool = False,
                   rebuild_semantic: bool = False) -> IndexReport:
    """`corpus index`: the keyword index, then (if enabled and possible) the embedding index, then
    (when `settings.search_backend` is 'qdrant') the Qdrant collection brought into step with both.

    A missing or unbuildable embedding model is a note in the report, never a failure of the
    keyword index: keyword search must work on a machine without the model.
    """
    from corpus.errors import CorpusError

    report = build_index(settings, progress=progress, rebuild=rebuild)
    want_semantic = settings.semantic if semantic is None else semantic
    if want_semantic:
        try:
            from .semantic import update_embeddings
        except ImportError:
            update_embeddings = None
            report.notes.append("semantic index: not available in this installation (keyword search only)")
        if update_embeddings is not None:
            store = open_store(settings, readonly=True)
            try:
                report.semantic = update_embeddings(settings, store, progress, rebuild=rebuild_semantic)
            except CorpusError as e:
                report.notes.append(f"semantic index not updated: {e}")
            finally:
                store.close()
    if (settings.search_backend or "local").strip().lower() == "qdrant":
        from .search.qdrant import sync

        store = open_store(settings, readonly=True)
        try:
            figures = sync(settings, store, progress)
        finally:
            store.close()
        report.notes.append("qdrant collection: " + ", ".join(f"{k}={v}" for k, v in figures.items()))
    return report
