"""Near-duplicate detection: the same speech reposted on several sites, lightly edited.

Text is normalised (full-width -> half-width; punctuation, whitespace and placeholder marks
dropped), then fingerprinted with a 64-bit SimHash over character 3-gram
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


# Full-width ASCII (！ to ～) and the ideographic space fold to their half-width forms: a cheap
# stand-in for NFKC, which costs more than everything else in ingest on long texts.
_WIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}


@lru_cache(maxsize=4096)  # ingest normalises each paragraph twice: for its hash and its SimHash
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


def assign_clusters(store, kind: str, items: list[tuple[int, str]]) -> None:
    """Give each new item (id, text) a cluster id: that of a stored near-duplicate, else its own id.

    kind 'p' works on paragraphs, 'd' on documents. Runs inside the caller's transaction. All
    items of one call (a document's paragraphs) are looked up together: one query per band, so
    the cost is per document, not per paragraph; items of the same call can match each other.
    """
    short: list[tuple[int, str]] = []
    long: list[tuple[int, int]] = []  # (id, simhash)
    for item_id, text in items:
        norm = normalize(text)
        if kind == "p" and len(norm) < MIN_CHARS:  # short lines fold only when identical
            short.append((item_id, _hash(norm)))
        else:
            long.append((item_id, simhash(norm, already_normal=True)))
    updates: list[tuple] = []
    if short:
        found = store.clusters_by_norm_hash({h for _, h in short})
        for item_id, h in short:
            cluster = found.setdefault(h, item_id)
            updates.append((cluster, item_id))
        store.set_paragraph_clusters(updates)
    if not long:
        return
    keys_by_band: list[set[int]] = [set() for _ in range(BANDS)]
    item_keys = []
    for _item_id, h in long:
        keys = bands(h)
        item_keys.append(keys)
        for b, k in enumerate(keys):
            keys_by_band[b].add(k)
    # Stored items sharing any band key with a new one, with their hash and cluster.
    stored: dict[tuple[int, int], list[int]] = {}
    for b, keys in enumerate(keys_by_band):
        for key, other in store.lsh_items(kind, b, keys):
            stored.setdefault((b, key), []).append(other)
    others = {o for v in stored.values() for o in v}
    info: dict[int, tuple[int, int]] = {}
    for oid, (oh, oc) in store.simhash_clusters(kind, others).items():
        if oh is not None:
            info[oid] = (oh, oc if oc is not None else oid)
    updates = []
    lsh_rows = []
    for (item_id, h), keys in zip(long, item_keys, strict=True):
        cluster, best = None, MAX_DISTANCE + 1
        for b, k in enumerate(keys):
            for other in stored.get((b, k), ()):
                if other == item_id or other not in info:
                    continue
                d = distance(info[other][0], h)
                if d < best:
                    best, cluster = d, info[other][1]
        cluster = cluster or item_id
        info[item_id] = (h, cluster)  # later items of this call can match this one
        for b, k in enumerate(keys):
            stored.setdefault((b, k), []).append(item_id)
            lsh_rows.append((kind, b, k, item_id))
        updates.append((h, cluster, item_id))
    store.set_simhash_clusters(kind, updates)
    store.add_lsh(lsh_rows)


def cluster_document(store, doc_id: int, text: str) -> None:
    """Clusters for a document just stored: its paragraphs among all stored paragraphs, then the document."""
    assign_clusters(store, "p", store.paragraph_texts_of(doc_id))
    assign_clusters(store, "d", [(doc_id, text)])
