"""End-to-end crawls against a real HTTP server on 127.0.0.1 into a real store: site listings followed,
pages cleaned and stored with their raw HTML, duplicates recognised, robots.txt honoured, failures
reported, and an interrupted crawl (the process killed) resumed without fetching anything twice."""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from corpus.cli import main
from corpus.ingest import reclean
from corpus.store import Store
from scrapers.crawl import Crawler
from scrapers.fetch import FetchPolicy

ROOT = Path(__file__).resolve().parents[1]
FAST = FetchPolicy(delay=0.01, timeout=2.0, retries=2, backoff=0.01)


def load_site_module(name: str):
    key = f"scrape_sites_{name}"
    if key not in sys.modules:
        spec = importlib.util.spec_from_file_location(key, Path(__file__).parent / "sites" / f"{name}.py")
        mod = importlib.util.module_from_spec(spec)
        sys.modules[key] = mod
        spec.loader.exec_module(mod)
    return sys.modules[key]


server_mod = load_site_module("server")
pages = load_site_module("pages")


def _speeches() -> list[tuple[str, list[str]]]:
    """Distinct small speeches cut from the bundled seeds 000/001 (real text)."""
    out = []
    for prefix in ("000", "001"):
        lines = [ln.strip() for ln in next((ROOT / "corpus" / "sample").glob(f"{prefix}_*.txt")).read_text(
            encoding="utf-8").splitlines() if len(ln.strip()) > 40]
        half = len(lines) // 2
        out.append((f"在全市工作会议上的讲话（{prefix}上）", lines[:half][:12]))
        out.append((f"在全市工作会议上的讲话（{prefix}下）", lines[half:][:12]))
    return out


def build_wm114(site) -> list[str]:
    """A 新文秘网-shaped site: two listing pages (GBK), the seed article and four more. Returns article paths."""
    seed = (ROOT / "tests" / "sites" / "wm114" / "article.html").read_bytes()
    site.add("/wen/208/100001.html", seed, content_type="text/html")  # GBK bytes, header without charset
    paths = ["/wen/208/100001.html"]
    for i, (title, paras) in enumerate(_speeches()):
        path = f"/wen/208/1000{i + 2:02d}.html"
        body = pages.wm114_article(title, "2025/7/2 10:00:00", [], paras).encode("gb18030")
        site.add(path, body, content_type="text/html; charset=utf-8")  # a wrong charset header
        paths.append(path)
    site.add("/wen/208/", pages.wm114_listing([(p, f"讲话{i}") for i, p in enumerate(paths[:3])],
                                              "/wen/208/list_2.html").encode("gb18030"))
    site.add("/wen/208/list_2.html", pages.wm114_listing([(p, f"讲话{i}") for i, p in enumerate(paths[3:])],
                                                         None).encode("gb18030"))
    return paths


@pytest.fixture
def site():
    with server_mod.SiteServer() as s:
        yield s


def _docs(settings) -> list[dict]:
    return list(Store(settings.db_path).iter_documents())


def test_site_crawl_follows_listings_and_stores_clean_documents(settings, site):
    paths = build_wm114(site)
    s = Crawler(settings, FAST).crawl_site("wm114", site.url("/wen/208/"))
    assert s.listings == 2 and not s.failed
    assert s.documents_added == 5
    assert all(site.hits(p) == 1 for p in paths)
    docs = _docs(settings)
    assert {d["site"] for d in docs} == {"新文秘网"}
    seed = next(d for d in docs if "百千万工程" in d["title"])
    store = Store(settings.db_path)
    text = "\n".join(p["text"] for p in store.get_paragraphs(seed["id"]))
    assert "深刻认识“百千万工程”的战略意义" in text and "尊敬的各位领导" in text
    for chrome in ("文章搜索", "新文秘网首页", "热门文章", "Copyright"):
        assert chrome not in text
    raw = store.db.execute("SELECT raw, format, meta FROM raw_sources WHERE id=?", (seed["raw_id"],)).fetchone()
    assert raw["format"] == "html" and '<div class="content" id="content">' in raw["raw"]  # decoded HTML kept
    meta = json.loads(raw["meta"])
    assert meta["url"] == site.url("/wen/208/100001.html") and meta["adapter"] == "wm114"
    # the raw HTML is enough to clean again without fetching
    requests_before = len(site.requests)
    r = reclean(settings)
    assert r.raw_sources == 5 and not r.failed and len(site.requests) == requests_before


def test_same_crawl_again_fetches_nothing_and_refresh_uses_conditional_requests(settings, site):
    build_wm114(site)
    Crawler(settings, FAST).crawl_site("wm114", site.url("/wen/208/"))
    n = len(site.requests)
    again = Crawler(settings, FAST).crawl_site("wm114", site.url("/wen/208/"))
    assert again.fetched == 0 and len(site.requests) == n
    fresh = Crawler(settings, FAST).crawl_site("wm114", site.url("/wen/208/"), refresh=True)
    assert fresh.unchanged == 7 and fresh.documents_added == 0  # 2 listings + 5 articles: all 304
    new = [h for p, h in site.requests[n:] if p != "/robots.txt"]
    assert new and all("if-none-match" in h for h in new)


def test_duplicate_speech_at_another_url_is_recognised(settings, site):
    seed = (ROOT / "tests" / "sites" / "wm114" / "article.html").read_bytes()
    site.add("/wen/208/100001.html", seed)
    site.add("/wen/300/200001.html", seed.replace("热门文章".encode("gb18030"), "最新文章".encode("gb18030")))
    c = Crawler(settings, FAST)
    first = c.crawl_urls([site.url("/wen/208/100001.html")])
    second = c.crawl_urls([site.url("/wen/300/200001.html")])
    assert first.documents_added == 1
    assert second.documents_added == 0 and second.duplicates == 1
    assert len(_docs(settings)) == 1


def test_failures_are_reported_and_the_crawl_goes_on(settings, site):
    site.add("/robots.txt", "User-agent: *\nDisallow: /private/\n", content_type="text/plain")
    title, paras = _speeches()[0]
    site.add("/ok.html", pages.rulai_article(title, paras))
    site.add("/flaky.html", pages.rulai_article(*_speeches()[1]), fail_first=1)
    site.add("/private/secret.html", pages.rulai_article(*_speeches()[2]))
    site.add("/loop.html", status=302, location="/loop2.html")
    site.add("/loop2.html", status=302, location="/loop.html")
    site.add("/big.html", "<p>" + "很长。" * 400_000 + "</p>")
    site.add("/gone.html", status=404)
    site.add("/slow.html", pages.rulai_article(*_speeches()[3]), sleep=1.0)
    policy = FetchPolicy(delay=0.01, timeout=0.3, retries=1, backoff=0.01, max_bytes=200_000)
    urls = [site.url(p) for p in ("/ok.html", "/flaky.html", "/private/secret.html", "/loop.html", "/big.html",
                                  "/gone.html", "/slow.html")]
    s = Crawler(settings, policy).crawl_urls(urls)
    assert s.documents_added == 2  # ok + flaky (500 then 200)
    assert site.hits("/private/secret.html") == 0 and len(s.skipped) == 1
    failed = dict(s.failed)
    assert "redirect loop" in failed[site.url("/loop.html")]
    assert "too large" in failed[site.url("/big.html")]
    assert "404" in failed[site.url("/gone.html")] and site.hits("/gone.html") == 1
    assert "timed out" in failed[site.url("/slow.html")]
    result = CliRunner().invoke(main, ["--data", str(settings.data_dir), "scrape", "--status", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    job = report["jobs"][0]
    assert job == {"job": "urls", "queued": 0, "done": 2, "failed": 4, "skipped": 1}
    # --retry-failed queues the failures again; the slow page still times out, the others fail again
    again = Crawler(settings, policy).crawl_urls(urls, retry_failed=True)
    assert again.documents_added == 0 and site.hits("/ok.html") == 1


def test_max_pages_is_a_budget_kept_across_runs(settings, site):
    build_wm114(site)
    start = site.url("/wen/208/")
    first = Crawler(settings, FAST).crawl_site("wm114", start, max_pages=3)
    assert first.fetched == 3 and first.queued_left > 0
    second = Crawler(settings, FAST).crawl_site("wm114", start, max_pages=3)
    assert second.fetched == 0
    rest = Crawler(settings, FAST).crawl_site("wm114", start)
    assert rest.fetched == 4 and rest.queued_left == 0
    assert len(_docs(settings)) == 5


def test_killed_crawl_resumes_without_fetching_twice(settings, site, tmp_path):
    paths = build_wm114(site)
    hang = site.routes[paths[3]]
    import threading

    hang.hang = threading.Event()
    cmd = [sys.executable, "-m", "corpus", "--data", str(settings.data_dir), "scrape", "--site", "wm114",
           "--start", site.url("/wen/208/"), "--delay", "0.01", "--timeout", "20"]
    env = {**os.environ, "CORPUS_SEMANTIC": "0"}
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert hang.hang.wait(60), "the crawl never reached the fourth article"
        proc.send_signal(signal.SIGKILL)  # no clean shutdown: the worst case
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    stored = {d["url"] for d in _docs(settings)}
    assert stored == {site.url(p) for p in paths[:3]}  # what was fetched before the kill is kept
    hang.hang = None
    result = CliRunner().invoke(main, ["--data", str(settings.data_dir), "scrape", "--site", "wm114", "--start",
                                       site.url("/wen/208/"), "--delay", "0.01"])
    assert result.exit_code == 0, result.output
    assert {d["url"] for d in _docs(settings)} == {site.url(p) for p in paths}
    for p in paths[:3] + paths[4:]:
        assert site.hits(p) == 1, p
    assert site.hits(paths[3]) == 2  # the one in flight when killed, fetched again
    assert site.hits("/wen/208/") == 1  # listing recorded before the kill: not fetched again


def test_cli_scrape_errors_are_one_line(settings):
    r = CliRunner().invoke(main, ["--data", str(settings.data_dir), "scrape", "notaurl"])
    assert r.exit_code != 0 and "not a web address" in r.output and "Traceback" not in r.output
    r = CliRunner().invoke(main, ["--data", str(settings.data_dir), "scrape", "--site", "nosuch", "--start",
                                  "http://127.0.0.1:9/"])
    assert r.exit_code != 0 and "unknown site" in r.output
    r = CliRunner().invoke(main, ["--data", str(settings.data_dir), "scrape", "--status"])
    assert r.exit_code == 0 and "no crawls yet" in r.output
