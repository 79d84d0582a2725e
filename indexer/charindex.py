"""Exact substring matching over all paragraphs: folded texts in memory plus character postings
built in bulk with numpy.

Why not Whoosh: a character-bigram field with positions meant ~18M postings written one by one
in pure Python (about three quarters of a 7-minute build). Here the same information is a few
numpy sorts (seconds for 121k paragraphs), and a phrase is answered by intersecting posting lists
and checking the candidates against the folded text, which also gives `同句` checks without
reading SQLite.

Data (one *generation* of the keyword index, see indexer.keyword):
- `text`: every paragraph's folded text (`analysis.fold`, same length as the original) joined
  with "\\x00" between paragraphs; `toff[row]` is where row's text starts (`toff[n]` = end).
- `alpha`: the sorted code points of the word characters (`analysis.RUN`) seen; a character's
  rank is its index + 1 (0: not in the corpus).
- postings: sorted unique keys `(rank1 << bits) | rank2` (a bigram of two word characters within
  one run, rank2 = 0 for a single word character), `koff` into `rows`: the sorted row numbers
  holding that key.

Matching (the same as the old bigram phrase query): a phrase's runs of word characters must
occur in this order, separated only by non-word characters (so 要素，保障 also finds 要素。保障);
a one-run phrase is a plain substring, found anywhere (single characters and parts of words too).
"""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np

from .analysis import RUN, _fold_table

SEP = "\x00"
MAX_CODE = 0x110000
VERIFY_ROWS = 3000  # more candidates than this: scan the whole text instead of row by row


@lru_cache(maxsize=1)
def _fold_array() -> np.ndarray:
    table = np.arange(MAX_CODE, dtype=np.uint32)
    for src, dst in _fold_table().items():
        table[src] = dst
    table[0] = 0x20  # a NUL inside a paragraph is a separator of runs, never a paragraph boundary
    return table


def fold_many(texts: list[str]) -> tuple[str, np.ndarray]:
    """All texts folded at once (numpy table lookup, the same result as `fold` on each) and
    joined with SEP -> (joined text, toff): row i is text[toff[i]:toff[i+1] - 1]."""
    lens = np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))
    toff = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum(lens + 1, out=toff[1:])
    if not texts:
        return "", toff
    raw = SEP.join(t.replace(SEP, " ") for t in texts)
    codes = np.frombuffer(raw.encode("utf-32-le"), dtype=np.uint32)
    return _fold_array()[codes].tobytes().decode("utf-32-le"), toff


def fold_each(values: list[str]) -> list[str]:
    """`analysis.fold` of each value, all at once (fold_many's table lookup over them joined;
    ~4x faster than str.translate per value, which most Chinese text needs for its full-width
    punctuation)."""
    if not values:
        return []
    if any(SEP in v for v in values):  # (fold_many turns it into a space)
        from .analysis import fold

        return [fold(v) for v in values]
    text, toff = fold_many(values)
    bounds = toff.tolist()
    return [text[a:b - 1] for a, b in zip(bounds, bounds[1:], strict=False)]


def row_end(toff: np.ndarray, row: int) -> int:
    """End offset of a row's text (the SEP after it excluded)."""
    return int(toff[row + 1]) - 1


def _bits(n: int) -> int:
    return max(1, int(n).bit_length())


@lru_cache(maxsize=1)
def _word_char_probe():
    return re.compile(r"[^\W_]")


def build_postings(text: str, toff: np.ndarray) -> dict[str, np.ndarray]:
    """Bigram and unigram postings of the joined folded text (see the module docstring)."""
    n = len(toff) - 1
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    present = np.zeros(MAX_CODE, dtype=bool)
    present[codes] = True
    probe = _word_char_probe()
    seen = np.flatnonzero(present)
    alpha = np.array([c for c in seen.tolist() if probe.match(chr(c))], dtype=np.uint32)
    rank = np.zeros(MAX_CODE, dtype=np.int32)
    rank[alpha] = np.arange(1, len(alpha) + 1, dtype=np.int32)
    r = rank[codes]  # 0 for non-word characters (and SEP)
    del codes
    row = np.zeros(len(r), dtype=np.int32)
    if n > 1:
        marks = toff[1:-1]  # toff[i] for i >= 1 is the first char after a SEP
        row[marks[marks < len(row)]] = 1  # (empty texts at the very end start at len(text))
        np.cumsum(row, out=row)
    cb = _bits(len(alpha) + 1)
    rb = _bits(max(n - 1, 1))
    word = r > 0
    bi = np.flatnonzero(word[:-1] & word[1:]) if len(r) > 1 else np.zeros(0, dtype=np.int64)
    uni = np.flatnonzero(word)
    del word
    nb = len(bi)
    if 2 * cb + rb > 63:  # pragma: no cover - needs millions of distinct characters and rows
        raise ValueError("corpus too large for the character index key layout")
    # one int64 per posting: (rank1 << cb | rank2) << rb | row, built in place to keep memory low
    comp = np.empty(nb + len(uni), dtype=np.int64)
    head = comp[:nb]
    head[:] = r[bi]
    head <<= cb
    head |= r[bi + 1]
    head <<= rb
    head |= row[bi]
    del bi
    tail = comp[nb:]
    tail[:] = r[uni]
    tail <<= cb + rb
    tail |= row[uni]
    del uni, r, row, head, tail
    comp.sort()  # (np.unique hashes first in numpy 2: several times slower here)
    keep = np.ones(len(comp), dtype=bool)
    np.not_equal(comp[1:], comp[:-1], out=keep[1:])
    comp = comp[keep]
    del keep
    rows = (comp & ((1 << rb) - 1)).astype(np.int32)
    comp >>= rb
    keys = comp
    if len(keys):
        starts = np.flatnonzero(np.concatenate([[True], keys[1:] != keys[:-1]]))
    else:
        starts = np.zeros(0, dtype=np.int64)
    ukeys = keys[starts]
    koff = np.append(starts, len(keys)).astype(np.int64)
    return {
        "alpha": alpha,
        "ckeys": ukeys.astype(np.int64),
        "ckoff": koff,
        "crows": rows.astype(np.int32),
        "cbits": np.array([cb], dtype=np.int64),
    }


def intersect_sorted(arrays: list[np.ndarray]) -> np.ndarray:
    """Intersection of sorted unique integer arrays, smallest first (binary search into the rest)."""
    if not arrays:
        return np.zeros(0, dtype=np.int32)
    arrays = sorted(arrays, key=len)
    out = np.asarray(arrays[0])
    for other in arrays[1:]:
        if not len(out):
            break
        idx = np.searchsorted(other, out)
        idx[idx >= len(other)] = len(other) - 1
        out = out[np.asarray(other)[idx] == out]
    return out


class CharIndex:
    """Read side: phrase -> sorted row numbers (exact), plus each row's folded text."""

    def __init__(self, text: str, toff: np.ndarray, alpha: np.ndarray, ckeys: np.ndarray, ckoff: np.ndarray,
                 crows: np.ndarray, cbits: int):
        self.text = text
        self.toff = toff
        self.n = len(toff) - 1
        self.rank = {int(c): i + 1 for i, c in enumerate(alpha.tolist())}
        self.ckeys = ckeys
        self.ckoff = ckoff
        self.crows = crows
        self.cbits = int(cbits)

    def row_text(self, row: int) -> str:
        return self.text[int(self.toff[row]):row_end(self.toff, row)]

    def _posting(self, key: int) -> np.ndarray:
        i = int(np.searchsorted(self.ckeys, key))
        if i >= len(self.ckeys) or int(self.ckeys[i]) != key:
            return np.zeros(0, dtype=np.int32)
        return self.crows[int(self.ckoff[i]):int(self.ckoff[i + 1])]

    def _run_lists(self, run: str) -> list[np.ndarray] | None:
        ranks = [self.rank.get(ord(c), 0) for c in run]
        if 0 in ranks:
            return None
        cb = self.cbits
        if len(ranks) == 1:
            return [self._posting(ranks[0] << cb)]
        return [self._posting((a << cb) | b) for a, b in zip(ranks, ranks[1:], strict=False)]

    def candidate_rows(self, folded_phrase: str) -> np.ndarray:
        """Rows holding every character pair of the phrase: a superset of `rows_for`, not yet
        checked against the text (cheap; for callers that check only some of the rows)."""
        runs = RUN.findall(folded_phrase)
        if not runs:
            return np.zeros(0, dtype=np.int32)
        lists: list[np.ndarray] = []
        for run in dict.fromkeys(runs):
            got = self._run_lists(run)
            if got is None:
                return np.zeros(0, dtype=np.int32)
            lists.extend(got)
        return intersect_sorted(lists)

    def rows_for(self, folded_phrase: str) -> np.ndarray:
        """Rows whose folded text holds the phrase (see the module docstring for the rule)."""
        runs = RUN.findall(folded_phrase)
        cand = self.candidate_rows(folded_phrase)
        if len(runs) == 1 and len(runs[0]) <= 2:
            return cand  # the postings are the answer
        if len(cand) == 0:
            return cand
        if len(runs) == 1:
            return self._verify_substring(runs[0], cand)
        return self._verify_pattern(_runs_pattern(tuple(runs)), cand)

    def _verify_substring(self, needle: str, cand: np.ndarray) -> np.ndarray:
        text, toff = self.text, self.toff
        if len(cand) > VERIFY_ROWS:
            found = []
            i = text.find(needle)
            while i >= 0:
                found.append(i)
                i = text.find(needle, i + 1)
            return self._rows_at(found)
        find = text.find
        keep = [r for r, s, e in zip(cand.tolist(), toff[cand].tolist(), toff[cand + 1].tolist(), strict=True)
                if find(needle, s, e) >= 0]
        return np.asarray(keep, dtype=np.int32)

    def _verify_pattern(self, pattern: re.Pattern, cand: np.ndarray) -> np.ndarray:
        text, toff = self.text, self.toff
        if len(cand) > VERIFY_ROWS:  # one pass over the whole text: a match must not span two rows
            spans = [(m.start(), m.end()) for m in pattern.finditer(text)]
            ok = within_one_row(toff, [a for a, _ in spans], [b for _, b in spans])
            return self._rows_at([a for (a, _), k in zip(spans, ok.tolist(), strict=True) if k])
        search = pattern.search
        keep = [r for r, s, e in zip(cand.tolist(), toff[cand].tolist(), toff[cand + 1].tolist(), strict=True)
                if search(text, s, e) is not None]
        return np.asarray(keep, dtype=np.int32)

    def _rows_at(self, positions: list[int]) -> np.ndarray:
        if not positions:
            return np.zeros(0, dtype=np.int32)
        rows = np.searchsorted(self.toff, np.asarray(positions, dtype=np.int64), side="right") - 1
        return np.unique(rows).astype(np.int32)


def within_one_row(toff: np.ndarray, starts, ends) -> np.ndarray:
    """For matches found in the joined text: whether each lies inside one row. The row separator
    is folded to a space (a NUL inside a paragraph is one too), so a pattern that allows
    punctuation or a gap between its parts could otherwise run from the end of one paragraph into
    the next."""
    st = np.asarray(starts, dtype=np.int64)
    en = np.maximum(np.asarray(ends, dtype=np.int64) - 1, st)
    return np.searchsorted(toff, st, side="right") == np.searchsorted(toff, en, side="right")


@lru_cache(maxsize=256)
def _runs_pattern(runs: tuple[str, ...]) -> re.Pattern:
    """Runs in order separated by non-word characters (inside one row: see within_one_row)."""
    sep = r"[\W_]+"
    return re.compile(sep.join(re.escape(r) for r in runs))
