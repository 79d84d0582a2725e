"""Near-duplicate detection: the same speech reposted on several sites, lightly edited.

Text is normalised (traditional -> simplified, full-width -> half-width, punctuation, whitespace
and placeholder marks dropped), then fingerprinted with a 64-bit SimHash over character 3-gram
shingles. Two texts whose fingerprints differ in at most `MAX_DISTANCE` bits are the same text.
Candidates are found with 4 bands of 16 bits (pigeonhole: any pair within 3 bits shares a band),
kept in the store's `lsh` table, so ingest finds reposts among everything already stored.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from functools import lru_cache

import numpy as np

MAX_DISTANCE = 3
BANDS = 4
MIN_CHARS = 24  # shorter paragraphs ("同志们:") only fold when identical

_DROP = re.compile(r"[\s\W_xX*×＊]+", re.UNICODE)


@lru_cache(maxsize=1)
def _t2s():
    try:
        import opencc  # opencc-python-reimplemented

        return opencc.OpenCC("t2s")
    except Exception:  # pragma: no cover - optional
        return None


# Full-width ASCII (！ to ～) and the ideographic space fold to their half-width forms: a cheap
# stand-in for NFKC, which costs more than everything else in ingest on long texts.
_WIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}


def normalize(text: str) -> str:
    text = text.translate(_WIDTH)
    if not text.isascii() and not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    return _DROP.sub("", text).lower()


def norm_hash(text: str) -> str:
    return _hash(normalize(text))


def _hash(norm: str) -> str:
    return hashlib.blake2b(norm.encode("utf-8"), digest_size=12).hexdigest()


_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_P = (np.uint64(0x9E3779B97F4A7C15), np.uint64(0xC2B2AE3D27D4EB4F), np.uint64(0x165667B19E3779F9))


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser, vectorised: spreads each 3-gram's bits over all 64."""
    x = x ^ (x >> np.uint64(30))
    x = x * _M1
    x = x ^ (x >> np.uint64(27))
    x = x * _M2
    return x ^ (x >> np.uint64(31))


def simhash(text: str, *, already_normal: bool = False) -> int:
    """64-bit SimHash of character 3-grams of the normalised text (signed, to fit SQLite INTEGER)."""
    t = text if already_normal else normalize(text)
    if len(t) < 3:
        t = t + "  "
    cps = np.frombuffer(t.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    with np.errstate(over="ignore"):
        grams = _mix(cps[:-2] * _P[0] ^ cps[1:-1] * _P[1] ^ cps[2:] * _P[2])
    bits = np.unpackbits(grams.view(np.uint8).reshape(-1, 8), axis=1, bitorder="little")
    votes = bits.sum(axis=0, dtype=np.int64) * 2 - len(grams)
    packed = np.packbits(votes > 0, bitorder="little").view(np.uint64)[0]
    return _to_signed(int(packed))


def bands(h: int) -> list[int]:
    u = h & 0xFFFFFFFFFFFFFFFF
    return [(u >> (16 * b)) & 0xFFFF for b in range(BANDS)]


def distance(a: int, b: int) -> int:
    return ((a ^ b) & 0xFFFFFFFFFFFFFFFF).bit_count()


def _to_signed(u: int) -> int:
    return u - (1 << 64) if u >= (1 << 63) else u


def assign_clusters(db, kind: str, items: list[tuple[int, str]]) -> None:
    """Give each new item (id, text) a cluster id: that of a stored near-duplicate, else its own id.

    kind 'p' works on paragraphs, 'd' on documents. Runs inside the caller's transaction.
    """
    table = "paragraphs" if kind == "p" else "documents"
    # One indexed lookup per band (an OR across bands makes SQLite scan the whole table).
    band_sql = " UNION ".join(f"SELECT item_id FROM lsh WHERE kind=? AND band={b} AND key=?" for b in range(BANDS))
    candidates_sql = (
        f"SELECT t.id, t.simhash, t.cluster_id FROM ({band_sql}) c JOIN {table} t ON t.id=c.item_id WHERE t.id<>?"
    )
    for item_id, text in items:
        norm = normalize(text)
        if kind == "p" and len(norm) < MIN_CHARS:  # short lines fold only when identical
            row = db.execute(
                "SELECT cluster_id FROM paragraphs WHERE norm_hash=? AND id<>? AND cluster_id IS NOT NULL LIMIT 1",
                (_hash(norm), item_id),
            ).fetchone()
            db.execute("UPDATE paragraphs SET cluster_id=? WHERE id=?", (row[0] if row else item_id, item_id))
            continue
        h = simhash(norm, already_normal=True)
        keys = bands(h)
        cluster = None
        best = MAX_DISTANCE + 1
        for other_id, other_hash, other_cluster in db.execute(candidates_sql, (*[v for k in keys for v in (kind, k)], item_id)):
            if other_hash is None:
                continue
            d = distance(other_hash, h)
            if d < best:
                best, cluster = d, (other_cluster if other_cluster is not None else other_id)
        db.execute(f"UPDATE {table} SET simhash=?, cluster_id=? WHERE id=?", (h, cluster or item_id, item_id))
        db.executemany("INSERT INTO lsh (kind, band, key, item_id) VALUES (?,?,?,?)",
                       [(kind, b, key, item_id) for b, key in enumerate(keys)])
