"""The one store: a SQLite database in the data directory.

Tables
- raw_sources: what was collected: the bytes as collected (zlib-compressed, `raw_zlib`), the decoding
  used and the decoded text (HTML stays HTML), so that improved decoders and cleaners can re-clean
  without re-collecting (`corpus reclean`). Stores made before schema version 2 have text only.
- documents: one per speech; a compilation (汇编) raw source yields several (part_index 0..n-1).
  `content_hash` identifies the same cleaned text under another file name; `rev` grows on every
  change so indexes can update incrementally; `cluster_id` groups near-duplicate reposts.
- doc_sources: every raw source a document was seen in (exact duplicates add a row here only).
- paragraphs: ordered paragraphs with kind (heading/body), outline level and section path;
  `cluster_id` groups near-identical paragraphs across documents (reposts fold in results).

Every write goes through `transaction()`: a crash mid-document leaves the store as it was before.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from .errors import NotFound
from .models import Document, Paragraph

SCHEMA_VERSION = 3  # 2: raw_sources.raw_zlib (the collected bytes, zlib-compressed); 3: documents.level

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS raw_sources (
    id INTEGER PRIMARY KEY,
    sha256 TEXT NOT NULL UNIQUE,
    path TEXT NOT NULL,
    format TEXT NOT NULL,
    encoding TEXT,
    meta TEXT NOT NULL DEFAULT '{}',
    raw TEXT NOT NULL,
    added_at REAL NOT NULL,
    raw_zlib BLOB
);
CREATE TABLE IF NOT EXISTS documents (
    id INTEGER PRIMARY KEY,
    raw_id INTEGER NOT NULL REFERENCES raw_sources(id),
    part_index INTEGER NOT NULL DEFAULT 0,
    title TEXT NOT NULL,
    site TEXT, url TEXT, file_path TEXT,
    date TEXT, year INTEGER,
    unit TEXT, meeting TEXT, speaker TEXT, doc_type TEXT, level TEXT,
    truncated INTEGER NOT NULL DEFAULT 0,
    claimed_length INTEGER,
    char_count INTEGER NOT NULL DEFAULT 0,
    content_hash TEXT NOT NULL UNIQUE,
    simhash INTEGER,
    cluster_id INTEGER,
    rev INTEGER NOT NULL DEFAULT 1,
    added_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS documents_raw ON documents(raw_id);
CREATE INDEX IF NOT EXISTS documents_cluster ON documents(cluster_id);
CREATE TABLE IF NOT EXISTS doc_sources (
    doc_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    raw_id INTEGER NOT NULL REFERENCES raw_sources(id),
    PRIMARY KEY (doc_id, raw_id)
);
CREATE TABLE IF NOT EXISTS paragraphs (
    id INTEGER PRIMARY KEY,
    doc_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    text TEXT NOT NULL,
    kind TEXT NOT NULL DEFAULT 'body',
    level INTEGER NOT NULL DEFAULT 0,
    section TEXT NOT NULL DEFAULT '[]',
    omitted_before INTEGER,
    norm_hash TEXT,
    simhash INTEGER,
    cluster_id INTEGER
);
CREATE INDEX IF NOT EXISTS paragraphs_doc ON paragraphs(doc_id, position);
CREATE INDEX IF NOT EXISTS paragraphs_norm ON paragraphs(norm_hash);
CREATE INDEX IF NOT EXISTS paragraphs_cluster ON paragraphs(cluster_id);
CREATE TABLE IF NOT EXISTS lsh (
    kind TEXT NOT NULL,      -- 'p' paragraph or 'd' document
    band INTEGER NOT NULL,
    key INTEGER NOT NULL,
    item_id INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS lsh_lookup ON lsh(kind, band, key);
CREATE INDEX IF NOT EXISTS lsh_item ON lsh(kind, item_id);
"""

# The crawler's tables (scrapers/): created when a crawl or `corpus scrape --status` first opens them.
FRONTIER_SCHEMA = """
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
CREATE TABLE IF NOT EXISTS scrape_hosts (
    host TEXT PRIMARY KEY,
    last_fetch REAL,
    crawl_delay REAL
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
FRONTIER_FINISHED = ("done", "failed", "skipped")

IN_CHUNK = 900  # values per `IN (...)` statement: under SQLite's historical limit of 999 bound variables
_CLUSTERED = {"p": "paragraphs", "d": "documents"}  # what the near-duplicate kinds ('p', 'd') cluster

DOC_COLUMNS = (
    "id, raw_id, part_index, title, site, url, file_path, date, year, unit, meeting, speaker, doc_type, level, "
    "truncated, claimed_length, char_count, content_hash, cluster_id, rev, added_at, updated_at"
)


class Store:
    """A SQLite corpus store. Safe to share between threads (one connection per thread)."""

    def __init__(self, path: Path | str, *, readonly: bool = False):
        self.path = Path(path)
        self.readonly = readonly
        self._local = threading.local()
        if not readonly:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db.executescript(SCHEMA)  # idempotent (IF NOT EXISTS); executescript manages its own commit
            with self.transaction() as db:
                db.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
                self._migrate(db)
        elif not self.path.exists():
            raise NotFound(f"no corpus at {self.path}: run `corpus ingest PATH` first",
                           zh="语料库为空：请先运行 `corpus ingest 路径`（或 `corpus demo`）导入文稿。")
        # a read-only store of an older version is not migrated: columns it lacks read as NULL
        have = {r[1] for r in self.db.execute("PRAGMA table_info(documents)")}
        self._doc_column = {c: c if c in have or not have else f"NULL AS {c}"
                            for c in (x.strip() for x in DOC_COLUMNS.split(","))}
        self._doc_columns = ", ".join(self._doc_column.values())

    def _migrate(self, db: sqlite3.Connection) -> None:
        """Bring a store made by an older version up to SCHEMA_VERSION (an old store opens and works)."""
        columns = {r[1] for r in db.execute("PRAGMA table_info(raw_sources)")}
        if "raw_zlib" not in columns:  # version 1: no collected bytes (reclean uses the stored text)
            db.execute("ALTER TABLE raw_sources ADD COLUMN raw_zlib BLOB")
        if "level" not in {r[1] for r in db.execute("PRAGMA table_info(documents)")}:
            # version 2: no administrative level (`corpus reclean` fills it in)
            db.execute("ALTER TABLE documents ADD COLUMN level TEXT")
        db.execute("UPDATE meta SET value=? WHERE key='schema_version' AND CAST(value AS INTEGER) < ?",
                   (str(SCHEMA_VERSION), SCHEMA_VERSION))

    # connections --------------------------------------------------------------------------
    @property
    def db(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            if self.readonly:
                # a URI: the path is percent-encoded, so # ? % and spaces in it stay part of the path
                uri = "file:" + quote(str(self.path.absolute()), safe="/") + "?mode=ro"
                conn = sqlite3.connect(uri, uri=True, timeout=30, check_same_thread=False)
            else:
                conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
                _use_wal(conn, 30)
                conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.row_factory = sqlite3.Row
            self._local.conn = conn
        return conn

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """All-or-nothing: commits on success, rolls back on any exception (or a crash)."""
        db = self.db
        if db.in_transaction:  # nested: part of the outer transaction
            yield db
            return
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        else:
            db.execute("COMMIT")

    # raw sources --------------------------------------------------------------------------
    def find_raw(self, sha256: str) -> sqlite3.Row | None:
        return self.db.execute("SELECT id, path, format, sha256 FROM raw_sources WHERE sha256=?", (sha256,)).fetchone()

    def add_raw(self, *, sha256: str, path: str, format: str, encoding: str | None, raw: str, meta: dict,
                data: bytes | None = None) -> int:
        """A collected source: its decoded text, the decoding used, and (when known) the bytes as collected."""
        cur = self.db.execute(
            "INSERT INTO raw_sources (sha256, path, format, encoding, meta, raw, added_at, raw_zlib) VALUES (?,?,?,?,?,?,?,?)",
            (sha256, path, format, encoding, json.dumps(meta, ensure_ascii=False), raw, time.time(),
             zlib.compress(data, 6) if data is not None else None),
        )
        return cur.lastrowid

    @staticmethod
    def raw_bytes(row: sqlite3.Row) -> bytes | None:
        """The bytes as collected of a raw_sources row (None for sources stored before version 2)."""
        blob = row["raw_zlib"] if "raw_zlib" in row.keys() else None
        return zlib.decompress(blob) if blob is not None else None

    def update_raw_text(self, raw_id: int, *, raw: str, encoding: str | None) -> None:
        """The source's text decoded again from its bytes (reclean with a better decoder)."""
        self.db.execute("UPDATE raw_sources SET raw=?, encoding=? WHERE id=?", (raw, encoding, raw_id))

    def iter_raw(self) -> Iterator[sqlite3.Row]:
        yield from self.db.execute("SELECT * FROM raw_sources ORDER BY id").fetchall()

    def raw_count(self) -> int:
        return self.db.execute("SELECT count(*) FROM raw_sources").fetchone()[0]

    # documents ----------------------------------------------------------------------------
    def find_document_by_hash(self, content_hash: str) -> sqlite3.Row | None:
        return self.db.execute("SELECT id, title FROM documents WHERE content_hash=?", (content_hash,)).fetchone()

    def add_document(self, doc: Document, *, raw_id: int, part_index: int, content_hash: str, file_path: str | None) -> int:
        now = time.time()
        cur = self.db.execute(
            "INSERT INTO documents (raw_id, part_index, title, site, url, file_path, date, year, unit, meeting, speaker, "
            "doc_type, level, truncated, claimed_length, char_count, content_hash, rev, added_at, updated_at) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,1,?,?)",
            (raw_id, part_index, doc.title, doc.site, doc.url, file_path, doc.date, doc.year, doc.unit, doc.meeting,
             doc.speaker, doc.doc_type, doc.level, int(doc.truncated), doc.claimed_length, _char_count(doc), content_hash,
             now, now),
        )
        doc_id = cur.lastrowid
        self.db.execute("INSERT OR IGNORE INTO doc_sources VALUES (?,?)", (doc_id, raw_id))
        self._insert_paragraphs(doc_id, doc.paragraphs)
        return doc_id

    def replace_document(self, doc_id: int, doc: Document, *, content_hash: str) -> None:
        """Re-cleaned content for an existing document: same id, new paragraphs, rev + 1."""
        self.db.execute(
            "UPDATE documents SET title=?, site=?, url=?, date=?, year=?, unit=?, meeting=?, speaker=?, doc_type=?, "
            "level=?, truncated=?, claimed_length=?, char_count=?, content_hash=?, rev=rev+1, updated_at=? WHERE id=?",
            (doc.title, doc.site, doc.url, doc.date, doc.year, doc.unit, doc.meeting, doc.speaker, doc.doc_type, doc.level,
             int(doc.truncated), doc.claimed_length, _char_count(doc), content_hash, time.time(), doc_id),
        )
        self.db.execute("DELETE FROM lsh WHERE kind='d' AND item_id=?", (doc_id,))
        self.db.execute("DELETE FROM lsh WHERE kind='p' AND item_id IN (SELECT id FROM paragraphs WHERE doc_id=?)", (doc_id,))
        self.db.execute("DELETE FROM paragraphs WHERE doc_id=?", (doc_id,))
        self._insert_paragraphs(doc_id, doc.paragraphs)

    def add_doc_source(self, doc_id: int, raw_id: int) -> None:
        self.db.execute("INSERT OR IGNORE INTO doc_sources VALUES (?,?)", (doc_id, raw_id))

    def delete_document(self, doc_id: int) -> None:
        self.db.execute("DELETE FROM lsh WHERE kind='p' AND item_id IN (SELECT id FROM paragraphs WHERE doc_id=?)", (doc_id,))
        self.db.execute("DELETE FROM lsh WHERE kind='d' AND item_id=?", (doc_id,))
        self.db.execute("DELETE FROM paragraphs WHERE doc_id=?", (doc_id,))
        self.db.execute("DELETE FROM doc_sources WHERE doc_id=?", (doc_id,))
        self.db.execute("DELETE FROM documents WHERE id=?", (doc_id,))

    def documents_for_raw(self, raw_id: int) -> list[sqlite3.Row]:
        return self.db.execute(
            "SELECT id, part_index, content_hash FROM documents WHERE raw_id=? ORDER BY part_index", (raw_id,)
        ).fetchall()

    def _insert_paragraphs(self, doc_id: int, paragraphs: list[Paragraph]) -> None:
        from .dedup import norm_hash

        self.db.executemany(
            "INSERT INTO paragraphs (doc_id, position, text, kind, level, section, omitted_before, norm_hash) "
            "VALUES (?,?,?,?,?,?,?,?)",
            [
                (doc_id, i, p.text, p.kind, p.level, json.dumps(p.section, ensure_ascii=False), p.omitted_before,
                 norm_hash(p.text))
                for i, p in enumerate(paragraphs)
            ],
        )

    def get_document(self, doc_id: int) -> dict:
        row = self.db.execute(f"SELECT {self._doc_columns} FROM documents WHERE id=?", (doc_id,)).fetchone()
        if row is None:
            raise NotFound(f"no document with id {doc_id}", zh=f"没有编号为 {doc_id} 的文稿")
        d = dict(row)
        d["truncated"] = bool(d["truncated"])
        d["sources"] = [
            dict(r) for r in self.db.execute(
                "SELECT r.id, r.path, r.format FROM doc_sources s JOIN raw_sources r ON r.id=s.raw_id WHERE s.doc_id=? ORDER BY r.id",
                (doc_id,),
            )
        ]
        return d

    def get_paragraphs(self, doc_id: int) -> list[dict]:
        rows = self.db.execute(
            "SELECT id, doc_id, position, text, kind, level, section, omitted_before, cluster_id FROM paragraphs "
            "WHERE doc_id=? ORDER BY position",
            (doc_id,),
        ).fetchall()
        return [_para(r) for r in rows]

    def get_paragraph(self, paragraph_id: int) -> dict:
        r = self.db.execute(
            "SELECT id, doc_id, position, text, kind, level, section, omitted_before, cluster_id FROM paragraphs WHERE id=?",
            (paragraph_id,),
        ).fetchone()
        if r is None:
            raise NotFound(f"no paragraph with id {paragraph_id}", zh=f"没有编号为 {paragraph_id} 的段落")
        return _para(r)

    def iter_documents(self) -> Iterator[dict]:
        for row in self.db.execute(f"SELECT {self._doc_columns} FROM documents ORDER BY id").fetchall():
            d = dict(row)
            d["truncated"] = bool(d["truncated"])
            yield d

    def document_columns(self, names: tuple[str, ...]) -> list[tuple]:
        """These columns (of DOC_COLUMNS) of every document, by id, as plain tuples: for tables
        derived from all documents (the search's), without a dict per row."""
        cur = self.db.cursor()
        cur.row_factory = None
        return cur.execute(f"SELECT {', '.join(self._doc_column[n] for n in names)} FROM documents ORDER BY id").fetchall()

    def change_signature(self) -> tuple:
        """Changes whenever a document is added, changed or deleted (for caches of derived results)."""
        return tuple(self.db.execute("SELECT count(*), max(id), max(updated_at) FROM documents").fetchone())

    def doc_revisions(self) -> dict[int, int]:
        """{doc_id: rev}: what an index compares with its own record to update incrementally."""
        return dict(self.db.execute("SELECT id, rev FROM documents").fetchall())

    def index_snapshot(self) -> tuple[dict[int, int], list[tuple]]:
        """The documents' revisions and every paragraph as (id, doc_id, cluster_id, kind, text) in id
        order, read in one snapshot: what a keyword index build reads."""
        own = not self.db.in_transaction
        if own:
            self.db.execute("BEGIN")
        try:
            revs = self.doc_revisions()
            rows = self.db.execute("SELECT id, doc_id, cluster_id, kind, text FROM paragraphs ORDER BY id").fetchall()
        finally:
            if own:
                self.db.execute("COMMIT")
        return revs, rows

    def iter_paragraph_rows(self, doc_ids: list[int] | None = None, batch: int = IN_CHUNK) -> Iterator[sqlite3.Row]:
        """Paragraphs joined with their document's fields, for indexing. Ordered by doc, position."""
        sql = (
            "SELECT p.id, p.doc_id, p.position, p.text, p.kind, p.level, p.section, p.cluster_id, "
            "d.title, d.site, d.url, d.date, d.year, d.unit, d.doc_type, d.truncated, d.rev, d.cluster_id AS doc_cluster "
            "FROM paragraphs p JOIN documents d ON d.id=p.doc_id"
        )
        if doc_ids is None:
            yield from self.db.execute(sql + " ORDER BY p.doc_id, p.position")
            return
        for chunk in chunked(doc_ids, batch):
            q = sql + f" WHERE p.doc_id IN ({marks(len(chunk))}) ORDER BY p.doc_id, p.position"
            yield from self.db.execute(q, chunk).fetchall()

    def paragraph_texts(self, paragraph_ids) -> dict[int, str]:
        """{paragraph id: text} for the ids that exist."""
        out: dict[int, str] = {}
        for chunk in chunked(paragraph_ids):
            out.update(self.db.execute(f"SELECT id, text FROM paragraphs WHERE id IN ({marks(len(chunk))})", chunk))
        return out

    def paragraph_texts_of(self, doc_id: int) -> list[tuple[int, str]]:
        """[(paragraph id, text)] of one document, in order."""
        return [(r[0], r[1]) for r in self.db.execute(
            "SELECT id, text FROM paragraphs WHERE doc_id=? ORDER BY position", (doc_id,))]

    def paragraph_clusters(self, paragraph_ids) -> dict[int, int | None]:
        """{paragraph id: repost cluster id} for the ids that exist."""
        out: dict[int, int | None] = {}
        for chunk in chunked(paragraph_ids):
            out.update(self.db.execute(f"SELECT id, cluster_id FROM paragraphs WHERE id IN ({marks(len(chunk))})", chunk))
        return out

    # near-duplicate clusters and their LSH buckets (corpus/dedup.py decides, this stores) ---------
    def clusters_by_norm_hash(self, hashes) -> dict[str, int]:
        """{norm_hash: smallest cluster id} among already clustered paragraphs with those hashes."""
        found: dict[str, int] = {}
        for chunk in chunked(hashes):
            found.update(self.db.execute(
                f"SELECT norm_hash, min(cluster_id) FROM paragraphs WHERE norm_hash IN ({marks(len(chunk))}) "
                "AND cluster_id IS NOT NULL GROUP BY norm_hash", chunk))
        return found

    def set_paragraph_clusters(self, updates: list[tuple[int, int]]) -> None:
        """[(cluster id, paragraph id)]."""
        self.db.executemany("UPDATE paragraphs SET cluster_id=? WHERE id=?", updates)

    def lsh_items(self, kind: str, band: int, keys) -> list[tuple[int, int]]:
        """[(key, item id)] of the stored items of `kind` ('p' | 'd') in `band` with one of `keys`."""
        out: list[tuple[int, int]] = []
        for chunk in chunked(keys):
            out += [(r[0], r[1]) for r in self.db.execute(
                f"SELECT key, item_id FROM lsh WHERE kind=? AND band=? AND key IN ({marks(len(chunk))})",
                (kind, band, *chunk))]
        return out

    def simhash_clusters(self, kind: str, ids) -> dict[int, tuple[int | None, int | None]]:
        """{id: (simhash, cluster id)} of paragraphs (kind 'p') or documents ('d')."""
        out: dict[int, tuple[int | None, int | None]] = {}
        for chunk in chunked(ids):
            for oid, oh, oc in self.db.execute(
                    f"SELECT id, simhash, cluster_id FROM {_CLUSTERED[kind]} WHERE id IN ({marks(len(chunk))})", chunk):
                out[oid] = (oh, oc)
        return out

    def set_simhash_clusters(self, kind: str, updates: list[tuple[int, int, int]]) -> None:
        """[(simhash, cluster id, id)] of paragraphs (kind 'p') or documents ('d')."""
        self.db.executemany(f"UPDATE {_CLUSTERED[kind]} SET simhash=?, cluster_id=? WHERE id=?", updates)

    def add_lsh(self, rows: list[tuple[str, int, int, int]]) -> None:
        """[(kind, band, key, item id)]."""
        self.db.executemany("INSERT INTO lsh (kind, band, key, item_id) VALUES (?,?,?,?)", rows)

    def paragraphs_by_ids(self, ids: list[int], columns: str = "id, doc_id, position, text, kind, section, cluster_id",
                          chunk: int = 900) -> dict[int, sqlite3.Row]:
        """{paragraph id: row} for the ids that exist (the search reads its hits' text and fields this way)."""
        out: dict[int, sqlite3.Row] = {}
        for part in chunked(list(ids), chunk):
            for r in self.db.execute(f"SELECT {columns} FROM paragraphs WHERE id IN ({marks(len(part))})", part):
                out[r[0]] = r
        return out

    def section_body(self, doc_id: int, position: int, max_paragraphs: int = 3) -> list[dict]:
        """The paragraphs after a heading, up to the next heading: what a heading hit stands for."""
        rows = self.db.execute(
            "SELECT id, text, kind FROM paragraphs WHERE doc_id=? AND position>? ORDER BY position LIMIT ?",
            (doc_id, position, max_paragraphs)).fetchall()
        out = []
        for r in rows:
            if r["kind"] == "heading":
                break
            out.append({"paragraph_id": r["id"], "text": r["text"]})
        return out

    def section_bodies(self, headings, max_paragraphs: int = 3) -> dict[tuple[int, int], list[dict]]:
        """`section_body` of several headings in one query: {(doc_id, position): its section's start}."""
        out: dict[tuple[int, int], list[dict]] = {}
        keys = sorted({(int(d), int(p)) for d, p in headings})
        for chunk in chunked(keys, IN_CHUNK // 2):  # two parameters per heading
            rows = self.db.execute(
                f"WITH h(d, p) AS (VALUES {','.join(['(?,?)'] * len(chunk))}) "
                "SELECT h.d, h.p, x.id, x.text, x.kind FROM h JOIN paragraphs x ON x.id IN "
                "(SELECT id FROM paragraphs WHERE doc_id=h.d AND position>h.p ORDER BY position LIMIT ?) "
                "ORDER BY h.d, h.p, x.position", [v for k in chunk for v in k] + [max_paragraphs]).fetchall()
            stopped: set[tuple[int, int]] = set()
            for key in chunk:
                out[key] = []
            for d, p, pid, text, kind in rows:
                key = (d, p)
                if key in stopped:
                    continue
                if kind == "heading":
                    stopped.add(key)
                    continue
                out[key].append({"paragraph_id": pid, "text": text})
        return out

    def iter_paragraph_texts(self) -> Iterator[tuple[int, str]]:
        """(id, text) of every paragraph, for scans that check the index against the text."""
        yield from self.db.execute("SELECT id, text FROM paragraphs")

    def cluster_members(self, cluster_id: int, kind: str = "p") -> list[dict]:
        """Reposts: the paragraphs (kind 'p') or documents (kind 'd') in one near-duplicate cluster."""
        if kind == "d":
            rows = self.db.execute(
                "SELECT id AS doc_id, title, site, url, date, unit FROM documents WHERE cluster_id=? ORDER BY id", (cluster_id,)
            )
        else:
            rows = self.db.execute(
                "SELECT p.id, p.doc_id, d.title, d.site, d.url, d.date, d.unit FROM paragraphs p JOIN documents d "
                "ON d.id=p.doc_id WHERE p.cluster_id=? ORDER BY p.id",
                (cluster_id,),
            )
        return [dict(r) for r in rows]

    def cluster_members_of(self, cluster_ids, limit: int | None = None) -> dict[int, list[dict]]:
        """`cluster_members` (paragraphs) of several clusters in one query: {cluster id: its paragraphs
        by id, at most `limit` of each}."""
        out: dict[int, list[dict]] = {}
        ids = sorted({int(c) for c in cluster_ids})
        for chunk in chunked(ids):
            rows = self.db.execute(
                "SELECT cluster_id, id, doc_id, title, site, url, date, unit FROM ("
                "SELECT p.cluster_id, p.id, p.doc_id, d.title, d.site, d.url, d.date, d.unit, "
                "ROW_NUMBER() OVER (PARTITION BY p.cluster_id ORDER BY p.id) AS k "
                f"FROM paragraphs p JOIN documents d ON d.id=p.doc_id WHERE p.cluster_id IN ({marks(len(chunk))})) "
                "WHERE ? IS NULL OR k <= ? ORDER BY cluster_id, id", [*chunk, limit, limit])
            for c in chunk:
                out[c] = []
            for r in rows:
                m = dict(r)
                out[m.pop("cluster_id")].append(m)
        return out

    def citation_fields(self, doc_ids) -> dict[int, dict]:
        """{doc_id: the fields a citation names (corpus.citation.CITATION_FIELDS)} for these documents."""
        out: dict[int, dict] = {}
        for chunk in chunked(sorted({int(i) for i in doc_ids})):
            rows = self.db.execute(
                f"SELECT id, title, unit, speaker, meeting, date, site, url FROM documents WHERE id IN ({marks(len(chunk))})",
                chunk)
            out.update({r["id"]: dict(r) for r in rows})
        return out

    # crawl frontier, pages held, fetch log (scrapers.frontier.Frontier is the crawler's view) ------
    def ensure_frontier_tables(self) -> None:
        self.db.executescript(FRONTIER_SCHEMA)

    def frontier_add(self, job: str, url: str, *, kind: str, site: str | None, depth: int) -> bool:
        """Queue `url` for `job` unless the job has it already. True if it was new."""
        now = time.time()
        seq = self.db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM scrape_frontier WHERE job=?", (job,)).fetchone()[0]
        cur = self.db.execute(
            "INSERT OR IGNORE INTO scrape_frontier (job, url, kind, site, depth, seq, added_at, updated_at) "
            "VALUES (?,?,?,?,?,?,?,?)", (job, url, kind, site, depth, seq, now, now))
        return cur.rowcount > 0

    def frontier_next(self, job: str) -> sqlite3.Row | None:
        return self.db.execute(
            "SELECT * FROM scrape_frontier WHERE job=? AND status='queued' ORDER BY seq LIMIT 1", (job,)).fetchone()

    def frontier_row(self, job: str, url: str) -> sqlite3.Row | None:
        return self.db.execute("SELECT * FROM scrape_frontier WHERE job=? AND url=?", (job, url)).fetchone()

    def frontier_finish(self, job: str, url: str, status: str, *, outcome: str, http_status: int | None, error: str,
                        attempts: int) -> None:
        self.db.execute(
            "UPDATE scrape_frontier SET status=?, outcome=?, http_status=?, error=?, attempts=attempts+?, updated_at=? "
            "WHERE job=? AND url=?", (status, outcome, http_status, error or None, attempts, time.time(), job, url))

    def frontier_requeue(self, job: str, statuses: list[str]) -> int:
        """URLs of `job` in one of `statuses` back in the queue (own transaction). Returns how many."""
        with self.transaction() as db:
            cur = db.execute(f"UPDATE scrape_frontier SET status='queued', updated_at=? WHERE job=? "
                             f"AND status IN ({marks(len(statuses))})", (time.time(), job, *statuses))
        return cur.rowcount

    def frontier_requeue_url(self, job: str, url: str) -> None:
        self.db.execute("UPDATE scrape_frontier SET status='queued' WHERE job=? AND url=?", (job, url))

    def frontier_count(self, job: str, statuses: tuple[str, ...], *, skip_outcome: str | None = None) -> int:
        """URLs of `job` in one of `statuses` (leaving out those whose outcome is `skip_outcome`)."""
        sql = f"SELECT COUNT(*) FROM scrape_frontier WHERE job=? AND status IN ({marks(len(statuses))})"
        args: tuple = (job, *statuses)
        if skip_outcome is not None:
            sql += " AND outcome != ?"
            args += (skip_outcome,)
        return self.db.execute(sql, args).fetchone()[0]

    def frontier_job_counts(self) -> list[tuple[str, str, int]]:
        """[(job, status, URLs)], by job."""
        return [(r[0], r[1], r[2]) for r in self.db.execute(
            "SELECT job, status, COUNT(*) FROM scrape_frontier GROUP BY job, status ORDER BY job")]

    def frontier_list(self, statuses: tuple[str, ...], job: str | None, limit: int, *, failures: bool) -> list[dict]:
        """Frontier rows in `statuses`: failures newest first (job, url, http_status, error, status),
        else in queue order (job, url, kind)."""
        cols = "job, url, http_status, error, status" if failures else "job, url, kind"
        sql = f"SELECT {cols} FROM scrape_frontier WHERE status IN ({marks(len(statuses))})"
        args: tuple = tuple(statuses)
        if job:
            sql += " AND job=?"
            args += (job,)
        sql += " ORDER BY updated_at DESC LIMIT ?" if failures else " ORDER BY job, seq LIMIT ?"
        return [dict(r) for r in self.db.execute(sql, (*args, limit))]

    def scrape_page(self, url: str) -> sqlite3.Row | None:
        return self.db.execute("SELECT * FROM scrape_pages WHERE url=?", (url,)).fetchone()

    def remember_scrape_page(self, url: str, *, etag: str | None, last_modified: str | None, sha256: str | None,
                             encoding: str | None, raw_id: int | None) -> None:
        self.db.execute(
            "INSERT INTO scrape_pages (url, etag, last_modified, sha256, encoding, raw_id, fetched_at) "
            "VALUES (?,?,?,?,?,?,?) ON CONFLICT(url) DO UPDATE SET etag=excluded.etag, "
            "last_modified=excluded.last_modified, sha256=COALESCE(excluded.sha256, sha256), "
            "encoding=COALESCE(excluded.encoding, encoding), raw_id=COALESCE(excluded.raw_id, raw_id), "
            "fetched_at=excluded.fetched_at",
            (url, etag, last_modified, sha256, encoding, raw_id, time.time()))

    def scrape_hosts(self) -> dict[str, tuple[float | None, float | None]]:
        """{host: (last request, wall-clock seconds; robots.txt Crawl-delay)}: politeness across runs."""
        return {r[0]: (r[1], r[2]) for r in self.db.execute("SELECT host, last_fetch, crawl_delay FROM scrape_hosts")}

    def remember_scrape_host(self, host: str, *, last_fetch: float | None = None,
                             crawl_delay: float | None = None) -> None:
        self.db.execute(
            "INSERT INTO scrape_hosts (host, last_fetch, crawl_delay) VALUES (?,?,?) ON CONFLICT(host) DO UPDATE SET "
            "last_fetch=COALESCE(excluded.last_fetch, last_fetch), crawl_delay=COALESCE(excluded.crawl_delay, crawl_delay)",
            (host, last_fetch, crawl_delay))

    def scrape_pages_count(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM scrape_pages").fetchone()[0]

    def log_fetch(self, job: str, url: str, outcome: str, *, final_url: str | None, http_status: int | None,
                  nbytes: int | None, encoding: str | None, attempts: int, error: str) -> None:
        self.db.execute(
            "INSERT INTO scrape_log (job, url, final_url, http_status, outcome, bytes, encoding, attempts, error, at) "
            "VALUES (?,?,?,?,?,?,?,?,?,?)",
            (job, url, final_url, http_status, outcome, nbytes, encoding, attempts, error or None, time.time()))

    def fetch_log_counts(self) -> dict[str, int]:
        """{outcome: fetches} over the whole fetch log."""
        return {r[0]: r[1] for r in self.db.execute("SELECT outcome, COUNT(*) FROM scrape_log GROUP BY outcome")}

    # stats --------------------------------------------------------------------------------
    def stats(self) -> dict:
        db = self.db
        docs, chars, truncated = db.execute(
            "SELECT count(*), coalesce(sum(char_count),0), coalesce(sum(truncated),0) FROM documents"
        ).fetchone()
        paras = db.execute("SELECT count(*) FROM paragraphs").fetchone()[0]
        by_site = db.execute(
            "SELECT coalesce(site,'(unknown)') s, count(*) n FROM documents GROUP BY s ORDER BY n DESC, s"
        ).fetchall()
        by_year = db.execute(
            "SELECT coalesce(year,'(unknown)') y, count(*) n FROM documents GROUP BY y ORDER BY y DESC"
        ).fetchall()
        by_type = db.execute(
            "SELECT coalesce(doc_type,'(unknown)') t, count(*) n FROM documents GROUP BY t ORDER BY n DESC, t"
        ).fetchall()
        clusters = db.execute(
            "SELECT count(*) FROM (SELECT cluster_id FROM documents WHERE cluster_id IS NOT NULL GROUP BY cluster_id HAVING count(*)>1)"
        ).fetchone()[0]
        return {
            "documents": docs,
            "paragraphs": paras,
            "characters": chars,
            "truncated": truncated,
            "raw_sources": self.raw_count(),
            "repost_clusters": clusters,
            "by_site": [(r[0], r[1]) for r in by_site],
            "by_year": [(r[0], r[1]) for r in by_year],
            "by_type": [(r[0], r[1]) for r in by_type],
        }


def _use_wal(conn: sqlite3.Connection, timeout: float) -> None:
    """Switch a new store to WAL. Two processes opening the same new file at once can make the switch
    fail with "database is locked" at once (SQLite does not call the busy handler for it), so it is
    retried until `timeout`, like every other statement on the connection."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def chunked(values, size: int = IN_CHUNK) -> Iterator[list]:
    """`values` (any iterable) in lists of at most `size`: one `IN (...)` statement each."""
    values = list(values)
    for i in range(0, len(values), size):
        yield values[i:i + size]


def marks(n: int) -> str:
    """'?,?,?' for an `IN (...)` of n values."""
    return ",".join("?" * n)


def _char_count(doc: Document) -> int:
    return sum(len(p.text) for p in doc.paragraphs)


def _para(r: sqlite3.Row) -> dict:
    d = dict(r)
    d["section"] = json.loads(d["section"] or "[]")
    return d


def open_store(settings, *, readonly: bool = False) -> Store:
    return Store(settings.db_path, readonly=readonly)


@contextmanager
def reading(settings, store: Store | None = None) -> Iterator[Store]:
    """`store` when the caller holds one (one per CLI process, one per web app), else a read-only
    store opened for this block and closed after it: no store outlives its caller."""
    if store is not None:
        yield store
        return
    own = Store(settings.db_path, readonly=True)
    try:
        yield own
    finally:
        own.close()
