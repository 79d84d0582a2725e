"""The drafting UI in a real headless browser at 1366 px and 390 px: no page scrolls sideways,
buttons never cover text, facets fold on a phone, the back link returns to the same results,
copy-with-citation, KWIC rows collected, the 素材篮 with notes, categories, Word and file round trip,
stepping through hits with n / p. Screenshots go to test-artifacts/."""

from __future__ import annotations

import io
import json
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from docx import Document as DocxDocument
from test_browser import ARTIFACTS, CHROMIUM, LAUNCH_ARGS, server  # noqa: F401  (fixture)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not __import__("pathlib").Path(CHROMIUM).exists(), reason=f"{CHROMIUM} not installed"),
]

WIDTHS = {"desktop": (1366, 900), "phone": (390, 844)}
ORIGINAL = "在全市重大项目要素保障工作推进会上的讲话"


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield b
        b.close()


def new_page(browser, width: str, **kw):
    w, h = WIDTHS[width]
    context = browser.new_context(viewport={"width": w, "height": h}, locale="zh-CN", **kw)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.errors = errors
    return context, page


def wait_js(page, expression: str, timeout: float = 10.0):
    """Poll `expression` (may be a promise) until it is truthy. Not page.wait_for_function: it
    evaluates its string inside the page, which the app's Content-Security-Policy forbids."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        value = page.evaluate(expression)
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout} s: {expression}")
        page.wait_for_timeout(50)


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def doc_href(page, server) -> str:  # noqa: F811
    page.goto(server + "/?q=" + quote("要素保障"))
    return page.locator("article.hit a.title", has_text=ORIGINAL).first.get_attribute("href")


def pages_to_check(page, server) -> dict[str, str]:  # noqa: F811
    href = doc_href(page, server)
    # two items in the 素材篮 so that its page has content to lay out
    page.locator('article.hit button[data-collect="paragraph"]').nth(0).click()
    page.locator('article.hit button[data-collect="paragraph"]').nth(1).click()
    pid = page.locator("article.hit").first.get_attribute("data-pid")
    return {
        "landing": "/",
        "results": "/?q=" + quote("要素保障"),
        "results-filtered": "/?q=" + quote("要素保障") + "&year=2023",
        "no-results": "/?q=" + quote("完全不存在的说法"),
        "document-hit": href,
        "document": href.split("?")[0],
        "kwic": "/kwic?q=" + quote("要素保障"),
        "kwic-empty": "/kwic",
        "collection": "/collection",
        "similar": f"/similar/{pid}",
        "help": "/help",
        "trend": "/trend?q=" + quote("要素保障"),
        "pattern": "/pattern?q=" + quote("以*为抓手"),
        "compare": "/compare",
        "not-found": "/doc/999999",
    }


@pytest.mark.parametrize("width", WIDTHS)
def test_no_page_scrolls_sideways(server, browser, width):  # noqa: F811
    context, page = new_page(browser, width)
    for name, url in pages_to_check(page, server).items():
        page.goto(server + url)
        page.wait_for_load_state("load")
        sw, iw = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert sw <= iw, f"{name} at {width}: {sw} px wide in a {iw} px window"
        shot(page, f"drafting-{name}-{width}")
    assert not page.errors
    context.close()


def test_search_button_stays_whole_on_a_phone(server, browser):  # noqa: F811
    context, page = new_page(browser, "phone")
    page.goto(server + "/?q=" + quote("要素保障"))
    lines = page.evaluate("""() => {
        const b = document.querySelector('.qrow button'); const r = document.createRange();
        r.selectNodeContents(b); return new Set([...r.getClientRects()].map(x => Math.round(x.top))).size; }""")
    assert lines == 1
    box = page.locator(".qrow button").bounding_box()
    assert box["x"] + box["width"] <= 390
    context.close()


# the text of `para_sel`'s <p>, line by line, against the boxes of its buttons
INTERSECTIONS = """([paraSel, textSel]) => {
  const out = [];
  document.querySelectorAll(paraSel).forEach((para, i) => {
    const text = para.querySelector(textSel);
    if (!text) return;
    const range = document.createRange(); range.selectNodeContents(text);
    const lines = [...range.getClientRects()].filter(r => r.width > 0);
    para.querySelectorAll('.actions button, .actions a').forEach(b => {
      const r = b.getBoundingClientRect();
      for (const l of lines) {
        if (r.left < l.right - 0.5 && l.left < r.right - 0.5 && r.top < l.bottom - 0.5 && l.top < r.bottom - 0.5)
          out.push([i, b.textContent, [r.left, r.top, r.right, r.bottom], [l.left, l.top, l.right, l.bottom]]);
      }
    });
  });
  return out;
}"""


@pytest.mark.parametrize("width", WIDTHS)
def test_action_buttons_never_cover_text(server, browser, width):  # noqa: F811
    context, page = new_page(browser, width)
    href = doc_href(page, server)
    assert page.evaluate(INTERSECTIONS, ["article.hit", ".snippet"]) == []
    for url in (href, href.split("?")[0]):
        page.goto(server + url)
        page.evaluate("document.querySelectorAll('.para .actions').forEach(a => { a.style.opacity = '1'; })")  # as on hover
        assert page.locator(".para.body .actions button").count() > 0
        assert page.evaluate(INTERSECTIONS, [".para.body", "p"]) == []
    page.goto(server + "/kwic?q=" + quote("要素保障"))
    for cell in ("td.left", "td.kw", "td.right"):
        assert page.evaluate(INTERSECTIONS.replace("para.querySelectorAll('.actions", "para.querySelectorAll('td.acts"),
                             ["table.kwic tr", cell]) == []
    context.close()


def test_facets_fold_behind_a_button_on_a_phone(server, browser):  # noqa: F811
    context, page = new_page(browser, "phone")
    page.goto(server + "/?q=" + quote("要素保障"))
    toggle = page.locator("[data-facets-toggle]")
    assert toggle.is_visible() and not page.locator("[data-facet]").first.is_visible()
    first_hit = page.locator("article.hit").first.bounding_box()
    assert first_hit["y"] < 844  # the results start on the first screen
    toggle.click()
    assert page.locator("[data-facet]").first.is_visible()
    context.close()
    context, page = new_page(browser, "desktop")
    page.goto(server + "/?q=" + quote("要素保障"))
    assert not page.locator("[data-facets-toggle]").is_visible() and page.locator("[data-facet]").first.is_visible()
    context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_back_link_returns_to_the_same_results_where_the_reader_was(server, browser, width):  # noqa: F811
    context, page = new_page(browser, width)
    url = server + "/?q=" + quote("要素 保障") + "&mode=keyword&scope=sentence&per_page=20"  # links always carry the mode
    page.goto(url)
    ids = page.locator("article.hit").evaluate_all("els => els.map(e => e.dataset.pid)")
    card = page.locator("article.hit").nth(min(6, len(ids) - 1))
    card.scroll_into_view_if_needed()
    page.mouse.wheel(0, 120)
    page.wait_for_timeout(200)
    y = page.evaluate("window.scrollY")
    assert y > 0
    card.locator("a.title").click()
    page.wait_for_selector(".speech")
    page.locator("a[data-back]").click()
    page.wait_for_selector("article.hit")
    assert parse_qs(urlsplit(page.url).query) == parse_qs(urlsplit(url).query)
    assert page.locator("article.hit").evaluate_all("els => els.map(e => e.dataset.pid)") == ids
    assert abs(page.evaluate("window.scrollY") - y) <= 2
    context.close()


def test_copy_with_citation_puts_text_and_citation_on_the_clipboard(server, browser):  # noqa: F811
    from corpus.citation import citation

    context, page = new_page(browser, "desktop", permissions=["clipboard-read", "clipboard-write"])
    page.goto(server + "/?q=" + quote("要素保障"))
    card = page.locator("article.hit", has_text=ORIGINAL).first
    card.locator("button[data-copy]").click()
    page.wait_for_selector(".toast:not([hidden])")
    copied = page.evaluate("navigator.clipboard.readText()")
    text = card.locator('button[data-collect="paragraph"]').get_attribute("data-text")
    doc = json.loads(page.evaluate(f"fetch('/api/paragraphs/{card.get_attribute('data-pid')}').then(r => r.text())"))["document"]
    assert copied == text + "\n——" + citation(doc)
    assert "《" + ORIGINAL in copied and "xx市" in copied

    page.goto(server + "/kwic?q=" + quote("要素保障"))
    row = page.locator("table.kwic tr", has_text="生命线").first
    row.locator("button[data-copy]").click()
    wait_js(page, "navigator.clipboard.readText().then(t => t.includes('生命线'))")
    copied = page.evaluate("navigator.clipboard.readText()")
    sentence, cite = copied.split("\n——")
    assert "要素保障是项目建设的生命线" in sentence and sentence.endswith("。")
    assert cite == row.get_attribute("data-cite") and cite.startswith("《")
    context.close()


def test_kwic_rows_are_collectable(server, browser):  # noqa: F811
    context, page = new_page(browser, "phone")
    page.goto(server + "/kwic?q=" + quote("要素保障"))
    row = page.locator("table.kwic tr", has_text="生命线").first
    row.locator('button[data-collect="sentence"]').click()
    wait_js(page, "document.querySelector('[data-basket-count]').textContent === '1'")
    item = page.evaluate("window.corpusCollection.load()[0]")
    assert item["kind"] == "sentence" and "要素保障是项目建设的生命线" in item["text"]
    assert item["cite"] == row.get_attribute("data-cite") and item["doc_id"]
    page.goto(server + "/collection")
    assert "生命线" in page.locator("[data-collection-list] .item-text").first.inner_text()
    assert page.locator("[data-collection-list] .item-source").first.inner_text() == "——" + item["cite"]
    context.close()


def test_collection_notes_categories_word_and_file_round_trip(server, browser, tmp_path):  # noqa: F811
    context, page = new_page(browser, "phone", accept_downloads=True)
    page.on("dialog", lambda d: d.accept())
    page.goto(server + "/?q=" + quote("要素保障"))
    buttons = page.locator('article.hit button[data-collect="paragraph"]')
    texts = [buttons.nth(i).get_attribute("data-text") for i in range(3)]
    for i in range(3):
        buttons.nth(i).click()
    page.goto(server + "/collection")
    for name in ("开头语", "金句"):
        page.fill("[data-new-category] input", name)
        page.click("[data-new-category] button")
    assert page.locator("[data-categories] .cat-name").all_inner_texts() == ["开头语", "金句"]
    items = page.locator("[data-collection-list] li")
    items.nth(0).locator("[data-item-category]").select_option(label="金句")
    items.nth(1).locator("[data-item-category]").select_option(label="开头语")
    items.nth(1).locator("[data-item-note]").fill("用于开篇")
    page.reload()  # notes and categories are stored
    assert page.locator("[data-collection-list] li").nth(1).locator("[data-item-note]").input_value() == "用于开篇"
    page.select_option("[data-filter]", label="开头语（1）")
    assert page.locator("[data-collection-list] li").count() == 1
    page.select_option("[data-filter]", value="")
    shot(page, "drafting-collection-categories-phone")

    with page.expect_download() as dl:
        page.click('button[data-format="docx"]')
    path = tmp_path / "basket.docx"
    dl.value.save_as(path)
    word = DocxDocument(path)
    paras = [p.text for p in word.paragraphs]
    assert [p.text for p in word.paragraphs if p.style.name == "Heading 1"] == ["开头语", "金句", "未分类"]
    stored = page.evaluate("window.corpusCollection.load()")
    for it, text in zip(stored, texts, strict=True):
        assert it["text"] == text.strip()
        i = next(i for i, p in enumerate(paras) if p.endswith(it["text"]))
        after = paras[i + 1: i + 3]
        assert "——" + it["cite"] in after and it["cite"].startswith("《")
    assert "批注：用于开篇" in paras

    with page.expect_download() as dl:
        page.click('button[data-format="file"]')
    saved = tmp_path / "basket.json"
    dl.value.save_as(saved)
    page.click('button[data-action="clear"]')
    assert page.evaluate("window.corpusCollection.load().length") == 0
    page.set_input_files("[data-import-file]", str(saved))
    wait_js(page, "window.corpusCollection.load().length === 3")
    back = page.evaluate("window.corpusCollection.load()")
    assert [(b["text"], b["note"], b["cite"]) for b in back] == [(s["text"], s["note"], s["cite"]) for s in stored]
    cats = {c["id"]: c["name"] for c in page.evaluate("window.corpusCollection.loadCats()")}
    assert [cats.get(b["category"], "") for b in back] == ["金句", "开头语", ""]
    # a file that is not a 素材篮 is refused with a message, nothing changes
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    page.set_input_files("[data-import-file]", str(bad))
    # (the toast of the import before may still be showing: wait for this file's message)
    wait_js(page, "document.querySelector('.toast').textContent.includes('bad.json')")
    assert page.evaluate("window.corpusCollection.load().length") == 3
    assert not page.errors
    context.close()


def test_document_hit_navigation_and_outline(server, browser):  # noqa: F811
    context, page = new_page(browser, "desktop")
    href = doc_href(page, server)
    page.goto(server + href)
    nav = page.locator("[data-hit-nav]")
    assert nav.is_visible()
    total = page.locator(".speech-body mark").count()
    assert total >= 3
    pos = page.locator("[data-hit-pos]")
    start = int(pos.inner_text().split("/")[0])
    page.keyboard.press("n")
    assert pos.inner_text() == f"{start % total + 1} / {total}"
    current = page.locator(".speech-body mark.current")
    assert current.count() == 1
    box = current.bounding_box()
    assert 0 < box["y"] < 900
    page.keyboard.press("p")
    assert pos.inner_text() == f"{start} / {total}"
    page.locator('[data-hit-step="1"]').click()
    assert pos.inner_text() == f"{start % total + 1} / {total}"
    # typing in the search box does not move
    page.fill(".topsearch input", "n")
    page.focus(".topsearch input")
    page.keyboard.press("n")
    assert pos.inner_text() == f"{start % total + 1} / {total}"

    # the outline follows the section being read
    headings = page.locator(".speech-body .para.heading")
    for i in range(headings.count()):
        hid = headings.nth(i).get_attribute("id")
        page.evaluate(f"document.getElementById('{hid}').scrollIntoView({{block: 'center'}})")
        page.wait_for_timeout(150)
        current = page.locator(".outline a.current")
        assert current.count() == 1 and current.get_attribute("href") == f"#{hid}"
    shot(page, "drafting-document-desktop")
    context.close()


def test_results_docx_link_downloads_the_page_shown(server, browser, tmp_path):  # noqa: F811
    context, page = new_page(browser, "desktop", accept_downloads=True)
    page.goto(server + "/?q=" + quote("要素保障"))
    shown = page.locator("article.hit").evaluate_all("els => els.map(e => e.querySelector('[data-collect=paragraph]').dataset.text)")
    with page.expect_download() as dl:
        page.click("a.docx-link")
    dl.value.save_as(tmp_path / "r.docx")
    paras = [p.text for p in DocxDocument(io.BytesIO((tmp_path / "r.docx").read_bytes())).paragraphs]
    for text in shown:
        assert any(p.endswith(text.strip()) for p in paras)
    context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_a_selected_passage_can_be_collected(server, browser, width):  # noqa: F811
    context, page = new_page(browser, width, has_touch=width == "phone")
    href = doc_href(page, server)
    page.goto(server + href.split("?")[0])
    para = page.locator(".para.body p", has_text="生命线").first
    para.scroll_into_view_if_needed()
    # select the paragraph's first 12 characters as a reader would (on a phone: no mouseup follows)
    page.evaluate("""(el) => { const t = el.firstChild, r = document.createRange(); r.setStart(t, 0); r.setEnd(t, 12);
                     const s = window.getSelection(); s.removeAllRanges(); s.addRange(r); }""", para.element_handle())
    if width == "desktop":
        page.dispatch_event("body", "mouseup")
    button = page.locator("[data-selection-collect]")
    button.wait_for(state="visible")
    expected = para.inner_text()[:12].strip()
    button.click()
    wait_js(page, "document.querySelector('[data-basket-count]').textContent === '1'")
    item = page.evaluate("window.corpusCollection.load()[0]")
    assert item["kind"] == "excerpt" and item["text"] == expected and item["cite"].startswith("《")
    context.close()
