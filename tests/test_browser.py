"""End to end in a real headless browser: `corpus serve` on 127.0.0.1, Debian's chromium via
Playwright. Search, read in context, collect, reload: the collection is still there.
Screenshots go to test-artifacts/ for a person to look at."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_webui_support import HOSTILE_TITLE, build_data_dir

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--no-first-run"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(),
                       reason=f"{CHROMIUM} not installed (scripts/test.sh installs it with apt-get install chromium)"),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`corpus serve --port 0` in a subprocess; yields its base URL, stops it afterwards."""
    data = tmp_path_factory.mktemp("browser") / "data"
    build_data_dir(data)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "corpus", "--data", str(data), "serve", "--host", "127.0.0.1",
                             "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        deadline = time.monotonic() + 60
        url = None
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            m = re.search(r"(http://127\.0\.0\.1:\d+)/", line)
            if m:
                url = m.group(1)
                break
        assert url, f"server did not start (exit {proc.poll()})"
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield b
        b.close()


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=False)


def test_search_read_collect_and_reload(server, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))

    page.goto(server + "/")
    page.fill('input[name="q"]', "要素保障")
    page.press('input[name="q"]', "Enter")
    page.wait_for_selector("article.hit")
    assert "q=%E8%A6%81%E7%B4%A0%E4%BF%9D%E9%9A%9C" in page.url  # the query lives in the URL
    marks = page.locator("article.hit .snippet mark")
    assert marks.count() > 1
    assert set(marks.all_inner_texts()) == {"要素保障"}
    total = int(page.locator("[data-total]").inner_text())
    assert total >= page.locator("article.hit").count()
    shot(page, "01-search")

    # open a result of the reposted speech (it has an outline): the document, scrolled to the hit paragraph
    first = page.locator("article.hit", has_text="在全市重大项目要素保障工作推进会上的讲话").first
    pid = first.get_attribute("data-pid")
    first.locator("a.title").click()
    page.wait_for_selector(".speech")
    hit = page.locator(f"#p{pid}")
    assert "hit" in hit.get_attribute("class")
    assert hit.is_visible()
    box = hit.bounding_box()
    assert box is not None and 0 <= box["y"] < 900  # in the viewport
    assert page.locator(".outline li").count() > 0
    shot(page, "02-document")

    # add the hit paragraph (a body paragraph) to the collection
    body_hit = page.locator(".para.body.hit")
    if body_hit.count() == 0:  # the hit is a heading: collect the first body paragraph instead
        body_hit = page.locator(".para.body").first
    body_hit.hover()
    text = body_hit.locator("p").inner_text()
    body_hit.locator('button[data-collect="paragraph"]').click()
    page.locator("[data-basket-count]", has_text="1").wait_for()  # (wait_for_function: blocked by the page's CSP)

    # the collection survives a reload (and a new page): it is in localStorage
    page.goto(server + "/collection")
    page.wait_for_selector("[data-collection-list] li")
    page.reload()
    page.wait_for_selector("[data-collection-list] li")
    items = page.locator("[data-collection-list] li .item-text")
    assert items.count() == 1
    assert text.strip() in items.first.inner_text()
    source = page.locator("[data-collection-list] li .item-source").first.inner_text()
    assert "《" in source
    shot(page, "03-collection")
    assert not dialogs
    context.close()


def test_collection_reorder_and_remove(server, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(server + "/?q=" + "要素保障")
    buttons = page.locator('article.hit button[data-collect="paragraph"]')
    buttons.nth(0).click()
    buttons.nth(1).click()
    page.locator("[data-basket-count]", has_text="2").wait_for()
    page.goto(server + "/collection")
    texts = page.locator("[data-collection-list] .item-text").all_inner_texts()
    page.locator("[data-collection-list] li").nth(1).locator('button[data-move="up"]').click()
    assert page.locator("[data-collection-list] .item-text").all_inner_texts() == [texts[1], texts[0]]
    page.reload()
    assert page.locator("[data-collection-list] .item-text").all_inner_texts() == [texts[1], texts[0]]
    page.locator("[data-collection-list] li").nth(0).locator('button[data-move="remove"]').click()
    assert page.locator("[data-collection-list] .item-text").all_inner_texts() == [texts[0]]
    stored = page.evaluate("window.corpusCollection.asText(window.corpusCollection.load())")
    assert stored.startswith("1. ") and "——《" in stored
    context.close()


def test_hostile_document_runs_no_script(server, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(server + "/?q=" + "要素保障要跟着项目走")
    page.wait_for_selector("article.hit")
    card = page.locator("article.hit", has_text="alert(1)").first
    assert card.locator("a.title").inner_text() == HOSTILE_TITLE
    card.locator("a.title").click()
    page.wait_for_selector(".speech")
    assert page.locator("h1.doc-title").inner_text() == HOSTILE_TITLE
    assert page.locator(".speech-body img").count() == 0
    shot(page, "04-hostile-document")
    assert not dialogs
    context.close()


@pytest.mark.parametrize("width", [1366, 390])
def test_literal_hits_counted_truly_and_neighbours_kept_apart(server, browser, width):
    """要素保障 on the sample: the count is the paragraphs that hold it (a substring scan of the served
    store), every card marks the whole phrase, and the partial/meaning neighbours sit in their own labelled
    section after the list; 营商环境 (in no paragraph) says so plainly before any neighbour."""
    from urllib.parse import quote

    context = browser.new_context(viewport={"width": width, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.goto(server + "/?q=" + quote("要素保障") + "&mode=keyword&fold=0&per_page=50")
    page.wait_for_selector("article.hit")
    total = int(page.locator("[data-total]").inner_text())
    cards = page.locator("section.results > article.hit")
    assert cards.count() == total  # one page of 50 holds them all on the sample
    for t in cards.evaluate_all("els => els.map(e => e.innerText)"):
        assert "要素保障" in t
    assert set(page.locator("article.hit .snippet mark").all_inner_texts()) == {"要素保障"}
    related = page.locator("[data-related]")
    assert related.is_visible() and "不计入" in related.inner_text()
    assert related.locator("article.related-hit").count() > 0
    assert page.locator("[data-related] article.hit").count() == 0
    last_hit = cards.last.bounding_box()
    assert related.bounding_box()["y"] > last_hit["y"]  # apart, after the literal list
    shot(page, f"11-literal-and-related-{width}")

    page.goto(server + "/?q=" + quote("营商环境") + "&mode=keyword")
    assert page.locator("[data-total]").inner_text() == "0"
    empty = page.locator("[data-empty]")
    assert "没有段落含有「营商环境」" in empty.inner_text()
    assert page.locator("article.hit").count() == 0
    shot(page, f"11-nothing-literal-{width}")
    context.close()
