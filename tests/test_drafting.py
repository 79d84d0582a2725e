"""From search to draft: the one citation function, citations on every page, Word files of the
素材篮 / a page of results / a document, the back link to the results, the favicon."""

from __future__ import annotations

import io
from urllib.parse import parse_qs, urlsplit

import pytest
from bs4 import BeautifulSoup
from docx import Document as DocxDocument
from test_webui_support import HOSTILE_TITLE, build_data_dir

from corpus.citation import UNKNOWN, chinese_date, citation, with_citation
from corpus.store import Store
from webui import create_app

ORIGINAL = "在全市重大项目要素保障工作推进会上的讲话"


@pytest.fixture(scope="module")
def settings(tmp_path_factory):
    return build_data_dir(tmp_path_factory.mktemp("drafting") / "data")


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


def docx_text(data: bytes) -> list[str]:
    return [p.text for p in DocxDocument(io.BytesIO(data)).paragraphs]


def doc_by_title(store, title: str) -> dict:
    return next(d for d in store.iter_documents() if d["title"] == title)


# --- the citation ---------------------------------------------------------------------------------

def test_citation_names_every_known_field_in_order():
    meta = {"title": "在全县乡村振兴工作会上的讲话", "unit": "xx县", "speaker": "张三", "meeting": "全县乡村振兴工作会",
            "date": "2023-03-05", "site": "甲网", "url": "https://example.org/a.html"}
    # the meeting is already in the title: named once
    assert citation(meta) == "《在全县乡村振兴工作会上的讲话》，xx县 张三，2023年3月5日，来源：甲网 https://example.org/a.html"
    meta["meeting"] = "全县一季度推进会"
    assert citation(meta) == ("《在全县乡村振兴工作会上的讲话》，xx县 张三，全县一季度推进会，2023年3月5日，"
                              "来源：甲网 https://example.org/a.html")


def test_citation_says_unknown_where_the_source_is_not_known():
    assert citation({}) == UNKNOWN
    assert citation({"title": "  ", "url": None}) == UNKNOWN
    # a local file path or a javascript: URL is no source
    assert citation({"title": "讲话", "url": "javascript:alert(1)"}) == f"《讲话》，{UNKNOWN}"
    assert citation({"title": "讲话", "url": "/srv/data/003_be1b.txt"}) == f"《讲话》，{UNKNOWN}"
    assert citation({"title": "讲话", "url": "https://example.org/x"}) == "《讲话》，来源：https://example.org/x"


def test_citation_dates_and_objects():
    assert chinese_date("2023-03") == "2023年3月" and chinese_date("2023") == "2023年"
    assert chinese_date("2023年3月5日") == "2023年3月5日" and chinese_date("三月") == "三月"

    class Hit:  # the search's hits are objects, not mappings
        title, unit, date, site, url = "标题", "xx区", "2024-05-01", "网", None

    assert citation(Hit()) == "《标题》，xx区，2024年5月1日，来源：网"
    import sqlite3

    db = sqlite3.connect(":memory:")
    db.row_factory = sqlite3.Row
    row = db.execute("SELECT '标题' AS title, 'xx区' AS unit, '2024-05-01' AS date, '网' AS site").fetchone()
    assert citation(row) == citation(Hit())
    assert with_citation(" 正文。 ", cite="《标题》") == "正文。\n——《标题》"


# --- citations on the pages -----------------------------------------------------------------------

def test_results_cards_and_kwic_rows_carry_the_documents_citation(client, store):
    page = soup(client.get("/", query_string={"q": "要素保障"}))
    cards = page.select("article.hit")
    assert cards
    for card in cards:
        fields = store.citation_fields([int(card["data-doc"])])[int(card["data-doc"])]
        assert card["data-cite"] == citation(fields)
        copy = card.select_one("button[data-copy]")
        assert copy is not None and copy["data-text"] == card.select_one('button[data-collect="paragraph"]')["data-text"]
    kwic = soup(client.get("/kwic", query_string={"q": "要素保障"}))
    rows = kwic.select("table.kwic tr[data-item]")
    assert rows
    for row in rows:
        fields = store.citation_fields([int(row["data-doc"])])[int(row["data-doc"])]
        assert row["data-cite"] == citation(fields)
        sentence = row.select_one('button[data-collect="sentence"]')["data-text"]
        assert "要素保障" in sentence and row.select_one("button[data-copy]")["data-text"] == sentence
        # the whole sentence, not the cut context
        assert len(sentence) >= len(row.select_one("td.kw").get_text())


def test_document_page_shows_the_citation_not_a_file_name(client, store):
    doc = next(d for d in store.iter_documents() if not d["site"] and not d["url"])
    page = soup(client.get(f"/doc/{doc['id']}"))
    cite = page.select_one("[data-doc-cite]").get_text()
    assert cite == citation(doc) and cite.endswith(UNKNOWN)
    assert ".txt" not in page.select_one(".doc-head").get_text()
    assert page.select_one("article.speech")["data-cite"] == cite


def test_api_paragraph_has_its_citation(client, store):
    doc = doc_by_title(store, ORIGINAL)
    pid = store.get_paragraphs(doc["id"])[1]["id"]
    data = client.get(f"/api/paragraphs/{pid}").get_json()
    assert data["citation"] == citation(doc)


# --- back to the results --------------------------------------------------------------------------

def test_result_links_carry_the_search_back(client):
    page = soup(client.get("/", query_string={"q": "项目", "page": "2", "scope": "sentence"}))
    card = page.select_one("article.hit")
    href = card.select_one("a.title")["href"]
    back = parse_qs(urlsplit(href).query)["back"][0]
    assert back.endswith(f"#hit-{card.select_one('.rank').get_text()}")
    doc = soup(client.get(href))
    link = doc.select_one("a[data-back]")["href"]
    parts = urlsplit(link)
    assert parts.path == "/search"
    # the mode is always carried: the web UI's default is not the library's (see webui.params)
    assert parse_qs(parts.query) == {"q": ["项目"], "mode": ["keyword"], "scope": ["sentence"], "page": ["2"]}
    assert parts.fragment == f"hit-{card.select_one('.rank').get_text()}"


def test_going_on_to_a_repost_keeps_the_way_back(client, store):
    doc = doc_by_title(store, ORIGINAL)
    back = "q=%E8%A6%81%E7%B4%A0%E4%BF%9D%E9%9A%9C&page=2#hit-12"
    page = soup(client.get(f"/doc/{doc['id']}", query_string={"back": back}))
    links = page.select("[data-reposts] a")
    assert links
    for a in links:
        assert parse_qs(urlsplit(a["href"]).query)["back"] == [back]
        assert soup(client.get(a["href"])).select_one("a[data-back]")["href"] == "/search?" + back


@pytest.mark.parametrize("back", ["//evil.example/x", "javascript:alert(1)", "q=x&next=https://evil.example",
                                  "q=%22%3E%3Cscript%3E#hit-1%22onmouseover=x"])
def test_back_link_keeps_only_search_arguments(client, store, back):
    doc = doc_by_title(store, ORIGINAL)
    page = soup(client.get(f"/doc/{doc['id']}", query_string={"back": back}))
    link = page.select_one("a[data-back]")
    if link is None:
        return
    parts = urlsplit(link["href"])
    assert parts.path == "/search" and not parts.netloc and parts.scheme == ""
    assert set(parse_qs(parts.query)) <= {"q"}
    assert parts.fragment in ("", "hit-1")


# --- Word files -----------------------------------------------------------------------------------

def test_document_docx_has_title_citation_headings_and_text(client, store):
    doc = doc_by_title(store, ORIGINAL)
    r = client.get(f"/doc/{doc['id']}/docx")
    assert r.status_code == 200 and r.mimetype.endswith("wordprocessingml.document")
    assert "filename*=UTF-8''" in r.headers["Content-Disposition"]
    word = DocxDocument(io.BytesIO(r.data))
    texts = [p.text for p in word.paragraphs]
    assert texts[0] == ORIGINAL
    assert "出处：" + citation(doc) in texts
    paras = store.get_paragraphs(doc["id"])
    for p in paras:
        assert p["text"] in texts
    headings = [p.text for p in word.paragraphs if p.style.name.startswith("Heading")]
    assert headings == [p["text"] for p in paras if p["kind"] == "heading"]


def test_search_docx_holds_the_page_shown(client, store):
    args = {"q": "要素保障", "page": "2"}
    shown = client.get("/api/search", query_string=args).get_json()["hits"]
    r = client.get("/search/docx", query_string=args)
    assert r.status_code == 200
    texts = docx_text(r.data)
    assert any("要素保障" in t for t in texts[:4])
    fields = store.citation_fields([h["doc_id"] for h in shown])
    for h in shown:
        i = next(i for i, t in enumerate(texts) if t.endswith(h["text"].strip()))
        assert texts[i + 1] == "——" + citation(fields[h["doc_id"]])
    assert sum(t.startswith("——") for t in texts) == len(shown)  # the page shown, not the whole result set
    assert [t.split(". ")[0] for t in texts if t.endswith(tuple(h["text"].strip() for h in shown))] == [
        str(h["rank"]) for h in shown]  # numbered by rank: page 2 starts at 11
    assert client.get("/search/docx").status_code == 400


def test_collection_docx_groups_by_category_with_notes_and_citations(client):
    payload = {
        "categories": [{"id": "c1", "name": "开头语", "color": "#a4161a"}, {"id": "c2", "name": "金句"}],
        "items": [
            {"text": "第一条未分类。", "kind": "paragraph", "cite": "《甲》，来源：甲网", "category": ""},
            {"text": "第二条金句。", "kind": "sentence", "cite": "《乙》，出处不详", "category": "c2", "note": "用在结尾"},
            {"text": "第三条开头语\x07。", "kind": "excerpt", "title": "丙", "site": "丙网", "category": "c1"},
            {"text": "   "},
            "not an item",
        ],
    }
    r = client.post("/collection/docx", json=payload)
    assert r.status_code == 200
    word = DocxDocument(io.BytesIO(r.data))
    texts = [p.text for p in word.paragraphs]
    headings = [p.text for p in word.paragraphs if p.style.name == "Heading 1"]
    assert headings == ["开头语", "金句", "未分类"]  # the user's order, uncategorised last
    assert texts.index("开头语") < texts.index("1. 第三条开头语。") < texts.index("金句") < texts.index("1. 第二条金句。")
    assert texts[texts.index("1. 第三条开头语。") + 1] == "——《丙》，来源：丙网"  # built by the one citation function
    i = texts.index("1. 第二条金句。")
    assert texts[i + 1] == "批注：用在结尾" and texts[i + 2] == "——《乙》，出处不详"
    assert texts[texts.index("1. 第一条未分类。") + 1] == "——《甲》，来源：甲网"
    assert "共 3 条" in texts


def test_collection_docx_takes_a_big_collection(client):
    items = [{"text": f"第{i}条。" + "要素保障" * 300, "cite": f"《文{i}》，出处不详", "note": "注" * 50} for i in range(1500)]
    r = client.post("/collection/docx", json={"items": items, "categories": []})  # about 6 MB of JSON
    assert r.status_code == 200
    texts = docx_text(r.data)
    assert texts.count("——《文1499》，出处不详") == 1 and "共 1500 条" in texts


@pytest.mark.parametrize("payload", [None, [], {"items": "x"}, {"items": []}, {"items": [{"text": ""}]}])
def test_collection_docx_bad_input_is_a_400(client, payload):
    if payload is None:
        r = client.post("/collection/docx", data="not json", content_type="application/json")
    else:
        r = client.post("/collection/docx", json=payload)
    assert r.status_code == 400


def test_hostile_document_docx_is_plain_text(client, store):
    doc = doc_by_title(store, HOSTILE_TITLE)
    r = client.get(f"/doc/{doc['id']}/docx")
    texts = docx_text(r.data)
    assert texts[0] == HOSTILE_TITLE
    assert any("<script>alert(1)</script>" in t for t in texts)
    assert not any("javascript:" in t for t in texts)  # not a source, so not in the citation


def test_favicon(client):
    r = client.get("/favicon.ico")
    assert r.status_code == 200 and r.data[:4] == b"\x00\x00\x01\x00"
    page = soup(client.get("/help"))
    icon = page.select_one('link[rel="icon"]')["href"]
    assert client.get(icon).status_code == 200


def test_results_docx_puts_a_related_list_under_its_own_heading():
    from types import SimpleNamespace as NS

    from indexer.api import SearchRequest
    from webui.word import RELATED_HEADING, results_docx

    def hit(rank, text, doc_id):
        return NS(rank=rank, text=text, doc_id=doc_id, title=f"文{doc_id}", unit=None, date=None, site="网", url=None)

    result = NS(hits=[hit(11, "含词的一段。", 1), hit(12, "含词的二段。", 2)], total=12,
                related=[hit(0, "意思相近的一段。", 3)])
    r = results_docx(SearchRequest("要素保障", page=2), result, {1: "《文1》，来源：网"}, {"mode": "关键词", "scope": "同段"})
    word = DocxDocument(io.BytesIO(r.data))
    texts = [p.text for p in word.paragraphs]
    assert [p.text for p in word.paragraphs if p.style.name == "Heading 1"] == ["含检索词的段落", RELATED_HEADING]
    assert texts[texts.index("11. 含词的一段。") + 1] == "——《文1》，来源：网"
    assert texts[texts.index("12. 含词的二段。") + 1] == "——《文2》，来源：网"  # not in the cites given: built from the hit
    assert texts.index(RELATED_HEADING) < texts.index("1. 意思相近的一段。")
    result.related = []
    texts = docx_text(results_docx(SearchRequest("要素保障"), result, {}, {"mode": "关键词", "scope": "同段"}).data)
    assert RELATED_HEADING not in texts and "含检索词的段落" not in texts
