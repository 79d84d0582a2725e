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


def normalize(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    return _DROP.sub("", text).lower()


def norm_hash(text: str) -> str:
    return hashlib.blake2b(normalize(text).encode("utf-8"), digest_size=12).hexdigest()


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
    for item_id, text in items:
        norm = normalize(text)
        cluster = None
        if kind == "p" and len(norm) < MIN_CHARS:
            row = db.execute(
                "SELECT cluster_id FROM paragraphs WHERE norm_hash=? AND id<>? AND cluster_id IS NOT NULL LIMIT 1",
                (norm_hash(text), item_id),
            ).fetchone()
            cluster = row[0] if row else item_id
            db.execute(f"UPDATE {table} SET cluster_id=? WHERE id=?", (cluster, item_id))
            continue
        h = simhash(norm, already_normal=True)
        seen: set[int] = set()
        for b, key in enumerate(bands(h)):
            for other_id, in db.execute("SELECT item_id FROM lsh WHERE kind=? AND band=? AND key=?", (kind, b, key)):
                if other_id in seen or other_id == item_id:
                    continue
                seen.add(other_id)
                row = db.execute(f"SELECT simhash, cluster_id FROM {table} WHERE id=?", (other_id,)).fetchone()
                if row and row[0] is not None and distance(row[0], h) <= MAX_DISTANCE:
                    cluster = row[1] if row[1] is not None else other_id
                    break
            if cluster is not None:
                break
        db.execute(f"UPDATE {table} SET simhash=?, cluster_id=? WHERE id=?", (h, cluster or item_id, item_id))
        db.executemany("INSERT INTO lsh (kind, band, key, item_id) VALUES (?,?,?,?)",
                       [(kind, b, key, item_id) for b, key in enumerate(bands(h))])
