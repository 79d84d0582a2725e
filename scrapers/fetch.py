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
  (robots.txt) by the caller's `allow` callback, and a redirect to another host is followed only
  when the caller lists that host (`follow_hosts`: the crawl's start hosts and --follow-hosts);
- a total deadline per response (connect + headers + body, `FetchPolicy.response_deadline`)
  enforced while reading: a watchdog shuts the socket at the deadline and the body is read with
  `read1` (whatever has arrived) rather than waiting for 64 KB, so a server trickling a few bytes
  at a time cannot hold a URL past it. A response cut by the deadline while data was still
  flowing is `too_slow` and not retried (the server would trickle again).
"""

from __future__ import annotations

import http.client
import logging
import socket
import ssl
import threading
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
    timeout: float = 15.0  # seconds for connect and for each read
    deadline: float | None = None  # seconds for one whole response (connect + headers + body); None: 4 x timeout
    retries: int = 2  # extra attempts after a timeout, connection error or 5xx
    backoff: float = 1.0  # first retry waits this long, then doubles
    max_bytes: int = 5 * 1024 * 1024  # larger responses are refused (after decompression too)
    max_redirects: int = 5
    max_crawl_delay: float = 30.0  # a robots.txt Crawl-delay above this is capped (and logged)

    @property
    def response_deadline(self) -> float:
        return self.deadline if self.deadline is not None else 4 * self.timeout


@dataclass
class FetchResult:
    """What came back for one URL. `kind` says how it ended; `ok` means a 200 with a body."""

    url: str
    final_url: str
    kind: str  # ok | not_modified | http_error | timeout | too_slow | network | too_large | redirect_loop | too_many_redirects | disallowed | off_host
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


class _TooSlow(Exception):
    """The body was still arriving at the deadline (args[0]: bytes read)."""


class _Watchdog:
    """Shuts the connection's socket at the deadline, so that no blocking read (headers or body,
    however slowly the server trickles) outlives it."""

    def __init__(self, conn: http.client.HTTPConnection, deadline: float):
        self.conn = conn
        self.fired = False
        self._timer = threading.Timer(max(0.0, deadline - time.monotonic()), self._fire)
        self._timer.daemon = True
        self._timer.start()

    def _fire(self) -> None:
        self.fired = True
        sock = self.conn.sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cancel(self) -> None:
        self._timer.cancel()


def same_site(url: str, hosts: set[str]) -> bool:
    """Whether url's host is one of `hosts` (a host and its www. form count as one; case-insensitive)."""
    def bare(h: str) -> str:
        h = (h or "").lower().rstrip(".")
        return h[4:] if h.startswith("www.") else h

    return bare(urlsplit(url).hostname or "") in {bare(h) for h in hosts if h}


class Fetcher:
    """GET pages one at a time, politely. Thread-unsafe by design (one crawler, one fetcher)."""

    def __init__(self, policy: FetchPolicy | None = None, *, throttle: HostThrottle | None = None,
                 sleep: Callable[[float], None] = time.sleep):
        self.policy = policy or FetchPolicy()
        self.throttle = throttle or HostThrottle(self.policy.delay)
        self._sleep = sleep

    # public ---------------------------------------------------------------------------------
    def fetch(self, url: str, *, etag: str | None = None, last_modified: str | None = None,
              allow: Callable[[str], bool] | None = None, max_bytes: int | None = None,
              follow_hosts: set[str] | None = None) -> FetchResult:
        """GET `url`, following redirects; never raises for network or HTTP trouble (see `kind`).

        `follow_hosts`: the hosts a redirect may lead to (None: any; the URL's own host always).
        """
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
            if follow_hosts is not None and not same_site(nxt, {*follow_hosts, urlsplit(url).hostname or ""}):
                host = urlsplit(nxt).hostname
                return self._end(result, "off_host", f"redirect to another host ({host}: {nxt}) not followed; "
                                                     f"allow it with --follow-hosts {host}")
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
        deadline = time.monotonic() + p.response_deadline
        if parts.scheme == "https":
            conn: http.client.HTTPConnection = http.client.HTTPSConnection(
                parts.hostname, parts.port, timeout=p.timeout, context=ssl.create_default_context())
        else:
            conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=p.timeout)
        watchdog = _Watchdog(conn, deadline)
        try:
            conn.timeout = min(p.timeout, max(0.01, deadline - time.monotonic()))
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
            body = self._read_capped(resp, max_bytes, deadline, watchdog,
                                     gzip=hdrs.get("content-encoding", "").lower() == "gzip")
            return FetchResult(url, url, "ok", status=status, headers=hdrs, body=body)
        except _TooLarge:
            return FetchResult(url, url, "too_large", status=200, error=f"response too large (more than {max_bytes} bytes)")
        except _TooSlow as e:
            return FetchResult(url, url, "too_slow", error=f"response not complete within the {p.response_deadline:g}s "
                                                        f"deadline ({e.args[0]} bytes arrived)")
        except (TimeoutError, OSError, http.client.HTTPException) as e:
            if watchdog.fired:  # the server kept sending (else the read timeout had ended it first)
                return FetchResult(url, url, "too_slow",
                                   error=f"no complete response within the {p.response_deadline:g}s deadline")
            if isinstance(e, TimeoutError):
                return FetchResult(url, url, "timeout", error=f"timed out after {p.timeout:g}s")
            return FetchResult(url, url, "network", error=f"{type(e).__name__}: {e}")
        except zlib.error as e:
            return FetchResult(url, url, "network", error=f"{type(e).__name__}: {e}")
        finally:
            watchdog.cancel()
            conn.close()

    def _read_capped(self, resp: http.client.HTTPResponse, max_bytes: int, deadline: float, watchdog: _Watchdog,
                     *, gzip: bool) -> bytes:
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS) if gzip else None
        out = bytearray()
        raw_read = 0
        while True:
            if time.monotonic() >= deadline:
                raise _TooSlow(raw_read)
            try:
                chunk = resp.read1(65536)  # what has arrived (one read), not a full 64 KB
            except (OSError, http.client.HTTPException):
                if watchdog.fired:
                    raise _TooSlow(raw_read) from None
                raise
            if not chunk:
                if watchdog.fired:
                    raise _TooSlow(raw_read)
                break
            raw_read += len(chunk)
            if inflater is not None:
                chunk = inflater.decompress(chunk, max_bytes + 1 - len(out))
            out += chunk
            if len(out) > max_bytes or raw_read > max_bytes:
                raise _TooLarge()
        if inflater is not None:
            out += inflater.flush()
            if len(out) > max_bytes:
                raise _TooLarge()
        return bytes(out)
