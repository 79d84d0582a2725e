"""The 提法 pages as a person sees them (Flask test client + BeautifulSoup): timeline, pattern and
compare pages, their JSON and table exports, the KWIC page's collocation table, escaping."""

from __future__ import annotations

import csv
import io
import json

import pytest
from bs4 import BeautifulSoup
from test_tifa import PLANTED, RECORDS, _ingest
from test_webui_support import HOSTILE_TITLE, hostile_and_repost_records

from corpus.settings import Settings
from webui import create_app

FORMULA_TITLE = "=HYPERLINK(\"http://evil.example\")工作报告"
EXTRA = [{"title": FORMULA_TITLE, "date": "2024-06-01", "doc_type": "讲话", "site": "丁网",
          "text": f"以共建共享为抓手，要用好{PLANTED}。"}]


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    settings = Settings(data_dir=tmp_path_factory.mktemp("webtifa") / "data", semantic=False)
    _ingest(settings, RECORDS + hostile_and_repost_records() + EXTRA)
    app = create_app(settings)
    app.testing = True
    return app.test_client()


def soup(resp) -> BeautifulSoup:
    return BeautifulSoup(resp.get_data(as_text=True), "html.parser")


def test_nav_links_the_pages(client):
    page = soup(client.get("/"))
    hrefs = {a["href"] for a in page.select("nav.topnav a")}
    assert {"/trend", "/pattern", "/compare"} <= hrefs


def test_trend_page_chart_first_use_table(client):
    r = client.get("/trend", query_string={"q": "高质量发展 新质生产力"})
    assert r.status_code == 200
    page = soup(r)
    cards = page.select(".phrase-card")
    assert [c["data-phrase"] for c in cards] == ["高质量发展", "新质生产力"]
    assert cards[0].select_one("[data-first-year]").get_text() == "2021"
    assert cards[1].select_one("[data-first-year]").get_text() == "2024"
    first_link = cards[0].select_one("[data-first-year]").find_next("a")["href"]
    assert first_link.startswith("/doc/") and "#p" in first_link
    img = page.select_one("img[data-chart]")
    svg = client.get(img["src"])
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    assert "script-src" not in svg.headers["Content-Security-Policy"] and "<svg" in svg.get_data(as_text=True)
    years = [int(tr["data-year"]) for tr in page.select("table[data-table=years] tbody tr")]
    assert years == sorted(years) and 2021 in years and 2024 in years
    links = {a.get_text(): a["href"] for a in cards[0].select(".plinks a")}
    assert set(links) == {"语境", "检索"} and links["语境"].startswith("/kwic?")
    exports = {}
    for a in page.select("[data-export]"):  # the first set: the table of years
        exports.setdefault(a["data-export"], a["href"])
    got = client.get(exports["csv"])
    assert got.status_code == 200 and got.headers["Content-Disposition"].startswith("attachment")
    rows = list(csv.reader(io.StringIO(got.get_data().decode("utf-8-sig"))))
    assert rows[0][:3] == ["year", "corpus_chars", "corpus_documents"]
    assert client.get(exports["xlsx"]).data[:2] == b"PK"
    as_json = json.loads(client.get(exports["json"]).get_data())
    api = client.get("/api/trend", query_string={"q": "高质量发展 新质生产力"}).get_json()
    assert as_json == api and api["series"][0]["first_year"] == 2021


def test_trend_page_escapes_titles_and_queries(client):
    r = client.get("/trend", query_string={"q": "要素保障"})
    html = r.get_data(as_text=True)
    assert "<script>alert" not in html and "<img src=x" not in html
    assert HOSTILE_TITLE[:20] in soup(r).get_text()  # shown, as text
    r = client.get("/trend", query_string={"q": "<script>alert(1)</script>"})
    assert "<script>alert(1)</script>" not in r.get_data(as_text=True)


def test_bad_input_is_a_message_not_a_crash(client):
    for url, q in (("/trend", {"q": "高质量发展", "year": "20x4"}), ("/pattern", {"q": "以为抓手"}),
                   ("/compare", {"a": "2024"}), ("/pattern", {"q": "以*为抓手", "sort": "nonsense"})):
        r = client.get(url, query_string=q)
        assert r.status_code == 400 and soup(r).select_one("[data-error]"), url
    r = client.get("/api/pattern", query_string={"q": "**"})
    assert r.status_code == 400 and r.get_json()["error"]["type"] == "QueryError"
    assert client.get("/trend/export", query_string={"q": "高质量发展", "fmt": "exe"}).status_code == 400


def test_pattern_page_lists_fillers_sortable_with_links(client):
    r = client.get("/pattern", query_string={"q": "以*为抓手"})
    page = soup(r)
    fillers = [tr["data-filler"] for tr in page.select("table[data-table=fillers] tbody tr")]
    assert fillers[0] == "项目建设" and PLANTED in fillers
    row = page.select_one(f'tr[data-filler="{PLANTED}"]')
    assert row.select_one("td.filler a")["href"].startswith("/kwic?")
    assert row.select_one("td.example mark").get_text() == f"以{PLANTED}为抓手"
    sort_links = {a.get_text(): a["href"] for a in page.select("table[data-table=fillers] thead a")}
    by_first = soup(client.get(sort_links["首见"]))
    years = [tr.select("td")[3].get_text() for tr in by_first.select("table[data-table=fillers] tbody tr")]
    assert [y for y in years if y != "—"] == sorted(y for y in years if y != "—")


def test_exports_are_formula_safe(client):
    got = client.get("/pattern/export", query_string={"q": "以*为抓手", "fmt": "csv"})
    rows = list(csv.DictReader(io.StringIO(got.get_data().decode("utf-8-sig"))))
    titles = [r["example_title"] for r in rows]
    assert "'" + FORMULA_TITLE in titles and FORMULA_TITLE not in titles
    from openpyxl import load_workbook

    xlsx = client.get("/pattern/export", query_string={"q": "以*为抓手", "fmt": "xlsx"})
    ws = load_workbook(io.BytesIO(xlsx.data))["results"]
    cells = [c.value for r in ws.iter_rows() for c in r if isinstance(c.value, str)]
    assert not any(c.startswith("=") for c in cells) and "'" + FORMULA_TITLE in cells


def test_compare_page_lists_the_planted_phrase(client):
    r = client.get("/compare", query_string={"a": "year:2024", "b": "year:2023", "min_count": 2})
    page = soup(r)
    new = [tr["data-phrase"] for tr in page.select("table[data-table=new] tbody tr[data-phrase]")]
    assert any(PLANTED in p or (p in PLANTED and len(p) >= 4) for p in new), new
    row = page.select("table[data-table=new] tbody tr[data-phrase]")[0]
    assert row.select_one("td.phrase a")["href"].startswith("/trend?")
    assert {a.get_text() for a in row.select(".plinks a")} == {"语境", "检索"}
    over = client.get("/compare/export", query_string={"a": "year:2024", "b": "year:2023", "min_count": 2,
                                                       "fmt": "csv", "list": "over"})
    assert over.get_data().decode("utf-8-sig").startswith("phrase,words,count_a")
    api = client.get("/api/compare", query_string={"a": "year:2024", "b": "year:2023", "min_count": 2}).get_json()
    assert [it["phrase"] for it in api["new"]] == new


def test_kwic_page_shows_collocation_statistics(client):
    page = soup(client.get("/kwic", query_string={"q": "高质量发展"}))
    table = page.select_one("table[data-table=collocations]")
    assert table is not None
    head = [th.get_text() for th in table.select("th")]
    assert head[:3] == ["词", "logDice", "对数似然比"]
    values = [float(tr.select("td")[1].get_text()) for tr in table.select("tbody tr")]
    assert values == sorted(values, reverse=True)
    assert page.select('[data-collocates="left"] li')
    exp = page.select_one("[data-collocations] .exports a")["href"]
    assert client.get(exp).status_code == 200
    assert client.get("/api/collocations", query_string={"q": "高质量发展"}).get_json()["occurrences"] > 0


def test_search_results_and_api_index_lead_to_the_tools(client):
    page = soup(client.get("/", query_string={"q": "高质量发展", "year": "2021..2024"}))
    href = page.select_one("a.trend-link")["href"]
    assert href.startswith("/trend?") and "year=2021..2024" in href
    assert soup(client.get(href)).select_one("[data-first-year]").get_text() == "2021"
    endpoints = client.get("/api/").get_json()["endpoints"]
    for name in ("trend", "pattern", "collocations", "compare"):
        assert client.get(endpoints[name]).status_code == 200, name


def test_chart_escapes_the_phrase(client):
    r = client.get("/trend.svg", query_string={"q": "高质量发展--><script>alert(1)</script>"})
    assert r.status_code == 200 and "<script" not in r.get_data(as_text=True)
    assert "script-src" not in r.headers["Content-Security-Policy"]  # falls back to default-src 'none'
