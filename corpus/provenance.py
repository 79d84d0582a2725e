"""What every export records about how it was made: tool, version, time, the corpus it was made from.

The result-set export (`indexer.export.provenance`) adds the query, the filters and the indexes it
was searched with; the whole-corpus dump (`corpus.export`) adds what its caller says about the
indexes (the CLI passes `indexer.export.describe_indexes`; the ground floor cannot read them).
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

from . import __version__
from .errors import NotFound
from .settings import Settings
from .tabular import SECTION_SEPARATOR, XLSX_CELL_LIMIT


def now_iso() -> str:
    return _dt.datetime.now(_dt.UTC).astimezone().isoformat(timespec="seconds")


def as_iso(v) -> str:
    """A manifest's time (Unix seconds or already a string) as a local ISO time."""
    if isinstance(v, int | float):
        return _dt.datetime.fromtimestamp(v, _dt.UTC).astimezone().isoformat(timespec="seconds")
    return str(v)


def head(kind: str) -> dict[str, Any]:
    """The first keys of every provenance: who made it, when, and what kind of export it is."""
    return {"tool": "corpus", "version": __version__, "exported_at": now_iso(), "kind": kind}


def corpus_counts(settings: Settings, store=None) -> dict:
    """The corpus's counts, from `store` when the caller has one open (else one opened for this)."""
    if store is not None:
        s = store.stats()
    else:
        from .store import open_store

        try:
            store = open_store(settings, readonly=True)
        except NotFound:
            return {"documents": 0, "paragraphs": 0, "raw_sources": 0}
        try:
            s = store.stats()
        finally:
            store.close()
    return {k: s[k] for k in ("documents", "paragraphs", "characters", "raw_sources", "truncated", "repost_clusters")}


def corpus_info(settings: Settings, store=None) -> dict:
    return {"data_dir": str(settings.data_dir.resolve()), **corpus_counts(settings, store)}


def excel_safety(fmt: str | None) -> dict | None:
    """How CSV/XLSX cells were made safe for a spreadsheet (None for formats that keep text exact)."""
    if fmt not in ("csv", "xlsx"):
        return None
    out = {
        "formula_neutralisation": "text cells starting with = + - @ TAB CR or ' are prefixed with one apostrophe "
                                  "('); remove one leading apostrophe to get the exact text",
        "section_joined_with": SECTION_SEPARATOR,
    }
    if fmt == "xlsx":
        out["cell_limit"] = (f"cells are cut at {XLSX_CELL_LIMIT} characters with a visible marker; "
                             "the about sheet lists every cut")
    return out
