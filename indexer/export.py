"""Export a result set for researchers (pandas, R, Excel, NVivo): every hit of a search, with provenance.

Why this module exists: a researcher counting how a phrase spreads across regions and years needs
*every* matching paragraph (not one page), clean typed columns, and a record of exactly how the set
was made, so the analysis can be reproduced later against the same corpus. It lives beside the
search because it is fed by it; the writers and Excel safety it uses are the ground floor's
(`corpus.tabular`), shared with the whole-corpus dump (`corpus.export`).

- `export_results(settings, request, out, fmt)` streams every hit of a search (the same request the
  CLI and web UI search with) into CSV, JSONL, XLSX or Parquet in bounded memory: rows go straight
  from `indexer.search.iter_hits` to the writer.
- Columns (`COLUMNS`, `DEFAULT_FIELDS`, `parse_fields`): what a hit becomes in a row.
- Provenance (`provenance()`): query, filters, mode, model, index build time, corpus counts, tool
  version, export time. Written as a sidecar `<file>.meta.json` when exporting to a path, and inside
  the file where the format allows it (see `corpus.tabular`).
"""

from __future__ import annotations

import logging
import shlex
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from itertools import islice
from pathlib import Path
from typing import Any, BinaryIO

from corpus import provenance as _prov
from corpus.citation import citation
from corpus.errors import InputError
from corpus.progress import progress_bar
from corpus.settings import Settings
from corpus.tabular import (  # noqa: F401  (re-exported: the export's formats and cell conventions)
    EXPORT_MARKER,
    FORMATS,
    FORMULA_STARTS,
    SECTION_SEPARATOR,
    XLSX_CELL_LIMIT,
    ExportSummary,
    check_output_path,
    finish,
    infer_format,
    make_writer,
    meta_path_for,
    neutralise,
    run_to,
    unneutralise,
)

from .snippets import merge_spans

log = logging.getLogger(__name__)

MARK_OPEN, MARK_CLOSE = "【", "】"  # how the matched phrase is marked in the snippet column


# Columns -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Column:
    name: str  # the stable English name: JSONL keys, Parquet columns, `--fields`, CSV/XLSX with --english-headers
    type: str  # "int" | "float" | "bool" | "str" | "list"  (decides the Parquet type and CSV text)
    help: str
    get: Callable[[Any], Any]
    label: str = ""  # the Chinese header CSV and XLSX show by default
    width: int = 12  # XLSX column width (characters)


def _marked_snippet(hit) -> str:
    return mark_spans(hit.snippet, [(s.start, s.end) for s in hit.snippet_spans])


COLUMNS: dict[str, Column] = {c.name: c for c in (
    Column("doc_id", "int", "document id (corpus show DOC_ID)", lambda h: h.doc_id, "文稿编号", 9),
    Column("title", "str", "document title", lambda h: h.title, "标题", 32),
    Column("unit", "str", "speaker's unit (单位)", lambda h: h.unit, "单位", 14),
    Column("site", "str", "site the document was collected from", lambda h: h.site, "来源网站", 12),
    Column("url", "str", "source URL", lambda h: h.url, "网址", 28),
    Column("date", "str", "ISO date: 2025-07-24, 2025-07 or 2025", lambda h: h.date, "日期", 11),
    Column("year", "int", "year of the date", lambda h: h.year, "年份", 7),
    Column("doc_type", "str", "document type: 讲话, 发言, 调研报告, 工作报告 ...", lambda h: h.doc_type, "文稿类型", 10),
    Column("truncated", "bool", "the source site cut the text (paywall)", lambda h: bool(h.truncated), "来源不全", 9),
    Column("paragraph_id", "int", "paragraph id", lambda h: h.paragraph_id, "段落编号", 9),
    Column("position", "int", "paragraph's order in its document (0-based)", lambda h: h.position, "段落位置", 9),
    Column("section", "list", f"outline headings above the paragraph (CSV/XLSX: joined with '{SECTION_SEPARATOR}')",
           lambda h: list(h.section or []), "所在小标题", 26),
    Column("text", "str", "the whole paragraph", lambda h: h.text, "段落全文", 70),
    Column("snippet", "str", f"the sentences around the match, phrase marked {MARK_OPEN}like this{MARK_CLOSE}",
           _marked_snippet, "命中片段", 50),
    Column("citation", "str", "the full citation: title, unit, meeting, date, site, URL where known (出处不详 where not)",
           citation, "出处", 40),
    Column("score", "float", "relevance score (keyword BM25F, semantic cosine or hybrid fusion)", lambda h: float(h.score),
           "相关度", 9),
    Column("rank", "int", "1-based rank in the whole result set", lambda h: h.rank, "排名", 7),
    Column("cluster_id", "int", "repost cluster of the paragraph (same id = near-identical text)", lambda h: h.cluster_id,
           "转载组", 9),
    Column("copy_count", "int", "other places the same paragraph appears (folded reposts)", lambda h: h.copy_count,
           "转载数", 8),
    # not in the default set -------------------------------------------------------------------
    Column("kind", "str", "heading or body", lambda h: h.kind, "段落类型", 9),
    Column("best_sentence", "str", "semantic hits: the sentence that matched best", lambda h: h.best_sentence,
           "最相关句", 40),
    Column("relation", "str", "empty for a literal hit; 'partial' or 'meaning' for rows of the related list "
           "(only with --include-related)", lambda h: h.relation or "", "关系", 10),
    Column("copy_urls", "list", "URLs of the folded reposts (CSV/XLSX: joined with ' | ')",
           lambda h: [c.url for c in h.copies if c.url], "转载网址", 30),
)}
CITE_CHUNK = 200  # rows whose citations are read from the store in one query (iter_hits builds hits 200 at a time)
HEADERS = ("zh", "en")  # CSV/XLSX header row: Chinese labels (default) or the English names

DEFAULT_FIELDS: list[str] = [
    "doc_id", "title", "unit", "site", "url", "date", "year", "doc_type", "truncated",
    "paragraph_id", "position", "section", "text", "snippet", "citation", "score", "rank", "cluster_id", "copy_count",
]
ALL_FIELDS: list[str] = list(COLUMNS)


def mark_spans(text: str, spans: list[tuple[int, int]]) -> str:
    """`text` with each (merged) span wrapped in 【】: the marked phrase survives any spreadsheet."""
    out, pos = [], 0
    for s, e in merge_spans(spans, len(text)):
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



class _Citations:
    """The citation column: corpus.citation over each document's stored fields (hits do not carry the
    meeting or speaker), looked up once per document."""

    def __init__(self, settings: Settings):
        from corpus.store import Store

        self.store = Store(settings.db_path, readonly=True)
        self.cache: dict[int, str] = {}

    def prefetch(self, hits) -> None:
        """The citations of these hits' documents not yet known, in one query."""
        missing = {h.doc_id for h in hits} - self.cache.keys()
        if missing:
            fields = self.store.citation_fields(missing)
            for h in hits:
                if h.doc_id in missing and h.doc_id not in self.cache:
                    f = fields.get(h.doc_id)
                    self.cache[h.doc_id] = citation(f if f else h)

    def of(self, hit) -> str:
        cite = self.cache.get(hit.doc_id)
        if cite is None:
            fields = self.store.citation_fields([hit.doc_id]).get(hit.doc_id)
            cite = self.cache[hit.doc_id] = citation(fields if fields else hit)
        return cite

    def close(self) -> None:
        self.store.close()


# Provenance ------------------------------------------------------------------------------------------
def _index_info(settings: Settings) -> dict:
    """The keyword index the export was searched with: its manifest (build time, versions, counts)."""
    info: dict[str, Any] = {"path": str(settings.index_dir)}
    try:
        from .keyword import read_manifest

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
        info[k] = _prov.as_iso(v) if k.endswith("_at") else v
    return info


def _semantic_info(settings: Settings) -> dict | None:
    try:
        from .semantic import read_manifest

        m = read_manifest(settings)
    except Exception as e:  # the semantic index is optional: say why it is not described
        log.debug("no semantic manifest: %s", e)
        return None
    if not m:
        return None
    return {k: (_prov.as_iso(v) if k.endswith("_at") else v) for k, v in m.items()
            if not isinstance(v, list | dict) or k == "model"}


def describe_indexes(settings: Settings, request=None) -> dict:
    """Model and indexes an export was made with (`request` None: a whole-corpus dump)."""
    semantic = _semantic_info(settings)
    return {
        # the embedding model matters when it ranked the hits: semantic/hybrid (None = hybrid if available)
        "model": (semantic or {}).get("model") or (settings.model if request is not None and request.mode != "keyword"
                                                   else None),
        "model_precision": settings.quantize,
        "model_backend": (semantic or {}).get("variant") or (semantic or {}).get("backend") or settings.embed_backend,
        "index": _index_info(settings),
        "semantic_index": semantic,
    }


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
    p: dict[str, Any] = _prov.head("results" if request is not None else "corpus")
    if request is not None:
        p.update({
            "query": request.query,
            "filters": dict(request.filters or {}),
            "mode": request.mode,
            "scope": request.scope,
            "fold_reposts": request.fold,
            "sort": request.sort,
        })
    p.update(describe_indexes(settings, request))
    p["corpus"] = _prov.corpus_info(settings)
    if fmt:
        p["format"] = fmt
    if fields is not None:
        p["fields"] = list(fields)
        p["columns"] = {n: COLUMNS[n].help for n in fields}
    if request is not None and fmt:
        p["reproduce"] = reproduce_command(request, fmt, fields)
    safety = _prov.excel_safety(fmt)
    if safety is not None:
        p["excel_safety"] = safety
    return p


# Export a result set -------------------------------------------------------------------------------------
def export_results(settings: Settings, request, out: BinaryIO | Path | str, fmt: str | None = None,
                   fields: list[str] | str | None = None, progress: bool = False, *, bom: bool = True,
                   write_meta: bool = True, headers: str = "zh", make_dirs: bool = False,
                   include_related: bool = False, store=None) -> ExportSummary:
    """Every hit of `request` (all pages, same query language, filters, scope, mode and folding as
    search) into `out` as csv | jsonl | xlsx | parquet, streamed in bounded memory: exactly the
    total the search shows. `include_related` appends the labelled related list (column `relation`).

    `out` is a path (written atomically, with a sidecar `<name>.meta.json` unless `write_meta` is
    False; a missing directory is an error unless `make_dirs`) or a binary stream (the web UI's
    response; nothing else is written). CSV and XLSX headers are the columns' Chinese labels
    (`headers="en"`: the stable English names JSONL and Parquet always use). `store`: the caller's
    read-only store, if it holds one (else the search opens one per call).
    """
    from .search import iter_hits, search

    t0 = time.perf_counter()
    path = Path(out) if isinstance(out, str | Path) else None
    fmt = infer_format(path, fmt)
    if headers not in HEADERS:
        raise InputError(f"unknown header language '{headers}': choose one of {', '.join(HEADERS)}")
    check_output_path(path, make_dirs)
    names = parse_fields(fields)
    if include_related and "relation" not in names:
        names.append("relation")
    columns = [(n, COLUMNS[n].type) for n in names]
    labels = [COLUMNS[n].label or n for n in names] if headers == "zh" else None
    widths = [COLUMNS[n].width for n in names]

    # total, mode used (and the related rows only when they are exported: they cost a neighbour scan)
    first = search(settings, replace(request, page=1, per_page=1, related=include_related), store=store)
    prov = provenance(settings, request, fmt=fmt, fields=names)
    if include_related:
        prov["related_rows"] = len(first.related)
    prov["mode_used"] = first.mode
    if fmt in ("csv", "xlsx"):
        prov["header_row"] = "Chinese labels (column_labels); --english-headers for the names" if labels else "column names"
        if labels:
            prov["column_labels"] = dict(zip(names, labels, strict=True))
    prov["total"] = first.total
    if first.notice:
        prov["notice"] = first.notice
    if first.terms:
        prov["highlighted_terms"] = list(first.terms)
    summary = ExportSummary(format=fmt, total=first.total, path=path, fields=names, mode_used=first.mode,
                            notice=first.notice)

    def run(stream: BinaryIO) -> None:
        cites = _Citations(settings) if "citation" in names else None
        getters = [cites.of if n == "citation" and cites else COLUMNS[n].get for n in names]
        try:
            writer = make_writer(fmt, stream, columns, summary, prov, bom=bom, headers=labels, widths=widths)
            hits = iter_hits(settings, request, include_related=include_related, store=store)
            n = 0
            with progress_bar(progress, first.total or None, "export") as bar:
                while chunk := list(islice(hits, CITE_CHUNK)):
                    if cites:
                        cites.prefetch(chunk)  # one query per chunk of rows, not one per document
                    for hit in chunk:
                        n += 1
                        if not hit.rank:
                            hit.rank = n
                        writer.write([g(hit) for g in getters])
                        summary.rows = n
                        bar.update(1)
            prov["rows"] = summary.rows
            if fmt in ("csv", "xlsx"):
                prov["excel_safety"]["cells_neutralised"] = summary.neutralised
            if fmt == "xlsx":
                prov["excel_safety"]["cells_cut"] = len(summary.cut)
                prov["excel_safety"]["control_chars_replaced"] = summary.replaced_chars
            writer.close(prov)
        finally:
            if cites:
                cites.close()

    run_to(out, path, run, make_dirs=make_dirs)
    expected = None if summary.total is None else summary.total + (prov.get("related_rows") or 0)
    if expected is not None and summary.rows != expected:
        log.warning("search reported %d hits but %d were exported", expected, summary.rows)
    return finish(summary, prov, path, write_meta, t0)


