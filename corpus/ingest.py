"""Ingest: files -> records -> cleaned documents -> the store. Also `reclean` from stored raw text.

Each record is stored in its own transaction: a crash or a bad file leaves everything stored
before it intact. Re-ingesting unchanged bytes adds nothing (raw sha256); the same cleaned text
under another name is the same document (content hash; the new source is recorded); near-duplicate
reposts are grouped into clusters (corpus.dedup).
"""

from __future__ import annotations

import hashlib
import logging
import re
import resource
import sqlite3
import time
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .cleaning import clean_text
from .dedup import cluster_document, normalize
from .errors import InputError
from .models import CleanResult, Document, RawRecord
from .progress import progress_bar
from .readers import iter_input_files, os_error_reason, read_path
from .settings import Settings
from .store import Store

log = logging.getLogger(__name__)


@dataclass
class Outcome:
    status: str  # "added" | "unchanged" | "duplicate" | "failed"
    path: str
    doc_ids: list[int] = field(default_factory=list)
    duplicates_of: list[int] = field(default_factory=list)
    message: str = ""
    paragraphs: int = 0


@dataclass
class IngestSummary:
    files: int = 0
    records: int = 0
    added: int = 0  # records that added at least one new document
    documents_added: int = 0
    paragraphs_added: int = 0
    unchanged: int = 0
    duplicates: int = 0  # documents whose text was already stored under another name
    failed: list[tuple[str, str]] = field(default_factory=list)
    bytes_read: int = 0
    seconds: float = 0.0
    peak_rss_mb: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failed

    def lines(self) -> list[str]:
        out = [
            f"added {self.documents_added} documents ({self.paragraphs_added} paragraphs) from {self.added} records; "
            f"unchanged {self.unchanged}; duplicates {self.duplicates}; failed {len(self.failed)}"
        ]
        out += [f"failed: {reason}" for _path, reason in self.failed]
        return out


def content_hash(doc: Document) -> str:
    """Identity of a document's text, blind to punctuation, spacing and the file it came in."""
    return hashlib.sha256(normalize(doc.text).encode("utf-8")).hexdigest()


def clean_record(record: RawRecord) -> CleanResult:
    """Extract (HTML) and clean one record into documents."""
    if record.format == "corpus-export":  # `corpus export --all`: the stored document as it was, not re-cleaned
        import json

        from .export import document_from_export_record

        try:
            return CleanResult([document_from_export_record(json.loads(record.raw))])
        except InputError as e:
            raise InputError(f"{record.path}: {e}") from None
    meta = dict(record.meta)
    text = record.raw
    if record.format == "html":
        from .html import extract_html
        from .sites import extract_for

        # A site adapter (selectors as data) where one matches the page, else generic extraction.
        page = extract_for(record) or extract_html(record.raw, url=meta.get("url"), name=record.path)
        text = page.text
        for key in ("title", "url", "date", "site"):
            value = getattr(page, key, None)
            if value and not meta.get(key):
                meta[key] = value
    result = clean_text(text, meta=meta)
    for doc in result.documents:
        if not doc.title:
            # a JSONL record is named file.jsonl#<line>; other paths keep any # in their name
            name = re.sub(r"#\d+$", "", record.path) if record.format in ("jsonl", "corpus-export") else record.path
            doc.title = Path(name).stem
    return result


def ingest_record(store: Store, record: RawRecord) -> Outcome:
    """Clean and store one record atomically."""
    if store.find_raw(record.sha256) is not None:
        return Outcome("unchanged", record.path)
    result = clean_record(record)
    docs = [d for d in result.documents if d.paragraphs]
    if not docs:
        raise InputError(f"{record.path}: no text left after cleaning")
    out = Outcome("added", record.path)
    with store.transaction():  # one writer at a time: what another ingest stored meanwhile is seen here
        if store.find_raw(record.sha256) is not None:
            return Outcome("unchanged", record.path)
        raw_id = store.add_raw(sha256=record.sha256, path=record.path, format=record.format,
                               encoding=record.encoding, raw=record.raw, meta=record.meta, data=record.data)
        for i, doc in enumerate(docs):
            h = content_hash(doc)
            existing = store.find_document_by_hash(h)
            if existing is not None:
                store.add_doc_source(existing["id"], raw_id)
                out.duplicates_of.append(existing["id"])
                continue
            doc_id = store.add_document(doc, raw_id=raw_id, part_index=i, content_hash=h,
                                        file_path=record.path)
            out.doc_ids.append(doc_id)
            out.paragraphs += len(doc.paragraphs)
            cluster_document(store, doc_id, doc.text)
    if not out.doc_ids:
        out.status = "duplicate"
    return out


def one_line(text: str) -> str:
    """A message that stays on one line: control and line-separator characters in it (a file
    named with a newline or an escape sequence) are written as escapes (\\n, \\x1b ...)."""
    out = []
    for ch in text:
        if ch in "\n\r\t":
            out.append({"\n": "\\n", "\r": "\\r", "\t": "\\t"}[ch])
        elif unicodedata.category(ch) in ("Cc", "Zl", "Zp") or ch in _BIDI:
            out.append(f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return "".join(out)


_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")


def ingest_paths(settings: Settings, paths: Iterable[str | Path], *, progress: bool = False,
                 store: Store | None = None) -> IngestSummary:
    """Ingest files and folders (recursively). Every fault (a file or folder that cannot be read,
    a file that vanished, a broken symlink, a file that cannot be cleaned) is one line in
    `summary.failed` naming the path, and the batch goes on."""
    t0 = time.perf_counter()
    store = store or Store(settings.db_path)
    summary = IngestSummary()
    faults: list[tuple[str, str]] = []
    files = list(iter_input_files(list(paths), faults))
    summary.failed.extend(faults)
    with progress_bar(progress, len(files), "ingest", item_show_func=lambda p: p.name[:30] if p else "") as bar:
        for path in files:
            bar.update(1, path)
            summary.files += 1
            try:
                summary.bytes_read += path.stat().st_size
                records = read_path(path, max_bytes=settings.max_file_bytes)
                for rec in records:  # (a JSONL file is read while iterating)
                    _ingest_one(store, path, rec, summary)
            except InputError as e:
                summary.failed.append((str(path), str(e)))
                log.info("%s", e)  # reported once, in the summary
            except OSError as e:
                summary.failed.append((str(path), f"{path}: {os_error_reason(e)}"))
    summary.failed = [(p, one_line(r)) for p, r in summary.failed]
    summary.seconds = time.perf_counter() - t0
    summary.peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return summary


def _ingest_one(store: Store, path: Path, rec, summary: IngestSummary) -> None:
    if isinstance(rec, InputError):
        summary.failed.append((str(path), str(rec)))
        return
    summary.records += 1
    try:
        out = ingest_record(store, rec)
    except InputError as e:
        summary.failed.append((rec.path, str(e)))
        return
    except sqlite3.OperationalError as e:  # e.g. the store stayed locked by another writer too long
        summary.failed.append((rec.path, f"{rec.path}: not stored ({e}); run the ingest again"))
        return
    except Exception as e:  # a cleaner bug must not stop the batch; name the file
        log.debug("unexpected error on %s", rec.path, exc_info=True)
        summary.failed.append((rec.path, f"{rec.path}: internal error while cleaning ({type(e).__name__}: {e})"))
        return
    if out.status == "unchanged":
        summary.unchanged += 1
    else:
        summary.duplicates += len(out.duplicates_of)
        if out.doc_ids:
            summary.added += 1
            summary.documents_added += len(out.doc_ids)
            summary.paragraphs_added += out.paragraphs


@dataclass
class RecleanSummary:
    raw_sources: int = 0
    changed: int = 0
    unchanged: int = 0
    added: int = 0
    removed: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)

    def lines(self) -> list[str]:
        return [f"re-cleaned {self.raw_sources} sources: {self.changed} documents changed, {self.unchanged} unchanged, "
                f"{self.added} added, {self.removed} removed, {len(self.failed)} failed"] + [
            f"failed: {r}" for _p, r in self.failed]


def _redecoded(store: Store, row, rec: RawRecord) -> RawRecord:
    """The record decoded again from the bytes the store kept (stores before schema 2: as stored)."""
    from .readers import reread

    data = store.raw_bytes(row)
    if data is None or rec.format not in ("text", "markdown", "html", "docx", "jsonl"):
        return rec
    fresh = reread(data, path=rec.path, format=rec.format)
    fresh.sha256, fresh.meta = rec.sha256, {**fresh.meta, **rec.meta}
    if fresh.raw != rec.raw or fresh.encoding != rec.encoding:
        store.update_raw_text(row["id"], raw=fresh.raw, encoding=fresh.encoding)
    return fresh


def reclean(settings: Settings, *, progress: bool = False, store: Store | None = None) -> RecleanSummary:
    """Re-run the current cleaner over every stored raw source; update only what changed."""
    import json

    store = store or Store(settings.db_path)
    s = RecleanSummary()
    raws = store.iter_raw()
    for row in raws:
        s.raw_sources += 1
        rec = RawRecord(raw=row["raw"], path=row["path"], format=row["format"], encoding=row["encoding"] or "",
                        sha256=row["sha256"], meta=json.loads(row["meta"] or "{}"))
        try:
            rec = _redecoded(store, row, rec)
            docs = [d for d in clean_record(rec).documents if d.paragraphs]
        except Exception as e:
            s.failed.append((rec.path, f"{rec.path}: {e}"))
            continue
        with store.transaction():
            existing = {r["part_index"]: r for r in store.documents_for_raw(row["id"])}
            for i, doc in enumerate(docs):
                h = content_hash(doc)
                old = existing.pop(i, None)
                if old is not None:
                    current = store.get_document(old["id"])
                    same_meta = all(current.get(k) == getattr(doc, k)
                                   for k in ("title", "site", "url", "date", "unit", "doc_type", "meeting", "speaker", "level")) \
                        and current["truncated"] == doc.truncated
                    if old["content_hash"] == h and same_meta:
                        s.unchanged += 1
                        continue
                    other = store.find_document_by_hash(h)
                    if other is not None and other["id"] != old["id"]:
                        store.delete_document(old["id"])
                        store.add_doc_source(other["id"], row["id"])
                        s.removed += 1
                        continue
                    store.replace_document(old["id"], doc, content_hash=h)
                    cluster_document(store, old["id"], doc.text)
                    s.changed += 1
                else:
                    if store.find_document_by_hash(h) is None:
                        doc_id = store.add_document(doc, raw_id=row["id"], part_index=i, content_hash=h, file_path=rec.path)
                        cluster_document(store, doc_id, doc.text)
                        s.added += 1
            for old in existing.values():
                store.delete_document(old["id"])
                s.removed += 1
    return s


def sample_dir() -> Path:
    """The bundled sample corpus: the five seed documents."""
    return Path(__file__).parent / "sample"
