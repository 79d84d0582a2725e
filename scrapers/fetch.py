"""Polite HTTP fetching with the standard library (http.client): one GET, done carefully.

Why not urllib.request: it follows redirects silently (no loop detection, no robots check on the
new location), reads whole bodies into memory before we can cap them, and hides timeouts inside
URLError. Here every hop is explicit:

- a clear User-Agent; gzip accepted (less load on the site) and decompressed with the same size cap;
- a per-host delay before every request, retries and redirects included (`HostThrottle`);
- retries with exponential backoff on timeouts, connection errors and 5xx; never on 4xx;
- conditional requests (If-None-Match / If-Modified-Since) when the caller holds the page;
- a cap on the response size (Content-Length checked first, then counted while reading);
- at most `max_redirects` redirects, a loop is reported as a loop; each hop may be vetoed
  (robots.txt) by the caller's `allow` callback.
"""

from __future__ import annotations

import http.client
import logging
import ssl
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from .politeness import HostThrottle

log = logging.getLogger(__name__)

DEFAULT_USER_AGENT = (
    "corpus-scraper/0.1 (+polite research crawler for a speech corpus; honours robots.txt; "
    "one request per host per second)"
)
REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})


@dataclass(frozen=True)
class FetchPolicy:
    """How politely to fetch. Every value can be set from `corpus scrape` options."""

    user_agent: str = DEFAULT_USER_AGENT
    delay: float = 1.0  # seconds between two requests to the same host (robots Crawl-delay may raise it)
    timeout: float = 15.0  # seconds for connect and for each read; also the budget of one whole response x4
    retries: int = 2  # extra attempts after a timeout, connection error or 5xx
    backoff: float = 1.0  # first retry waits this long, then doubles
    max_bytes: int = 5 * 1024 * 1024  # larger responses are refused (after decompression too)
    max_redirects: int = 5
    max_crawl_delay: float = 30.0  # a robots.txt Crawl-delay above this is capped (and logged)


@dataclass
class FetchResult:
    """What came back for one URL. `kind` says how it ended; `ok` means a 200 with a body."""

    url: str
    final_url: str
    kind: str  # ok | not_modified | http_error | timeout | network | too_large | redirect_loop | too_many_redirects | disallowed
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    attempts: int = 0
    redirects: list[str] = field(default_factory=list)
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.kind == "ok"

    @property
    def etag(self) -> str | None:
        return self.headers.get("etag")

    @property
    def last_modified(self) -> str | None:
        return self.headers.get("last-modified")

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")


class _TooLarge(Exception):
    pass


class Fetcher:
    """GET pages one at a time, politely. Thread-unsafe by design (one crawler, one fetcher)."""

    def __init__(self, policy: FetchPolicy | None = None, *, throttle: HostThrottle | None = None,
                 sleep: Callable[[float], None] = time.sleep):
        self.policy = policy or FetchPolicy()
        self.throttle = throttle or HostThrottle(self.policy.delay)
        self._sleep = sleep

    # public ---------------------------------------------------------------------------------
    def fetch(self, url: str, *, etag: str | None = None, last_modified: str | None = None,
              allow: Callable[[str], bool] | None = None, max_bytes: int | None = None) -> FetchResult:
        """GET `url`, following redirects; never raises for network or HTTP trouble (see `kind`)."""
        seen = [url]
        current = url
        total_attempts = 0
        while True:
            result = self._fetch_with_retries(current, etag=etag, last_modified=last_modified,
                                              max_bytes=max_bytes or self.policy.max_bytes)
            total_attempts += result.attempts
            result.url, result.attempts, result.redirects = url, total_attempts, seen[1:]
            if result.status not in REDIRECT_CODES or result.kind != "http_error":
                return result
            location = result.headers.get("location")
            if not location:
                result.error = f"HTTP {result.status} redirect without a Location header"
                return result
            nxt = urljoin(current, location.strip()).split("#", 1)[0]
            if urlsplit(nxt).scheme not in ("http", "https"):
                return self._end(result, "network", f"redirect to a non-HTTP address: {nxt}")
            if nxt in seen:
                return self._end(result, "redirect_loop", f"redirect loop: {' -> '.join(seen + [nxt])}")
            if len(seen) > self.policy.max_redirects:
                return self._end(result, "too_many_redirects",
                                 f"more than {self.policy.max_redirects} redirects (last: {nxt})")
            if allow is not None and not allow(nxt):
                return self._end(result, "disallowed", f"redirect to {nxt}, which robots.txt disallows")
            seen.append(nxt)
            current = nxt
            etag = last_modified = None  # validators belong to the original URL

    # internals ------------------------------------------------------------------------------
    @staticmethod
    def _end(result: FetchResult, kind: str, error: str) -> FetchResult:
        result.kind, result.error, result.body = kind, error, b""
        return result

    def _fetch_with_retries(self, url: str, *, etag: str | None, last_modified: str | None,
                            max_bytes: int) -> FetchResult:
        p = self.policy
        result = FetchResult(url=url, final_url=url, kind="network")
        for attempt in range(p.retries + 1):
            result = self._once(url, etag=etag, last_modified=last_modified, max_bytes=max_bytes)
            result.attempts = attempt + 1
            transient = result.kind in ("timeout", "network") or (
                result.kind == "http_error" and result.status is not None and result.status >= 500)
            if not transient or attempt == p.retries:
                return result
            wait = p.backoff * (2**attempt)
            retry_after = result.headers.get("retry-after", "")
            if retry_after.isdigit():
                wait = max(wait, min(float(retry_after), 60.0))
            log.info("%s: %s, retry %d/%d in %.2fs", url, result.error, attempt + 1, p.retries, wait)
            self._sleep(wait)
        return result

    def _once(self, url: str, *, etag: str | None, last_modified: str | None, max_bytes: int) -> FetchResult:
        p = self.policy
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return FetchResult(url, url, "network", error=f"not an http(s) URL: {url}")
        headers = {
            "User-Agent": p.user_agent,
            "Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5",
            "Accept-Language": "zh-CN,zh;q=0.9",
            "Accept-Encoding": "gzip",
            "Connection": "close",
        }
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self.throttle.wait(parts.netloc)
        if parts.scheme == "https":
            conn: http.client.HTTPConnection = http.client.HTTPSConnection(
                parts.hostname, parts.port, timeout=p.timeout, context=ssl.create_default_context())
        else:
            conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=p.timeout)
        try:
            conn.request("GET", target, headers=headers)
            resp = conn.getresponse()
            hdrs = {k.lower(): v for k, v in resp.getheaders()}
            status = resp.status
            if status == 304:
                return FetchResult(url, url, "not_modified", status=status, headers=hdrs)
            if status != 200:
                return FetchResult(url, url, "http_error", status=status, headers=hdrs,
                                   error=f"HTTP {status} {resp.reason}")
            length = hdrs.get("content-length", "")
            if length.isdigit() and int(length) > max_bytes:
                return FetchResult(url, url, "too_large", status=status, headers=hdrs,
                                   error=f"response too large ({int(length)} bytes; the limit is {max_bytes})")
            body = self._read_capped(resp, max_bytes, gzip=hdrs.get("content-encoding", "").lower() == "gzip")
            return FetchResult(url, url, "ok", status=status, headers=hdrs, body=body)
        except _TooLarge:
            return FetchResult(url, url, "too_large", status=200, error=f"response too large (more than {max_bytes} bytes)")
        except TimeoutError:
            return FetchResult(url, url, "timeout", error=f"timed out after {p.timeout:g}s")
        except (OSError, http.client.HTTPException, zlib.error) as e:
            return FetchResult(url, url, "network", error=f"{type(e).__name__}: {e}")
        finally:
            conn.close()

    def _read_capped(self, resp: http.client.HTTPResponse, max_bytes: int, *, gzip: bool) -> bytes:
        deadline = time.monotonic() + 4 * self.policy.timeout  # a trickling server cannot hold us forever
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS) if gzip else None
        out = bytearray()
        raw_read = 0
        while True:
            chunk = resp.read(65536)
            if not chunk:
                break
            raw_read += len(chunk)
            if inflater is not None:
                chunk = inflater.decompress(chunk, max_bytes + 1 - len(out))
            out += chunk
            if len(out) > max_bytes or raw_read > max_bytes:
                raise _TooLarge()
            if time.monotonic() > deadline:
                raise TimeoutError("response took too long")
        if inflater is not None:
            out += inflater.flush()
            if len(out) > max_bytes:
                raise _TooLarge()
        return bytes(out)
