"""The web UI once the embedding index exists: semantic/hybrid modes offered, similar paragraphs.

Loads the real embedding model (marked `model`); a small corpus keeps the build short."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup
from test_semantic_support import ensure_model
from test_webui_support import REPOST_PARAS, build_data_dir

from webui import create_app

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    settings = build_data_dir(tmp_path_factory.mktemp("websem") / "data", semantic=True, with_sample=False,
                              prepare=ensure_model)
    app = create_app(settings)
    return app.test_client()


def soup(resp) -> BeautifulSoup:
    return BeautifulSoup(resp.get_data(as_text=True), "html.parser")


def test_modes_enabled_and_hybrid_is_default(client):
    page = soup(client.get("/", query_string={"q": "要素保障"}))
    for m in ("keyword", "semantic", "hybrid"):
        assert not page.select_one(f'input[name="mode"][value="{m}"]').has_attr("disabled")
    assert page.select_one('input[name="mode"][value="hybrid"]').has_attr("checked")
    assert page.select_one("[data-semantic-note]") is None
    assert page.select("article.hit .similar-link")


def test_semantic_mode_finds_topic_without_the_words(client):
    r = client.get("/", query_string={"q": "融资贷款支持重点工程", "mode": "semantic"})
    assert r.status_code == 200
    page = soup(r)
    texts = [c.select_one(".snippet").get_text() for c in page.select("article.hit")]
    assert texts and any("信贷投放" in t for t in texts[:3])


def test_similar_paragraphs_page_and_api(client):
    hit = client.get("/api/search", query_string={"q": '"要素保障是项目建设的生命线"', "mode": "keyword"}).get_json()["hits"][0]
    page = soup(client.get(f"/similar/{hit['paragraph_id']}", query_string={"k": 5}))
    assert REPOST_PARAS[2] in page.select_one("article.origin .snippet").get_text()
    data = client.get(f"/api/similar/{hit['paragraph_id']}", query_string={"k": 5}).get_json()
    cards = page.select("article.hit:not(.origin)")
    assert [int(c["data-pid"]) for c in cards] == [s["paragraph_id"] for s in data["similar"]]
    assert all(s["paragraph_id"] != hit["paragraph_id"] for s in data["similar"])
