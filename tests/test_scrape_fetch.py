"""Fetching politely against a real HTTP server on 127.0.0.1: retries, timeouts, redirects, size caps,
conditional requests, robots.txt, per-host delay, and charset trouble."""

from __future__ import annotations

import gzip
import importlib.util
import sys
from pathlib import Path

import pytest

from corpus.encoding import decode_html
from scrapers.fetch import Fetcher, FetchPolicy
from scrapers.politeness import HostThrottle
from scrapers.robots import RobotsCache


def load_site_module(name: str):
    """tests/sites/<name>.py, loaded by path (tests/ is not a package)."""
    key = f"scrape_sites_{name}"
    if key not in sys.modules:
        spec = importlib.util.spec_from_file_location(key, Path(__file__).parent / "sites" / f"{name}.py")
        mod = importlib.util.module_from_spec(spec)
        sys.modules[key] = mod
        spec.loader.exec_module(mod)
    return sys.modules[key]


server_mod = load_site_module("server")

FAST = FetchPolicy(delay=0.01, timeout=0.5, retries=2, backoff=0.01, max_bytes=100_000, max_redirects=3)
GBK_TEXT = "在全市重点项目建设推进会议上的讲话。同志们：今天我们召开会议，研究部署重点项目建设工作。" * 5


@pytest.fixture
def site():
    with server_mod.SiteServer() as s:
        yield s


def test_500_then_success_is_retried(site):
    site.add("/flaky", "<html><body><p>好</p></body></html>", fail_first=2)
    res = Fetcher(FAST).fetch(site.url("/flaky"))
    assert res.ok and res.status == 200
    assert res.attempts == 3 and site.hits("/flaky") == 3


def test_persistent_5xx_gives_up_after_retries(site):
    site.add("/down", "x", fail_first=100)
    res = Fetcher(FAST).fetch(site.url("/down"))
    assert res.kind == "http_error" and res.status == 500
    assert site.hits("/down") == FAST.retries + 1


def test_4xx_is_not_retried(site):
    res = Fetcher(FAST).fetch(site.url("/missing"))
    assert res.kind == "http_error" and res.status == 404
    assert site.hits("/missing") == 1


def test_timeout_is_retried_then_reported(site):
    site.add("/slow", "<p>late</p>", sleep=0.6)
    policy = FetchPolicy(delay=0.0, timeout=0.2, retries=1, backoff=0.0)
    res = Fetcher(policy).fetch(site.url("/slow"))
    assert res.kind == "timeout" and "timed out" in res.error
    assert res.attempts == 2


def test_redirect_loop_is_detected(site):
    site.add("/a", status=302, location="/b")
    site.add("/b", status=301, location=site.url("/a"))
    res = Fetcher(FAST).fetch(site.url("/a"))
    assert res.kind == "redirect_loop"
    assert site.hits("/a") == 1 and site.hits("/b") == 1


def test_redirects_are_capped_and_followed(site):
    for i in range(6):
        site.add(f"/r{i}", status=302, location=f"/r{i + 1}")
    site.add("/r6", "<p>终点</p>")
    res = Fetcher(FAST).fetch(site.url("/r0"))
    assert res.kind == "too_many_redirects"
    ok = Fetcher(FAST).fetch(site.url("/r4"))
    assert ok.ok and ok.redirects == [site.url("/r5"), site.url("/r6")] and "终点".encode() in ok.body


def test_oversized_response_is_refused(site):
    site.add("/big", b"<p>" + b"x" * 200_000 + b"</p>")
    res = Fetcher(FAST).fetch(site.url("/big"))
    assert res.kind == "too_large" and res.body == b""


def test_gzip_bomb_is_capped_while_inflating(site):
    bomb = gzip.compress(b"0" * 5_000_000)
    assert len(bomb) < FAST.max_bytes
    site.add("/bomb", bomb, headers={"Content-Encoding": "gzip"})
    res = Fetcher(FAST).fetch(site.url("/bomb"))
    assert res.kind == "too_large"


def test_gzip_page_is_inflated(site):
    site.add("/gz", gzip.compress("<p>讲话</p>".encode()), headers={"Content-Encoding": "gzip"})
    assert Fetcher(FAST).fetch(site.url("/gz")).body == "<p>讲话</p>".encode()


def test_conditional_request_and_user_agent(site):
    site.add("/page", "<p>讲话</p>", headers={"Last-Modified": "Wed, 01 Jan 2025 00:00:00 GMT"})
    f = Fetcher(FAST)
    first = f.fetch(site.url("/page"))
    assert first.ok and first.etag
    again = f.fetch(site.url("/page"), etag=first.etag, last_modified=first.last_modified)
    assert again.kind == "not_modified" and again.status == 304
    sent = site.requests[-1][1]
    assert sent["if-none-match"] == first.etag
    assert sent["if-modified-since"] == "Wed, 01 Jan 2025 00:00:00 GMT"
    assert sent["user-agent"].startswith("corpus-scraper/")


def test_robots_disallow_and_crawl_delay(site):
    site.add("/robots.txt", "User-agent: *\nDisallow: /private/\nCrawl-delay: 3\n", content_type="text/plain")
    f = Fetcher(FAST)
    robots = RobotsCache(f)
    assert robots.allowed(site.url("/public/1.html"))
    assert not robots.allowed(site.url("/private/1.html"))
    assert "disallows" in robots.why_not(site.url("/private/1.html"))
    assert f.throttle.delay_for(f"127.0.0.1:{site.port}") == 3.0
    assert site.hits("/robots.txt") == 1  # cached per host


def test_robots_missing_allows_and_unreachable_disallows(site):
    f = Fetcher(FAST)
    assert RobotsCache(f).allowed(site.url("/any.html"))  # 404: no rules
    site.add("/robots.txt", "x", fail_first=100)
    assert not RobotsCache(f).allowed(site.url("/any.html"))  # 5xx: treat as disallowed


def test_throttle_spaces_requests_per_host():
    now = [100.0]
    slept: list[float] = []

    def sleep(s: float) -> None:
        slept.append(s)
        now[0] += s

    t = HostThrottle(1.0, clock=lambda: now[0], sleep=sleep)
    t.wait("a.cn")
    now[0] += 0.25
    t.wait("a.cn")  # 0.75 s more needed
    t.wait("b.cn")  # another host: no wait
    t.set_host_delay("b.cn", 5.0)
    t.wait("b.cn")
    assert slept == [pytest.approx(0.75), pytest.approx(5.0)]


@pytest.mark.parametrize("header", ["text/html; charset=utf-8", "text/html; charset=iso-8859-1", "text/html"])
def test_gbk_page_with_wrong_or_missing_charset_decodes(site, header):
    body = f"<html><head><title>讲话</title></head><body><p>{GBK_TEXT}</p></body></html>".encode("gbk")
    site.add("/gbk", body, content_type=header)
    res = Fetcher(FAST).fetch(site.url("/gbk"))
    text, enc = decode_html(res.body, content_type=res.content_type)
    assert GBK_TEXT in text and enc.startswith("gb")


def test_meta_says_utf8_but_bytes_are_gb18030():
    body = f'<html><head><meta charset="utf-8"></head><body><p>{GBK_TEXT}</p></body></html>'.encode("gb18030")
    text, enc = decode_html(body, content_type="text/html; charset=utf-8")
    assert GBK_TEXT in text


def test_meta_gb2312_but_page_uses_gbk_only_characters():
    s = "镕基同志讲话：“旻”“堃”“喆”字都在GBK而不在GB2312里。" * 3
    body = f'<html><head><meta charset="gb2312"></head><body><p>{s}</p></body></html>'.encode("gbk")
    text, _ = decode_html(body, content_type="text/html")
    assert s in text
