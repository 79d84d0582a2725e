"""Every export formula-safe with one rule (the server's `neutralise` and the 素材篮's csvCell in
webui/static/app.js, run in node), and bidi controls in document text isolated on every page."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess

import pytest
from conftest import ROOT, SAMPLE

from corpus.ingest import ingest_paths
from corpus.models import Document, Paragraph
from corpus.settings import Settings
from corpus.store import Store
from corpus.tabular import FORMULA_STARTS, neutralise
from indexer.keyword import build_index
from webui import create_app
from webui.filters import isolate_bidi

HOSTILE = ["=HYPERLINK(\"http://x\",\"点我\")", "+cmd|' /C calc'!A0", "@SUM(1)", "-2+3", "\t=1", "\r=1", "'quoted",
           "=1,\"2\"\n3", "要素保障", "", "1+1", " =1", "＝全角"]


def js_csv_cells(values: list[str]) -> list[str]:
    """csvCell from webui/static/app.js, run by node on each value."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: the 素材篮's CSV rule cannot be run")
    src = (ROOT / "webui" / "static" / "app.js").read_text(encoding="utf-8")
    m = re.search(r"function csvCell\(v\) \{.*?\n  \}", src, re.S)
    assert m, "csvCell not found in app.js"
    script = m.group(0) + "\nconst vals = JSON.parse(require('fs').readFileSync(0, 'utf8'));\n" \
                          "process.stdout.write(JSON.stringify(vals.map(csvCell)));\n"
    r = subprocess.run([node, "-e", script], input=json.dumps(values), capture_output=True, text=True, timeout=30,
                       check=True)
    return json.loads(r.stdout)


def test_collection_csv_uses_the_export_rule():
    # every possible first character, and the reviewer's cells
    values = HOSTILE + [chr(c) + "x" for c in range(1, 128)] + ["\u3000=1", "\ufeff=1"]
    cells = js_csv_cells(values)
    for value, cell in zip(values, cells, strict=True):
        (parsed,) = next(csv.reader(io.StringIO(cell + "\r\n"), strict=True)) if cell else [""]
        assert parsed == neutralise(value), (value, cell)
    for v in HOSTILE[:6]:
        assert js_csv_cells([v])[0].lstrip('"').startswith("'")


def test_rule_covers_what_spreadsheets_run():
    assert set(FORMULA_STARTS) >= {"=", "+", "-", "@", "\t", "\r"}
    assert all(neutralise(v).startswith("'") for v in HOSTILE[:7])
    assert neutralise("要素保障") == "要素保障"


# --- bidi ----------------------------------------------------------------------------------------

RLO = "\u202e"
BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")


def outside_isolates(html: str) -> list[str]:
    """Bidi controls in html that no FSI ... PDI pair contains."""
    stripped = re.sub("\u2068[^\u2068\u2069]*\u2069", "", html)
    return BIDI.findall(stripped)


@pytest.fixture(scope="module")
def bidi_app(tmp_path_factory):
    root = tmp_path_factory.mktemp("bidi")
    src = root / "in"
    src.mkdir()
    for f in sorted(SAMPLE.glob("*.txt"))[:2]:
        shutil.copy(f, src / f.name)
    s = Settings(data_dir=root / "data", semantic=False)
    ingest_paths(s, [src])
    # A document stored as it came (a whole-corpus export read back, or a store from before the
    # cleaner dropped invisible characters): bidi controls in its title, unit, site and text.
    store = Store(s.db_path)
    doc = Document(title=f"关于要素保障的讲话{RLO}gnp.exe", unit=f"某{RLO}区", site=f"站{RLO}点", paragraphs=[
        Paragraph(f"同志们：要素保障{RLO}这一段反过来\u2069了，后面的字不能被翻转。"),
        Paragraph("第二段：强化要素保障，推进项目建设，确保重点项目按期开工。")])
    with store.transaction():
        raw_id = store.add_raw(sha256="f" * 64, path="rlo.jsonl#1", format="corpus-export", encoding="utf-8",
                               raw="{}", meta={})
        doc_id = store.add_document(doc, raw_id=raw_id, part_index=0, content_hash="e" * 64, file_path="rlo.jsonl")
    build_index(s)
    app = create_app(s)
    return app.test_client(), doc_id


def test_bidi_controls_are_isolated_on_every_page(bidi_app):
    client, doc_id = bidi_app
    pages = ["/?q=要素保障", f"/doc/{doc_id}", f"/doc/{doc_id}?hl=要素保障", "/kwic?q=要素保障", "/?q=反过来",
             "/kwic?q=反过来", f"/?q=要素保障{RLO}x", f"/kwic?q=反过来{RLO}", "/help", "/collection"]
    seen = 0
    for url in pages:
        r = client.get(url)
        assert r.status_code == 200, url
        html = r.get_data(as_text=True)
        seen += html.count(RLO)
        assert not outside_isolates(html), url
    assert seen > 0  # the hostile text is shown, only contained


def test_isolate_bidi_values():
    from markupsafe import Markup

    assert isolate_bidi("普通") == "普通"
    assert isolate_bidi(3) == 3
    v = isolate_bidi("a\u202eb\u2069c")  # the value's own PDI cannot close the isolate early
    assert v == "\u2068a\u202ebc\u2069"
    m = isolate_bidi(Markup("<mark>a</mark>\u202e"))
    assert isinstance(m, Markup) and str(m) == "\u2068<mark>a</mark>\u202e\u2069"


# --- a link to a paragraph that is not there ------------------------------------------------------

def test_missing_paragraph_shows_the_document_with_a_notice(bidi_app):
    from bs4 import BeautifulSoup

    client, doc_id = bidi_app
    r = client.get(f"/doc/{doc_id}", query_string={"p": 999_999_999})
    assert r.status_code == 200
    page = BeautifulSoup(r.get_data(as_text=True), "html.parser")
    assert "999999999" in page.get_text() and "显示全文" in page.get_text()
    assert "后面的字不能被翻转" in page.get_text()  # the document itself is there
    api = client.get(f"/api/documents/{doc_id}", query_string={"p": 999_999_999}).get_json()
    assert api["hit"] is None and any("999999999" in n for n in api["notices"])
    assert client.get("/doc/999999999", query_string={"p": 1}).status_code == 404  # no such document: still 404
