"""Exports shaped for Excel and for a shared folder: Chinese headers in CSV/XLSX (English names in
JSONL/Parquet and behind --english-headers), the XLSX opening on its results with a frozen bold
header, column widths and wrapped text, provenance second; files follow the umask; a missing
output directory is an error unless --mkdir."""

from __future__ import annotations

import csv
import json
import os
import stat

import openpyxl
import pyarrow.parquet as pq
import pytest
from test_export import HOSTILE_TITLE, corpus_settings, run  # noqa: F401  (fixture)

from corpus import tabular
from corpus.citation import UNKNOWN
from indexer import export as ex
from indexer.api import SearchRequest


def test_xlsx_opens_on_results_with_frozen_header_widths_and_wrapped_text(corpus_settings, tmp_path):  # noqa: F811
    out = tmp_path / "r.xlsx"
    assert run(["export", "发展", "-o", str(out), "-q"], corpus_settings).exit_code == 0
    wb = openpyxl.load_workbook(out)  # full mode: styles and sheet views are visible
    assert wb.sheetnames == ["results", "about"] and wb.active.title == "results"
    ws = wb["results"]
    assert ws.freeze_panes == "A2"
    header = [c.value for c in ws[1]]
    assert header == [ex.COLUMNS[n].label for n in ex.DEFAULT_FIELDS]
    assert header[:4] == ["文稿编号", "标题", "单位", "来源网站"] and "出处" in header and "段落全文" in header
    assert all(c.font.bold for c in ws[1])
    col = {h: openpyxl.utils.get_column_letter(i) for i, h in enumerate(header, 1)}
    assert ws.column_dimensions[col["段落全文"]].width == ex.COLUMNS["text"].width >= 60
    assert ws.column_dimensions[col["年份"]].width < 10
    text_cells = [r[header.index("段落全文")] for r in ws.iter_rows(min_row=2)]
    assert text_cells and all(c.alignment.wrap_text for c in text_cells)
    assert not ws.cell(row=2, column=header.index("年份") + 1).alignment.wrap_text
    about = {r[0]: r[1] for r in wb["about"].iter_rows(values_only=True) if r and r[0]}
    assert about["query"] == "发展" and about["column_labels.text"] == "段落全文"


def test_xlsx_results_sheets_all_come_before_the_provenance(corpus_settings, tmp_path, monkeypatch):  # noqa: F811
    monkeypatch.setattr(tabular, "XLSX_MAX_ROWS", 6)
    out = tmp_path / "many.xlsx"
    s = ex.export_results(corpus_settings, SearchRequest("发展", mode="keyword"), out)
    wb = openpyxl.load_workbook(out)
    assert len(wb.sheetnames) == -(-s.rows // 5) + 1 > 3
    assert wb.sheetnames[-1] == "about" and all(n.startswith("results") for n in wb.sheetnames[:-1])
    assert all(wb[n].freeze_panes == "A2" for n in wb.sheetnames[:-1])


def test_english_names_in_jsonl_parquet_and_behind_a_flag(corpus_settings, tmp_path):  # noqa: F811
    for fmt in ("jsonl", "parquet"):
        out = tmp_path / f"r.{fmt}"
        assert run(["export", "发展", "-o", str(out)], corpus_settings).exit_code == 0
        names = (list(json.loads(out.read_text(encoding="utf-8").splitlines()[0]))
                 if fmt == "jsonl" else pq.read_table(out).column_names)
        assert names == ex.DEFAULT_FIELDS
    for fmt in ("csv", "xlsx"):
        out = tmp_path / f"en.{fmt}"
        assert run(["export", "发展", "-o", str(out), "--english-headers"], corpus_settings).exit_code == 0
        if fmt == "csv":
            header = next(csv.reader(open(out, encoding="utf-8-sig", newline="")))
        else:
            header = list(next(openpyxl.load_workbook(out, read_only=True)["results"].iter_rows(values_only=True)))
        assert header == ex.DEFAULT_FIELDS
    r = run(["export", "--list-fields"], corpus_settings)
    assert "段落全文" in r.output and "citation" in r.output


def test_citation_column_comes_from_the_one_citation_function(corpus_settings, tmp_path):  # noqa: F811
    from corpus.citation import citation
    from corpus.store import Store

    out = tmp_path / "c.jsonl"
    assert run(["export", "要素保障", "-o", str(out)], corpus_settings).exit_code == 0
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    store = Store(corpus_settings.db_path, readonly=True)
    docs = store.citation_fields(r["doc_id"] for r in rows)
    assert rows and all(r["citation"] == citation(docs[r["doc_id"]]) for r in rows)
    hostile = [r for r in rows if r["title"] == HOSTILE_TITLE]
    assert hostile and all(r["citation"].startswith("《" + HOSTILE_TITLE) for r in hostile)
    assert run(["export", "三区同建", "-o", str(out)], corpus_settings).exit_code == 0
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert rows and all(r["citation"].endswith(UNKNOWN) for r in rows if not r["site"] and not r["url"])
    assert any(not r["site"] and not r["url"] for r in rows)  # the sample's compiled speeches: source unknown


@pytest.mark.parametrize("umask,mode", [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_files_follow_the_umask(corpus_settings, tmp_path, umask, mode):  # noqa: F811
    old = os.umask(umask)
    try:
        for fmt in ex.FORMATS:
            out = tmp_path / f"u.{fmt}"
            assert run(["export", "发展", "-o", str(out), "-q"], corpus_settings).exit_code == 0
            assert stat.S_IMODE(out.stat().st_mode) == mode, fmt
            assert stat.S_IMODE(ex.meta_path_for(out).stat().st_mode) == mode
        dump = tmp_path / "all.jsonl"
        assert run(["export", "--all", "-o", str(dump), "-q"], corpus_settings).exit_code == 0
        assert stat.S_IMODE(dump.stat().st_mode) == mode
    finally:
        os.umask(old)


def test_rewriting_a_file_keeps_its_own_mode(corpus_settings, tmp_path):  # noqa: F811
    out = tmp_path / "keep.csv"
    out.write_text("old", encoding="utf-8")
    out.chmod(0o640)
    assert run(["export", "发展", "-o", str(out), "-q"], corpus_settings).exit_code == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o640 and out.read_text(encoding="utf-8-sig").startswith("文稿编号")


def test_a_missing_directory_is_an_error_unless_asked(corpus_settings, tmp_path):  # noqa: F811
    for args, name in ((["发展"], "r.csv"), (["--all"], "all.jsonl")):
        target = tmp_path / f"no-{name}" / "such" / name
        r = run(["export", *args, "-o", str(target)], corpus_settings)
        assert r.exit_code == 1 and "output directory does not exist" in r.output and "--mkdir" in r.output
        assert len(r.output.strip().splitlines()) == 1 and "Traceback" not in r.output
        assert not (tmp_path / f"no-{name}").exists()
        r = run(["export", *args, "-o", str(target), "--mkdir", "-q"], corpus_settings)
        assert r.exit_code == 0, r.output
        assert target.exists() and ex.meta_path_for(target).exists()
    afile = tmp_path / "afile"
    afile.write_text("x", encoding="utf-8")
    r = run(["export", "发展", "-o", str(afile / "r.csv"), "--mkdir"], corpus_settings)
    assert r.exit_code == 1 and "not a directory" in r.output
    r = run(["export", "发展", "-o", str(tmp_path), "--format", "csv"], corpus_settings)
    assert r.exit_code == 1 and "is a directory" in r.output
