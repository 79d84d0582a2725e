"""The crawler: frontier in the store -> polite fetch -> decode -> adapter -> ingest_record.

One page at a time, in queue order. For each page, the stored documents, the frontier row turning
`done` and the links it queues are one transaction: kill the process anywhere and the next run of
the same command goes on with what is still queued, fetches nothing that was stored, loses nothing.

Jobs: `crawl_urls` (job "urls": the given pages, no link following) and `crawl_site` (job
"site:<adapter>:<start>": listing pages are read for article links and next-page links, articles are
ingested; `max_pages` is the job's total budget of fetched pages, so a resumed run finishes it).
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from corpus.encoding import decode_html
from corpus.errors import CorpusError, InputError
from corpus.ingest import ingest_record
from corpus.models import RawRecord
from corpus.settings import Settings
from corpus.sites import GENERIC, adapter_by_name, adapter_for_url
from corpus.sites.base import SiteAdapter
from corpus.store import Store

from .fetch import Fetcher, FetchPolicy
from .frontier import Frontier
from .listing import listing_links, page_kind
from .robots import RobotsCache

log = logging.getLogger(__name__)

HTML_TYPES = ("text/html", "application/xhtml+xml", "text/plain", "")


@dataclass
class CrawlSummary:
    job: str
    fetched: int = 0
    documents_added: int = 0
    duplicates: int = 0
    unchanged: int = 0  # 304 Not Modified, or bytes already stored
    already_held: int = 0  # not fetched: the page is held from an earlier run
    listings: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # robots.txt
    queued_left: int = 0
    seconds: float = 0.0

    def lines(self) -> list[str]:
        out = [f"{self.job}: fetched {self.fetched} pages ({self.listings} listings); added {self.documents_added} "
               f"documents; duplicates {self.duplicates}; unchanged {self.unchanged}; already held {self.already_held}; "
               f"failed {len(self.failed)}; skipped {len(self.skipped)}; still queued {self.queued_left}"]
        out += [f"failed: {u}: {why}" for u, why in self.failed]
        out += [f"skipped: {u}: {why}" for u, why in self.skipped]
        return out


class Crawler:
    """Fetches the queued URLs of one job into one store."""

    def __init__(self, settings: Settings, policy: FetchPolicy | None = None, *, store: Store | None = None,
                 fetcher: Fetcher | None = None, obey_robots: bool = True,
                 on_page: Callable[[str, str], None] | None = None, follow_hosts: Iterable[str] = ()):
        self.settings = settings
        self.store = store or Store(settings.db_path)
        self.frontier = Frontier(self.store)
        self.fetcher = fetcher or Fetcher(policy)
        self.robots = RobotsCache(self.fetcher) if obey_robots else None
        self.on_page = on_page  # called (url, outcome) after each page is recorded: progress output
        self.follow_hosts = {h.strip().lower() for h in follow_hosts if h.strip()}  # redirects may go there too
        self._start_hosts: set[str] = set()
        throttle = self.fetcher.throttle
        for host, (last, delay) in self.frontier.hosts().items():  # what earlier runs left: stay polite
            throttle.restore(host, last_request=last, crawl_delay=delay)
        throttle.on_request = lambda host, at: self.frontier.remember_host(host, last_fetch=at)
        throttle.on_delay = lambda host, delay: self.frontier.remember_host(host, crawl_delay=delay)

    # jobs -----------------------------------------------------------------------------------
    def crawl_urls(self, urls: Iterable[str], *, refresh: bool = False, retry_failed: bool = False) -> CrawlSummary:
        job = "urls"
        urls = list(urls)
        for url in urls:
            _check_url(url)
        self._start_hosts = {urlsplit(u).hostname or "" for u in urls}
        done_before = 0
        with self.store.transaction():
            for url in urls:
                if not self.frontier.add(job, url, kind="page", site=adapter_for_url(url).name):
                    row = self.frontier.row(job, url)
                    if row is None or row["status"] == "queued":
                        continue
                    if refresh or (retry_failed and row["status"] != "done"):
                        self.frontier.requeue_url(job, url)
                    elif row["status"] == "done":
                        done_before += 1
        s = self._run(job, None, max_pages=None, refresh=refresh)
        s.already_held += done_before
        return s

    def crawl_site(self, site: str | None, start: str, *, max_pages: int | None = None, refresh: bool = False,
                   retry_failed: bool = False) -> CrawlSummary:
        _check_url(start)
        self._start_hosts = {urlsplit(start).hostname or ""}
        adapter = adapter_by_name(site) if site else adapter_for_url(start)
        job = f"site:{adapter.name}:{start}"
        kind = "article" if page_kind(adapter, start) == "article" else "listing"
        with self.store.transaction():
            self.frontier.add(job, start, kind=kind, site=adapter.name)
        if retry_failed:
            self.frontier.requeue(job, failed=True)
        if refresh:
            self.frontier.requeue(job, done=True)
        return self._run(job, adapter, max_pages=max_pages, refresh=refresh)

    # the loop -------------------------------------------------------------------------------
    def _run(self, job: str, adapter: SiteAdapter | None, *, max_pages: int | None, refresh: bool) -> CrawlSummary:
        t0 = time.perf_counter()
        s = CrawlSummary(job)
        while True:
            if max_pages is not None and self.frontier.finished_count(job) >= max_pages:
                break
            row = self.frontier.next_queued(job)
            if row is None:
                break
            self._one(job, row, adapter or adapter_for_url(row["url"]), s, refresh=refresh)
        s.queued_left = self.frontier.queued_count(job)
        s.seconds = time.perf_counter() - t0
        return s

    def _one(self, job: str, row, adapter: SiteAdapter, s: CrawlSummary, *, refresh: bool) -> None:
        url, kind = row["url"], row["kind"]
        fr = self.frontier
        if self.robots is not None and not self.robots.allowed(url):
            why = self.robots.why_not(url)
            with self.store.transaction():
                fr.finish(job, url, "skipped", outcome="robots", error=why)
                fr.log(job, url, "robots", error=why)
            s.skipped.append((url, why))
            self._progress(url, "skipped (robots.txt)")
            return
        held = fr.page(url)
        if held is not None and kind != "listing" and not refresh:
            with self.store.transaction():
                fr.finish(job, url, "done", outcome="already held")
            s.already_held += 1
            self._progress(url, "already held")
            return
        allow = self.robots.allowed if self.robots is not None else None
        res = self.fetcher.fetch(url, etag=held["etag"] if held else None,
                                 last_modified=held["last_modified"] if held else None, allow=allow,
                                 follow_hosts=self._start_hosts | self.follow_hosts)
        if res.kind == "not_modified":
            with self.store.transaction():
                fr.finish(job, url, "done", outcome="not modified", http_status=304, attempts=res.attempts)
                fr.log(job, url, "not_modified", http_status=304, attempts=res.attempts)
            s.fetched += 1
            s.unchanged += 1
            self._progress(url, "not modified")
            return
        if not res.ok:
            self._fail(job, url, s, res.error or res.kind, outcome=res.kind, http_status=res.status,
                       attempts=res.attempts, final_url=res.final_url)
            return
        ctype = res.content_type.split(";")[0].strip().lower()
        if ctype not in HTML_TYPES:
            self._fail(job, url, s, f"not an HTML page ({ctype})", outcome="not_html", http_status=res.status,
                       attempts=res.attempts)
            return
        s.fetched += 1
        final = res.redirects[-1] if res.redirects else url
        try:
            html, encoding = decode_html(res.body, content_type=res.content_type, name=url)
        except InputError as e:
            self._fail(job, url, s, str(e), outcome="undecodable", http_status=res.status, attempts=res.attempts)
            return
        sha = hashlib.sha256(res.body).hexdigest()
        if kind == "listing":
            self._listing(job, url, row, adapter, html, res, encoding, sha, s)
            return
        meta = {"url": final, "adapter": adapter.name, "fetched_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
        if adapter.label:
            meta["site"] = adapter.label
        if final != url:
            meta["requested_url"] = url
        record = RawRecord(raw=html, path=final, format="html", encoding=encoding, sha256=sha, meta=meta,
                           data=res.body)
        try:
            with self.store.transaction():
                out = ingest_record(self.store, record)
                raw = self.store.find_raw(sha)
                fr.remember_page(url, etag=res.etag, last_modified=res.last_modified, sha256=sha, encoding=encoding,
                                 raw_id=raw["id"] if raw is not None else None)
                fr.finish(job, url, "done", outcome=out.status, http_status=res.status, attempts=res.attempts)
                fr.log(job, url, out.status, final_url=final, http_status=res.status, nbytes=len(res.body),
                       encoding=encoding, attempts=res.attempts)
        except CorpusError as e:
            self._fail(job, url, s, str(e), outcome="not_ingested", http_status=res.status, attempts=res.attempts)
            return
        except Exception as e:  # a cleaner bug must not stop the crawl; the page stays reported
            log.exception("unexpected error on %s", url)
            self._fail(job, url, s, f"internal error while cleaning ({type(e).__name__}: {e})",
                       outcome="internal_error", http_status=res.status, attempts=res.attempts)
            return
        if out.status == "unchanged":
            s.unchanged += 1
        s.documents_added += len(out.doc_ids)
        s.duplicates += len(out.duplicates_of)
        self._progress(url, out.status)

    def _listing(self, job: str, url: str, row, adapter: SiteAdapter, html: str, res, encoding: str, sha: str,
                 s: CrawlSummary) -> None:
        try:
            articles, nexts = listing_links(adapter, html, res.redirects[-1] if res.redirects else url)
        except CorpusError as e:
            self._fail(job, url, s, str(e), outcome="unparsable", http_status=res.status, attempts=res.attempts)
            return
        with self.store.transaction():
            new = 0
            for a in articles:
                new += self.frontier.add(job, a, kind="article", site=adapter.name, depth=row["depth"] + 1)
            for n in nexts:
                new += self.frontier.add(job, n, kind="listing", site=adapter.name, depth=row["depth"] + 1)
            self.frontier.remember_page(url, etag=res.etag, last_modified=res.last_modified, sha256=sha,
                                        encoding=encoding, raw_id=None)
            self.frontier.finish(job, url, "done", outcome=f"listing: {len(articles)} articles, {new} new links",
                                 http_status=res.status, attempts=res.attempts)
            self.frontier.log(job, url, "listing", http_status=res.status, nbytes=len(res.body), encoding=encoding,
                              attempts=res.attempts)
        s.listings += 1
        if not articles and adapter is not GENERIC:
            log.warning("%s: listing page with no article links for adapter %s", url, adapter.name)
        self._progress(url, f"listing ({len(articles)} articles)")

    def _fail(self, job: str, url: str, s: CrawlSummary, error: str, *, outcome: str, http_status: int | None,
              attempts: int, final_url: str | None = None) -> None:
        with self.store.transaction():
            self.frontier.finish(job, url, "failed", outcome=outcome, http_status=http_status, error=error,
                                 attempts=attempts)
            self.frontier.log(job, url, outcome, final_url=final_url, http_status=http_status, attempts=attempts,
                              error=error)
        s.failed.append((url, error))
        self._progress(url, f"failed: {error}")

    def _progress(self, url: str, outcome: str) -> None:
        if self.on_page is not None:
            self.on_page(url, outcome)


def _check_url(url: str) -> None:
    if not url.startswith(("http://", "https://")):
        raise InputError(f"not a web address: {url!r} (give an http:// or https:// URL; for files use `corpus ingest`)")
