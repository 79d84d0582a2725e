"""The crawl frontier and fetch log, kept in the corpus store's SQLite database.

Why in the store: a crawl killed at any moment and started again with the same command must go on
where it stopped, fetch nothing twice and lose nothing. The page's documents, its frontier row
becoming `done` and the links it adds are written in ONE transaction (the caller wraps them), so
after a crash a page is either fully recorded or still queued.

Tables (schema and SQL in corpus/store.py, the one module that speaks SQL; this is the crawler's view):
- scrape_frontier: one row per (job, url): kind (page | listing | article), status
  (queued | done | failed | skipped), attempts, HTTP status, last error, when.
  A *job* is one crawl: "site:<adapter>:<start url>" or "urls" for `corpus scrape URL...`.
- scrape_pages: every page held, by URL: its ETag / Last-Modified (for conditional requests),
  the sha256 of the bytes and the raw source id it was stored as.
- scrape_hosts: per host, the last request's time and the robots.txt Crawl-delay, so that the
  next run waits as long as this one would have (politeness across runs).
- scrape_log: one row per fetch (or skip): what happened, for `--status` and for audits.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from corpus.store import FRONTIER_FINISHED, Store

FINISHED = FRONTIER_FINISHED


@dataclass
class JobStatus:
    job: str
    queued: int = 0
    done: int = 0
    failed: int = 0
    skipped: int = 0

    def as_dict(self) -> dict:
        return {"job": self.job, "queued": self.queued, "done": self.done, "failed": self.failed,
                "skipped": self.skipped}


class Frontier:
    """Queue and log of one store. All writes go through the store's connection and transactions."""

    def __init__(self, store: Store):
        self.store = store
        self.store.ensure_frontier_tables()

    # queue ----------------------------------------------------------------------------------
    def add(self, job: str, url: str, *, kind: str, site: str | None = None, depth: int = 0) -> bool:
        """Queue a URL for a job unless the job already has it. Returns True if it was new."""
        return self.store.frontier_add(job, url, kind=kind, site=site, depth=depth)

    def next_queued(self, job: str) -> sqlite3.Row | None:
        return self.store.frontier_next(job)

    def finish(self, job: str, url: str, status: str, *, outcome: str = "", http_status: int | None = None,
               error: str = "", attempts: int = 0) -> None:
        assert status in FINISHED
        self.store.frontier_finish(job, url, status, outcome=outcome, http_status=http_status, error=error,
                                   attempts=attempts)

    def requeue(self, job: str, *, failed: bool = False, done: bool = False) -> int:
        """Put failed (and/or done) URLs of a job back in the queue. Returns how many."""
        statuses = [s for s, on in (("failed", failed), ("done", done), ("skipped", failed)) if on]
        if not statuses:
            return 0
        return self.store.frontier_requeue(job, statuses)

    def requeue_url(self, job: str, url: str) -> None:
        """One URL of a job back in the queue (the caller holds the transaction)."""
        self.store.frontier_requeue_url(job, url)

    def finished_count(self, job: str) -> int:
        return self.store.frontier_count(job, FINISHED, skip_outcome="already held")

    def queued_count(self, job: str) -> int:
        return self.store.frontier_count(job, ("queued",))

    def row(self, job: str, url: str) -> sqlite3.Row | None:
        return self.store.frontier_row(job, url)

    # pages held -----------------------------------------------------------------------------
    def page(self, url: str) -> sqlite3.Row | None:
        return self.store.scrape_page(url)

    def remember_page(self, url: str, *, etag: str | None, last_modified: str | None, sha256: str | None,
                      encoding: str | None, raw_id: int | None) -> None:
        self.store.remember_scrape_page(url, etag=etag, last_modified=last_modified, sha256=sha256, encoding=encoding,
                                        raw_id=raw_id)

    # hosts: politeness across runs -----------------------------------------------------------
    def hosts(self) -> dict[str, tuple[float | None, float | None]]:
        return self.store.scrape_hosts()

    def remember_host(self, host: str, *, last_fetch: float | None = None, crawl_delay: float | None = None) -> None:
        self.store.remember_scrape_host(host, last_fetch=last_fetch, crawl_delay=crawl_delay)

    # log ------------------------------------------------------------------------------------
    def log(self, job: str, url: str, outcome: str, *, final_url: str | None = None, http_status: int | None = None,
            nbytes: int | None = None, encoding: str | None = None, attempts: int = 0, error: str = "") -> None:
        self.store.log_fetch(job, url, outcome, final_url=final_url, http_status=http_status, nbytes=nbytes,
                             encoding=encoding, attempts=attempts, error=error)

    # status ---------------------------------------------------------------------------------
    def jobs(self) -> list[JobStatus]:
        out: dict[str, JobStatus] = {}
        for job, status, n in self.store.frontier_job_counts():
            js = out.setdefault(job, JobStatus(job))
            setattr(js, status, getattr(js, status, 0) + n)
        return list(out.values())

    def failures(self, job: str | None = None, limit: int = 20) -> list[dict]:
        return self.store.frontier_list(("failed", "skipped"), job, limit, failures=True)

    def queued(self, job: str | None = None, limit: int = 20) -> list[dict]:
        return self.store.frontier_list(("queued",), job, limit, failures=False)

    def status_report(self) -> dict:
        """Everything `corpus scrape --status` shows."""
        return {
            "jobs": [j.as_dict() for j in self.jobs()],
            "pages_held": self.store.scrape_pages_count(),
            "fetch_log": self.store.fetch_log_counts(),
            "queued_sample": self.queued(),
            "recent_failures": self.failures(),
        }
