"""Did you mean: near misses of a query term among the corpus's own frequent words.

A drafter who types 要素包障 or 要素保证 and finds nothing should be offered 要素保障. Candidates are the
jieba words of the keyword index (its vocabulary, with document frequencies from the word postings)
that are one edit away (a character replaced, added or dropped; for terms of 5+ characters, two).
Lookup is a symmetric-delete table (SymSpell's idea): every word is filed under itself and each
1-character deletion, so a term is compared only with the few words that share a key, not with the
whole vocabulary. The table is built once per index generation, on the first query that needs it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

MIN_DF = 2  # a word seen in one paragraph only is as likely a typo as the query
MAX_SUGGESTIONS = 3
MIN_LEN, MAX_LEN = 2, 12


def edit_distance(a: str, b: str, limit: int = 3) -> int:
    """Levenshtein distance (stops early once over `limit`)."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        if min(cur) > limit:
            return limit + 1
        prev = cur
    return prev[-1]


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1:] for i in range(len(word))}


@dataclass
class _Table:
    keys: dict[str, list[int]]
    words: list[str]
    df: np.ndarray


_tables: dict[object, _Table] = {}
_lock = threading.Lock()


def _table(view) -> _Table:
    key = (id(view), getattr(view, "generation", None))
    t = _tables.get(key)
    if t is not None:
        return t
    with _lock:
        t = _tables.get(key)
        if t is None:
            df = np.diff(np.asarray(view.woff))
            words, dfs = [], []
            keys: dict[str, list[int]] = {}
            for w, i in view.vocab.items():
                if not (MIN_LEN <= len(w) <= MAX_LEN) or df[i] < MIN_DF or not any("\u4e00" <= c <= "\u9fff" for c in w):
                    continue
                n = len(words)
                words.append(w)
                dfs.append(int(df[i]))
                keys.setdefault(w, []).append(n)
                for d in _deletes(w):
                    keys.setdefault(d, []).append(n)
            t = _Table(keys=keys, words=words, df=np.asarray(dfs, dtype=np.int64))
            _tables.clear()  # one generation at a time
            _tables[key] = t
    return t


def suggest(view, term: str, limit: int = MAX_SUGGESTIONS) -> list[str]:
    """Frequent corpus words one edit from `term` (two for long terms), most frequent first."""
    if not (MIN_LEN <= len(term) <= MAX_LEN):
        return []
    t = _table(view)
    cand: set[int] = set()
    for k in {term} | _deletes(term):
        cand.update(t.keys.get(k, ()))
    if len(term) >= 5:  # two edits: the deletes of the deletes
        for d in list(_deletes(term)):
            for k in _deletes(d):
                cand.update(t.keys.get(k, ()))
    limit_d = 2 if len(term) >= 5 else 1
    scored = []
    for i in cand:
        w = t.words[i]
        if w == term:
            continue
        dist = edit_distance(term, w, limit_d)
        if dist <= limit_d:
            scored.append((dist, -int(t.df[i]), w))
    scored.sort()
    return [w for _, _, w in scored[:limit]]
