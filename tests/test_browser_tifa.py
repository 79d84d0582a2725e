"""The 提法 pages in a real headless browser: the timeline of 高质量发展 shows its chart and first-use
year, the pattern page for 以*为抓手 lists fillers. Screenshots go to test-artifacts/."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_tifa import RECORDS, _ingest
from test_webui_support import hostile_and_repost_records

from corpus.settings import Settings

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
    data = tmp_path_factory.mktemp("browser-tifa") / "data"
    _ingest(Settings(data_dir=data, semantic=False), RECORDS + hostile_and_repost_records())
    proc = subprocess.Popen([sys.executable, "-m", "corpus", "--data", str(data), "serve", "--host", "127.0.0.1",
                             "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
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


@pytest.mark.parametrize("width", [1366, 390])
def test_timeline_shows_chart_and_first_use(server, browser, width):
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.goto(server + "/trend")
    page.fill('.tifa-form input[name="q"]', "高质量发展")
    page.press('.tifa-form input[name="q"]', "Enter")
    page.wait_for_selector("img[data-chart]")
    for _ in range(100):  # (wait_for_function evaluates a string, which the page's CSP forbids)
        if page.evaluate("document.querySelector('img[data-chart]').complete"):
            break
        page.wait_for_timeout(100)
    size = page.evaluate("[document.querySelector('img[data-chart]').naturalWidth,"
                         " document.querySelector('img[data-chart]').getBoundingClientRect().width]")
    assert size[0] > 100 and 0 < size[1] <= width  # the SVG loaded (CSP lets it) and fits the page
    assert page.locator("[data-first-year]").first.inner_text() == "2021"
    assert page.locator("table[data-table=years] tbody tr").count() >= 3
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    shot(page, f"tifa-trend-{width}")
    page.locator(".phrase-card .plinks a", has_text="语境").first.click()
    page.wait_for_selector("table.kwic")
    assert "高质量发展" in page.locator("table.kwic").inner_text()
    context.close()


def test_pattern_page_lists_fillers(server, browser):
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.goto(server + "/pattern")
    page.fill('.tifa-form input[name="q"]', "以*为抓手")
    page.press('.tifa-form input[name="q"]', "Enter")
    page.wait_for_selector("table[data-table=fillers] tbody tr")
    fillers = page.locator("table[data-table=fillers] td.filler").all_inner_texts()
    assert "项目建设" in fillers and len(fillers) >= 3
    shot(page, "tifa-pattern")
    page.locator("table[data-table=fillers] td.filler a", has_text="项目建设").click()
    page.wait_for_selector("table.kwic")
    assert page.locator("table.kwic td.kw mark").first.inner_text() == "以项目建设为抓手"
    context.close()
