"""Search results a drafter can trust: the literal list and its count equal a substring scan (search,
web page, JSON API, CLI and export agree); related paragraphs are labelled and never counted; every
link on a results page keeps the search; user errors are shown in Chinese; did-you-mean."""

from __future__ import annotations

import csv
import io
import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner
from conftest import shared_path
from test_webui_support import build_data_dir

from corpus.ingest import ingest_paths
from corpus.settings import Settings
from indexer.api import SearchRequest
from indexer.keyword import build_index
from indexer.search import iter_hits, search, substring_scan
from webui import create_app

# 30+ phrases of several kinds: policy terms, everyday words, single characters, parts of words,
# phrases that cross jieba's word boundaries, Latin and digits.
PHRASES = [
    "高质量发展", "脱贫攻坚", "疫情防控", "人类命运共同体", "乡村振兴", "全面从严治党", "共同富裕", "中国式现代化",
    "一带一路", "生态文明", "科技创新", "粮食安全", "新发展格局", "党", "廉", "民", "动高质", "现代化建设",
    "改革开放", "人民群众", "国家安全", "构建新发展格局", "以人民为中心", "碳达峰", "大湾区", "两个确立",
    "新时代中国特色社会主义", "统筹发展和安全", "奋斗", "2020", "G20", "世界", "命运", "坚定不移",
]


@pytest.fixture(scope="module")
def speeches(tmp_path_factory) -> Settings:
    src = shared_path("data", "text", "speeches-jhsjk")
    s = Settings(data_dir=tmp_path_factory.mktemp("trust") / "data", semantic=False)
    ingest_paths(s, [src])
    build_index(s)
    return s


@pytest.fixture(scope="module")
def speeches_client(speeches):
    app = create_app(speeches)
    app.testing = True
    return app.test_client()


def soup(resp) -> BeautifulSoup:
    return BeautifulSoup(resp.get_data(as_text=True), "html.parser")


@pytest.mark.slow
def test_literal_count_equals_substring_scan_in_search_web_api_and_export(speeches, speeches_client):
    checked = 0
    for phrase in PHRASES:
        truth = substring_scan(speeches, phrase)
        r = search(speeches, SearchRequest(query=phrase, fold=False, per_page=1))
        assert r.total == len(truth), phrase
        assert {h.paragraph_id for h in iter_hits(speeches, SearchRequest(query=phrase, fold=False))} == truth, phrase
        assert not ({h.paragraph_id for h in r.related} & truth), f"{phrase}: a literal hit in the related list"
        page = soup(speeches_client.get("/search", query_string={"q": phrase, "mode": "keyword", "fold": "0"}))
        if truth:
            assert int(page.select_one("[data-total]").get_text()) == len(truth), phrase
        api = speeches_client.get("/api/search", query_string={"q": phrase, "mode": "keyword", "fold": "0"}).get_json()
        assert api["total"] == len(truth), phrase
        assert all(h["relation"] in ("partial", "meaning") for h in api["related"])
        assert api["related_total"] == len(api["related"])
        if phrase in ("高质量发展", "廉", "G20", "动高质"):  # export: exactly the count on screen
            body = speeches_client.get("/export", query_string={"q": phrase, "mode": "keyword", "fold": "0",
                                                                "fmt": "jsonl"}).get_data(as_text=True)
            rows = [json.loads(x) for x in body.splitlines() if x.strip()]
            assert len(rows) == len(truth) and {x["paragraph_id"] for x in rows} == truth, phrase
        checked += bool(truth)
    assert checked >= 30


@pytest.mark.slow
def test_cli_json_total_equals_substring_scan(speeches):
    from corpus.cli import main

    runner = CliRunner()
    for phrase in ("高质量发展", "廉", "人类命运共同体", "动高质"):
        res = runner.invoke(main, ["--data", str(speeches.data_dir), "search", phrase, "--no-fold", "--json"])
        assert res.exit_code == 0, res.output
        d = json.loads(res.output)
        assert d["total"] == len(substring_scan(speeches, phrase))
        assert "related" in d and all(h["paragraph_id"] not in {x["paragraph_id"] for x in d["hits"]}
                                      for h in d["related"])


# --- the sample corpus ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Settings:
    return build_data_dir(tmp_path_factory.mktemp("trust-sample") / "data")


@pytest.fixture(scope="module")
def client(sample):
    app = create_app(sample)
    app.testing = True
    return app.test_client()


def test_related_list_is_labelled_apart_and_not_counted(client, sample):
    page = soup(client.get("/search", query_string={"q": "要素保障", "mode": "keyword"}))
    truth = substring_scan(sample, "要素保障")
    shown = int(page.select_one("[data-total]").get_text())
    assert shown == len(page.select("article.hit")) <= len(truth)  # folded reposts may count once
    assert all("要素保障" in a.select_one(".snippet").get_text() or a.select_one("[data-section-body]")
               or "要素保障" in a.get_text() for a in page.select("article.hit"))
    related = page.select_one("[data-related]")
    assert related is not None and "不含检索词" in related.get_text() or "部分匹配" in related.get_text()
    items = related.select("article.related-hit")
    assert items and all(i.get("data-relation") in ("partial", "meaning") for i in items)
    assert not related.find_parent(class_="hit")
    for it in items:  # marks are whole words of the query, never single characters
        assert all(len(m.get_text()) >= 2 for m in it.select(".snippet mark"))


def test_no_literal_match_says_so_then_shows_neighbours(client):
    page = soup(client.get("/search", query_string={"q": "营商环境", "mode": "keyword"}))
    assert page.select_one("[data-total]").get_text() == "0"
    assert "没有段落含有「营商环境」" in page.select_one("[data-empty]").get_text()
    assert not page.select("article.hit")


def test_did_you_mean_from_the_corpus_vocabulary(client, sample):
    for typo in ("要素包障", "要素保证"):
        r = search(sample, SearchRequest(query=typo))
        assert r.total == 0 and "要素保障" in r.suggestions, (typo, r.suggestions)
        page = soup(client.get("/search", query_string={"q": typo, "mode": "keyword"}))
        link = page.select_one("[data-suggest] a")
        assert link is not None and link.get_text() == "要素保障"
        assert parse_qs(urlsplit(link["href"]).query)["mode"] == ["keyword"]


def test_page_past_the_end_never_says_nothing_found(client):
    page = soup(client.get("/search", query_string={"q": "项目", "mode": "keyword", "page": "999"}))
    text = page.get_text()
    assert "超出范围" in text and "没有段落" not in text
    last = page.select_one("[data-empty] a")
    assert last is not None and parse_qs(urlsplit(last["href"]).query)["page"] != ["999"]


def _state(url: str) -> dict:
    qs = parse_qs(urlsplit(url).query)
    return {k: v[0] for k, v in qs.items()}


def test_every_link_on_a_results_page_keeps_mode_scope_filters_and_sort(client):
    args = {"q": "项目", "mode": "keyword", "scope": "sentence", "sort": "date", "type": "讲话"}
    page = soup(client.get("/search", query_string=args))
    assert int(page.select_one("[data-total]").get_text()) > 10, "need several pages for the page links"
    links = [a["href"] for a in page.select("a[href]")]
    followed = 0
    for href in links:
        parts = urlsplit(href)
        path = parts.path or "/search"
        if path in ("/", "/search"):
            st = _state(href)
            if "q" not in st:
                continue  # the brand / nav link to an empty search page
            assert st.get("mode") == "keyword", href
            assert st.get("scope") == "sentence", href
            assert st.get("sort") == "date", href
            if "type" not in st:  # only the chip that removes the filter may drop it
                continue
            assert st["type"] == "讲话", href
            r = client.get(path, query_string=st)
            assert r.status_code == 200
            followed += 1
        elif path == "/export":
            st = _state(href)
            assert (st["mode"], st["scope"], st["sort"], st["type"]) == ("keyword", "sentence", "date", "讲话")
        elif path.startswith("/doc/"):
            back = _state(href).get("back")
            assert back and _state("?" + back.partition("#")[0])["mode"] == "keyword", href
        elif path == "/kwic" and parts.query:
            assert _state(href).get("type") == "讲话", href
    assert followed >= 3
    # a chip removes only its filter and keeps the rest
    chip = page.select_one(".active-filters a.chip")
    st = _state(chip["href"])
    assert "type" not in st and st["mode"] == "keyword" and st["scope"] == "sentence"
    # the search form keeps the filter visibly (a chip beside the box) and the chosen mode
    form = page.select_one("form.searchform")
    assert form.select_one('input[type="hidden"][name="type"]')["value"] == "讲话"
    assert form.select_one("[data-form-filters] .chip")
    assert form.select_one('input[name="mode"][value="keyword"]').has_attr("checked")


def test_export_after_a_keyword_search_has_the_on_screen_total(client):
    page = soup(client.get("/search", query_string={"q": "项目", "mode": "keyword"}))
    total = int(page.select_one("[data-total]").get_text())
    href = page.select_one('.export a[href*="fmt=csv"]')["href"]
    body = client.get(href).get_data(as_text=True).lstrip("\ufeff")
    rows = list(csv.reader(io.StringIO(body)))
    assert len(rows) - 1 == total


def test_document_page_header_search_keeps_the_search(client):
    page = soup(client.get("/search", query_string={"q": "要素保障", "mode": "keyword", "scope": "sentence"}))
    doc = soup(client.get(page.select_one("article.hit a.title")["href"]))
    box = doc.select_one("form.topsearch")
    assert box.select_one('input[name="q"]')["value"] == "要素保障"
    assert box.select_one('input[name="mode"]')["value"] == "keyword"
    assert box.select_one('input[name="scope"]')["value"] == "sentence"
    back = doc.select_one("[data-back]")
    assert back is not None and _state(back["href"])["mode"] == "keyword"


CJK = re.compile(r"[\u4e00-\u9fff]")
ENGLISH_WORDS = re.compile(r"\b(?!(?:OR|HTTP|corpus|index|ingest|demo)\b)[A-Za-z]{4,}\b")


@pytest.mark.parametrize("args", [
    {"q": '"要素保障'}, {"q": "OR 项目"}, {"q": "项目 OR"}, {"q": "year:abc 项目"}, {"q": "年份:2024..2020 项目"},
    {"q": "foo:bar 项目"}, {"q": '""'}, {"q": "-项目"}, {"q": "title:"}, {"q": "项目", "mode": "fast"},
    {"q": "项目", "scope": "doc"}, {"q": "项目", "sort": "size"}, {"q": "项目", "page": "abc"}, {"q": "项目", "year": "soon"},
    {"q": "项目" * 400},
])
def test_every_query_error_in_the_web_ui_is_chinese(client, args):
    r = client.get("/search", query_string=args)
    assert r.status_code == 400
    page = soup(r)
    box = page.select_one("[data-error]") or page.select_one(".error-page")
    msg = box.get_text(" ", strip=True)
    for value in args.values():  # what the user typed may be quoted back
        msg = msg.replace(value, "").replace(value.split(":")[0], "")
    assert CJK.search(msg), msg
    assert not ENGLISH_WORDS.search(msg), msg


@pytest.mark.parametrize("path", ["/doc/99999", "/p/99999", "/similar/99999", "/doc/0"])
def test_not_found_pages_are_chinese(client, path):
    r = client.get(path)
    assert r.status_code == 404
    msg = soup(r).select_one(".error-page").get_text(" ", strip=True)
    assert CJK.search(msg) and not ENGLISH_WORDS.search(msg), msg


def test_api_errors_carry_the_chinese_message(client):
    err = client.get("/api/search", query_string={"q": '"要素保障'}).get_json()["error"]
    assert CJK.search(err["message"])


def test_question_finds_partial_matches_and_says_what_it_did(sample):
    r = search(sample, SearchRequest(query="如何做好项目要素保障工作"))
    assert r.total == 0  # nobody says the question word for word
    assert r.related and all(h.relation in ("partial", "meaning") for h in r.related)
    assert "如何" not in r.related_words and "项目" in r.related_words
    top = r.related[0]
    assert sum(w in top.text for w in r.related_words) >= 2


# --- with the real embedding model ----------------------------------------------------------------

@pytest.fixture(scope="module")
def semantic_sample(tmp_path_factory) -> Settings:
    from test_semantic_support import ensure_model

    return build_data_dir(tmp_path_factory.mktemp("trust-sem") / "data", semantic=True, prepare=ensure_model)


@pytest.mark.model
@pytest.mark.parametrize("query", ["要素保障", "项目 资金", "乡村振兴", "廉", '"重点项目"'])
def test_hybrid_reorders_the_literal_matches_and_never_adds_to_them(semantic_sample, query):
    kw = search(semantic_sample, SearchRequest(query=query, mode="keyword", fold=False, per_page=200))
    hy = search(semantic_sample, SearchRequest(query=query, mode="hybrid", fold=False, per_page=200))
    assert hy.mode == "hybrid" and hy.total == kw.total
    assert {h.paragraph_id for h in hy.hits} == {h.paragraph_id for h in kw.hits}
    literal = {h.paragraph_id for h in hy.hits}
    assert not literal & {h.paragraph_id for h in hy.related}
    assert all(h.relation in ("partial", "meaning") for h in hy.related)
    if query.startswith('"') or query == "廉":
        assert not hy.related  # quoted phrases and single characters: no neighbours unless asked


@pytest.mark.model
def test_meaning_neighbours_are_never_fragments_or_headings(semantic_sample):
    r = search(semantic_sample, SearchRequest(query="营商环境", mode="hybrid"))
    assert r.total == 0 and r.related
    for h in r.related:
        assert h.kind != "heading" and len(h.text) >= 15


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_export_of_a_search_with_no_hits_ends(client, fmt):
    """An empty export streams its header (or nothing) and ends: the response never waits for rows
    that will not come."""
    body = client.get("/export", query_string={"q": "营商环境", "mode": "keyword", "fmt": fmt}).get_data(as_text=True)
    lines = [x for x in body.lstrip("\ufeff").splitlines() if x.strip()]
    assert len(lines) == (1 if fmt == "csv" else 0)
