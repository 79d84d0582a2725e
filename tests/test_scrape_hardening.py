"""A crawler that cannot be held or led astray, against a real HTTP server on 127.0.0.1: a total
deadline per response, redirects to other hosts only when allowed, a non-zero exit when URLs
failed, and per-host politeness (last request, Crawl-delay) kept in the store across runs."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from conftest import ROOT
from test_scrape_fetch import load_site_module

from corpus.settings import Settings
from corpus.store import Store
from scrapers.crawl import Crawler
from scrapers.fetch import Fetcher, FetchPolicy, same_site

server_mod = load_site_module("server")
pages = load_site_module("pages")

FAST = FetchPolicy(delay=0.01, timeout=0.5, deadline=1.5, retries=2, backoff=0.01)
ARTICLE = ("<html><head><title>在全市重点项目建设推进会议上的讲话</title></head><body><article>"
           + "".join(f"<p>同志们：今天我们召开会议，研究部署第{i}批重点项目建设工作，强化要素保障，坚持项目为王。</p>"
                     for i in range(8)) + "</article></body></html>")


@pytest.fixture
def site():
    with server_mod.SiteServer() as s:
        yield s


def scrape_cli(data, *args) -> subprocess.CompletedProcess:
    env = {**os.environ}
    env.pop("CORPUS_DATA", None)
    return subprocess.run([sys.executable, "-m", "corpus", "--data", str(data), "scrape", *args],
                          capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)


# --- deadline ---------------------------------------------------------------------------------------

def test_a_trickling_server_cannot_hold_a_url_past_the_deadline(site):
    # 6 bytes every 0.2 s: each read is well inside the 0.5 s timeout, the whole body would take a minute
    site.add("/slow.html", ARTICLE.encode() * 2, trickle=(6, 0.2))
    t0 = time.monotonic()
    res = Fetcher(FAST).fetch(site.url("/slow.html"))
    elapsed = time.monotonic() - t0
    assert res.kind == "too_slow" and "deadline" in res.error
    assert elapsed < FAST.response_deadline + 2.0  # not 60 s, and not once per retry
    assert site.hits("/slow.html") == 1  # a trickle is not retried


def test_a_complete_response_within_the_deadline_is_kept(site):
    site.add("/ok.html", ARTICLE, trickle=(4096, 0.05))
    res = Fetcher(FAST).fetch(site.url("/ok.html"))
    assert res.ok and res.body == ARTICLE.encode()


def test_the_deadline_covers_headers_too(site):
    site.add("/hang.html", ARTICLE, sleep=5)  # answers after the deadline
    t0 = time.monotonic()
    res = Fetcher(FetchPolicy(delay=0.01, timeout=10, deadline=1.0, retries=0)).fetch(site.url("/hang.html"))
    assert not res.ok and time.monotonic() - t0 < 3.5


# --- redirects to other hosts ---------------------------------------------------------------------------

def test_off_host_redirect_is_not_followed_unless_allowed(site, tmp_path):
    other = f"http://localhost:{site.port}/elsewhere.html"  # the same server under another host name
    site.add("/moved.html", status=302, location=other)
    site.add("/elsewhere.html", ARTICLE)
    settings = Settings(data_dir=tmp_path / "data", semantic=False)
    s = Crawler(settings, FAST, obey_robots=False).crawl_urls([site.url("/moved.html")])
    assert [u for u, _ in s.failed] == [site.url("/moved.html")]
    assert "another host" in s.failed[0][1] and "--follow-hosts localhost" in s.failed[0][1]
    assert site.hits("/elsewhere.html") == 0
    assert not list(Store(settings.db_path).iter_documents())

    s = Crawler(settings, FAST, obey_robots=False, follow_hosts=["localhost"]).crawl_urls(
        [site.url("/moved.html")], retry_failed=True)
    assert not s.failed and s.documents_added == 1
    assert [d["url"] for d in Store(settings.db_path).iter_documents()] == [other]


def test_same_host_redirects_and_www_are_followed(site):
    site.add("/a.html", status=301, location="/b.html")
    site.add("/b.html", ARTICLE)
    res = Fetcher(FAST).fetch(site.url("/a.html"), follow_hosts={"127.0.0.1"})
    assert res.ok and res.redirects == [site.url("/b.html")]
    assert same_site("http://www.Example.com/x", {"example.com"})
    assert not same_site("http://example.org/x", {"example.com"})


# --- exit status --------------------------------------------------------------------------------------------

def test_scrape_exits_non_zero_when_urls_failed(site, tmp_path):
    site.add("/robots.txt", "User-agent: *\nAllow: /\n", content_type="text/plain")
    site.add("/good.html", ARTICLE)
    data = tmp_path / "data"
    r = scrape_cli(data, "--delay", "0", "--retries", "0", site.url("/missing.html"))
    assert r.returncode == 1 and "failed 1" in r.stdout and "Traceback" not in r.stderr
    r = scrape_cli(data, "--delay", "0", site.url("/good.html"))
    assert r.returncode == 0, r.stdout + r.stderr
    r = scrape_cli(data, "--delay", "0", "--retries", "0", site.url("/moved.html"))  # 404 too
    assert r.returncode == 1


# --- politeness across runs -------------------------------------------------------------------------------------

def test_crawl_delay_holds_across_runs(site, tmp_path):
    site.add("/robots.txt", "User-agent: *\nCrawl-delay: 1\n", content_type="text/plain")
    for i in range(2):
        site.add(f"/p{i}.html", ARTICLE.replace("第", f"{i}第"))
    data = tmp_path / "data"
    for i in range(2):  # two runs back to back, each its own process
        r = scrape_cli(data, "--delay", "0.01", site.url(f"/p{i}.html"))
        assert r.returncode == 0, r.stdout + r.stderr
    times = [t for _p, t in site.times]
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert len(times) == 4  # robots.txt and the page, per run
    assert min(gaps) >= 1.0 - 0.05, gaps  # the second run's robots.txt waited for the first run's page
    hosts = Store(data / "corpus.sqlite3").scrape_hosts()
    assert hosts[f"127.0.0.1:{site.port}"][1] == 1.0


def test_fractional_crawl_delay_is_honoured(site):
    from scrapers.robots import RobotsCache, crawl_delay

    site.add("/robots.txt", "User-agent: *\nDisallow: /private/\nCrawl-delay: 2.5\n", content_type="text/plain")
    f = Fetcher(FAST)
    assert RobotsCache(f).allowed(site.url("/a.html"))
    assert f.throttle.delay_for(f"127.0.0.1:{site.port}") == 2.5  # urllib.robotparser alone ignores "2.5"
    groups = "User-agent: otherbot\nCrawl-delay: 9\n\nUser-agent: corpus-scraper\nCrawl-delay: 0.5\n\nUser-agent: *\nCrawl-delay: 3\n"
    assert crawl_delay(groups, "corpus-scraper/0.1 (+polite)") == 0.5
    assert crawl_delay(groups, "somebot/1.0") == 3.0
