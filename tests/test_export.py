"""Export: every format opened with the library a researcher would use, rows compared with
`corpus search --json`; provenance; Excel safety (BOM, formula injection, cell limit); the exact
round trip of `corpus export --all` through `corpus ingest`."""

from __future__ import annotations

import csv
import io
import json

import openpyxl
import pandas as pd
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from corpus import __version__, tabular
from corpus import export as corpus_ex
from corpus.citation import citation
from corpus.cli import main
from corpus.errors import InputError
from corpus.ingest import content_hash, ingest_paths
from corpus.models import Document, Paragraph
from corpus.settings import Settings
from corpus.store import Store
from indexer import export as ex
from indexer.api import SearchRequest

HOSTILE_TITLE = "恶意单元格测试"
LONG_LEN = 40_000
HOSTILE = [
    '=HYPERLINK("http://example.invalid/x","要素保障点此")',
    "+要素保障跟着项目走",
    "-要素保障不到位的问题",
    "@SUM(1+1) 要素保障",
    "'要素保障以引号开头",
    "\t要素保障以制表符开头",
    "要素保障\x07" + "长" * LONG_LEN + "尾",  # longer than an Excel cell, with a control character
]


def run(args: list[str], settings: Settings, **kw):
    result = CliRunner().invoke(main, ["--data", str(settings.data_dir), *args], catch_exceptions=False, **kw)
    return result


def add_hostile(settings: Settings) -> int:
    """A document whose paragraphs a spreadsheet would run as formulas, stored as it is."""
    store = Store(settings.db_path)
    doc = Document(title=HOSTILE_TITLE, site="测试网", date="2024-05-01", unit="=cmd|' /C calc'!A0", doc_type="讲话",
                   paragraphs=[Paragraph("一、要素保障", kind="heading", level=1, section=[])]
                   + [Paragraph(t, section=["一、要素保障"]) for t in HOSTILE])
    with store.transaction():
        raw_id = store.add_raw(sha256="hostile", path="hostile.txt", format="text", encoding="utf-8",
                               raw=doc.text, meta={})
        doc_id = store.add_document(doc, raw_id=raw_id, part_index=0, content_hash=content_hash(doc),
                                    file_path="hostile.txt")
    store.close()
    return doc_id


@pytest.fixture(scope="module")
def corpus_settings(tmp_path_factory) -> Settings:
    from corpus.ingest import sample_dir

    settings = Settings(data_dir=tmp_path_factory.mktemp("export") / "data", semantic=False)
    assert ingest_paths(settings, [sample_dir()]).ok
    add_hostile(settings)
    r = run(["index", "--no-semantic"], settings)
    assert r.exit_code == 0, r.output
    return settings


def search_json(settings: Settings, args: list[str]) -> dict:
    """Every hit of `corpus search --json`, page by page."""
    hits, page, first = [], 1, None
    while True:
        r = run(["search", *args, "--json", "-n", "50", "-p", str(page)], settings)
        assert r.exit_code == 0, r.output
        data = json.loads(r.output)
        first = first or data
        hits += data["hits"]
        if page >= data["pages"]:
            break
        page += 1
    first["hits"] = hits
    return first


NAME_OF = {c.label: name for name, c in ex.COLUMNS.items()}  # CSV/XLSX header (Chinese label) -> column name
LABELS = [ex.COLUMNS[n].label for n in ex.DEFAULT_FIELDS]


def expected_rows(result: dict, fields: list[str], settings: Settings | None = None) -> list[dict]:
    rows = []
    docs = Store(settings.db_path, readonly=True).citation_fields(h["doc_id"] for h in result["hits"]) if settings else {}
    for h in result["hits"]:
        full = dict(h)
        if settings:
            full["citation"] = citation(docs[h["doc_id"]])
        full["snippet"] = ex.mark_spans(h["snippet"], [tuple(s) for s in h["snippet_spans"]])
        full["copy_urls"] = [c["url"] for c in h["copies"] if c.get("url")]
        rows.append({f: _canon(full[f]) for f in fields})
    return rows


def _canon(v):
    return None if v == "" else v


def from_cell(name: str, v):
    """A CSV/XLSX cell back to the value search returned (the documented, reversible conventions)."""
    typ = ex.COLUMNS[name].type
    if v is None or v == "":
        return [] if typ == "list" else None
    if typ == "int":
        return int(v)
    if typ == "float":
        return float(v)
    if typ == "bool":
        return v if isinstance(v, bool) else {"true": True, "false": False}[v]
    if typ == "list":
        sep = " | " if name == "copy_urls" else ex.SECTION_SEPARATOR
        return [ex.unneutralise(x) for x in v.split(sep)]
    return _canon(ex.unneutralise(v))


def read_rows(path, fmt: str, fields: list[str]) -> list[dict]:
    if fmt == "csv":
        with open(path, encoding="utf-8-sig", newline="") as f:
            return [{NAME_OF[k]: from_cell(NAME_OF[k], v) for k, v in row.items()} for row in csv.DictReader(f)]
    if fmt == "jsonl":
        with open(path, encoding="utf-8") as f:
            return [{k: _canon(v) for k, v in json.loads(line).items()} for line in f]
    if fmt == "parquet":
        return [{k: _canon(v) for k, v in row.items()} for row in pq.read_table(path).to_pylist()]
    wb = openpyxl.load_workbook(path, read_only=True)
    rows = list(wb["results"].iter_rows(values_only=True))
    names = [NAME_OF[h] for h in rows[0]]
    return [{k: from_cell(k, v) for k, v in zip(names, r, strict=True)} for r in rows[1:]]


QUERIES = [
    (["发展"], []),
    (["要素保障"], ["--scope", "sentence"]),
    (["项目 -招商"], ["--year", "2020..2025", "--sort", "date"]),
]


@pytest.mark.parametrize("fmt", ex.FORMATS)
@pytest.mark.parametrize("query,opts", QUERIES)
def test_every_format_matches_search(corpus_settings, tmp_path, fmt, query, opts):
    expected_result = search_json(corpus_settings, query + opts)
    out = tmp_path / f"result.{fmt}"
    r = run(["export", *query, *opts, "-o", str(out), "-q"], corpus_settings)
    assert r.exit_code == 0, r.output
    rows = read_rows(out, fmt, ex.DEFAULT_FIELDS)
    expected = expected_rows(expected_result, ex.DEFAULT_FIELDS, corpus_settings)
    if query == ["发展"]:
        assert len(expected) > 10  # more than one page of `corpus search`
    assert len(rows) == expected_result["total"]
    if fmt == "xlsx":  # control characters become U+FFFD; over-long cells are cut: compare their start
        for row, exp in zip(rows, expected, strict=True):
            for k in ("text", "snippet", "title", "unit", "citation"):
                if exp[k]:
                    exp[k] = exp[k].replace("\x07", "\ufffd")
                if exp[k] and len(exp[k]) > ex.XLSX_CELL_LIMIT:
                    kept = row[k].split("…[cut by export")[0]
                    assert exp[k].startswith(kept) and len(kept) > 32_000
                    row[k] = exp[k]
    assert rows == expected


def test_pandas_reads_csv_and_parquet_with_types(corpus_settings, tmp_path):
    for fmt in ("csv", "parquet"):
        out = tmp_path / f"r.{fmt}"
        assert run(["export", "发展", "-o", str(out)], corpus_settings).exit_code == 0
        df = pd.read_csv(out) if fmt == "csv" else pd.read_parquet(out)
        assert list(df.columns) == (LABELS if fmt == "csv" else ex.DEFAULT_FIELDS)
        df = df.rename(columns=NAME_OF)
        assert df["rank"].tolist() == list(range(1, len(df) + 1))
        assert df["text"].str.contains("发展").all()
        assert df["snippet"].str.contains("【发展】").all()
        assert df["truncated"].dtype == bool
        assert "讲话" in set(df["doc_type"])


def test_fields_pick_and_order_columns(corpus_settings, tmp_path):
    out = tmp_path / "r.csv"
    r = run(["export", "发展", "-o", str(out), "--fields", "year,title,snippet,kind"], corpus_settings)
    assert r.exit_code == 0, r.output
    header = out.read_text(encoding="utf-8-sig").splitlines()[0]
    assert header == "年份,标题,命中片段,段落类型"
    r = run(["export", "发展", "-o", str(out), "--fields", "year,title,snippet,kind", "--english-headers"], corpus_settings)
    assert r.exit_code == 0, r.output
    assert out.read_text(encoding="utf-8-sig").splitlines()[0] == "year,title,snippet,kind"
    r = run(["export", "发展", "-o", str(out), "--fields", "title,nonsense"], corpus_settings)
    assert r.exit_code == 1 and "unknown field(s): nonsense" in r.output and "Traceback" not in r.output


def test_csv_has_bom_and_chinese_intact_unless_no_bom(corpus_settings, tmp_path):
    out = tmp_path / "r.csv"
    run(["export", "发展", "-o", str(out)], corpus_settings)
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    assert "【发展】".encode() in data
    run(["export", "发展", "-o", str(out), "--no-bom"], corpus_settings)
    assert not out.read_bytes().startswith(b"\xef\xbb\xbf")
    assert out.read_text(encoding="utf-8").startswith("文稿编号,标题,")


def test_hostile_cells_are_neutralised_in_csv_and_xlsx_only(corpus_settings, tmp_path):
    opts = ["要素保障", "--title", HOSTILE_TITLE, "--fields", "position,unit,text", "--sort", "date"]
    paths = {fmt: tmp_path / f"h.{fmt}" for fmt in ex.FORMATS}
    for out in paths.values():
        r = run(["export", *opts, "-o", str(out)], corpus_settings)
        assert r.exit_code == 0, r.output
    with open(paths["csv"], encoding="utf-8-sig", newline="") as f:
        csv_cells = [c for row in csv.DictReader(f) for c in (row["单位"], row["段落全文"])]
    wb = openpyxl.load_workbook(paths["xlsx"])  # full mode: cell types are visible
    xlsx_cells = [c for row in wb["results"].iter_rows(min_row=2) for c in row[1:]]
    assert all(c.data_type != "f" for c in xlsx_cells)  # nothing is a formula
    for cells in (csv_cells, [c.value for c in xlsx_cells]):
        assert "'=cmd|' /C calc'!A0" in cells
        for t in HOSTILE[:6]:
            assert "'" + t in cells, t
        assert not any(c.startswith(ex.FORMULA_STARTS) for c in cells)
    for fmt in ("jsonl", "parquet"):  # exact text
        rows = read_rows(paths[fmt], fmt, ["text"])
        assert {r["text"] for r in rows} >= set(HOSTILE)
        assert {r["unit"] for r in rows} == {"=cmd|' /C calc'!A0"}


def test_xlsx_cuts_long_cells_says_where_and_first_sheet_is_provenance(corpus_settings, tmp_path):
    out = tmp_path / "h.xlsx"
    r = run(["export", "要素保障", "--title", HOSTILE_TITLE, "-o", str(out)], corpus_settings)
    assert r.exit_code == 0, r.output
    assert "cut" in r.output
    wb = openpyxl.load_workbook(out, read_only=True)
    assert wb.sheetnames == ["results", "about"]
    rows = list(wb["results"].iter_rows(values_only=True))
    text_col = rows[0].index("段落全文")
    long_rows = [i for i, row in enumerate(rows) if row[text_col] and "长长长长" in row[text_col]]
    assert len(long_rows) == 1
    cell = rows[long_rows[0]][text_col]
    assert len(cell) <= ex.XLSX_CELL_LIMIT and f"{len(HOSTILE[-1]):,}" in cell and "cut by export" in cell
    assert "\x07" not in cell and cell.startswith("要素保障\ufffd长")
    about = [r for r in wb["about"].iter_rows(values_only=True)]
    flat = {r[0]: r[1] for r in about if len(r) > 1 and r[0]}
    assert flat["query"] == "要素保障" and flat["filters.title"] == HOSTILE_TITLE
    cut_header = about.index(("sheet", "row", "column", "characters", "kept"))
    sheet, row_no, column, length, _kept = about[cut_header + 1]
    assert (sheet, row_no, column, length) == ("results", long_rows[0] + 1, "text", len(HOSTILE[-1]))
    # the CSV keeps the whole paragraph
    csv_out = tmp_path / "h.csv"
    run(["export", "要素保障", "--title", HOSTILE_TITLE, "-o", str(csv_out)], corpus_settings)
    with open(csv_out, encoding="utf-8-sig", newline="") as f:
        assert HOSTILE[-1] in [row["段落全文"] for row in csv.DictReader(f)]


@pytest.mark.parametrize("fmt", ex.FORMATS)
def test_provenance_sidecar_and_in_file(corpus_settings, tmp_path, fmt):
    out = tmp_path / f"p.{fmt}"
    r = run(["export", "要素保障", "--year", "2024", "--scope", "同句", "-o", str(out)], corpus_settings)
    assert r.exit_code == 0, r.output
    meta = json.loads(ex.meta_path_for(out).read_text(encoding="utf-8"))
    stats = Store(corpus_settings.db_path, readonly=True).stats()
    assert meta["query"] == "要素保障" and meta["filters"] == {"year": "2024"} and meta["scope"] == "sentence"
    assert meta["mode"] == "keyword" and meta["mode_used"] == "keyword" and "model" in meta
    assert meta["version"] == __version__ and meta["exported_at"][:2] == "20"
    assert meta["index"]["built_at"] and meta["index"]["paragraphs"] == stats["paragraphs"]
    assert meta["corpus"]["documents"] == stats["documents"] and meta["corpus"]["paragraphs"] == stats["paragraphs"]
    assert meta["rows"] == meta["total"] >= 1 and meta["fields"] == ex.DEFAULT_FIELDS
    assert meta["file"] == out.name and meta["bytes"] == out.stat().st_size
    assert "--scope sentence" in meta["reproduce"] and "--year 2024" in meta["reproduce"]
    if fmt == "parquet":
        inside = json.loads(pq.read_metadata(out).metadata[ex.EXPORT_MARKER.encode()])
        assert inside["query"] == "要素保障" and inside["rows"] == meta["rows"]
    if fmt == "xlsx":
        about = openpyxl.load_workbook(out, read_only=True).worksheets[1]
        assert about.title == "about"
        assert ("exported_at", meta["exported_at"]) in [tuple(r[:2]) for r in about.iter_rows(values_only=True)]


def test_library_streams_to_a_binary_stream_for_the_web_ui(corpus_settings, tmp_path):
    request = SearchRequest("发展", mode="keyword", per_page=5)  # page size is ignored: every hit
    total = None
    for fmt in ex.FORMATS:
        buf = io.BytesIO()
        s = ex.export_results(corpus_settings, request, buf, fmt, fields=["rank", "text"])
        assert s.path is None and s.meta_path is None and s.rows == s.total > 5
        total = total or s.rows
        assert s.rows == total
        assert buf.getvalue()  # the caller's stream is left open and filled
    assert not list(tmp_path.iterdir())  # nothing written besides the stream
    p = ex.provenance(corpus_settings, request)
    assert p["query"] == "发展" and p["corpus"]["documents"] >= 5


def test_empty_result_writes_header_only(corpus_settings, tmp_path):
    out = tmp_path / "none.csv"
    r = run(["export", "完全不存在的词语组合乙丙丁", "-o", str(out)], corpus_settings)
    assert r.exit_code == 0, r.output
    assert out.read_text(encoding="utf-8-sig").splitlines() == [",".join(LABELS)]


def test_cli_errors_are_one_line(corpus_settings, tmp_path):
    for args, msg in [
        (["export", "发展", "-o", str(tmp_path / "x.txt")], "cannot tell the format"),
        (["export", "-o", str(tmp_path / "x.csv")], "give a QUERY"),
        (["export", "发展", "--all", "-o", str(tmp_path / "x.jsonl")], "not both"),
        (["export", "--all", "-o", str(tmp_path / "x.csv")], "cannot tell the format"),
        (["export", "发展", "-o", "-", "--format", "xlsx"], "stdout"),
        (["export", "发展"], "-o FILE"),
    ]:
        r = run(args, corpus_settings)
        assert r.exit_code == 1, (args, r.output)
        assert msg in r.output and "Traceback" not in r.output
    assert not (tmp_path / "x.txt").exists()


def test_xlsx_continues_on_a_new_sheet_past_the_row_limit(corpus_settings, tmp_path, monkeypatch):
    monkeypatch.setattr(tabular, "XLSX_MAX_ROWS", 11)  # 10 data rows per sheet, so the rule can be seen
    out = tmp_path / "many.xlsx"
    s = ex.export_results(corpus_settings, SearchRequest("发展", mode="keyword"), out)
    wb = openpyxl.load_workbook(out, read_only=True)
    sheets = [ws for ws in wb.worksheets if ws.title.startswith("results")]
    assert len(sheets) == -(-s.rows // 10) > 1
    ranks = [r[ex.DEFAULT_FIELDS.index("rank")] for ws in sheets for r in list(ws.iter_rows(values_only=True))[1:]]
    assert ranks == list(range(1, s.rows + 1))


# --- whole corpus ------------------------------------------------------------------------------

def _documents(settings: Settings) -> list[tuple[dict, list[dict]]]:
    store = Store(settings.db_path, readonly=True)
    keep_doc = ("title", "site", "url", "date", "year", "unit", "meeting", "speaker", "doc_type", "truncated",
                "claimed_length", "char_count", "content_hash")
    keep_para = ("position", "text", "kind", "level", "section", "omitted_before")
    out = [({k: d[k] for k in keep_doc}, [{k: p[k] for k in keep_para} for p in store.get_paragraphs(d["id"])])
           for d in store.iter_documents()]
    store.close()
    return out


def test_export_all_then_ingest_into_an_empty_data_dir_is_exact(corpus_settings, tmp_path):
    out = tmp_path / "corpus.jsonl"
    r = run(["export", "--all", "-o", str(out)], corpus_settings)
    assert r.exit_code == 0, r.output
    assert ex.meta_path_for(out).exists()
    fresh = Settings(data_dir=tmp_path / "fresh", semantic=False)
    r = run(["ingest", str(out)], fresh)
    assert r.exit_code == 0, r.output
    original = _documents(corpus_settings)
    assert len(original) >= 6
    assert _documents(fresh) == original  # same fields, same paragraphs, same order
    # again: nothing new; and re-cleaning the stored records changes nothing
    r = run(["ingest", str(out)], fresh)
    assert "added 0 documents" in r.output
    r = run(["reclean"], fresh)
    assert r.exit_code == 0 and "0 documents changed" in r.output, r.output
    assert _documents(fresh) == original


def test_export_all_parquet_holds_every_paragraph(corpus_settings, tmp_path):
    out = tmp_path / "corpus.parquet"
    r = run(["export", "--all", "-o", str(out)], corpus_settings)
    assert r.exit_code == 0, r.output
    df = pd.read_parquet(out)
    stats = Store(corpus_settings.db_path, readonly=True).stats()
    assert len(df) == stats["paragraphs"] and df["doc_id"].nunique() == stats["documents"]
    rebuilt = list(corpus_ex.documents_from_corpus_parquet(out))
    original = _documents(corpus_settings)
    assert [(d.title, d.date, d.truncated, [(p.text, p.kind, p.level, p.section, p.omitted_before) for p in d.paragraphs])
            for d in rebuilt] == [
        (d["title"], d["date"], d["truncated"],
         [(p["text"], p["kind"], p["level"], p["section"], p["omitted_before"]) for p in ps]) for d, ps in original]


def test_document_from_export_record():
    assert corpus_ex.document_from_export_record({"title": "x", "text": "y"}) is None  # somebody else's JSONL
    rec = {"corpus_export": 1, "title": "标题", "truncated": True, "claimed_length": 5223, "date": "2025-07",
           "paragraphs": [{"text": "一、总体要求", "kind": "heading", "level": 1, "section": []},
                          {"text": "正文", "section": ["一、总体要求"], "omitted_before": -1}]}
    doc = corpus_ex.document_from_export_record(rec)
    assert doc == Document(title="标题", truncated=True, claimed_length=5223, date="2025-07", paragraphs=[
        Paragraph("一、总体要求", kind="heading", level=1), Paragraph("正文", section=["一、总体要求"], omitted_before=-1)])
    for bad in ({"corpus_export": 1, "title": "t", "paragraphs": []},
                {"corpus_export": 1, "title": "t", "paragraphs": [{"kind": "body"}]},
                {"corpus_export": 99, "title": "t", "paragraphs": [{"text": "x"}]}):
        with pytest.raises(InputError):
            corpus_ex.document_from_export_record(bad)


def test_a_broken_export_record_fails_alone(tmp_path):
    good = {"corpus_export": 1, "title": "好", "paragraphs": [{"text": "要素保障跟着项目走。"}]}
    bad = {"corpus_export": 1, "title": "坏", "paragraphs": [{"kind": "body"}]}
    f = tmp_path / "mixed.jsonl"
    f.write_text("\n".join(json.dumps(o, ensure_ascii=False) for o in (good, bad)) + "\n", encoding="utf-8")
    settings = Settings(data_dir=tmp_path / "d", semantic=False)
    s = ingest_paths(settings, [f])
    assert s.documents_added == 1 and len(s.failed) == 1
    assert "mixed.jsonl#2:" in s.failed[0][1]  # the reason names the record
    assert "paragraph 0 has no text" in s.failed[0][1]
