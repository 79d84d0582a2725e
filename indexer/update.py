"""`corpus index`: the keyword index, then the embedding index, as one command."""

from __future__ import annotations

from corpus.store import open_store

from .keyword import IndexReport, build_index


def update_indexes(settings, *, progress: bool = False, semantic: bool | None = None, rebuild: bool = False,
                   rebuild_semantic: bool = False) -> IndexReport:
    """`corpus index`: the keyword index, then (if enabled and possible) the embedding index.

    A missing or unbuildable embedding model is a note in the report, never a failure of the
    keyword index: keyword search must work on a machine without the model.
    """
    report = build_index(settings, progress=progress, rebuild=rebuild)
    want_semantic = settings.semantic if semantic is None else semantic
    if not want_semantic:
        return report
    try:
        from .semantic import update_embeddings
    except ImportError:
        report.notes.append("semantic index: not available in this installation (keyword search only)")
        return report
    from corpus.errors import CorpusError

    store = open_store(settings, readonly=True)
    try:
        report.semantic = update_embeddings(settings, store, progress, rebuild=rebuild_semantic)
    except CorpusError as e:
        report.notes.append(f"semantic index not updated: {e}")
    finally:
        store.close()
    return report
