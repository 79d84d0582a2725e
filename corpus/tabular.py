"""Tabular output for researchers: CSV, JSONL, XLSX and Parquet writers, Excel safety, the export summary.

Both exports write through here: the result-set export (`indexer.export`, rows from the search)
and the whole-corpus dump (`corpus.export`, rows from the store). A writer takes one row at a time
(bounded memory: Parquet in row groups, XLSX in openpyxl's write-only mode) and `close(prov)` finishes
the file with its provenance where the format allows it: the first sheet ("about") of an XLSX, the
key-value metadata ("corpus_export") of a Parquet file. CSV and JSONL have no comment syntax every
reader accepts, so they carry it only in the sidecar `<file>.meta.json` (`finish`).

Excel safety (CSV and XLSX only; JSONL and Parquet keep every text exact):
- CSV is UTF-8 *with* a byte-order mark by default, so Excel opens Chinese text intact
  (`bom=False` / `--no-bom` for tools that dislike the BOM; pandas and R's readr skip it).
- Formula injection: a text cell starting with = + - @ TAB CR is prefixed with one apostrophe
  ('), as OWASP recommends; a cell that already starts with an apostrophe gets one more, so the
  rule is exactly reversible: strip one leading apostrophe from any cell that has one
  (`unneutralise()`).
- XLSX cells hold at most 32,767 characters: longer texts are cut, the cell ends with a visible
  marker saying how much was kept, and the "about" sheet lists every cut (row, column, length).
  Characters XLSX cannot store (control characters) are replaced by U+FFFD and counted.
"""

from __future__ import annotations

import csv
import io
import json
import re
import resource
import time
from collections.abc import Callable, Iterator
from copy import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from .atomic import atomic_output, write_json_atomic
from .errors import InputError

FORMATS = ("csv", "jsonl", "xlsx", "parquet")
EXTENSIONS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".xlsx": "xlsx", ".parquet": "parquet", ".pq": "parquet"}

EXPORT_MARKER = "corpus_export"  # Parquet metadata key of the provenance; also marks a whole-corpus JSONL record

XLSX_CELL_LIMIT = 32_767
XLSX_MAX_ROWS = 1_048_576  # per sheet, header included: larger result sets continue on "results-2" ...
SECTION_SEPARATOR = " > "  # CSV/XLSX join the section heading path with this; JSONL/Parquet keep a list
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NEUTRALISE_STARTS = FORMULA_STARTS + ("'",)  # "'" too, so that the rule can be undone exactly
_ILLEGAL_XLSX = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # what openpyxl refuses to store

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
class Writer:
    """One row at a time into a binary stream; `close(prov)` finishes the file (and its provenance).

    `columns` are (name, type); `headers` the header row CSV and XLSX show (default: the names);
    `widths` XLSX column widths in characters (default: from the header)."""

    def __init__(self, out: BinaryIO, columns: list[tuple[str, str]], summary: ExportSummary, prov: dict,
                 *, headers: list[str] | None = None, widths: list[int] | None = None):
        self.out = out
        self.columns = columns
        self.summary = summary
        self.headers = list(headers) if headers else [n for n, _t in columns]
        if len(self.headers) != len(columns):
            raise ValueError("one header per column")
        self.widths = list(widths) if widths else [max(8, min(40, 2 * len(h) + 2)) for h in self.headers]

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


class CsvWriter(Writer):
    def __init__(self, out, columns, summary, prov, *, bom: bool = True, **kw):
        super().__init__(out, columns, summary, prov, **kw)
        self.text = io.TextIOWrapper(out, encoding="utf-8-sig" if bom else "utf-8", newline="", write_through=False)
        self.csv = csv.writer(self.text)
        self.csv.writerow([neutralise(h) for h in self.headers])

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


class JsonlWriter(Writer):
    def write(self, row):
        obj = {name: v for (name, _t), v in zip(self.columns, row, strict=True)}
        self.out.write(json.dumps(obj, ensure_ascii=False).encode("utf-8") + b"\n")


def _arrow_type(typ: str):
    import pyarrow as pa

    return {"int": pa.int64(), "float": pa.float64(), "bool": pa.bool_(), "str": pa.string(),
            "list": pa.list_(pa.string())}[typ]


class ParquetWriter(Writer):
    BATCH = 5_000  # rows per row group: bounds memory, still good compression

    def __init__(self, out, columns, summary, prov, *, batch: int | None = None, **_kw):
        import pyarrow as pa
        import pyarrow.parquet as pq

        super().__init__(out, columns, summary, prov)  # Parquet keeps the stable names
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


class XlsxWriter(Writer):
    """openpyxl write-only: rows go to temporary files, not memory. The results come first ("results",
    then "results-2" ... past Excel's row limit), each with a bold frozen header row, column widths and
    wrapped long text; the provenance sheet ("about") comes after them."""

    MAX_CUTS_LISTED = 1000
    WRAP_WIDTH = 24  # text columns at least this wide wrap inside their cells

    def __init__(self, out, columns, summary, prov, *, max_rows: int | None = None, **kw):
        from openpyxl import Workbook
        from openpyxl.styles import Alignment, Font

        super().__init__(out, columns, summary, prov, **kw)
        self.wb = Workbook(write_only=True)
        self.max_rows = max_rows or XLSX_MAX_ROWS
        self.sheet_no = 0
        self.head_font = Font(bold=True)
        self.head_align = Alignment(vertical="center", wrap_text=True)
        self.wrap = Alignment(wrap_text=True, vertical="top")
        self.wrapped = [typ in ("str", "list") and w >= self.WRAP_WIDTH
                        for (_n, typ), w in zip(columns, self.widths, strict=True)]
        self._new_sheet()
        self.about = self.wb.create_sheet("about")
        from openpyxl.cell import WriteOnlyCell

        template = WriteOnlyCell(self.ws, value="")
        template.alignment = self.wrap
        self.wrap_style = template._style

    def _new_sheet(self):
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.utils import get_column_letter

        self.sheet_no += 1
        self.ws = self.wb.create_sheet("results" if self.sheet_no == 1 else f"results-{self.sheet_no}")
        self.ws.freeze_panes = "A2"
        for i, w in enumerate(self.widths, 1):
            self.ws.column_dimensions[get_column_letter(i)].width = w
        head = []
        for h in self.headers:
            c = WriteOnlyCell(self.ws, value=self._about_value(h))
            c.font, c.alignment = self.head_font, self.head_align
            head.append(c)
        self.ws.append(head)
        self.ws_rows = 1

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
        from openpyxl.cell import WriteOnlyCell

        if self.ws_rows >= self.max_rows:
            self._new_sheet()
        self.ws_rows += 1
        cells = []
        for (name, typ), v, wrap in zip(self.columns, row, self.wrapped, strict=True):
            v = _flat(v, typ, list_sep=" | " if name == "copy_urls" else SECTION_SEPARATOR)
            if isinstance(v, str):
                v = self._cell(v, self.ws_rows, name)
                if wrap:
                    v = WriteOnlyCell(self.ws, value=v)
                    v._style = copy(self.wrap_style)  # = v.alignment = self.wrap, without the style lookup per cell
            cells.append(v)
        self.ws.append(cells)

    def close(self, prov):
        a = self.about
        a.column_dimensions["A"].width = 34
        a.column_dimensions["B"].width = 80
        a.append(["How this export was made（本导出的来历：检索条件、模型、索引、语料规模、时间）", ""])
        for key, value in _about_rows(prov):
            a.append([key, self._about_value(value)])
        if self.summary.cut:
            a.append([])
            a.append(["Cells cut at the Excel limit", f"{len(self.summary.cut)} (first {self.MAX_CUTS_LISTED} listed)"])
            a.append(["sheet", "row", "column", "characters", "kept"])
            for c in self.summary.cut[: self.MAX_CUTS_LISTED]:
                a.append([c.get("sheet"), c["row"], c["column"], c["length"], c.get("kept")])
        # results sheets first (a new one may have started after "about" was made), provenance last
        sheets = self.wb._sheets  # openpyxl's move_sheet does not take write-only sheets
        sheets.append(sheets.pop(sheets.index(self.about)))
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


def make_writer(fmt: str, out: BinaryIO, columns, summary, prov, *, bom: bool = True,
                headers: list[str] | None = None, widths: list[int] | None = None) -> Writer:
    """The writer for `fmt`. `headers`/`widths` shape the CSV and XLSX header row and XLSX columns;
    JSONL and Parquet always use the column names."""
    if fmt == "csv":
        return CsvWriter(out, columns, summary, prov, bom=bom, headers=headers)
    if fmt == "jsonl":
        return JsonlWriter(out, columns, summary, prov)
    if fmt == "parquet":
        return ParquetWriter(out, columns, summary, prov)
    if fmt == "xlsx":
        return XlsxWriter(out, columns, summary, prov, headers=headers, widths=widths)
    raise InputError(f"unknown format '{fmt}': choose one of {', '.join(FORMATS)}")



# Output targets ----------------------------------------------------------------------------------------
def meta_path_for(path: Path) -> Path:
    """The sidecar: `results.csv` -> `results.csv.meta.json` (no clash between two formats of one name)."""
    return path.with_name(path.name + ".meta.json")



def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024



def check_output_path(path: Path | None, make_dirs: bool = False) -> None:
    """A file can be written at `path`: its directory exists (or `make_dirs` says to create it)."""
    if path is None:
        return
    parent = path.parent
    if path.is_dir():
        raise InputError(f"{path} is a directory: give a file name to write")
    if parent.is_dir():
        return
    if parent.exists():
        raise InputError(f"cannot write {path}: {parent} is not a directory")
    if not make_dirs:
        raise InputError(f"output directory does not exist: {parent} (create it, or pass --mkdir)")
    parent.mkdir(parents=True, exist_ok=True)


def run_to(out, path: Path | None, run: Callable[[BinaryIO], None], *, make_dirs: bool = False) -> None:
    """`run(stream)` into `out`, or into `path` atomically (a missing directory is an error unless `make_dirs`)."""
    if path is not None:
        check_output_path(path, make_dirs)
        with atomic_output(path, make_dirs=False) as f:
            run(f)
    else:
        run(out)


def finish(summary: ExportSummary, prov: dict, path: Path | None, write_meta: bool, t0: float) -> ExportSummary:
    summary.seconds = time.perf_counter() - t0
    summary.peak_rss_mb = peak_rss_mb()
    prov["export_seconds"] = round(summary.seconds, 3)
    if path is not None:
        summary.bytes = path.stat().st_size
        if write_meta:
            summary.meta_path = meta_path_for(path)
            write_json_atomic(summary.meta_path, {**prov, "file": path.name, "bytes": summary.bytes})
    summary.provenance = prov
    return summary



# Any small table -----------------------------------------------------------------------------------------
def export_table(settings, columns: list[str], rows: list[list], out: BinaryIO | Path | str, fmt: str | None = None,
                 *, about: dict | None = None, bom: bool = True, write_meta: bool = True,
                 make_dirs: bool = False) -> ExportSummary:
    """A table the tools show (a timeline's years, a pattern's fillers, collocations, compare lists)
    as csv | jsonl | xlsx | parquet through the same writers and Excel safety as the exports.
    Column types come from the values; `about` (tool, phrase, filters...) goes into the provenance."""
    from .provenance import corpus_info, excel_safety, head

    t0 = time.perf_counter()
    path = Path(out) if isinstance(out, str | Path) else None
    fmt = infer_format(path, fmt)

    def typ(i: int) -> str:
        vals = [r[i] for r in rows if r[i] is not None]
        if vals and all(isinstance(v, bool) for v in vals):
            return "bool"
        if vals and all(isinstance(v, int) and not isinstance(v, bool) for v in vals):
            return "int"
        if vals and all(isinstance(v, int | float) and not isinstance(v, bool) for v in vals):
            return "float"
        return "str"

    cols = [(name, typ(i)) for i, name in enumerate(columns)]
    prov = head("table")
    prov.update(about or {})
    prov["corpus"] = corpus_info(settings)
    prov["format"] = fmt
    safety = excel_safety(fmt)
    if safety:
        prov["excel_safety"] = safety
    summary = ExportSummary(format=fmt, path=path, fields=list(columns))

    def run(stream: BinaryIO) -> None:
        writer = make_writer(fmt, stream, cols, summary, prov, bom=bom)
        for row in rows:
            writer.write([None if v is None else float(v) if t == "float" else str(v) if t == "str" else v
                          for v, (_, t) in zip(row, cols, strict=True)])
            summary.rows += 1
        prov["rows"] = summary.rows
        if safety:
            prov["excel_safety"]["cells_neutralised"] = summary.neutralised
        writer.close(prov)

    run_to(out, path, run, make_dirs=make_dirs)
    return finish(summary, prov, path, write_meta, t0)
