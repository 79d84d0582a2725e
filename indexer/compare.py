"""What is new (新提法): compare two sub-corpora A and B given by filters (year:2024 vs
year:2023; type:工作报告 vs the rest; one site vs another).

Two lists:
- *over-represented in A*: jieba words and 2-4-word phrases whose rate in A most exceeds their
  rate in B by log-likelihood (G², the same 2×2 formula as collocations: {A, B} × {this item,
  other words}), with at least `min_count` occurrences in A;
- *first appearances*: items of A (at least `min_count` times, in at least `min_docs`
  documents) that occur in no document dated before A's first year, anywhere in the corpus.

Words are counted as the index's jieba words. A phrase is found as consecutive words of the
index, then counted as the exact text the timeline and KWIC look up (the character index), so
a row's numbers are the numbers its links show, and word sequences that only met across a
punctuation mark drop out. Items with digits (dates, amounts) and single characters are left
out: they are not formulations.
"""

from __future__ import annotations

import copy
import re
import threading
from collections import OrderedDict
from dataclasses import asdict, dataclass, field

import numpy as np

from corpus.errors import QueryError

from .analysis import RUN, fold
from .subcorpus import (
    corpus_rows,
    describe_filters,
    doc_ref,
    gather_tokens,
    occurrences,
    parse_filter_text,
    phrase_regex,
    row_mask,
    tokens,
)

REST = ("", "rest", "其余", "其他", "其它", "others")
MAX_N = 4
VERIFY_FACTOR = 3  # phrases counted exactly per row shown: top × this, best first by word counts
_DIGIT = re.compile(r"[0-9０-９]")
MIN_CHARS = 2
# A phrase (2-4 words) that starts or ends with one of these function words is a fragment of a
# sentence, not a formulation (在加沙地带, 俄军在, 日称): rules as data.
EDGE_WORDS = frozenset("""
的 了 在 和 与 及 或 是 把 被 对 从 向 于 为 以 等 也 都 而 并 将 就 又 还 这 那 其 之 着 过 地 得 所 让 使 由
日 月 年 称 说 时 中 上 下 里 后 前 个 名 位 次 人 据 据悉 表示 指出 强调 认为 记者 今天 当天 目前 近日
""".split())


@dataclass
class CompareItem:
    phrase: str
    words: int  # 1 = a jieba word, 2-4 = a phrase of that many words
    count_a: int
    count_b: int
    per_million_a: float  # per million characters of A / of B
    per_million_b: float
    ll: float
    documents_a: int = 0
    first: dict | None = None  # first appearances: the earliest dated use in A


@dataclass
class CompareResult:
    a: str
    b: str
    filters_a: dict[str, list[str]]
    filters_b: dict[str, list[str]] | None  # None: the rest of the corpus
    fold: bool
    min_count: int
    min_docs: int
    chars_a: int
    chars_b: int
    words_a: int
    words_b: int
    documents_a: int
    documents_b: int
    first_year_a: int | None
    earlier_documents: int = 0  # documents dated before A's first year (what "new" is checked against)
    over: list[CompareItem] = field(default_factory=list)
    new: list[CompareItem] = field(default_factory=list)

    def to_json(self) -> dict:
        return asdict(self)

    def table(self, which: str = "over") -> tuple[list[str], list[list]]:
        items = self.over if which == "over" else self.new
        cols = ["phrase", "words", "count_a", "count_b", "per_million_a", "per_million_b", "log_likelihood",
                "documents_a"]
        if which == "new":
            cols += ["first_date", "first_title", "first_paragraph_id"]
        out = []
        for it in items:
            row = [it.phrase, it.words, it.count_a, it.count_b, it.per_million_a, it.per_million_b, it.ll,
                   it.documents_a]
            if which == "new":
                f = it.first or {}
                row += [f.get("date"), f.get("title"), f.get("paragraph_id")]
            out.append(row)
        return cols, out


def _ngram_levels(ids: np.ndarray, rowid: np.ndarray, vocab: int, max_n: int, min_count: int):
    """For n = 1..max_n: (keys, counts, rank of each position or -1) of the word n-grams within
    one row that occur at least `min_count` times (an n-gram that often has a prefix at least as
    frequent, so each level only extends the one before). Level n's key is (rank of its first
    n-1 words among level n-1's keys) * V + last word: int64 whatever n."""
    levels = []
    prev_rank = None
    for n in range(1, max_n + 1):
        m = len(ids) - n + 1
        rank = np.full(len(ids), -1, dtype=np.int64)
        if m <= 0:
            levels.append((np.zeros(0, np.int64), np.zeros(0, np.int64), rank))
            prev_rank = rank
            continue
        if n == 1:  # word ids are small: count them directly
            counts = np.bincount(ids, minlength=vocab)
            uk = np.flatnonzero(counts >= min_count)
            table = np.full(vocab, -1, dtype=np.int64)
            table[uk] = np.arange(len(uk))
            levels.append((uk.astype(np.int64), counts[uk], table[ids]))
            prev_rank = levels[-1][2]
            continue
        pos = np.flatnonzero((prev_rank[: m] >= 0) & (rowid[: m] == rowid[n - 1:]))
        keys = prev_rank[pos] * vocab + ids[pos + n - 1]
        uk, inv, cnt = np.unique(keys, return_inverse=True, return_counts=True)
        keep = cnt >= min_count
        new_rank = np.cumsum(keep) - 1  # rank among the kept keys
        r = np.where(keep[inv], new_rank[inv], -1)
        rank[pos] = r
        levels.append((uk[keep], cnt[keep], rank))
        prev_rank = rank
    return levels


def _keys_in(levels_a, ids: np.ndarray, rowid: np.ndarray, vocab: int, max_n: int):
    """B's n-grams as ranks into A's kept keys per level (-1: not one of them)."""
    out = []
    prev = None
    for n in range(1, max_n + 1):
        uk = levels_a[n - 1][0]
        m = len(ids) - n + 1
        rank = np.full(len(ids), -1, dtype=np.int64)
        if m > 0 and len(uk):
            if n == 1:
                table = np.full(vocab, -1, dtype=np.int64)
                table[uk] = np.arange(len(uk))
                rank = table[ids]
            else:
                pos = np.flatnonzero((prev[: m] >= 0) & (rowid[: m] == rowid[n - 1:]))
                keys = prev[pos] * vocab + ids[pos + n - 1]
                at = np.searchsorted(uk, keys)
                at[at >= len(uk)] = 0
                found = uk[at] == keys
                rank[pos[found]] = at[found]
        out.append(rank)
        prev = rank
    return out


def _decode(levels, n: int, r: int, vocab: int) -> list[int]:
    out = []
    while n >= 1:
        k = int(levels[n - 1][0][r])
        if n == 1:
            out.append(k)
            break
        out.append(k % vocab)
        r = k // vocab
        n -= 1
    return out[::-1]


def _filters_of(text: str | dict | None) -> dict[str, list[str]]:
    if isinstance(text, dict):
        from .subcorpus import normalise_filters

        return normalise_filters(text)
    return parse_filter_text(text)


_results: OrderedDict = OrderedDict()  # the last few comparisons: a page, its export and its JSON ask alike
_results_lock = threading.Lock()
CACHED = 8


def compare(settings, a: str | dict, b: str | dict | None = None, min_count: int = 5, min_docs: int = 2,
            top: int = 100, max_n: int = MAX_N, fold_reposts: bool = True) -> CompareResult:
    """A against B (None, "" or "rest": the rest of the corpus). Results are kept for the same
    arguments while the index and the document table stay the same."""
    rows = corpus_rows(settings)
    key = (str(settings.index_dir), rows.serial, repr(a), repr(b), min_count, min_docs,
           top, max_n, fold_reposts)
    with _results_lock:
        hit = _results.get(key)
        if hit is not None:
            _results.move_to_end(key)
            return copy.deepcopy(hit)
    result = _compare(settings, a, b, min_count, min_docs, top, max_n, fold_reposts)
    with _results_lock:
        _results[key] = copy.deepcopy(result)
        while len(_results) > CACHED:
            _results.popitem(last=False)
    return result


def _compare(settings, a, b, min_count: int, min_docs: int, top: int, max_n: int,
             fold_reposts: bool) -> CompareResult:
    if not 1 <= max_n <= MAX_N:
        raise QueryError(f"phrases of 1 to {MAX_N} words")
    if min_count < 1 or min_docs < 1:
        raise QueryError("minimum counts must be 1 or more")
    fa = _filters_of(a)
    if not fa:
        raise QueryError("give sub-corpus A as filters, e.g. year:2024 (and B, e.g. year:2023, or leave B empty "
                         "for the rest of the corpus)")
    rest = b is None or (isinstance(b, str) and b.strip().lower() in REST)
    fb = None if rest else _filters_of(b)
    rows = corpus_rows(settings)
    mask_a = row_mask(rows, fa, fold_reposts)
    mask_b = (row_mask(rows, None, fold_reposts) & ~mask_a) if rest else row_mask(rows, fb, fold_reposts)
    tok, tokoff, words = tokens(settings, rows)
    vocab = max(len(words), 1)
    sel_a, sel_b = np.flatnonzero(mask_a), np.flatnonzero(mask_b)
    ids_a, row_a = gather_tokens(tok, tokoff, sel_a)
    ids_b, row_b = gather_tokens(tok, tokoff, sel_b)
    chars_a = int(rows.length[sel_a].sum())
    chars_b = int(rows.length[sel_b].sum())
    years_a = rows.year[sel_a]
    first_year = int(years_a[years_a >= 0].min()) if (years_a >= 0).any() else None
    result = CompareResult(
        a=describe_filters(fa), b="其余语料" if rest else describe_filters(fb), filters_a=fa, filters_b=fb,
        fold=fold_reposts, min_count=min_count, min_docs=min_docs, chars_a=chars_a, chars_b=chars_b,
        words_a=len(ids_a), words_b=len(ids_b), documents_a=len(np.unique(rows.docpos[sel_a])),
        documents_b=len(np.unique(rows.docpos[sel_b])), first_year_a=first_year,
    )
    if not len(ids_a):
        return result
    levels = _ngram_levels(ids_a, row_a, vocab, max_n, min_count)
    ranks_b = _keys_in(levels, ids_b, row_b, vocab, max_n)
    na, nb = len(ids_a), max(len(ids_b), 0)
    cands: list[tuple[float, int, int, int, int]] = []  # (ll, n, rank, count_a, count_b)
    pool: list[tuple[int, int, int, int]] = []  # (-count_a, n, rank, count_b): candidates for first appearances
    for n in range(1, max_n + 1):
        uk, cnt, _ = levels[n - 1]
        if not len(uk):
            continue
        cb = np.bincount(ranks_b[n - 1][ranks_b[n - 1] >= 0], minlength=len(uk))
        keep = cnt >= min_count
        idx = np.flatnonzero(keep)
        ca, cbk = cnt[idx].astype(np.float64), cb[idx].astype(np.float64)
        ll = _ll_vec(ca, cbk, na, nb)
        over = ca / na > (cbk / nb if nb else 0)
        for r, x, y, g, ov in zip(idx.tolist(), ca.tolist(), cbk.tolist(), ll.tolist(), over.tolist(), strict=True):
            pool.append((-int(x), n, r, int(y)))
            if ov:
                cands.append((-g, n, r, int(x), int(y)))
    cands.sort()  # highest log-likelihood first
    text_of = {}

    def phrase_of(n: int, r: int) -> str:
        key = (n, r)
        if key not in text_of:
            text_of[key] = "".join(words[i] for i in _decode(levels, n, r, vocab))
        return text_of[key]

    def acceptable(n: int, r: int, p: str) -> bool:
        if len(p) < MIN_CHARS or _DIGIT.search(p) or _date_fragment(rows, p):
            return False
        if n > 1:
            ids = _decode(levels, n, r, vocab)
            if words[ids[0]] in EDGE_WORDS or words[ids[-1]] in EDGE_WORDS:
                return False
        return True

    # over-represented: words keep their word counts, phrases are counted exactly
    over: list[CompareItem] = []
    seen: set[str] = set()
    budget = top * VERIFY_FACTOR
    for neg_g, n, r, x, y in cands:
        if len(over) >= budget:
            break
        p = phrase_of(n, r)
        if p in seen or not acceptable(n, r, p):
            continue
        seen.add(p)
        g = -neg_g
        if n == 1:
            ca, cb, docs = x, y, None
        else:
            ca, cb, docs = _exact_counts(rows, p, mask_a, mask_b)
            if ca < min_count or ca / na <= (cb / nb if nb else 0):
                continue
            g = float(_ll_vec(np.array([ca], float), np.array([cb], float), na, nb)[0])
        it = _item(p, n, ca, cb, chars_a, chars_b, g)
        it.documents_a = docs
        over.append(it)
    over.sort(key=lambda it: (-it.ll, it.phrase))
    result.over = _drop_subsumed(over)[:top]
    for it in result.over:
        if it.documents_a is None:
            it.documents_a = _word_documents(rows, it.phrase, mask_a)
    # first appearances
    earlier = None
    if first_year is not None:
        earlier = (rows.year >= 0) & (rows.year < first_year) & (rows.docpos >= 0)
        result.earlier_documents = len(np.unique(rows.docpos[earlier]))
    if earlier is not None and result.earlier_documents:
        pool.sort()  # most frequent first, then shorter
        new: list[CompareItem] = []
        seen = set()
        for neg_x, n, r, y in pool:
            if len(new) >= budget:
                break
            p = phrase_of(n, r)
            if p in seen or not acceptable(n, r, p):
                continue
            seen.add(p)
            if _used_in(rows, p, earlier):
                continue
            if n == 1:  # a word: its word counts (as in the other list), its rows from the word postings
                hit_rows = np.asarray(rows.view.word_postings(p)[0], dtype=np.int64)
                hit_rows = hit_rows[mask_a[hit_rows]] if len(hit_rows) else hit_rows
                ca, cb = -neg_x, y
            else:
                both, _ = occurrences(rows, p, mask_a | mask_b)
                ina = mask_a[both]
                hit_rows, ca, cb = both[ina], int(ina.sum()), int((~ina).sum())
            docs = len(np.unique(rows.docpos[hit_rows]))
            if ca < min_count or docs < min_docs or not len(hit_rows):
                continue
            g = float(_ll_vec(np.array([ca], float), np.array([cb], float), na, nb)[0])
            it = _item(p, n, ca, cb, chars_a, chars_b, g)
            it.documents_a = docs
            dk = rows.date_key[hit_rows]
            first_row = int(hit_rows[np.lexsort((hit_rows, dk))[0]])
            it.first = doc_ref(rows, first_row)
            new.append(it)
        new.sort(key=lambda it: (-it.count_a, -it.documents_a, it.phrase))
        result.new = _drop_subsumed(new)[:top]
    return result


def _item(p: str, n: int, ca: int, cb: int, chars_a: int, chars_b: int, g: float) -> CompareItem:
    return CompareItem(phrase=p, words=n, count_a=int(ca), count_b=int(cb),
                       per_million_a=round(ca / chars_a * 1e6, 2) if chars_a else 0.0,
                       per_million_b=round(cb / chars_b * 1e6, 2) if chars_b else 0.0, ll=round(g, 2))


def _ll_vec(ca: np.ndarray, cb: np.ndarray, na: int, nb: int) -> np.ndarray:
    """G² of {A, B} × {the item, other words} for arrays of counts (the formula of
    indexer.collocations.log_likelihood, vectorised)."""
    n = na + nb
    tot = ca + cb
    out = np.zeros(len(ca))
    for o, e in ((ca, na * tot / n), (cb, nb * tot / n), (na - ca, na * (n - tot) / n),
                 (nb - cb, nb * (n - tot) / n)):
        with np.errstate(divide="ignore", invalid="ignore"):
            term = np.where((o > 0) & (e > 0), o * np.log(np.where(o > 0, o, 1) / np.where(e > 0, e, 1)), 0.0)
        out += term
    return 2 * out


def _exact_counts(rows, phrase: str, mask_a: np.ndarray, mask_b: np.ndarray) -> tuple[int, int, int]:
    """Exact occurrences of the phrase in A and in B, and A's documents holding it."""
    hit_rows, _ = occurrences(rows, phrase, mask_a | mask_b)
    ina = mask_a[hit_rows]
    return int(ina.sum()), int((~ina).sum()), len(np.unique(rows.docpos[hit_rows[ina]]))


def _word_documents(rows, word: str, mask: np.ndarray) -> int:
    prow = np.asarray(rows.view.word_postings(word)[0], dtype=np.int64)
    return len(np.unique(rows.docpos[prow[mask[prow]]])) if len(prow) else 0


def _used_in(rows, phrase: str, mask: np.ndarray) -> bool:
    """Whether the phrase occurs in any row of `mask` (candidate rows from the character pairs,
    checked one by one until the first real occurrence)."""
    folded = fold(phrase)
    cand = np.asarray(rows.view.chars.candidate_rows(folded), dtype=np.int64)
    if not len(cand):
        return False
    cand = cand[mask[cand]]
    if not len(cand):
        return False
    text, toff = rows.text, rows.toff
    runs = RUN.findall(folded)
    if len(runs) == 1 and runs[0] == folded:
        find = text.find
        return any(find(folded, s, e) >= 0 for s, e in zip(toff[cand].tolist(), (toff[cand + 1] - 1).tolist(),
                                                             strict=True))
    pat = phrase_regex(folded)
    return any(pat.search(text, int(toff[r]), int(toff[r + 1]) - 1) for r in cand.tolist())


DATE_HEADS = "日月年时"  # 3日称, 5月起: the analyzer cut the date's unit off its number
NUMERALS = set("0123456789一二三四五六七八九十百〇零两")


def _date_fragment(rows, phrase: str, sample: int = 30, share: float = 0.8) -> bool:
    """Whether a word or phrase starting with a date unit mostly follows a number in the text
    (the first `sample` occurrences): then it is the tail of a date, not a formulation."""
    if phrase[0] not in DATE_HEADS:
        return False
    folded = fold(phrase)
    text, toff = rows.text, rows.toff
    seen = after_number = 0
    for r in np.asarray(rows.view.chars.candidate_rows(folded), dtype=np.int64).tolist():
        s, e = int(toff[r]), int(toff[r + 1]) - 1
        i = text.find(folded, s, e)
        while i >= 0 and seen < sample:
            seen += 1
            after_number += i > s and text[i - 1] in NUMERALS
            i = text.find(folded, i + 1, e)
        if seen >= sample:
            break
    return seen > 0 and after_number >= share * seen


def _drop_subsumed(items: list[CompareItem], ratio: float = 0.8) -> list[CompareItem]:
    """Leave out an item when a longer listed item contains it and accounts for most of its uses
    (生产力 inside 新质生产力 with nearly the same count adds nothing)."""
    keep = []
    for it in items:
        if any(o is not it and len(o.phrase) > len(it.phrase) and it.phrase in o.phrase
               and o.count_a >= ratio * it.count_a for o in items):
            continue
        keep.append(it)
    return keep
