"""The web UI as a drafter sees it: Flask's test client, pages parsed with BeautifulSoup.

Real components throughout: the bundled sample plus a hostile document and a reposted speech,
ingested and indexed by the library into a temporary data directory (tests/test_webui_support.py).
"""

from __future__ import annotations

import csv
import io
import json
import threading
from urllib.parse import parse_qs, urlsplit

import pytest
from bs4 import BeautifulSoup
from test_webui_support import HOSTILE_TEXT, HOSTILE_TITLE, build_data_dir

from corpus.store import Store
from webui import create_app

PHRASE = "要素保障"


@pytest.fixture(scope="module")
def settings(tmp_path_factory):
    return build_data_dir(tmp_path_factory.mktemp("webui") / "data")


@pytest.fixture(scope="module")
def client(settings):
    app = create_app(settings)
    app.testing = True
    return app.test_client()


@pytest.fixture(scope="module")
def store(settings):
    return Store(settings.db_path, readonly=True)


def soup(resp) -> BeautifulSoup:
    return BeautifulSoup(resp.get_data(as_text=True), "html.parser")


def doc_id_by_title(store, title: str) -> int:
    return next(d["id"] for d in store.iter_documents() if d["title"] == title)


# --- search page ---------------------------------------------------------------------------------

def test_search_page_shows_highlighted_phrase_sources_and_count(client):
    r = client.get("/", query_string={"q": PHRASE})
    assert r.status_code == 200
    page = soup(r)
    cards = page.select("article.hit")
    assert cards, "no result cards"
    total = int(page.select_one("[data-total]").get_text())
    assert total >= len(cards) > 1
    for card in cards:
        marks = [m.get_text() for m in card.select(".snippet mark")]
        assert marks and all(m == PHRASE for m in marks), marks  # the phrase is marked whole
        assert card.select_one("a.title").get_text(strip=True)
        assert card.select_one("a.title")["href"].startswith(f"/doc/{card['data-doc']}?p={card['data-pid']}")
        assert card.select_one(".meta .source-line") is not None
    # the reposted speech's card names its source line: unit, date, site
    line = next(c for c in cards if "甲网" in c.get_text() or "乙网" in c.get_text()).select_one(".source-line")
    text = line.get_text(" ", strip=True)
    assert "xx市" in text and "2023-03" in text and ("甲网" in text or "乙网" in text)
    assert page.select_one("[data-took]") is not None


def test_section_heading_shown_on_card(client):
    page = soup(client.get("/", query_string={"q": "要素跟着项目走"}))
    card = page.select_one("article.hit")
    assert "突出工作重点" in card.select_one(".section-path").get_text()


def test_reposts_fold_into_one_card_with_count(client):
    page = soup(client.get("/", query_string={"q": '"要素保障是项目建设的生命线"'}))
    cards = page.select("article.hit")
    assert len(cards) == 1
    assert cards[0].select_one(".copy-count").get_text(strip=True) == "1 处转载"
    copy_links = cards[0].select(".copies li a")
    assert len(copy_links) == 1 and copy_links[0]["href"].startswith("/doc/")


def test_facets_have_counts_and_filter_links_narrow_results(client):
    r = client.get("/api/search", query_string={"q": PHRASE})
    api = r.get_json()
    page = soup(client.get("/", query_string={"q": PHRASE}))
    year_facet = page.select_one('[data-facet="year"]')
    assert year_facet is not None
    shown = {li.select_one(".fv").get_text(): int(li.select_one(".fc").get_text()) for li in year_facet.select("li")}
    assert shown == {v: n for v, n in api["facets"]["year"][:12]}
    # follow the 2023 facet link: the URL carries the filter and the total equals the count shown
    link = next(li.a["href"] for li in year_facet.select("li") if li.select_one(".fv").get_text() == "2023")
    assert parse_qs(urlsplit(link).query)["year"] == ["2023"]
    filtered = soup(client.get("/" + link))
    assert int(filtered.select_one("[data-total]").get_text()) == shown["2023"]
    assert "年份：2023" in filtered.select_one(".active-filters").get_text()
    for card in filtered.select("article.hit"):
        assert "2023" in card.select_one(".source-line").get_text()


def test_unit_facet_selects_unit_level(client):
    page = soup(client.get("/", query_string={"q": PHRASE}))
    unit = page.select_one('[data-facet="unit"]')
    assert unit is not None
    link = unit.select_one("li a")["href"]
    assert "level" in parse_qs(urlsplit(link).query)
    r = client.get("/" + link)
    assert r.status_code == 200 and soup(r).select("article.hit")


def test_query_filters_and_page_live_in_the_url(client):
    r = client.get("/", query_string={"q": PHRASE, "per_page": "2", "page": "2", "scope": "sentence"})
    assert r.status_code == 200
    page = soup(r)
    assert page.select_one('input[name="q"]')["value"] == PHRASE
    assert page.select_one('input[name="scope"][value="sentence"]').has_attr("checked")
    assert page.select_one(".pagination .current").get_text() == "2"
    ranks = [int(a.select_one(".rank").get_text()) for a in page.select("article.hit")]
    assert ranks == [3, 4]
    nxt = page.select_one('.pagination a[rel="next"]')["href"]
    args = parse_qs(urlsplit(nxt).query)
    assert args["page"] == ["3"] and args["q"] == [PHRASE] and args["scope"] == ["sentence"]


def test_pages_partition_the_result_set(client):
    all_ids = [h["paragraph_id"] for h in client.get("/api/search", query_string={"q": PHRASE, "per_page": 100}).get_json()["hits"]]
    seen = []
    for n in (1, 2, 3):
        page = soup(client.get("/", query_string={"q": PHRASE, "per_page": 3, "page": n}))
        seen += [int(c["data-pid"]) for c in page.select("article.hit")]
    assert seen == all_ids[:9]


def test_keyword_only_index_disables_semantic_modes(client):
    page = soup(client.get("/", query_string={"q": PHRASE}))
    assert page.select_one('input[name="mode"][value="keyword"]').has_attr("checked")
    for m in ("semantic", "hybrid"):
        assert page.select_one(f'input[name="mode"][value="{m}"]').has_attr("disabled")
    assert page.select_one("[data-semantic-note]") is not None
    assert not page.select(".similar-link")


def test_landing_page_shows_corpus_size_and_help(client):
    page = soup(client.get("/"))
    assert "13" in page.select_one(".stats").get_text()
    assert "精确短语" in page.select_one("pre.syntax").get_text()


# --- document page -------------------------------------------------------------------------------

def test_document_page_anchored_at_the_hit(client, store):
    hit = client.get("/api/search", query_string={"q": "要素跟着项目走"}).get_json()["hits"][0]
    page = soup(client.get(f"/doc/{hit['doc_id']}", query_string={"p": hit["paragraph_id"], "hl": "要素跟着项目走"}))
    target = page.select_one(f"#p{hit['paragraph_id']}")
    assert target is not None and "hit" in target["class"]
    assert len(page.select(".para.hit")) == 1
    assert [m.get_text() for m in target.select("mark")] == ["要素跟着项目走"]
    assert page.select_one("article.speech")["data-hit"] == str(hit["paragraph_id"])
    # outline as side navigation, linking to the heading anchors
    outline = page.select(".outline li a")
    assert [a.get_text() for a in outline] == [
        "一、统一思想认识，切实增强做好要素保障工作的责任感紧迫感",
        "二、突出工作重点，全力强化重大项目要素保障",
        "三、加强组织领导，确保各项措施落地见效",
    ]
    for a in outline:
        assert page.select_one(a["href"]) is not None
    # the source URL and the repost in the same cluster
    src = page.select_one(".source-url a")
    assert src["href"] in ("https://example.org/a/1.html", "https://example.net/b/2.html")
    reposts = page.select("[data-reposts] li a")
    assert len(reposts) == 1 and "在全市重大项目要素保障工作推进会上的讲话" in reposts[0].get_text()


def test_document_page_notices_for_truncation_and_paywall(client, store):
    truncated = next(d for d in store.iter_documents() if d["truncated"] and d["claimed_length"])
    page = soup(client.get(f"/doc/{truncated['id']}"))
    notices = " ".join(n.get_text() for n in page.select("[data-notice]"))
    assert str(truncated["claimed_length"]) in notices
    assert page.select_one("[data-truncated]") is not None
    omitted_doc = store.db.execute("SELECT doc_id, omitted_before FROM paragraphs WHERE omitted_before IS NOT NULL").fetchone()
    page = soup(client.get(f"/doc/{omitted_doc['doc_id']}"))
    marks = page.select("[data-omitted]")
    assert marks and "省略" in marks[0].get_text()
    if omitted_doc["omitted_before"] > 0:
        assert str(omitted_doc["omitted_before"]) in marks[0].get_text()


def test_document_from_search_result_link(client):
    page = soup(client.get("/", query_string={"q": PHRASE}))
    card = page.select_one("article.hit")
    doc = soup(client.get(card.select_one("a.title")["href"]))
    hit = doc.select_one(".para.hit")
    assert hit["id"] == f"p{card['data-pid']}"
    assert PHRASE in [m.get_text() for m in hit.select("mark")]


def test_collect_buttons_carry_paragraph_and_sentence(client):
    page = soup(client.get("/", query_string={"q": "要素跟着项目走"}))
    card = page.select_one("article.hit")
    para = card.select_one('button[data-collect="paragraph"]')["data-text"]
    sent = card.select_one('button[data-collect="sentence"]')
    assert "要素跟着项目走" in para
    if sent is not None:
        assert "要素跟着项目走" in sent["data-text"] and len(sent["data-text"]) < len(para)
    assert card["data-title"] and card["data-doc"] and card["data-pid"]


# --- escaping of untrusted text ------------------------------------------------------------------

def _assert_inert(page: BeautifulSoup) -> None:
    scripts = page.find_all("script")
    assert all(s.get("src", "").startswith("/static/") and not s.string for s in scripts), scripts
    assert not page.find_all("img")
    assert not page.select("[onerror]")
    assert not page.select('a[href^="javascript:"]')
    assert not page.find("b", string="粗") and not page.find("i", string="xx区")


def test_hostile_document_renders_as_text_in_results(client):
    r = client.get("/", query_string={"q": "要素保障要跟着项目走"})
    page = soup(r)
    _assert_inert(page)
    card = next(c for c in page.select("article.hit") if "alert" in c.get_text())
    assert card.select_one("a.title").get_text() == HOSTILE_TITLE
    assert "<script>alert(1)</script>" in card.select_one(".snippet").get_text()
    assert card["data-title"] == HOSTILE_TITLE
    raw = r.get_data(as_text=True)
    assert "<script>alert(1)" not in raw and "&lt;script&gt;alert(1)&lt;/script&gt;" in raw


def test_hostile_document_page_renders_as_text(client, store):
    doc_id = doc_id_by_title(store, HOSTILE_TITLE)
    r = client.get(f"/doc/{doc_id}", query_string={"hl": "<script> 要素保障"})
    page = soup(r)
    _assert_inert(page)
    assert page.select_one("h1.doc-title").get_text() == HOSTILE_TITLE
    stored = [p["text"] for p in store.get_paragraphs(doc_id)]
    assert "<script>alert(1)</script>" in stored[1]  # the cleaner keeps it: it is the page's job to escape
    assert [p.get_text() for p in page.select(".speech-body p")] == stored
    assert "<script>" in [m.get_text() for m in page.select(".speech-body mark")]
    # the citation names what is known, as text; a javascript: URL is no source and no link
    assert page.select_one("[data-doc-cite]").get_text() == (
        f"《{HOSTILE_TITLE}》，<i>xx区</i>，2024年5月1日，来源：测试站<b>粗</b>")
    assert page.select_one(".source-url") is None
    assert "Content-Security-Policy" in r.headers and "script-src 'self'" in r.headers["Content-Security-Policy"]


def test_api_returns_hostile_text_verbatim(client, store):
    doc_id = doc_id_by_title(store, HOSTILE_TITLE)
    data = client.get(f"/api/documents/{doc_id}").get_json()
    assert data["document"]["title"] == HOSTILE_TITLE
    assert [p["text"] for p in data["paragraphs"]] == [p["text"] for p in store.get_paragraphs(doc_id)]
    assert data["paragraphs"][0]["text"] == HOSTILE_TEXT[0]


# --- errors --------------------------------------------------------------------------------------

@pytest.mark.parametrize("query", ["x" * 600, '"', "OR", "-土地", "year:abc 要素"])
def test_bad_queries_get_a_clear_page_not_a_500(client, query):
    r = client.get("/", query_string={"q": query})
    assert 400 <= r.status_code < 500
    page = soup(r)
    assert page.select_one("[data-error]").get_text(strip=True)
    assert "Traceback" not in r.get_data(as_text=True)


@pytest.mark.parametrize("url,status", [
    ("/api/search?q=" + "x" * 600, 400),
    ("/api/search?q=要素保障&page=abc", 400),
    ("/api/search?q=要素保障&mode=nonsense", 400),
    ("/api/search?q=OR", 400),
    ("/api/search", 400),
    ("/api/documents/999999", 404),
    ("/api/documents/99999999999999999999999999", 404),
    ("/api/paragraphs/999999", 404),
    ("/api/kwic?q=", 400),
    ("/api/kwic?q=要素保障&sort=sideways", 400),
    ("/api/similar/1", 400),
    ("/api/no-such-endpoint", 404),
])
def test_api_errors_are_json_with_4xx(client, url, status):
    r = client.get(url)
    assert r.status_code == status
    err = r.get_json()["error"]
    assert err["message"] and err["status"] == status


@pytest.mark.parametrize("url", ["/doc/999999", "/doc/abc", "/doc/999999?p=1", "/p/999999",
                                 "/similar/999999", "/no-such-page"])
def test_unknown_ids_get_a_404_page(client, url):
    r = client.get(url)
    assert r.status_code == 404
    assert soup(r).select_one(".error-page h1").get_text(strip=True)


@pytest.mark.parametrize("url", ["/static/../corpus.sqlite3", "/static/%2e%2e/%2e%2e/corpus/settings.py",
                                 "/static/..%2f..%2fpyproject.toml", "/static//etc/passwd"])
def test_no_route_reads_files_outside(client, url):
    r = client.get(url, follow_redirects=True)
    assert r.status_code == 404
    assert b"SQLite format" not in r.data and b"root:" not in r.data and b"[project]" not in r.data


# --- KWIC, API, export ---------------------------------------------------------------------------

def test_kwic_page_lines_sorting_and_neighbours(client):
    left = soup(client.get("/kwic", query_string={"q": PHRASE, "sort": "left"}))
    rows = left.select("table.kwic tr")
    assert len(rows) == int(left.select_one("[data-total]").get_text())
    assert all(r.select_one("td.kw mark").get_text() == PHRASE for r in rows)
    assert left.select('[data-collocates="left"] li')
    right = soup(client.get("/kwic", query_string={"q": PHRASE, "sort": "right"}))
    rights = [r.select_one("td.right").get_text() for r in right.select("table.kwic tr")]
    api = client.get("/api/kwic", query_string={"q": PHRASE, "sort": "right"}).get_json()
    assert rights == [ln["right"] for ln in api["lines"]]
    lefts = [r.select_one("td.left").get_text() for r in rows]
    assert lefts != [r.select_one("td.left").get_text() for r in right.select("table.kwic tr")] or len(rows) < 2
    link = rows[0].select_one("td.kw a")["href"]
    assert soup(client.get(link)).select_one(".para.hit") is not None


def test_api_search_matches_page(client):
    api = client.get("/api/search", query_string={"q": PHRASE, "year": "2023"}).get_json()
    page = soup(client.get("/", query_string={"q": PHRASE, "year": "2023"}))
    assert api["total"] == int(page.select_one("[data-total]").get_text())
    assert [h["paragraph_id"] for h in api["hits"]] == [int(c["data-pid"]) for c in page.select("article.hit")]
    assert api["filters"] == {"year": "2023"} and api["hits"][0]["spans"]


def test_export_has_every_hit_not_just_the_page(client):
    total = client.get("/api/search", query_string={"q": PHRASE}).get_json()["total"]
    assert total > 3
    r = client.get("/export", query_string={"q": PHRASE, "fmt": "csv", "per_page": 2, "page": 2})
    assert r.status_code == 200 and r.mimetype == "text/csv"
    assert "attachment" in r.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(r.get_data().decode("utf-8-sig"))))
    assert len(rows) == total
    r = client.get("/export", query_string={"q": PHRASE, "fmt": "jsonl"})
    lines = [json.loads(x) for x in r.get_data(as_text=True).splitlines() if x.strip()]
    assert len(lines) == total
    r = client.get("/export", query_string={"q": PHRASE, "fmt": "xlsx"})
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(r.data), read_only=True)
    sheet = next(ws for ws in wb.worksheets if ws.title != "about")
    assert sum(1 for _ in sheet.iter_rows()) == total + 1


def test_export_links_on_the_page_and_bad_format(client):
    page = soup(client.get("/", query_string={"q": PHRASE, "page": 2}))
    links = {a.get_text(): a["href"] for a in page.select(".export a")}
    assert set(links) == {"CSV", "JSONL", "XLSX"}
    assert "page" not in parse_qs(urlsplit(links["CSV"]).query)
    assert client.get("/export", query_string={"q": PHRASE, "fmt": "exe"}).status_code == 400
    assert client.get("/export", query_string={"q": '"', "fmt": "csv"}).status_code == 400


def test_collection_page_has_tools(client):
    page = soup(client.get("/collection"))
    assert page.select_one("[data-collection-list]") is not None
    actions = {b["data-action"] for b in page.select("button[data-action]")}
    assert {"copy-all", "export", "clear"} <= actions


def test_server_keeps_answering_while_the_index_updates(settings):
    """A rebuild runs in another thread while searches go on: every search is answered."""
    from indexer.update import update_indexes

    app = create_app(settings)
    c = app.test_client()
    errors: list[BaseException] = []

    def rebuild():
        try:
            update_indexes(settings, semantic=False, rebuild=True)
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    t = threading.Thread(target=rebuild)
    t.start()
    statuses = []
    while t.is_alive() or len(statuses) < 3:
        r = c.get("/api/search", query_string={"q": PHRASE})
        statuses.append((r.status_code, r.get_json().get("total")))
    t.join()
    assert not errors
    assert all(s == 200 for s, _ in statuses), statuses
    assert len({n for _, n in statuses}) == 1


def test_serve_without_index_says_how_to_build_one(tmp_path):
    from click.testing import CliRunner

    from corpus.cli import main
    from corpus.ingest import ingest_paths, sample_dir
    from corpus.settings import Settings

    data = tmp_path / "d"
    r = CliRunner().invoke(main, ["--data", str(data), "serve", "--port", "0"])
    assert r.exit_code == 1 and "corpus ingest" in r.output
    ingest_paths(Settings(data_dir=data, semantic=False), [sample_dir()])
    r = CliRunner().invoke(main, ["--data", str(data), "serve", "--port", "0"])
    assert r.exit_code == 1 and "corpus index" in r.output
