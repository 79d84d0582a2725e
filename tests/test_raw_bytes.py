"""The store keeps the bytes as collected, so `corpus reclean` decodes again; old stores still open."""

from __future__ import annotations

import sqlite3

from corpus.ingest import ingest_paths, reclean
from corpus.store import Store

TEXT = "在全县乡村振兴暨重点项目谋划工作会上的讲话\n同志们：要强化要素保障，土地、资金、用工等要素跟着项目走。" * 3

# corpus/store.py at schema version 1 (before raw bytes and document levels)
V1_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS raw_sources (
    id INTEGER PRIMARY KEY,
    sha256 TEXT NOT NULL UNIQUE,
    path TEXT NOT NULL,
    format TEXT NOT NULL,
    encoding TEXT,
    meta TEXT NOT NULL DEFAULT '{}',
    raw TEXT NOT NULL,
    added_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS documents (
    id INTEGER PRIMARY KEY,
    raw_id INTEGER NOT NULL REFERENCES raw_sources(id),
    part_index INTEGER NOT NULL DEFAULT 0,
    title TEXT NOT NULL,
    site TEXT, url TEXT, file_path TEXT,
    date TEXT, year INTEGER,
    unit TEXT, meeting TEXT, speaker TEXT, doc_type TEXT,
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


def test_bytes_are_kept_and_reclean_decodes_them_again(settings, tmp_path):
    f = tmp_path / "speech.txt"
    f.write_bytes(b"\xef\xbb\xbf" + TEXT.encode("gb18030"))  # GB18030 behind a UTF-8 byte-order mark
    s = ingest_paths(settings, [f])
    assert s.ok and s.documents_added == 1
    store = Store(settings.db_path)
    row = next(store.iter_raw())
    assert store.raw_bytes(row) == f.read_bytes()
    assert row["encoding"] == "gb18030+bom" and "\ufffd" not in row["raw"]
    # an older decoder stored damaged text: reclean repairs it from the kept bytes
    damaged = f.read_bytes()[3:].decode("utf-8", errors="replace")
    store.update_raw_text(row["id"], raw=damaged, encoding="utf-8-sig")
    r = reclean(settings, store=store)
    assert not r.failed
    row = next(store.iter_raw())
    assert row["raw"] == TEXT and row["encoding"] == "gb18030+bom"


def test_store_of_schema_version_1_opens_migrates_and_works(settings, tmp_path):
    settings.db_path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(settings.db_path)
    db.executescript(V1_SCHEMA)
    db.execute("INSERT INTO meta VALUES ('schema_version', '1')")
    db.execute("INSERT INTO raw_sources (sha256, path, format, encoding, meta, raw, added_at) VALUES "
               "('abc', 'old.txt', 'text', 'utf-8', '{}', ?, 0)", (TEXT,))
    db.commit()
    db.close()
    old = Store(settings.db_path, readonly=True)  # read-only: not migrated, still reads
    assert old.stats()["documents"] == 0 and list(old.iter_documents()) == []
    old.close()
    store = Store(settings.db_path)
    assert store.db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0] == "3"
    row = next(store.iter_raw())
    assert store.raw_bytes(row) is None
    r = reclean(settings, store=store)  # from the stored text
    assert not r.failed and r.added == 1
    f = tmp_path / "new.txt"
    f.write_text("新的讲话\n" + TEXT.replace("乡村振兴", "城市更新"), encoding="utf-8")
    s = ingest_paths(settings, [f], store=store)
    assert s.ok and s.documents_added == 1
    assert Store(settings.db_path, readonly=True).stats()["documents"] == 2
    levels = {d["title"]: d["level"] for d in Store(settings.db_path, readonly=True).iter_documents()}
    assert levels == {"在全县乡村振兴暨重点项目谋划工作会上的讲话": "县", "新的讲话": None}  # the level from the title


def test_readonly_store_without_level_column_reads_documents(settings, tmp_path):
    f = tmp_path / "a.txt"
    f.write_text(TEXT, encoding="utf-8")
    assert ingest_paths(settings, [f]).ok
    db = sqlite3.connect(settings.db_path)
    db.execute("ALTER TABLE documents DROP COLUMN level")  # as a version-2 store has it
    db.commit()
    db.close()
    docs = list(Store(settings.db_path, readonly=True).iter_documents())
    assert len(docs) == 1 and docs[0]["level"] is None


def test_damaged_file_is_reported_not_stored(settings, tmp_path):
    data = bytearray(TEXT.encode("utf-8"))
    for i in range(0, len(data), 5):
        data[i] = 0xFF
    f = tmp_path / "broken.txt"
    f.write_bytes(bytes(data))
    s = ingest_paths(settings, [f])
    assert not s.ok and s.documents_added == 0
    assert "broken.txt" in s.failed[0][1] and "cannot be decoded" in s.failed[0][1]
