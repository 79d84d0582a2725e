"""Export result sets and the whole corpus for researchers (pandas, R, Excel, NVivo).

Why this module exists: a researcher counting how a phrase spreads across regions and years needs
*every* matching paragraph (not one page), clean typed columns, and a record of exactly how the set
was made, so the analysis can be reproduced later against the same corpus.

- `export_results(settings, request, out, fmt)` streams every hit of a search (the same request the
  CLI and web UI search with) into CSV, JSONL, XLSX or Parquet in bounded memory: rows go straight
  from `indexer.search.iter_hits` to the writer (Parquet in row groups, XLSX in openpyxl's
  write-only mode).
- Provenance (`provenance()`): query, filters, mode, model, index build time, corpus counts, tool
  version, export time. Written as a sidecar `<file>.meta.json` when exporting to a path, and inside
  the file where the format allows it: the first sheet ("about") of an XLSX, the key-value metadata
  ("corpus_export") of a Parquet file. CSV and JSONL have no comment syntax every reader accepts, so
  they carry it only in the sidecar.
- Excel safety (CSV and XLSX only; JSONL and Parquet keep every text exact):
  * CSV is UTF-8 *with* a byte-order mark by default, so Excel opens Chinese text intact
    (`bom=False` / `--no-bom` for tools that dislike the BOM; pandas and R's readr skip it).
  * Formula injection: a text cell starting with = + - @ TAB CR is prefixed with one apostrophe
    ('), as OWASP recommends; a cell that already starts with an apostrophe gets one more, so the
    rule is exactly reversible: strip one leading apostrophe from any cell that has one
    (`unneutralise()`).
  * XLSX cells hold at most 32,767 characters: longer texts are cut, the cell ends with a visible
    marker saying how much was kept, and the "about" sheet lists every cut (row, column, length).
    Characters XLSX cannot store (control characters) are replaced by U+FFFD and counted.
- `export_corpus(settings, out, fmt)` dumps every document and paragraph (`corpus export --all`).
  Its JSONL is self-describing (`{"corpus_export": 1, ...document fields..., "paragraphs": [...]}`)
  and `document_from_export_record()` rebuilds the exact `Document` from it, so that `corpus ingest`
  of that file into an empty data directory gives the same documents and paragraphs (ingest stores
  such records as they are, bypassing the cleaner).
"""

from __future__ import annotations

import contextlib
import csv
import datetime as _dt
import io
import json
import logging
import os
import re
import resource
import shlex
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, BinaryIO

import click

from . import __version__
from .errors import InputError, NotFound
from .models import Document, Paragraph
from .settings import Settings

log = logging.getLogger(__name__)

FORMATS = ("csv", "jsonl", "xlsx", "parquet")
CORPUS_FORMATS = ("jsonl", "parquet")
EXTENSIONS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".xlsx": "xlsx", ".parquet": "parquet", ".pq": "parquet"}

EXPORT_MARKER = "corpus_export"  # key (and version value) that makes a JSONL line a whole-corpus record
EXPORT_VERSION = 1

XLSX_CELL_LIMIT = 32_767
XLSX_MAX_ROWS = 1_048_576  # per sheet, header included: larger result sets continue on "results-2" ...
SECTION_SEPARATOR = " > "  # CSV/XLSX join the section heading path with this; JSONL/Parquet keep a list
MARK_OPEN, MARK_CLOSE = "【", "】"  # how the matched phrase is marked in the snippet column
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NEUTRALISE_STARTS = FORMULA_STARTS + ("'",)  # "'" too, so that the rule can be undone exactly
_ILLEGAL_XLSX = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # what openpyxl refuses to store


# Columns -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Column:
    name: str
    type: str  # "int" | "float" | "bool" | "str" | "list"  (decides the Parquet type and CSV text)
    help: str
    get: Callable[[Any], Any]


def _marked_snippet(hit) -> str:
    return mark_spans(hit.snippet, [(s.start, s.end) for s in hit.snippet_spans])


COLUMNS: dict[str, Column] = {c.name: c for c in (
    Column("doc_id", "int", "document id (corpus show DOC_ID)", lambda h: h.doc_id),
    Column("title", "str", "document title", lambda h: h.title),
    Column("unit", "str", "speaker's unit (单位)", lambda h: h.unit),
    Column("site", "str", "site the document was collected from", lambda h: h.site),
    Column("url", "str", "source URL", lambda h: h.url),
    Column("date", "str", "ISO date: 2025-07-24, 2025-07 or 2025", lambda h: h.date),
    Column("year", "int", "year of the date", lambda h: h.year),
    Column("doc_type", "str", "document type: 讲话, 发言, 调研报告, 工作报告 ...", lambda h: h.doc_type),
    Column("truncated", "bool", "the source site cut the text (paywall)", lambda h: bool(h.truncated)),
    Column("paragraph_id", "int", "paragraph id", lambda h: h.paragraph_id),
    Column("position", "int", "paragraph's order in its document (0-based)", lambda h: h.position),
    Column("section", "list", f"outline headings above the paragraph (CSV/XLSX: joined with '{SECTION_SEPARATOR}')",
           lambda h: list(h.section or [])),
    Column("text", "str", "the whole paragraph", lambda h: h.text),
    Column("snippet", "str", f"the sentences around the match, phrase marked {MARK_OPEN}like this{MARK_CLOSE}",
           _marked_snippet),
    Column("score", "float", "relevance score (keyword BM25F, semantic cosine or hybrid fusion)", lambda h: float(h.score)),
    Column("rank", "int", "1-based rank in the whole result set", lambda h: h.rank),
    Column("cluster_id", "int", "repost cluster of the paragraph (same id = near-identical text)", lambda h: h.cluster_id),
    Column("copy_count", "int", "other places the same paragraph appears (folded reposts)", lambda h: h.copy_count),
    # not in the default set -------------------------------------------------------------------
    Column("kind", "str", "heading or body", lambda h: h.kind),
    Column("best_sentence", "str", "semantic hits: the sentence that matched best", lambda h: h.best_sentence),
    Column("copy_urls", "list", "URLs of the folded reposts (CSV/XLSX: joined with ' | ')",
           lambda h: [c.url for c in h.copies if c.url]),
)}

DEFAULT_FIELDS: list[str] = [
    "doc_id", "title", "unit", "site", "url", "date", "year", "doc_type", "truncated",
    "paragraph_id", "position", "section", "text", "snippet", "score", "rank", "cluster_id", "copy_count",
]
ALL_FIELDS: list[str] = list(COLUMNS)

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


def mark_spans(text: str, spans: list[tuple[int, int]]) -> str:
    """`text` with each (merged) span wrapped in 【】: the marked phrase survives any spreadsheet."""
    merged: list[list[int]] = []
    for s, e in sorted((max(0, s), min(len(text), e)) for s, e in spans):
        if e <= s:
            continue
        if merged and s <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    out, pos = [], 0
    for s, e in merged:
        out += [text[pos:s], MARK_OPEN, text[s:e], MARK_CLOSE]
        pos = e
    out.append(text[pos:])
    return "".join(out)


def parse_fields(spec: str | list[str] | None) -> list[str]:
    """'title,year,text' -> ['title', 'year', 'text'], checked; None -> DEFAULT_FIELDS."""
    if spec is None or spec == "" or spec == []:
        return list(DEFAULT_FIELDS)
    names = [n.strip() for n in (spec.split(",") if isinstance(spec, str) else spec) if n.strip()]
    if names == ["all"]:
        return list(ALL_FIELDS)
    unknown = [n for n in names if n not in COLUMNS]
    if unknown:
        raise InputError(f"unknown field(s): {', '.join(unknown)}; choose from: {', '.join(ALL_FIELDS)} (or 'all')")
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise InputError(f"field(s) given twice: {', '.join(dupes)}")
    return names


def infer_format(path: str | Path | None, fmt: str | None, allowed: tuple[str, ...] = FORMATS) -> str:
    """The format asked for, else the one the file name's extension says."""
    if fmt:
        fmt = fmt.lower()
        if fmt not in allowed:
            raise InputError(f"unknown format '{fmt}': choose one of {', '.join(allowed)}")
        return fmt
    ext = Path(str(path)).suffix.lower() if path and str(path) != "-" else ""
    found = EXTENSIONS.get(ext)
    if found is None or found not in allowed:
        raise InputError(f"cannot tell the format from '{path}': give --format ({', '.join(allowed)}) "
                         f"or a file ending in {', '.join(e for e, f in EXTENSIONS.items() if f in allowed)}")
    return found


# Excel safety ------------------------------------------------------------------------------------------
def neutralise(value: str) -> str:
    """A text that a spreadsheet would run as a formula (= + - @ TAB CR) gets one leading apostrophe.

    A text already starting with an apostrophe gets one too, so `unneutralise` undoes this exactly.
    """
    return "'" + value if value.startswith(_NEUTRALISE_STARTS) else value


def unneutralise(value: str) -> str:
    """The exact text back from a CSV/XLSX cell written by this module."""
    return value[1:] if value.startswith("'") else value


# Provenance ------------------------------------------------------------------------------------------
def _now_iso() -> str:
    return _dt.datetime.now(_dt.UTC).astimezone().isoformat(timespec="seconds")


def _index_info(settings: Settings) -> dict:
    """The keyword index the export was searched with: its manifest (build time, versions, counts)."""
    info: dict[str, Any] = {"path": str(settings.index_dir)}
    try:
        from indexer.keyword import read_manifest

        m = read_manifest(Path(settings.index_dir))
    except Exception as e:  # describing the index must never stop an export
        log.debug("index manifest unreadable: %s", e)
        m = None
    if not m:
        info["built_at"] = None
        return info
    for k, v in m.items():
        if isinstance(v, list | dict):
            continue
        info[k] = _as_iso(v) if k.endswith("_at") else v
    return info


def _as_iso(v) -> str:
    if isinstance(v, int | float):
        return _dt.datetime.fromtimestamp(v, _dt.UTC).astimezone().isoformat(timespec="seconds")
    return str(v)


def _semantic_info(settings: Settings) -> dict | None:
    try:
        from indexer.semantic import read_manifest

        m = read_manifest(settings)
    except Exception as e:  # the semantic index is optional: say why it is not described
        log.debug("no semantic manifest: %s", e)
        return None
    if not m:
        return None
    return {k: (_as_iso(v) if k.endswith("_at") else v) for k, v in m.items() if not isinstance(v, list | dict) or k == "model"}


def _corpus_counts(settings: Settings) -> dict:
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


def reproduce_command(request, fmt: str, fields: list[str] | None) -> str:
    """The `corpus export` command line that makes the same export again."""
    parts = ["corpus", "export", request.query, "-o", f"FILE.{fmt}", "--format", fmt]
    if request.mode:
        parts += ["--mode", request.mode]
    parts += ["--scope", request.scope]
    for k, v in sorted((request.filters or {}).items()):
        parts += [f"--{k}", str(v)]
    if not request.fold:
        parts.append("--no-fold")
    if request.sort != "relevance":
        parts += ["--sort", request.sort]
    if fields and fields != DEFAULT_FIELDS:
        parts += ["--fields", ",".join(fields)]
    return shlex.join(parts)


def provenance(settings: Settings, request=None, *, fmt: str | None = None, fields: list[str] | None = None) -> dict:
    """How an export was made: enough to make it again and to know what it was made from.

    `request` None describes a whole-corpus export (`--all`).
    """
    semantic = _semantic_info(settings)
    p: dict[str, Any] = {
        "tool": "corpus",
        "version": __version__,
        "exported_at": _now_iso(),
        "kind": "results" if request is not None else "corpus",
    }
    if request is not None:
        p.update({
            "query": request.query,
            "filters": dict(request.filters or {}),
            "mode": request.mode,
            "scope": request.scope,
            "fold_reposts": request.fold,
            "sort": request.sort,
        })
    p.update({
        # the embedding model matters when it ranked the hits: semantic/hybrid (None = hybrid if available)
        "model": (semantic or {}).get("model") or (settings.model if request is not None and request.mode != "keyword"
                                                   else None),
        "model_precision": settings.quantize,
        "model_backend": (semantic or {}).get("variant") or (semantic or {}).get("backend") or settings.embed_backend,
        "index": _index_info(settings),
        "semantic_index": semantic,
        "corpus": {"data_dir": str(settings.data_dir.resolve()), **_corpus_counts(settings)},
    })
    if fmt:
        p["format"] = fmt
    if fields is not None:
        p["fields"] = list(fields)
        p["columns"] = {n: COLUMNS[n].help for n in fields}
    if request is not None and fmt:
        p["reproduce"] = reproduce_command(request, fmt, fields)
    if fmt in ("csv", "xlsx"):
        p["excel_safety"] = {
            "formula_neutralisation": "text cells starting with = + - @ TAB CR or ' are prefixed with one apostrophe "
                                      "('); remove one leading apostrophe to get the exact text",
            "section_joined_with": SECTION_SEPARATOR,
        }
        if fmt == "xlsx":
            p["excel_safety"]["cell_limit"] = (f"cells are cut at {XLSX_CELL_LIMIT} characters with a visible marker; "
                                               "the about sheet lists every cut")
    return p


# Result summary ----------------------------------------------------------------------------------------
@dataclass
class ExportSummary:
    format: str
    rows: int = 0
    documents: int = 0  # whole-corpus exports
    total: int | None = None  # hits the search reported for the whole set
    path: Path | None = None
    meta_path: Path | None = None
    fields: list[str] = field(default_factory=list)
    neutralised: int = 0  # cells prefixed with an apostrophe (CSV/XLSX)
    cut: list[dict] = field(default_factory=list)  # XLSX cells cut at the cell limit: {"row","column","length"}
    replaced_chars: int = 0  # XLSX: control characters replaced by U+FFFD
    mode_used: str | None = None
    notice: str | None = None
    seconds: float = 0.0
    bytes: int = 0
    peak_rss_mb: float = 0.0
    provenance: dict = field(default_factory=dict)

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0

    def lines(self) -> list[str]:
        what = f"{self.documents} documents, {self.rows} paragraphs" if self.documents else f"{self.rows} rows"
        out = [f"exported {what} as {self.format} in {self.seconds:.1f} s"
               + (f" to {self.path}" if self.path else "")]
        if self.meta_path:
            out.append(f"provenance: {self.meta_path}")
        if self.neutralised:
            out.append(f"{self.neutralised} cells that a spreadsheet would run as formulas were prefixed with '")
        if self.cut:
            out.append(f"{len(self.cut)} cells longer than {XLSX_CELL_LIMIT:,} characters were cut (listed on the about sheet)")
        if self.replaced_chars:
            out.append(f"{self.replaced_chars} control characters XLSX cannot hold were replaced by U+FFFD")
        if self.notice:
            out.append(f"note: {self.notice}")
        return out


# Writers ---------------------------------------------------------------------------------------------------
class _Writer:
    """One row at a time into a binary stream; `close(prov)` finishes the file (and its provenance)."""

    def __init__(self, out: BinaryIO, columns: list[tuple[str, str]], summary: ExportSummary, prov: dict):
        self.out = out
        self.columns = columns
        self.summary = summary

    def write(self, row: list) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def close(self, prov: dict) -> None:
        pass


def _flat(value, typ: str, *, list_sep: str) -> Any:
    if value is None:
        return None
    if typ == "list":
        return list_sep.join(str(v) for v in value)
    return value


class _CsvWriter(_Writer):
    def __init__(self, out, columns, summary, prov, *, bom: bool = True):
        super().__init__(out, columns, summary, prov)
        self.text = io.TextIOWrapper(out, encoding="utf-8-sig" if bom else "utf-8", newline="", write_through=False)
        self.csv = csv.writer(self.text)
        self.csv.writerow([n for n, _t in columns])

    def write(self, row):
        cells = []
        for (name, typ), v in zip(self.columns, row, strict=True):
            v = _flat(v, typ, list_sep=" | " if name == "copy_urls" else SECTION_SEPARATOR)
            if v is None:
                cells.append("")
            elif isinstance(v, bool):
                cells.append("true" if v else "false")
            elif isinstance(v, str):
                n = neutralise(v)
                if n is not v:
                    self.summary.neutralised += 1
                cells.append(n)
            else:
                cells.append(v)
        self.csv.writerow(cells)

    def close(self, prov):
        self.text.flush()
        self.text.detach()  # the caller's stream stays open


class _JsonlWriter(_Writer):
    def write(self, row):
        obj = {name: v for (name, _t), v in zip(self.columns, row, strict=True)}
        self.out.write(json.dumps(obj, ensure_ascii=False).encode("utf-8") + b"\n")


def _arrow_type(typ: str):
    import pyarrow as pa

    return {"int": pa.int64(), "float": pa.float64(), "bool": pa.bool_(), "str": pa.string(),
            "list": pa.list_(pa.string())}[typ]


class _ParquetWriter(_Writer):
    BATCH = 5_000  # rows per row group: bounds memory, still good compression

    def __init__(self, out, columns, summary, prov, *, batch: int | None = None):
        import pyarrow as pa
        import pyarrow.parquet as pq

        super().__init__(out, columns, summary, prov)
        self.pa = pa
        self.schema = pa.schema([pa.field(n, _arrow_type(t)) for n, t in columns])
        self.writer = pq.ParquetWriter(out, self.schema, compression="zstd")
        self.batch = batch or self.BATCH
        self.buf: list[list] = [[] for _ in columns]

    def write(self, row):
        for col, v in zip(self.buf, row, strict=True):
            col.append(v)
        if len(self.buf[0]) >= self.batch:
            self._flush()

    def _flush(self):
        if not self.buf[0]:
            return
        arrays = [self.pa.array(col, type=f.type) for col, f in zip(self.buf, self.schema, strict=True)]
        self.writer.write_table(self.pa.Table.from_arrays(arrays, schema=self.schema))
        self.buf = [[] for _ in self.columns]

    def close(self, prov):
        self._flush()
        self.writer.add_key_value_metadata({EXPORT_MARKER: json.dumps(prov, ensure_ascii=False, default=str)})
        self.writer.close()


class _XlsxWriter(_Writer):
    """openpyxl write-only: rows go to temporary files, not memory. Sheet 1 "about", sheet 2.. "results"."""

    MAX_CUTS_LISTED = 1000

    def __init__(self, out, columns, summary, prov, *, max_rows: int | None = None):
        from openpyxl import Workbook

        super().__init__(out, columns, summary, prov)
        self.wb = Workbook(write_only=True)
        self.about = self.wb.create_sheet("about")
        self.max_rows = max_rows or XLSX_MAX_ROWS
        self.sheet_no = 0
        self._new_sheet()

    def _new_sheet(self):
        self.sheet_no += 1
        self.ws = self.wb.create_sheet("results" if self.sheet_no == 1 else f"results-{self.sheet_no}")
        self.ws.append([n for n, _t in self.columns])
        self.ws_rows = 1
        self.ws_freeze = True

    def _cell(self, value: str, row_no: int, column: str) -> str:
        if _ILLEGAL_XLSX.search(value):
            value, n = _ILLEGAL_XLSX.subn("\ufffd", value)
            self.summary.replaced_chars += n
        n = neutralise(value)
        if n is not value:
            self.summary.neutralised += 1
            value = n
        if len(value) > XLSX_CELL_LIMIT:
            full = len(value)
            marker = f"…[cut by export: Excel holds {XLSX_CELL_LIMIT:,} characters per cell; this cell had {full:,}]"
            value = value[: XLSX_CELL_LIMIT - len(marker)] + marker
            if len(self.summary.cut) < self.MAX_CUTS_LISTED:
                self.summary.cut.append({"sheet": self.ws.title, "row": row_no, "column": column, "length": full,
                                         "kept": XLSX_CELL_LIMIT - len(marker)})
            else:
                self.summary.cut.append({"row": row_no, "column": column, "length": full})
        return value

    def write(self, row):
        if self.ws_rows >= self.max_rows:
            self._new_sheet()
        self.ws_rows += 1
        cells = []
        for (name, typ), v in zip(self.columns, row, strict=True):
            v = _flat(v, typ, list_sep=" | " if name == "copy_urls" else SECTION_SEPARATOR)
            if isinstance(v, str):
                v = self._cell(v, self.ws_rows, name)
            cells.append(v)
        self.ws.append(cells)

    def close(self, prov):
        a = self.about
        a.append(["How this export was made", ""])
        for key, value in _about_rows(prov):
            a.append([key, self._about_value(value)])
        if self.summary.cut:
            a.append([])
            a.append(["Cells cut at the Excel limit", f"{len(self.summary.cut)} (first {self.MAX_CUTS_LISTED} listed)"])
            a.append(["sheet", "row", "column", "characters", "kept"])
            for c in self.summary.cut[: self.MAX_CUTS_LISTED]:
                a.append([c.get("sheet"), c["row"], c["column"], c["length"], c.get("kept")])
        self.wb.save(self.out)

    def _about_value(self, value):
        if value is None or isinstance(value, int | float | bool):
            return value
        s = _ILLEGAL_XLSX.sub("\ufffd", str(value))
        return neutralise(s)[:XLSX_CELL_LIMIT]


def _about_rows(prov: dict, prefix: str = "") -> Iterator[tuple[str, Any]]:
    for k, v in prov.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict) and k != "columns":
            yield from _about_rows(v, key + ".")
        elif isinstance(v, dict):
            for name, help_ in v.items():
                yield f"column {name}", help_
        elif isinstance(v, list):
            yield key, ", ".join(str(x) for x in v)
        else:
            yield key, v


def _make_writer(fmt: str, out: BinaryIO, columns, summary, prov, *, bom: bool = True) -> _Writer:
    if fmt == "csv":
        return _CsvWriter(out, columns, summary, prov, bom=bom)
    if fmt == "jsonl":
        return _JsonlWriter(out, columns, summary, prov)
    if fmt == "parquet":
        return _ParquetWriter(out, columns, summary, prov)
    if fmt == "xlsx":
        return _XlsxWriter(out, columns, summary, prov)
    raise InputError(f"unknown format '{fmt}': choose one of {', '.join(FORMATS)}")


# Output targets ----------------------------------------------------------------------------------------
def meta_path_for(path: Path) -> Path:
    """The sidecar: `results.csv` -> `results.csv.meta.json` (no clash between two formats of one name)."""
    return path.with_name(path.name + ".meta.json")


@contextlib.contextmanager
def _atomic_output(path: Path) -> Iterator[BinaryIO]:
    """A temporary file next to `path`, renamed over it only when writing finished without error."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _write_json_atomic(path: Path, obj: dict) -> None:
    with _atomic_output(path) as f:
        f.write(json.dumps(obj, ensure_ascii=False, indent=2, default=str).encode("utf-8") + b"\n")


def _progressbar(progress: bool, length: int | None, label: str):
    if not progress:
        return contextlib.nullcontext(None)
    return click.progressbar(length=length, label=label, file=click.get_text_stream("stderr"), show_pos=True,
                             show_percent=length is not None)


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# Export a result set -------------------------------------------------------------------------------------
def export_results(settings: Settings, request, out: BinaryIO | Path | str, fmt: str | None = None,
                   fields: list[str] | str | None = None, progress: bool = False, *, bom: bool = True,
                   write_meta: bool = True) -> ExportSummary:
    """Every hit of `request` (all pages, same query language, filters, scope, mode and folding as
    search) into `out` as csv | jsonl | xlsx | parquet, streamed in bounded memory.

    `out` is a path (written atomically, with a sidecar `<name>.meta.json` unless `write_meta` is
    False) or a binary stream (the web UI's response; nothing else is written).
    """
    from indexer.search import iter_hits, search

    t0 = time.perf_counter()
    path = Path(out) if isinstance(out, str | Path) else None
    fmt = infer_format(path, fmt)
    names = parse_fields(fields)
    columns = [(n, COLUMNS[n].type) for n in names]
    getters = [COLUMNS[n].get for n in names]

    first = search(settings, replace(request, page=1, per_page=1))  # total for the progress bar, mode actually used
    prov = provenance(settings, request, fmt=fmt, fields=names)
    prov["mode_used"] = first.mode
    prov["total"] = first.total
    if first.notice:
        prov["notice"] = first.notice
    if first.terms:
        prov["highlighted_terms"] = list(first.terms)
    summary = ExportSummary(format=fmt, total=first.total, path=path, fields=names, mode_used=first.mode,
                            notice=first.notice)

    def run(stream: BinaryIO) -> None:
        writer = _make_writer(fmt, stream, columns, summary, prov, bom=bom)
        with _progressbar(progress, first.total or None, "export") as bar:
            for n, hit in enumerate(iter_hits(settings, request), 1):
                if not hit.rank:
                    hit.rank = n
                writer.write([g(hit) for g in getters])
                summary.rows = n
                if bar is not None:
                    bar.update(1)
        prov["rows"] = summary.rows
        if fmt in ("csv", "xlsx"):
            prov["excel_safety"]["cells_neutralised"] = summary.neutralised
        if fmt == "xlsx":
            prov["excel_safety"]["cells_cut"] = len(summary.cut)
            prov["excel_safety"]["control_chars_replaced"] = summary.replaced_chars
        writer.close(prov)

    _run_to(out, path, run)
    if summary.total is not None and summary.rows != summary.total:
        log.warning("search reported %d hits but %d were exported", summary.total, summary.rows)
    return _finish(summary, prov, path, write_meta, t0)


def _run_to(out, path: Path | None, run: Callable[[BinaryIO], None]) -> None:
    if path is not None:
        with _atomic_output(path) as f:
            run(f)
    else:
        run(out)


def _finish(summary: ExportSummary, prov: dict, path: Path | None, write_meta: bool, t0: float) -> ExportSummary:
    summary.seconds = time.perf_counter() - t0
    summary.peak_rss_mb = _peak_rss_mb()
    prov["export_seconds"] = round(summary.seconds, 3)
    if path is not None:
        summary.bytes = path.stat().st_size
        if write_meta:
            summary.meta_path = meta_path_for(path)
            _write_json_atomic(summary.meta_path, {**prov, "file": path.name, "bytes": summary.bytes})
    summary.provenance = prov
    return summary


# Whole corpus ------------------------------------------------------------------------------------------------
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
                  *, write_meta: bool = True) -> ExportSummary:
    """Every document and paragraph: JSONL (one self-describing record per document; `corpus ingest`
    reads it back exactly) or Parquet (one row per paragraph with its document's fields repeated)."""
    from .store import open_store

    t0 = time.perf_counter()
    path = Path(out) if isinstance(out, str | Path) else None
    fmt = infer_format(path, fmt, CORPUS_FORMATS)
    store = open_store(settings, readonly=True)
    prov = provenance(settings, None, fmt=fmt)
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
        writer = _ParquetWriter(stream, columns, summary, prov) if fmt == "parquet" else None
        with _progressbar(progress, n_docs, "export --all") as bar:
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
                if bar is not None:
                    bar.update(1)
        prov["rows"] = summary.rows
        prov["documents_exported"] = summary.documents
        if writer is not None:
            writer.close(prov)

    try:
        _run_to(out, path, run)
    finally:
        store.close()
    return _finish(summary, prov, path, write_meta, t0)


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
