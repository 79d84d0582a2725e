"""Collocations with statistics (搭配): the jieba words within a window left and right of a
phrase, ranked by logDice, with log-likelihood and raw counts shown.

Counting (one *occurrence* = one exact match of the phrase, as KWIC lists them):
- the node's words are the index's jieba words overlapping the match; its window is the
  `window` words before the first of them and after the last, within the paragraph (the
  analyzer already dropped punctuation and spaces);
- f_xy: how often a word stands in the windows (left and right counted apart too);
- f_x: occurrences of the phrase; f_y: occurrences of the word in the sub-corpus;
  N: words in the sub-corpus; W: words in all windows.

Statistics (both computed in `scores()`, which the tests check against a reference):
- logDice = 14 + log2(2·f_xy / (f_x + f_y))  (Rychlý 2008: at most 14, comparable across corpora)
- log-likelihood G² = 2·Σ O·ln(O/E) over the 2×2 table {in windows, elsewhere} × {the word,
  other words}: O11 = f_xy, O12 = W − f_xy, O21 = f_y − f_xy, O22 = N − W − O21 (Dunning 1993).
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from dataclasses import asdict, dataclass, field

import numpy as np

from corpus.errors import QueryError

from .analysis import fold
from .subcorpus import (
    clean_phrase,
    corpus_rows,
    normalise_filters,
    occurrences,
    row_mask,
    token_spans_of,
    tokens,
)

SORTS = ("logdice", "ll", "count")
MAX_WINDOW = 10
MAX_OCCURRENCES = 500_000  # a bound on the work one request may ask for: past this, ask for a filter


@dataclass
class Collocate:
    word: str
    count: int  # f_xy
    left: int
    right: int
    frequency: int  # f_y in the sub-corpus
    logdice: float
    ll: float


@dataclass
class CollocationResult:
    phrase: str
    window: int
    filters: dict[str, list[str]]
    fold: bool
    sort: str
    occurrences: int  # f_x
    corpus_words: int  # N
    window_words: int  # W
    collocates: list[Collocate] = field(default_factory=list)
    left: list[Collocate] = field(default_factory=list)  # the top words by their left count
    right: list[Collocate] = field(default_factory=list)

    def to_json(self) -> dict:
        return asdict(self)

    def table(self) -> tuple[list[str], list[list]]:
        cols = ["word", "logdice", "log_likelihood", "count", "left", "right", "word_frequency"]
        return cols, [[c.word, c.logdice, c.ll, c.count, c.left, c.right, c.frequency] for c in self.collocates]


def _xlogx_ratio(o: float, e: float) -> float:
    return o * math.log(o / e) if o > 0 and e > 0 else 0.0


def log_likelihood(a: float, b: float, c: float, d: float) -> float:
    """G² of the 2×2 table [[a, b], [c, d]] (0·ln 0 = 0)."""
    n = a + b + c + d
    if n <= 0:
        return 0.0
    r1, r2, c1, c2 = a + b, c + d, a + c, b + d
    g = (_xlogx_ratio(a, r1 * c1 / n) + _xlogx_ratio(b, r1 * c2 / n) + _xlogx_ratio(c, r2 * c1 / n)
         + _xlogx_ratio(d, r2 * c2 / n))
    return 2.0 * g


def scores(f_xy: int, f_x: int, f_y: int, window_words: int, corpus_words: int) -> tuple[float, float]:
    """(logDice, log-likelihood) of a collocate (see the module docstring)."""
    logdice = 14 + math.log2(2 * f_xy / (f_x + f_y)) if f_xy > 0 and f_x + f_y > 0 else float("-inf")
    a = f_xy
    b = max(window_words - f_xy, 0)
    c = max(f_y - f_xy, 0)
    d = max(corpus_words - window_words - c, 0)
    return logdice, log_likelihood(a, b, c, d)


def collocations(settings, phrase: str, window: int = 5, filters: dict | None = None, fold_reposts: bool = True,
                 min_count: int = 2, top: int = 50, sort: str = "logdice") -> CollocationResult:
    """The words around `phrase` in the sub-corpus, with logDice and log-likelihood."""
    if sort not in SORTS:
        raise QueryError(f"unknown sort {sort!r}: use one of {', '.join(SORTS)}")
    if not 1 <= int(window) <= MAX_WINDOW:
        raise QueryError(f"the window must be between 1 and {MAX_WINDOW} words")
    phrase = clean_phrase(phrase)
    f = normalise_filters(filters)
    rows = corpus_rows(settings)
    mask = row_mask(rows, f, fold_reposts)
    tok, tokoff, words = tokens(settings, rows)
    hit_rows, starts = occurrences(rows, phrase, mask)
    if len(hit_rows) > MAX_OCCURRENCES:
        raise QueryError(f"“{phrase}” occurs {len(hit_rows)} times, too often for collocations (at most "
                         f"{MAX_OCCURRENCES}): narrow it with a filter (year, type, site) or a longer phrase")
    needle_len = np.asarray(_match_lengths(rows, phrase, hit_rows, starts), dtype=np.int64)
    # the words of the rows holding a match (their starts in the index text, in row order)
    sel = np.unique(hit_rows)
    tstart, tlen, local = token_spans_of(settings, rows, sel)
    tend = tstart + tlen
    # the words overlapping a match [s, e): from the first ending after s to the last starting before e
    # (found among the words of those rows, then numbered as in the whole index: tokoff)
    k = np.searchsorted(sel, hit_rows)
    shift = np.asarray(tokoff[hit_rows], dtype=np.int64) - local[k]
    lo = np.searchsorted(tend, starts, side="right") + shift
    hi = np.searchsorted(tstart, starts + needle_len, side="left") + shift
    first, last = np.asarray(tokoff[hit_rows]), np.asarray(tokoff[hit_rows + 1])  # the paragraph's words
    lo, hi = np.clip(lo, first, last), np.clip(hi, first, last)
    left_ids = _ranges(tok, np.maximum(first, lo - window), lo)
    right_ids = _ranges(tok, hi, np.minimum(last, hi + window))
    window_words = len(left_ids) + len(right_ids)
    left_n = np.bincount(left_ids, minlength=len(words))
    right_n = np.bincount(right_ids, minlength=len(words))
    f_x = len(hit_rows)
    freq = _frequencies(rows, tok, tokoff, mask, (repr(sorted(f.items())), fold_reposts), len(words))
    corpus_words = int(freq.sum())
    total_n = left_n + right_n
    cands = np.flatnonzero(total_n >= min_count).tolist()
    node = fold(phrase)
    out = []
    for w in cands:
        if words[w] == node:  # the phrase itself, when a window reaches its next occurrence
            continue
        n_xy, f_y = int(total_n[w]), int(freq[w])
        ld, ll = scores(n_xy, f_x, f_y, window_words, corpus_words)
        out.append(Collocate(word=words[w], count=n_xy, left=int(left_n[w]), right=int(right_n[w]), frequency=f_y,
                             logdice=round(ld, 3), ll=round(ll, 2)))
    keyf = {"logdice": lambda c: (-c.logdice, -c.ll, c.word), "ll": lambda c: (-c.ll, -c.logdice, c.word),
            "count": lambda c: (-c.count, -c.logdice, c.word)}[sort]
    out.sort(key=keyf)
    left = sorted([c for c in out if c.left >= min_count], key=lambda c: (-c.left, -c.logdice, c.word))[:top]
    right = sorted([c for c in out if c.right >= min_count], key=lambda c: (-c.right, -c.logdice, c.word))[:top]
    return CollocationResult(phrase=phrase, window=int(window), filters=f, fold=fold_reposts, sort=sort,
                             occurrences=f_x, corpus_words=corpus_words, window_words=window_words,
                             collocates=out[:top] if top else out, left=left, right=right)


_freq_cache: OrderedDict = OrderedDict()  # (per-row table, filters, fold) -> word frequencies
_freq_lock = threading.Lock()


def _frequencies(rows, tok, tokoff, mask: np.ndarray, key: tuple, vocab: int) -> np.ndarray:
    """How often each word occurs in the sub-corpus (kept for the last few sub-corpora)."""
    k = (rows.serial, *key)
    with _freq_lock:
        hit = _freq_cache.get(k)
        if hit is not None:
            _freq_cache.move_to_end(k)
            return hit
    counts = np.diff(np.asarray(tokoff, dtype=np.int64))
    ids = np.asarray(tok)[np.repeat(np.asarray(mask, dtype=bool), counts)]  # the words of the rows in mask
    freq = np.bincount(ids, minlength=vocab)
    with _freq_lock:
        _freq_cache[k] = freq
        while len(_freq_cache) > 8:
            _freq_cache.popitem(last=False)
    return freq


def _ranges(tok, starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
    """The word ids of tok[starts[i]:stops[i]] for every i, concatenated."""
    lens = np.maximum(stops - starts, 0)
    total = int(lens.sum())
    if not total:
        return np.zeros(0, dtype=np.int64)
    ends = np.cumsum(lens)
    idx = np.arange(total, dtype=np.int64) - np.repeat(ends - lens - starts, lens)
    return np.asarray(tok[idx], dtype=np.int64)


def _match_lengths(rows, phrase: str, hit_rows: np.ndarray, starts: np.ndarray) -> list[int]:
    """Length of each match (a punctuated phrase can match with other punctuation in between)."""
    from .analysis import RUN
    from .subcorpus import phrase_regex

    folded = fold(phrase)
    if RUN.fullmatch(folded):  # a plain phrase: every match is the phrase itself
        return [len(folded)] * len(starts)
    pat = phrase_regex(folded)
    text = rows.text
    out = []
    for s in starts.tolist():
        m = pat.match(text, s)
        out.append(m.end() - s if m else len(phrase))
    return out
