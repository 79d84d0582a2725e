"""The keyword index: Whoosh over the stored paragraphs, built once and then updated incrementally.

Whoosh holds only what matching and ranking need (paragraph id, document id, cluster id, heading
flag as columns; jieba words and character bigrams as postings); everything shown comes from
SQLite. That keeps the build and its commit small.

Layout of `settings.index_dir`: the Whoosh files, `manifest.json` (format and analyzer versions,
dictionary version, counts, build time: what `corpus index` reports and what decides a rebuild)
and `revs.json` ({doc_id: rev} as indexed: what decides an incremental update).

Concurrency and crashes: one writer at a time (a file lock in the data directory; a second writer
waits `settings.lock_timeout` seconds, then fails with IndexLocked). Readers never lock: Whoosh
commits a new table of contents atomically, so searching during indexing sees the previous
commit, and a crash mid-index leaves the last good index. A full rebuild (new analyzer or
dictionary version) is built beside the live index and swapped in when complete.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from whoosh import index as windex
from whoosh.columns import NumericColumn
from whoosh.fields import COLUMN, ID, Schema

from corpus.errors import IndexLocked, IndexMissing
from corpus.store import open_store

from . import analysis
from .analysis import ANALYZER_VERSION, BigramTokenizer, JiebaTokenizer, SeqText, char_terms, fold, word_terms
from .terms import dictionary_version, get_tokenizer

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
INDEX_NAME = "paragraphs"


def schema() -> Schema:
    return Schema(
        doc=ID(),  # for deleting a document's paragraphs
        pid=COLUMN(NumericColumn("i")),
        docid=COLUMN(NumericColumn("i")),
        cluster=COLUMN(NumericColumn("i")),
        head=COLUMN(NumericColumn("B")),
        content=SeqText(JiebaTokenizer(), phrase=False),
        chars=SeqText(BigramTokenizer(), phrase=True),
    )


@dataclass
class IndexReport:
    """What `corpus index` did: printed by the CLI, asserted by tests."""

    mode: str  # "build" | "rebuild" | "update" | "unchanged"
    documents_added: int = 0
    documents_changed: int = 0
    documents_deleted: int = 0
    paragraphs_indexed: int = 0
    paragraphs_total: int = 0
    documents_total: int = 0
    seconds: float = 0.0
    index_bytes: int = 0
    reason: str = ""
    semantic: dict | None = None
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [
            f"keyword index: {self.mode}" + (f" ({self.reason})" if self.reason else ""),
            f"  documents: +{self.documents_added} ~{self.documents_changed} -{self.documents_deleted}"
            f" (total {self.documents_total})",
            f"  paragraphs indexed: {self.paragraphs_indexed} (total {self.paragraphs_total})",
            f"  time: {self.seconds:.1f} s, size: {self.index_bytes / 1e6:.1f} MB",
        ]
        if self.semantic is not None:
            out.append("semantic index: " + ", ".join(f"{k}={v}" for k, v in self.semantic.items()))
        out += self.notes
        return out

    def to_json(self) -> dict:
        return self.__dict__.copy()


# --- manifest -----------------------------------------------------------------------------

def _atomic_write_json(path: Path, obj) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False, indent=1)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def read_manifest(index_dir: Path) -> dict | None:
    try:
        return json.loads((Path(index_dir) / "manifest.json").read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def _read_revs(index_dir: Path) -> dict[int, int]:
    try:
        raw = json.loads((index_dir / "revs.json").read_text(encoding="utf-8"))
        return {int(k): int(v) for k, v in raw.items()}
    except (FileNotFoundError, json.JSONDecodeError, ValueError):
        return {}


def dir_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in Path(path).glob("*") if p.is_file())


def wanted_versions(settings) -> dict:
    return {"format": FORMAT_VERSION, "analyzer": ANALYZER_VERSION, "dictionary": dictionary_version(settings)}


# --- locking --------------------------------------------------------------------------------

class _WriterLock:
    """One index writer per data directory; the second waits lock_timeout seconds then fails."""

    def __init__(self, settings):
        from filelock import FileLock

        Path(settings.data_dir).mkdir(parents=True, exist_ok=True)
        self.path = Path(settings.data_dir) / "index.lock"
        self.timeout = float(settings.lock_timeout)
        self.lock = FileLock(str(self.path))

    def __enter__(self):
        from filelock import Timeout

        try:
            self.lock.acquire(timeout=self.timeout)
        except Timeout:
            raise IndexLocked(
                f"another `corpus index` is writing the index (lock {self.path}); waited {self.timeout:g} s. "
                "Wait for it to finish and run again (or raise CORPUS_LOCK_TIMEOUT)."
            ) from None
        return self

    def __exit__(self, *exc):
        self.lock.release()


# --- build and update -------------------------------------------------------------------------

def _paragraph_fields(row, tokenizer) -> dict:
    text = fold(row["text"])
    pid = row["id"]
    return {
        "doc": str(row["doc_id"]),
        "pid": pid,
        "docid": row["doc_id"],
        "cluster": row["cluster_id"] if row["cluster_id"] is not None else pid,
        "head": 1 if row["kind"] == "heading" else 0,
        "content": word_terms(text, tokenizer),
        "chars": char_terms(text),
    }


def _progress(total: int, enabled: bool, label: str):
    if not enabled:
        return None
    import click

    bar = click.progressbar(length=total, label=label, file=None, show_pos=True)
    bar.__enter__()
    return bar


def _add_docs(writer, store, doc_ids: list[int], tokenizer, progress: bool, delete_first: bool) -> int:
    bar = _progress(len(doc_ids), progress, "indexing")
    n = 0
    try:
        if delete_first:
            for d in doc_ids:
                writer.delete_by_term("doc", str(d))
        last_doc = None
        for row in store.iter_paragraph_rows(doc_ids):
            writer.add_document(**_paragraph_fields(row, tokenizer))
            n += 1
            if bar is not None and row["doc_id"] != last_doc:
                bar.update(1)
            last_doc = row["doc_id"]
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    return n


def build_index(settings, *, progress: bool = False, rebuild: bool = False, store=None) -> IndexReport:
    """Create or incrementally update the keyword index from the store.

    New, changed (rev differs) and deleted documents only; an unchanged corpus returns quickly.
    A different analyzer/dictionary version (or `rebuild=True`) rebuilds beside the live index.
    """
    t0 = time.perf_counter()
    analysis.configure(settings)
    index_dir = Path(settings.index_dir)
    own_store = store is None
    store = store or open_store(settings, readonly=True)
    try:
        with _WriterLock(settings):
            manifest = read_manifest(index_dir)
            want = wanted_versions(settings)
            exists = manifest is not None and windex.exists_in(str(index_dir), indexname=INDEX_NAME)
            reason = ""
            if not exists:
                mode = "build"
            elif rebuild:
                mode, reason = "rebuild", "asked for"
            elif any(manifest.get(k) != v for k, v in want.items()):
                changed = [f"{k} {manifest.get(k)} -> {v}" for k, v in want.items() if manifest.get(k) != v]
                mode, reason = "rebuild", "; ".join(changed)
            else:
                mode = "update"
            current = store.doc_revisions()
            tokenizer = get_tokenizer(settings)
            if mode in ("build", "rebuild"):
                report = _full_build(settings, store, current, tokenizer, progress, mode, reason)
            else:
                report = _update(settings, store, current, tokenizer, progress, manifest)
            report.seconds = time.perf_counter() - t0
            report.index_bytes = dir_bytes(index_dir)
            return report
    finally:
        if own_store:
            store.close()


def _full_build(settings, store, current, tokenizer, progress, mode, reason) -> IndexReport:
    index_dir = Path(settings.index_dir)
    tmp = index_dir.with_name(index_dir.name + ".new")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    ix = windex.create_in(str(tmp), schema(), indexname=INDEX_NAME)
    writer = ix.writer(procs=1, limitmb=512)
    try:
        n = _add_docs(writer, store, sorted(current), tokenizer, progress, delete_first=False)
        writer.commit(optimize=False)
    except BaseException:
        writer.cancel()
        raise
    ix.close()
    _write_state(settings, tmp, current, n, build=True)
    # swap in the complete index
    old = index_dir.with_name(index_dir.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if index_dir.exists():
        os.replace(index_dir, old)
    os.replace(tmp, index_dir)
    shutil.rmtree(old, ignore_errors=True)
    return IndexReport(mode=mode, reason=reason, documents_added=len(current), paragraphs_indexed=n,
                       paragraphs_total=n, documents_total=len(current))


def _update(settings, store, current, tokenizer, progress, manifest) -> IndexReport:
    index_dir = Path(settings.index_dir)
    indexed = _read_revs(index_dir)
    added = [d for d in current if d not in indexed]
    changed = [d for d, r in current.items() if d in indexed and indexed[d] != r]
    deleted = [d for d in indexed if d not in current]
    report = IndexReport(mode="update", documents_added=len(added), documents_changed=len(changed),
                         documents_deleted=len(deleted), documents_total=len(current))
    if not (added or changed or deleted):
        report.mode = "unchanged"
        report.paragraphs_total = manifest.get("paragraphs", 0)
        return report
    ix = windex.open_dir(str(index_dir), indexname=INDEX_NAME)
    try:
        writer = ix.writer(procs=1, limitmb=256, timeout=float(settings.lock_timeout), delay=0.25)
    except windex.LockError:
        raise IndexLocked(f"the index at {index_dir} is locked by another writer; try again later") from None
    try:
        for d in deleted:
            writer.delete_by_term("doc", str(d))
        # delete-then-add also for "new" ids: a crash after a commit but before revs.json was
        # written must not leave a document indexed twice
        n = _add_docs(writer, store, sorted(added + changed), tokenizer, progress, delete_first=True)
        writer.commit()
    except BaseException:
        writer.cancel()
        raise
    with ix.searcher() as s:
        total = s.doc_count()
    ix.close()
    _write_state(settings, index_dir, current, total, build=False, previous=manifest)
    report.paragraphs_indexed = n
    report.paragraphs_total = total
    return report


def _write_state(settings, index_dir: Path, revs: dict[int, int], paragraphs: int, *, build: bool,
                 previous: dict | None = None) -> None:
    _atomic_write_json(index_dir / "revs.json", {str(k): v for k, v in revs.items()})
    now = time.time()
    manifest = dict(previous or {})
    manifest.update(wanted_versions(settings))
    manifest.update({
        "build_id": uuid.uuid4().hex,
        "documents": len(revs),
        "paragraphs": paragraphs,
        "updated_at": now,
    })
    if build:
        manifest["built_at"] = now
    _atomic_write_json(index_dir / "manifest.json", manifest)


def index_status(settings) -> dict:
    """The manifest plus size: for `corpus index --status` and the web UI."""
    m = read_manifest(Path(settings.index_dir))
    if m is None:
        return {"exists": False}
    m = dict(m)
    m["exists"] = True
    m["bytes"] = dir_bytes(Path(settings.index_dir))
    m["stale"] = any(m.get(k) != v for k, v in wanted_versions(settings).items())
    return m


# --- reading ------------------------------------------------------------------------------------

class IndexView:
    """An open searcher plus its columns as plain lists (docnum -> value), cached per build."""

    def __init__(self, index_dir: Path, build_id: str):
        self.build_id = build_id
        self.ix = windex.open_dir(str(index_dir), indexname=INDEX_NAME)
        self.searcher = self.ix.searcher()
        self._load_columns()

    def _load_columns(self) -> None:
        r = self.searcher.reader()
        self.pid = list(r.column_reader("pid"))
        self.docid = list(r.column_reader("docid"))
        self.cluster = list(r.column_reader("cluster"))
        self.head = list(r.column_reader("head"))
        self.generation = r.generation()

    def refresh(self) -> None:
        if not self.searcher.up_to_date():
            self.searcher = self.searcher.refresh()
            self._load_columns()


_views: dict[str, IndexView] = {}
_views_lock = threading.Lock()


def open_view(settings) -> IndexView:
    """The current index, reopened only when a new build or commit landed."""
    index_dir = Path(settings.index_dir)
    manifest = read_manifest(index_dir)
    if manifest is None or not windex.exists_in(str(index_dir), indexname=INDEX_NAME):
        raise IndexMissing(f"no search index in {index_dir}: run `corpus index` first")
    key = str(index_dir.resolve())
    with _views_lock:
        view = _views.get(key)
        if view is None or view.build_id != manifest.get("build_id"):
            for _ in range(3):
                try:
                    view = IndexView(index_dir, manifest.get("build_id"))
                    break
                except (FileNotFoundError, windex.EmptyIndexError):  # swapped while opening
                    time.sleep(0.2)
                    manifest = read_manifest(index_dir) or manifest
            else:
                raise IndexMissing(f"the index in {index_dir} cannot be opened: run `corpus index --rebuild`")
            _views[key] = view
        else:
            try:
                view.refresh()
            except FileNotFoundError:
                view = IndexView(index_dir, manifest.get("build_id"))
                _views[key] = view
        return view



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
