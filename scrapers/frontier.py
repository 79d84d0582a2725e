"""The crawl frontier and fetch log, kept in the corpus store's SQLite database.

Why in the store: a crawl killed at any moment and started again with the same command must go on
where it stopped, fetch nothing twice and lose nothing. The page's documents, its frontier row
becoming `done` and the links it adds are written in ONE transaction (the caller wraps them), so
after a crash a page is either fully recorded or still queued.

Tables (created here, not in corpus/store.py):
- scrape_frontier: one row per (job, url): kind (page | listing | article), status
  (queued | done | failed | skipped), attempts, HTTP status, last error, when.
  A *job* is one crawl: "site:<adapter>:<start url>" or "urls" for `corpus scrape URL...`.
- scrape_pages: every page held, by URL: its ETag / Last-Modified (for conditional requests),
  the sha256 of the bytes and the raw source id it was stored as.
- scrape_log: one row per fetch (or skip): what happened, for `--status` and for audits.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass

from corpus.store import Store

SCHEMA = """
CREATE TABLE IF NOT EXISTS scrape_frontier (
    job TEXT NOT NULL,
    url TEXT NOT NULL,
    kind TEXT NOT NULL DEFAULT 'page',
    site TEXT,
    depth INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL DEFAULT 'queued',
    attempts INTEGER NOT NULL DEFAULT 0,
    http_status INTEGER,
    error TEXT,
    outcome TEXT,
    seq INTEGER NOT NULL,
    added_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    PRIMARY KEY (job, url)
);
CREATE INDEX IF NOT EXISTS scrape_frontier_queue ON scrape_frontier(job, status, seq);
CREATE TABLE IF NOT EXISTS scrape_pages (
    url TEXT PRIMARY KEY,
    etag TEXT,
    last_modified TEXT,
    sha256 TEXT,
    encoding TEXT,
    raw_id INTEGER,
    fetched_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS scrape_log (
    id INTEGER PRIMARY KEY,
    job TEXT NOT NULL,
    url TEXT NOT NULL,
    final_url TEXT,
    http_status INTEGER,
    outcome TEXT NOT NULL,
    bytes INTEGER,
    encoding TEXT,
    attempts INTEGER,
    error TEXT,
    at REAL NOT NULL
);
"""

FINISHED = ("done", "failed", "skipped")


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
        self.store.db.executescript(SCHEMA)

    @property
    def db(self) -> sqlite3.Connection:
        return self.store.db

    # queue ----------------------------------------------------------------------------------
    def add(self, job: str, url: str, *, kind: str, site: str | None = None, depth: int = 0) -> bool:
        """Queue a URL for a job unless the job already has it. Returns True if it was new."""
        now = time.time()
        seq = self.db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM scrape_frontier WHERE job=?", (job,)).fetchone()[0]
        cur = self.db.execute(
            "INSERT OR IGNORE INTO scrape_frontier (job, url, kind, site, depth, seq, added_at, updated_at) "
            "VALUES (?,?,?,?,?,?,?,?)", (job, url, kind, site, depth, seq, now, now))
        return cur.rowcount > 0

    def next_queued(self, job: str) -> sqlite3.Row | None:
        return self.db.execute(
            "SELECT * FROM scrape_frontier WHERE job=? AND status='queued' ORDER BY seq LIMIT 1", (job,)).fetchone()

    def finish(self, job: str, url: str, status: str, *, outcome: str = "", http_status: int | None = None,
               error: str = "", attempts: int = 0) -> None:
        assert status in FINISHED
        self.db.execute(
            "UPDATE scrape_frontier SET status=?, outcome=?, http_status=?, error=?, attempts=attempts+?, updated_at=? "
            "WHERE job=? AND url=?", (status, outcome, http_status, error or None, attempts, time.time(), job, url))

    def requeue(self, job: str, *, failed: bool = False, done: bool = False) -> int:
        """Put failed (and/or done) URLs of a job back in the queue. Returns how many."""
        statuses = [s for s, on in (("failed", failed), ("done", done), ("skipped", failed)) if on]
        if not statuses:
            return 0
        marks = ",".join("?" * len(statuses))
        with self.store.transaction() as db:
            cur = db.execute(f"UPDATE scrape_frontier SET status='queued', updated_at=? WHERE job=? AND status IN ({marks})",
                             (time.time(), job, *statuses))
        return cur.rowcount

    def finished_count(self, job: str) -> int:
        return self.db.execute(
            "SELECT COUNT(*) FROM scrape_frontier WHERE job=? AND status IN ('done','failed','skipped') "
            "AND outcome != 'already held'", (job,)).fetchone()[0]

    def row(self, job: str, url: str) -> sqlite3.Row | None:
        return self.db.execute("SELECT * FROM scrape_frontier WHERE job=? AND url=?", (job, url)).fetchone()

    # pages held -----------------------------------------------------------------------------
    def page(self, url: str) -> sqlite3.Row | None:
        return self.db.execute("SELECT * FROM scrape_pages WHERE url=?", (url,)).fetchone()

    def remember_page(self, url: str, *, etag: str | None, last_modified: str | None, sha256: str | None,
                      encoding: str | None, raw_id: int | None) -> None:
        self.db.execute(
            "INSERT INTO scrape_pages (url, etag, last_modified, sha256, encoding, raw_id, fetched_at) "
            "VALUES (?,?,?,?,?,?,?) ON CONFLICT(url) DO UPDATE SET etag=excluded.etag, "
            "last_modified=excluded.last_modified, sha256=COALESCE(excluded.sha256, sha256), "
            "encoding=COALESCE(excluded.encoding, encoding), raw_id=COALESCE(excluded.raw_id, raw_id), "
            "fetched_at=excluded.fetched_at",
            (url, etag, last_modified, sha256, encoding, raw_id, time.time()))

    # log ------------------------------------------------------------------------------------
    def log(self, job: str, url: str, outcome: str, *, final_url: str | None = None, http_status: int | None = None,
            nbytes: int | None = None, encoding: str | None = None, attempts: int = 0, error: str = "") -> None:
        self.db.execute(
            "INSERT INTO scrape_log (job, url, final_url, http_status, outcome, bytes, encoding, attempts, error, at) "
            "VALUES (?,?,?,?,?,?,?,?,?,?)",
            (job, url, final_url, http_status, outcome, nbytes, encoding, attempts, error or None, time.time()))

    # status ---------------------------------------------------------------------------------
    def jobs(self) -> list[JobStatus]:
        out: dict[str, JobStatus] = {}
        for r in self.db.execute("SELECT job, status, COUNT(*) FROM scrape_frontier GROUP BY job, status ORDER BY job"):
            js = out.setdefault(r[0], JobStatus(r[0]))
            setattr(js, r[1], getattr(js, r[1], 0) + r[2])
        return list(out.values())

    def failures(self, job: str | None = None, limit: int = 20) -> list[dict]:
        sql = "SELECT job, url, http_status, error, status FROM scrape_frontier WHERE status IN ('failed','skipped')"
        args: tuple = ()
        if job:
            sql += " AND job=?"
            args = (job,)
        sql += " ORDER BY updated_at DESC LIMIT ?"
        return [dict(r) for r in self.db.execute(sql, (*args, limit))]

    def queued(self, job: str | None = None, limit: int = 20) -> list[dict]:
        sql = "SELECT job, url, kind FROM scrape_frontier WHERE status='queued'"
        args: tuple = ()
        if job:
            sql += " AND job=?"
            args = (job,)
        sql += " ORDER BY job, seq LIMIT ?"
        return [dict(r) for r in self.db.execute(sql, (*args, limit))]

    def status_report(self) -> dict:
        """Everything `corpus scrape --status` shows."""
        log_counts = {r[0]: r[1] for r in self.db.execute("SELECT outcome, COUNT(*) FROM scrape_log GROUP BY outcome")}
        return {
            "jobs": [j.as_dict() for j in self.jobs()],
            "pages_held": self.db.execute("SELECT COUNT(*) FROM scrape_pages").fetchone()[0],
            "fetch_log": log_counts,
            "queued_sample": self.queued(),
            "recent_failures": self.failures(),
        }


