"""The whole corpus out and back in: `corpus export --all` and what `corpus ingest` reads of it.

- `export_corpus(settings, out, fmt)` dumps every document and paragraph from the store.
  Its JSONL is self-describing (`{"corpus_export": 1, ...document fields..., "paragraphs": [...]}`)
  and `document_from_export_record()` rebuilds the exact `Document` from it, so that `corpus ingest`
  of that file into an empty data directory gives the same documents and paragraphs (ingest stores
  such records as they are, bypassing the cleaner). Its Parquet has one row per paragraph, the
  document's fields repeated; `documents_from_corpus_parquet()` reads it back.
- Provenance as for every export (`corpus.provenance`); what the indexes were comes from the caller
  (`describe_indexes`, the CLI passes the indexer's), since the ground floor does not read indexes.

Exporting a *result set* (rows from the search) is `indexer.export`; both write through
`corpus.tabular`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

from . import provenance as _prov
from .errors import InputError
from .models import Document, Paragraph
from .progress import progress_bar
from .settings import Settings
from .tabular import EXPORT_MARKER, ExportSummary, ParquetWriter, check_output_path, finish, infer_format, run_to

CORPUS_FORMATS = ("jsonl", "parquet")
EXPORT_VERSION = 1  # value of EXPORT_MARKER in a whole-corpus JSONL record

# The whole-corpus Parquet: one row per paragraph, the document's fields repeated.
CORPUS_DOC_FIELDS = (
    ("doc_id", "int"), ("title", "str"), ("site", "str"), ("url", "str"), ("date", "str"), ("year", "int"),
    ("unit", "str"), ("meeting", "str"), ("speaker", "str"), ("doc_type", "str"), ("truncated", "bool"),
    ("claimed_length", "int"), ("doc_cluster_id", "int"),
)
CORPUS_PARA_FIELDS = (
    ("paragraph_id", "int"), ("position", "int"), ("kind", "str"), ("level", "int"), ("section", "list"),
    ("omitted_before", "int"), ("cluster_id", "int"), ("text", "str"),
)
# Document fields written to (and read back from) a whole-corpus JSONL record.
DOC_RECORD_FIELDS = ("title", "site", "url", "date", "unit", "meeting", "speaker", "doc_type", "truncated", "claimed_length")


def export_record(doc_row: dict, paragraphs: list[dict]) -> dict:
    """One document as a self-describing whole-corpus JSONL record (see `document_from_export_record`).

    `id`, `year`, `cluster_id`, `char_count` and the paragraphs' `id`/`cluster_id` are for readers of
    the file; a re-import ignores them (ids and clusters are the new store's own).
    """
    rec: dict[str, Any] = {EXPORT_MARKER: EXPORT_VERSION, "id": doc_row["id"]}
    for k in DOC_RECORD_FIELDS:
        rec[k] = bool(doc_row[k]) if k == "truncated" else doc_row.get(k)
    rec["year"] = doc_row.get("year")
    rec["cluster_id"] = doc_row.get("cluster_id")
    rec["char_count"] = doc_row.get("char_count")
    rec["paragraphs"] = [
        {"id": p["id"], "text": p["text"], "kind": p["kind"], "level": p["level"], "section": p["section"],
         "omitted_before": p["omitted_before"], "cluster_id": p.get("cluster_id")}
        for p in paragraphs
    ]
    return rec


def is_export_record(obj: Any) -> bool:
    return isinstance(obj, dict) and EXPORT_MARKER in obj


def document_from_export_record(obj: dict) -> Document | None:
    """The exact `Document` a whole-corpus record was made from; None if `obj` is not such a record.

    A record that says it is one but is malformed raises InputError (the reader reports the line).
    """
    if not is_export_record(obj):
        return None
    version = obj.get(EXPORT_MARKER)
    if not isinstance(version, int) or version > EXPORT_VERSION:
        raise InputError(f"corpus export record version {version!r} is not supported (this corpus reads "
                         f"version {EXPORT_VERSION}); export again with this version of corpus")
    title = obj.get("title")
    paras = obj.get("paragraphs")
    if not isinstance(title, str) or not isinstance(paras, list) or not paras:
        raise InputError("corpus export record needs a title and a non-empty list of paragraphs")
    paragraphs = []
    for i, p in enumerate(paras):
        if not isinstance(p, dict) or not isinstance(p.get("text"), str):
            raise InputError(f"corpus export record: paragraph {i} has no text")
        section = p.get("section") or []
        if not isinstance(section, list):
            raise InputError(f"corpus export record: paragraph {i} has a section that is not a list")
        omitted = p.get("omitted_before")
        paragraphs.append(Paragraph(text=p["text"], kind=str(p.get("kind") or "body"), level=int(p.get("level") or 0),
                                    section=[str(s) for s in section],
                                    omitted_before=None if omitted is None else int(omitted)))
    claimed = obj.get("claimed_length")

    def opt(k):
        v = obj.get(k)
        return None if v is None else str(v)

    return Document(title=title, paragraphs=paragraphs, site=opt("site"), url=opt("url"), date=opt("date"),
                    unit=opt("unit"), meeting=opt("meeting"), doc_type=opt("doc_type"),
                    truncated=bool(obj.get("truncated")), claimed_length=None if claimed is None else int(claimed),
                    speaker=opt("speaker"))


def export_corpus(settings: Settings, out: BinaryIO | Path | str, fmt: str | None = None, progress: bool = False,
                  *, write_meta: bool = True, make_dirs: bool = False,
                  describe_indexes: Callable[[Settings, Any], dict] | None = None, store=None) -> ExportSummary:
    """Every document and paragraph: JSONL (one self-describing record per document; `corpus ingest`
    reads it back exactly) or Parquet (one row per paragraph with its document's fields repeated).

    `describe_indexes(settings, None)`, when given, adds the model and indexes to the provenance.
    `store`: the caller's open store (else one is opened, read-only, for this export and closed after).
    """
    from .store import open_store

    t0 = time.perf_counter()
    path = Path(out) if isinstance(out, str | Path) else None
    fmt = infer_format(path, fmt, CORPUS_FORMATS)
    check_output_path(path, make_dirs)
    own_store = store is None
    if own_store:
        store = open_store(settings, readonly=True)
    prov = _prov.head("corpus")
    if describe_indexes is not None:
        prov.update(describe_indexes(settings, None))
    prov["corpus"] = _prov.corpus_info(settings, store)
    prov["format"] = fmt
    summary = ExportSummary(format=fmt, path=path)
    columns = list(CORPUS_DOC_FIELDS + CORPUS_PARA_FIELDS)
    summary.fields = [n for n, _t in columns]
    if fmt == "parquet":
        prov["fields"] = summary.fields
        prov["layout"] = "one row per paragraph, the document's fields repeated; group by doc_id, order by position"
    else:
        prov["layout"] = ("one JSON object per document: its fields and its paragraphs in order "
                          f"(marker \"{EXPORT_MARKER}\": {EXPORT_VERSION}); `corpus ingest FILE` reads it back as it is")
    n_docs = prov["corpus"].get("documents") or None

    def run(stream: BinaryIO) -> None:
        writer = ParquetWriter(stream, columns, summary, prov) if fmt == "parquet" else None
        with progress_bar(progress, n_docs, "export --all") as bar:
            for doc in store.iter_documents():
                paras = store.get_paragraphs(doc["id"])
                if writer is None:
                    rec = export_record(doc, paras)
                    stream.write(json.dumps(rec, ensure_ascii=False).encode("utf-8") + b"\n")
                else:
                    head = [doc["id"], doc["title"], doc["site"], doc["url"], doc["date"], doc["year"], doc["unit"],
                            doc["meeting"], doc["speaker"], doc["doc_type"], bool(doc["truncated"]),
                            doc["claimed_length"], doc["cluster_id"]]
                    for p in paras:
                        writer.write(head + [p["id"], p["position"], p["kind"], p["level"], p["section"],
                                             p["omitted_before"], p["cluster_id"], p["text"]])
                summary.documents += 1
                summary.rows += len(paras)
                bar.update(1)
        prov["rows"] = summary.rows
        prov["documents_exported"] = summary.documents
        if writer is not None:
            writer.close(prov)

    try:
        run_to(out, path, run, make_dirs=make_dirs)
    finally:
        if own_store:
            store.close()
    return finish(summary, prov, path, write_meta, t0)


def documents_from_corpus_parquet(path: Path | str) -> Iterator[Document]:
    """Documents back from a whole-corpus Parquet file (for analysis code and the round-trip test)."""
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(path)
    current: tuple[int, Document] | None = None
    for batch in pf.iter_batches():
        for r in batch.to_pylist():
            if current is None or current[0] != r["doc_id"]:
                if current is not None:
                    yield current[1]
                current = (r["doc_id"], Document(
                    title=r["title"], site=r["site"], url=r["url"], date=r["date"], unit=r["unit"], meeting=r["meeting"],
                    doc_type=r["doc_type"], truncated=bool(r["truncated"]), claimed_length=r["claimed_length"],
                    speaker=r["speaker"]))
            current[1].paragraphs.append(Paragraph(text=r["text"], kind=r["kind"], level=r["level"],
                                                   section=list(r["section"] or []), omitted_before=r["omitted_before"]))
    if current is not None:
        yield current[1]
