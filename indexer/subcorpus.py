"""The keyword index seen as a corpus to count in: what the 提法 tools (trend, pattern,
collocations, compare) share.

Every paragraph of the index is a *row* (indexer.keyword). `corpus_rows(settings)` gives, per row
and cached per index generation and document table: its document's year, date order, unit level,
site and type, its length in characters, and whether it stands for its repost cluster. A
sub-corpus is a boolean mask over rows (`SubCorpus.mask`), made from the same filters as search
(`year: site: type: unit: title: level:`, indexer.query) and the same repost folding: with
`fold=True` each paragraph cluster counts once, at its earliest dated copy (so a speech reposted
on three sites counts once, in the year it was first given).

Occurrences of a phrase come from the character index (every exact occurrence, traditional text
folded to simplified) and are counted in the folded texts the index keeps in memory, with the
index's own rule for punctuation inside a phrase (要素，保障 also finds 要素。保障). Nothing
here reads paragraph texts from SQLite except the few examples shown to a person.
"""

from __future__ import annotations

import itertools
import re
import threading
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from corpus.errors import IndexMissing, QueryError

from .analysis import RUN, fold
from .charindex import within_one_row
from .query import FIELD_ALIASES, FIELDS, Query, parse_year

VERIFY_ROWS = 3000  # more candidate rows than this: one regex pass over the whole text instead
UNDATED = "（无日期）"
UNKNOWN = "（未注明）"


@dataclass
class CorpusRows:
    """Per-row document attributes for one index generation (see the module docstring)."""

    view: object  # indexer.keyword.IndexView
    docs: dict  # doc id -> indexer.search.DocInfo
    arrays: object  # indexer.search.DocArrays
    docpos: np.ndarray  # row -> position in arrays.ids (-1: document gone since the index was built)
    year: np.ndarray  # row -> year, -1 when the document has no date
    date_key: np.ndarray  # row -> rank of the document's date, oldest first; undated last
    length: np.ndarray  # row -> characters
    rep: np.ndarray  # row -> True if it stands for its repost cluster (earliest dated copy)
    serial: int = 0  # a new number for every table built: what caches of derived results key on

    @property
    def n(self) -> int:
        return len(self.year)

    @property
    def text(self) -> str:
        return self.view.chars.text

    @property
    def toff(self) -> np.ndarray:
        return self.view.chars.toff

    def doc_id(self, row: int) -> int:
        return int(self.view.docid[row])

    def doc(self, row: int):
        return self.docs.get(self.doc_id(row))

    def row_of_offset(self, positions: np.ndarray) -> np.ndarray:
        return (np.searchsorted(self.toff, positions, side="right") - 1).astype(np.int64)


_cache: dict[str, tuple[tuple, CorpusRows]] = {}
_cache_lock = threading.Lock()
_serials = itertools.count(1)


def _date_sort_key(date: str) -> str:
    return date


def corpus_rows(settings, store=None) -> CorpusRows:
    """The current index generation with its per-row document attributes (cached). `store`: the
    caller's read-only store, if it holds one."""
    from corpus.store import reading

    from .keyword import open_view
    from .search import doc_state  # the search's own document table

    view = open_view(settings)
    with reading(settings, store) as st:
        docs, arrays = doc_state(st)
    key = str(settings.index_dir)
    sig = (view.generation, id(arrays))
    hit = _cache.get(key)
    if hit is not None and hit[0] == sig:
        return hit[1]
    with _cache_lock:
        hit = _cache.get(key)
        if hit is not None and hit[0] == sig:
            return hit[1]
        rows = _build_rows(view, docs, arrays)
        rows.serial = next(_serials)
        _cache[key] = (sig, rows)
        return rows


def _build_rows(view, docs: dict, arrays) -> CorpusRows:
    ids = arrays.ids
    udocs = view.doc_ids  # distinct document ids of the index, sorted
    pos = np.searchsorted(ids, udocs) if len(ids) else np.zeros(len(udocs), dtype=np.int64)
    pos[pos >= len(ids)] = 0
    known = (ids[pos] == udocs) if len(ids) else np.zeros(len(udocs), dtype=bool)
    udocpos = np.where(known, pos, -1)
    dates = sorted({d.date for d in docs.values() if d.date}, key=_date_sort_key)
    rank = {v: i for i, v in enumerate(dates)}
    undated = len(dates)
    dkey = np.full(len(ids), undated, dtype=np.int64)
    for i, did in enumerate(ids.tolist()):
        d = docs[did]
        if d.date:
            dkey[i] = rank[d.date]
    uyear = np.where(known, arrays.year[np.maximum(udocpos, 0)], -1) if len(ids) else np.full(len(udocs), -1)
    udkey = np.where(known, dkey[np.maximum(udocpos, 0)], undated + 1) if len(ids) else np.full(len(udocs), 1)
    didx = np.asarray(view.docidx)
    docpos = udocpos[didx]
    year = np.asarray(uyear[didx], dtype=np.int64)
    date_key = np.asarray(udkey[didx], dtype=np.int64)
    toff = np.asarray(view.chars.toff)
    length = np.diff(toff) - 1
    # the representative of each paragraph cluster: earliest dated copy, then lowest paragraph id
    cluster = np.asarray(view.cluster)
    n = len(cluster)
    rep = np.zeros(n, dtype=bool)
    if n:
        order = np.lexsort((np.arange(n), date_key, cluster))
        first = np.ones(n, dtype=bool)
        cs = cluster[order]
        first[1:] = cs[1:] != cs[:-1]
        rep[order[first]] = True
    rep &= docpos >= 0
    return CorpusRows(view=view, docs=docs, arrays=arrays, docpos=docpos, year=year, date_key=date_key,
                      length=length, rep=rep)


# --- filters ---------------------------------------------------------------------------------------

def normalise_filters(filters: dict | None) -> dict[str, list[str]]:
    """Filters as the search takes them ({key: value or [values]}, Chinese or English keys) ->
    {canonical key: [values]}; a bad key or year is a QueryError."""
    out: dict[str, list[str]] = {}
    for key, val in (filters or {}).items():
        if val in (None, "", []):
            continue
        k = FIELD_ALIASES.get(str(key).lower())
        if k is None:
            raise QueryError(f"unknown filter '{key}': use one of {', '.join(FIELDS)}")
        for v in (val if isinstance(val, (list, tuple)) else [val]):
            v = str(v).strip()
            if not v:
                continue
            if k == "year":
                parse_year(v)
            out.setdefault(k, []).append(v)
    return out


_FILTER_TOKEN = re.compile(r"^([A-Za-z]+|[\u4e00-\u9fff]{1,2})[:：](.+)$")


def parse_filter_text(text: str | None) -> dict[str, list[str]]:
    """'year:2024 type:工作报告' (the query language's filters, nothing else) -> filters."""
    out: dict[str, list[str]] = {}
    for token in (text or "").split():
        m = _FILTER_TOKEN.match(token)
        if not m:
            raise QueryError(f"'{token[:40]}' is not a filter: write key:value, e.g. year:2024, type:工作报告, "
                             f"site:xx (keys: {', '.join(FIELDS)})")
        for k, vs in normalise_filters({m.group(1): m.group(2).strip('"“”')}).items():
            out.setdefault(k, []).extend(vs)
    return out


def describe_filters(filters: dict[str, list[str]]) -> str:
    return " ".join(f"{k}:{v}" for k, vs in filters.items() for v in vs) or "全部语料"


def row_mask(rows: CorpusRows, filters: dict | None = None, fold: bool = True) -> np.ndarray:
    """Rows in the sub-corpus the filters describe (reposts folded when `fold`)."""
    f = normalise_filters(filters)
    mask = rows.docpos >= 0
    if f:
        allowed = rows.arrays.allowed(Query(filters=f))
        if allowed is not None:
            mask = mask & allowed[np.maximum(rows.docpos, 0)]
    if fold:
        mask = mask & rows.rep
    return mask


# --- occurrences -------------------------------------------------------------------------------

@lru_cache(maxsize=4096)
def phrase_regex(folded: str) -> re.Pattern:
    """The index's phrase rule: the phrase's runs of word characters in order, separated by any
    non-word characters (never a paragraph boundary)."""
    runs = RUN.findall(folded)
    if not runs:
        raise QueryError(f"nothing to count in {folded[:40]!r}: give a word or phrase")
    sep = r"(?:(?!\x00)[\W_])+"
    return re.compile(sep.join(re.escape(r) for r in runs))


def clean_phrase(phrase: str) -> str:
    p = (phrase or "").strip().strip('"“”「」')
    if not RUN.search(fold(p)):
        raise QueryError("give a word or phrase, e.g. 高质量发展")
    return p


def occurrences(rows: CorpusRows, phrase: str, mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Every occurrence of `phrase` in the rows of `mask` -> (row of each, start offset in the
    index text), in text order. Candidate rows come from the character index."""
    folded = fold(phrase)
    runs = RUN.findall(folded)
    cand = np.asarray(rows.view.chars.rows_for(folded), dtype=np.int64)
    if mask is not None and len(cand):
        cand = cand[mask[cand]]
    if len(runs) == 1 and runs[0] == folded and len(cand) <= VERIFY_ROWS:
        return _find_plain(rows, folded, cand)
    return find_in_rows(rows, phrase_regex(folded), cand, mask)


def _find_plain(rows: CorpusRows, needle: str, cand: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Non-overlapping occurrences of a plain substring (what the regex finds, without one)."""
    text, toff = rows.text, rows.toff
    find = text.find
    n = len(needle)
    rlist: list[int] = []
    starts: list[int] = []
    for r, s, e in zip(cand.tolist(), toff[cand].tolist(), (toff[cand + 1] - 1).tolist(), strict=True):
        i = find(needle, s, e)
        while i >= 0:
            rlist.append(r)
            starts.append(i)
            i = find(needle, i + n, e)
    return np.asarray(rlist, dtype=np.int64), np.asarray(starts, dtype=np.int64)


def find_in_rows(rows: CorpusRows, pattern: re.Pattern, cand: np.ndarray, mask: np.ndarray | None,
                 groups: bool = False, whole_text_above: int = VERIFY_ROWS, stop=None):
    """Matches of `pattern` in the candidate rows -> (rows, starts[, ends, group tuples]); past
    `whole_text_above` candidates one pass over the whole text (a plain phrase is found faster
    that way; a pattern opening with a gap is not: it is tried at every position). `stop`: asked
    every 1024 matches or rows (indexer.budget.expired); when it says so, the matches so far."""
    text, toff = rows.text, rows.toff
    starts: list[int] = []
    ends: list[int] = []
    grp: list[tuple] = []
    if len(cand) > whole_text_above:
        for m in pattern.finditer(text):
            if stop is not None and len(starts) % 1024 == 0 and stop():
                break
            starts.append(m.start())
            ends.append(m.end())
            if groups:
                grp.append(m.groups())
        st = np.asarray(starts, dtype=np.int64)
        rr = rows.row_of_offset(st)
        keep = mask[rr] if mask is not None and len(rr) else np.ones(len(rr), dtype=bool)
        keep = keep & within_one_row(toff, st, ends)  # a gap or punctuation must not run into the next row
        if groups:
            idx = np.flatnonzero(keep).tolist()
            return rr[keep], st[keep], np.asarray(ends, dtype=np.int64)[keep], [grp[i] for i in idx]
        return rr[keep], st[keep]
    rlist: list[int] = []
    finditer = pattern.finditer
    for k, (r, s, e) in enumerate(zip(cand.tolist(), toff[cand].tolist(), (toff[cand + 1] - 1).tolist(), strict=True)):
        if stop is not None and k % 1024 == 0 and stop():
            break
        for m in finditer(text, s, e):
            rlist.append(r)
            starts.append(m.start())
            if groups:
                ends.append(m.end())
                grp.append(m.groups())
    rr = np.asarray(rlist, dtype=np.int64)
    st = np.asarray(starts, dtype=np.int64)
    if groups:
        return rr, st, np.asarray(ends, dtype=np.int64), grp
    return rr, st


# --- tokens (jieba words of each row, as the index stored them) ----------------------------------

_tok_cache: dict[str, tuple] = {}


def tokens(settings, rows: CorpusRows) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(word ids of all rows, tokoff: row r's words are ids[tokoff[r]:tokoff[r+1]], id -> word)."""
    from pathlib import Path

    from .keyword.files import gen_path as _gen_path

    gen = rows.view.generation
    key = str(settings.index_dir)
    hit = _tok_cache.get(key)
    if hit is not None and hit[0] == gen:
        return hit[1]
    index_dir = Path(settings.index_dir)
    try:
        tok = np.load(_gen_path(index_dir, gen, "tok"), mmap_mode="r", allow_pickle=False)
        tokoff = np.load(_gen_path(index_dir, gen, "tokoff"), allow_pickle=False)
    except FileNotFoundError:
        raise IndexMissing("the keyword index changed while reading it: try again") from None
    words = list(rows.view.words)  # id -> word
    value = (tok, tokoff, words)
    _tok_cache[key] = (gen, value)
    return value


_span_cache: dict[str, tuple] = {}
_word_cache: dict[str, tuple] = {}
SUBSET_SHARE = 8  # token_spans_of: rows fewer than 1/8 of the index are measured alone


def _word_shapes(settings, rows: CorpusRows, words: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per word id: its length, its word characters, where its first word character is (0 for
    nearly all); and which code points are word characters (cached per generation)."""
    gen = rows.view.generation
    key = str(settings.index_dir)
    hit = _word_cache.get(key)
    if hit is not None and hit[0] == gen:
        return hit[1]
    is_word = np.zeros(0x110000, dtype=bool)
    is_word[np.fromiter(rows.view.chars.rank, dtype=np.int64)] = True
    wlen = np.fromiter((len(w) for w in words), dtype=np.int64, count=len(words))
    if len(words):  # word characters in each word: one pass over all words joined
        wcodes = np.frombuffer("".join(words).encode("utf-32-le"), dtype=np.uint32)
        flags = is_word[wcodes].astype(np.int64)
        begin = np.cumsum(wlen) - wlen
        wwc = np.add.reduceat(flags, np.minimum(begin, max(len(flags) - 1, 0))) * (wlen > 0)
        opens = flags[np.minimum(begin, max(len(flags) - 1, 0))].astype(bool)
    else:
        wwc = np.zeros(0, dtype=np.int64)
        opens = np.zeros(0, dtype=bool)
    lead = np.zeros(len(words), dtype=np.int64)  # where the first word character is (0 for nearly all)
    for i in np.flatnonzero(~opens & (wwc > 0)).tolist():
        m = RUN.search(words[i])
        lead[i] = m.start() if m else 0
    value = (wlen, wwc, lead, is_word)
    _word_cache[key] = (gen, value)
    return value


def _starts(text: str, t: np.ndarray, wwc: np.ndarray, lead: np.ndarray, is_word: np.ndarray) -> np.ndarray:
    """Where each word of `t` (the words of `text` in order, as ids) starts in `text`."""
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    wpos = np.flatnonzero(is_word[codes])
    del codes
    first = np.cumsum(wwc[t]) - wwc[t]  # index of each word's first word character
    if len(first) and (first[-1] >= len(wpos)):  # pragma: no cover - the text and words disagree
        raise IndexMissing("the keyword index is inconsistent: run `corpus index --rebuild`")
    return wpos[first] - lead[t] if len(t) else np.zeros(0, dtype=np.int64)


def token_spans_of(settings, rows: CorpusRows, sel: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`token_spans` for the rows `sel` only (sorted, unique): (starts, lengths) of their words
    concatenated in row order, and where each row's words begin in them (`local[k]`: row sel[k]).
    Computed from those rows' text alone when they are few (a command-line concordance need not
    measure the whole corpus: the words of a row tile that row), else sliced from token_spans."""
    sel = np.asarray(sel, dtype=np.int64)
    tok, tokoff, words = tokens(settings, rows)
    counts = np.asarray(tokoff[sel + 1] - tokoff[sel], dtype=np.int64)
    local = np.zeros(len(sel) + 1, dtype=np.int64)
    np.cumsum(counts, out=local[1:])
    cached = _span_cache.get(str(settings.index_dir))
    if (cached is not None and cached[0] == rows.view.generation) or len(sel) * SUBSET_SHARE > rows.n:
        starts, lens = token_spans(settings, rows)
        idx = _ranges_idx(np.asarray(tokoff[sel], dtype=np.int64), counts)
        return starts[idx], lens[idx], local
    wlen, wwc, lead, is_word = _word_shapes(settings, rows, words)
    t = np.asarray(tok[_ranges_idx(np.asarray(tokoff[sel], dtype=np.int64), counts)], dtype=np.int64)
    text, toff = rows.text, rows.toff
    a, b = np.asarray(toff[sel], dtype=np.int64), np.asarray(toff[sel + 1], dtype=np.int64) - 1
    joined = "".join(text[x:y] for x, y in zip(a.tolist(), b.tolist(), strict=True))  # rows hold no separator
    starts = _starts(joined, t, wwc, lead, is_word)
    jstart = np.cumsum(b - a) - (b - a)  # where each row begins in `joined`
    which = np.repeat(np.arange(len(sel)), counts)
    return starts - jstart[which] + a[which], wlen[t], local


def _ranges_idx(starts: np.ndarray, lens: np.ndarray) -> np.ndarray:
    """The indices starts[i] .. starts[i] + lens[i] - 1 for every i, concatenated."""
    total = int(lens.sum())
    if not total:
        return np.zeros(0, dtype=np.int64)
    ends = np.cumsum(lens)
    return np.arange(total, dtype=np.int64) - np.repeat(ends - lens - starts, lens)


def token_spans(settings, rows: CorpusRows) -> tuple[np.ndarray, np.ndarray]:
    """Where every word of the index starts in the index text, and its length, in one vectorised
    pass (cached per generation): the analyzer's words tile the text in order and only the
    dropped ones (spaces, punctuation) hold no word character, so the k-th word character of
    the text lies in the word whose running count of word characters reaches k."""
    gen = rows.view.generation
    key = str(settings.index_dir)
    hit = _span_cache.get(key)
    if hit is not None and hit[0] == gen:
        return hit[1]
    tok, _tokoff, words = tokens(settings, rows)
    wlen, wwc, lead, is_word = _word_shapes(settings, rows, words)
    t = np.asarray(tok, dtype=np.int64)
    starts = _starts(rows.text, t, wwc, lead, is_word)
    value = (starts, wlen[t])
    _span_cache[key] = (gen, value)
    return value


def gather_tokens(tok: np.ndarray, tokoff: np.ndarray, sel: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The words of the rows `sel` (sorted row numbers) concatenated -> (ids, row number of each)."""
    sel = np.asarray(sel, dtype=np.int64)
    starts = tokoff[sel]
    lens = tokoff[sel + 1] - starts
    total = int(lens.sum()) if len(sel) else 0
    if not total:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    ends = np.cumsum(lens)
    idx = np.arange(total, dtype=np.int64) - np.repeat(ends - lens - starts, lens)
    return np.asarray(tok[idx], dtype=np.int64), np.repeat(sel, lens)


def token_offsets(text: str, start: int, words: list[str]) -> list[int]:
    """Where each of a row's words starts in the index text (they occur in order; the
    punctuation and spaces between them were dropped by the analyzer)."""
    out = []
    find = text.find
    pos = start
    for w in words:
        i = find(w, pos)
        if i < 0:  # pragma: no cover - the words are substrings of the text they were cut from
            i = pos
        out.append(i)
        pos = i + len(w)
    return out


def doc_ref(rows: CorpusRows, row: int) -> dict:
    """The document and paragraph of a row, as the pages and JSON show a source."""
    d = rows.doc(row)
    return {
        "doc_id": rows.doc_id(row), "paragraph_id": int(rows.view.pid[row]),
        "title": d.title if d else "", "date": d.date if d else None, "year": d.year if d else None,
        "site": d.site if d else None, "unit": d.unit if d else None, "url": d.url if d else None,
    }
