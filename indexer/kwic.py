"""Concordance (KWIC, 关键词索引): every occurrence of a phrase with its left and right context,
plus the words that most often come just before and after it (强化要素保障 ×12 ...), which is
what a drafter mines for ready-made collocations.

The occurrences come from the same index and query language as `search` (exact phrase, reposts
folded by default, same filters), so the two never disagree about what matches.
"""

from __future__ import annotations

import copy
import threading
import unicodedata
from collections import Counter, OrderedDict
from dataclasses import asdict, dataclass, field, fields, is_dataclass, replace

import numpy as np

from corpus.errors import QueryError
from corpus.store import Store, reading

from . import budget
from .analysis import RUN, fold
from .api import SearchRequest
from .keyword import open_view
from .search import matches
from .terms import query_tokenizer

SORTS = ("left", "right", "position")
CACHE_SIZE = 32
_cache: OrderedDict = OrderedDict()
_cache_lock = threading.Lock()
_inflight: dict[tuple, threading.Event] = {}  # keys being computed now: a second request waits for the first
INFLIGHT_WAIT = 30.0
PUNCT_STOP = "，。！？；：、,.!?;:（）()《》“”\"‘’'【】[]…—\n"
COLLOCATE_SAMPLE = 1000  # occurrences (in rank order) the collocates are counted over
CLAUSE_MAX = 5  # the right collocate up to the next punctuation is kept whole when this short (跟着项目走);
# the left one is the jieba word just before (强化|要素保障)


@dataclass
class KwicLine:
    left: str
    match: str
    right: str
    paragraph_id: int
    doc_id: int
    position: int  # paragraph position in its document
    offset: int  # character offset of the match in the paragraph
    title: str
    unit: str | None = None
    date: str | None = None
    site: str | None = None
    copies: int = 0


@dataclass
class KwicResult:
    phrase: str
    lines: list[KwicLine]
    total: int  # occurrences (before `limit`)
    paragraphs: int
    left_collocates: list[tuple[str, int]] = field(default_factory=list)  # ("强化要素保障", 12)
    right_collocates: list[tuple[str, int]] = field(default_factory=list)  # ("要素保障跟着项目走", 3)
    width: int = 20
    sort: str = "left"
    sampled: int = 0  # occurrences the collocates were counted over (= total unless capped or cut)
    notice: str | None = None  # set when the request's time budget cut the collocate scan

    def to_json(self) -> dict:
        d = asdict(self)
        d["left_collocates"] = [[w, n] for w, n in self.left_collocates]
        d["right_collocates"] = [[w, n] for w, n in self.right_collocates]
        return d


def display_width(text: str) -> int:
    """Terminal columns: wide and full-width characters (CJK) take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def fit_left(text: str, columns: int) -> str:
    """The last `columns` display columns of text, right-aligned with spaces."""
    out, w = [], 0
    for ch in reversed(text):
        cw = display_width(ch)
        if w + cw > columns:
            break
        out.append(ch)
        w += cw
    return " " * (columns - w) + "".join(reversed(out))


def fit_right(text: str, columns: int) -> str:
    out, w = [], 0
    for ch in text:
        cw = display_width(ch)
        if w + cw > columns:
            break
        out.append(ch)
        w += cw
    return "".join(out) + " " * (columns - w)


def _clean(s: str) -> str:
    return s.replace("\n", " ").replace("\t", " ")


def _left_collocate(before: str, tokenizer) -> str | None:
    clause = before
    for i in range(len(before) - 1, -1, -1):
        if before[i] in PUNCT_STOP or before[i].isspace():
            clause = before[i + 1:]
            break
    if not clause:
        return None
    words = [w for w in tokenizer.lcut(clause[-12:]) if RUN.search(w)]
    return words[-1] if words else None


def _right_collocate(after: str, tokenizer) -> str | None:
    clause = after
    for i, ch in enumerate(after):
        if ch in PUNCT_STOP or ch.isspace():
            clause = after[:i]
            break
    if not clause:
        return None
    if len(clause) <= CLAUSE_MAX:
        return clause if RUN.search(clause) else None
    words = [w for w in tokenizer.lcut(clause[:12]) if RUN.search(w)]
    return words[0] if words else None


class _Memo:
    """A tokenizer whose lcut remembers its answers: contexts of a common word repeat a lot."""

    def __init__(self, tokenizer):
        self._tk = tokenizer
        self._seen: dict[str, list[str]] = {}

    def lcut(self, text: str) -> list[str]:
        words = self._seen.get(text)
        if words is None:
            words = self._seen[text] = self._tk.lcut(text)
        return words


def _overlaps_itself(needle: str) -> bool:
    """Whether two occurrences of needle can overlap (哈哈 in 哈哈哈): then str.count undercounts."""
    return any(needle[:k] == needle[-k:] for k in range(1, len(needle)))


def _count(text: str, needle: str, a: int, b: int, overlapping: bool) -> int:
    if not overlapping:
        return text.count(needle, a, b)
    n, i = 0, text.find(needle, a, b)
    while i >= 0:
        n += 1
        i = text.find(needle, i + 1, b)
    return n


def kwic(settings, phrase: str, width: int = 20, sort: str = "left", limit: int | None = 200,
         filters: dict[str, str] | None = None, fold_reposts: bool = True, top: int = 10,
         collocate_sample: int | None = COLLOCATE_SAMPLE, *, store: Store | None = None) -> KwicResult:
    """Occurrences of `phrase` (exact, folded match) with `width` characters each side.

    Bounded work: the occurrences are counted from the index's folded text (no paragraph is read
    from the store for that); lines are built for the best-ranked paragraphs only, until `limit`
    lines (None: all), and then sorted. sort: "left" orders them by the text just before the
    match read backwards (groups 强化|要素保障, 加强|要素保障 ...), "right" by the text just
    after, "position" keeps rank order. Collocates are counted over the first `collocate_sample`
    occurrences in rank order (None: all; `KwicResult.sampled` says how many); a request time
    budget (indexer.budget) can cut that scan short, and `notice` says so. `store`: the caller's
    (a web app's, a CLI process's); without one a read-only store is opened for the call.
    """
    if sort not in SORTS:
        raise QueryError(f"unknown sort {sort!r}: use left, right or position", zh="排序方式只能是 左/右/位置（left、right、position）")
    phrase = (phrase or "").strip().strip('"“”')
    if not RUN.search(fold(phrase)):
        raise QueryError("give a word or phrase to look up, e.g. corpus kwic 要素保障", zh="请输入要看语境的词或短语，例如 要素保障")
    if width < 1 or width > 200:
        raise QueryError("width must be between 1 and 200 characters", zh="语境宽度应在 1 到 200 字之间")
    if limit is not None and limit < 0:
        raise QueryError("limit must be 0 or more", zh="条数不能小于 0")
    view = open_view(settings)
    key = ("kwic", phrase, width, sort, limit, tuple(sorted((filters or {}).items())), fold_reposts, top,
           collocate_sample)
    with reading(settings, store) as st:
        return cached(settings, key, lambda: _kwic(settings, st, view, phrase, width, sort, limit, filters,
                                                   fold_reposts, top, collocate_sample), store=st)


def cached(settings, key: tuple, compute, *, store: Store | None = None):
    """compute(), or a copy of its result for the same key while the index generation and the
    documents table are unchanged (the last CACHE_SIZE results). A result with a `notice` (cut by
    the time budget) is not kept."""
    with reading(settings, store) as st:
        signature = st.change_signature()
    full = (str(settings.db_path), open_view(settings).generation, signature, *key)
    for _ in range(2):
        with _cache_lock:
            hit = _cache.get(full)
            if hit is not None:
                _cache.move_to_end(full)
                return _copy(hit)
            running = _inflight.get(full)
            if running is None:  # this request computes it; the same request meanwhile waits for it
                running = _inflight[full] = threading.Event()
                break
        running.wait(INFLIGHT_WAIT)
    else:
        running = None  # the first computation took too long or was not kept: compute here too
    try:
        result = compute()
        if getattr(result, "notice", None) is None:
            with _cache_lock:
                _cache[full] = _copy(result)
                while len(_cache) > CACHE_SIZE:
                    _cache.popitem(last=False)
        return result
    finally:
        if running is not None:
            with _cache_lock:
                _inflight.pop(full, None)
            running.set()


def _copy(obj):
    """A deep copy of a cached result (dataclasses, lists, tuples, dicts of plain values): what
    copy.deepcopy gives, at a fraction of its cost (no memo; a KWIC page's 200 lines are copied
    on every request that the cache answers)."""
    if isinstance(obj, str | int | float | bool | type(None)):
        return obj
    if isinstance(obj, list):
        return [_copy(x) for x in obj]
    if isinstance(obj, tuple):
        return tuple(_copy(x) for x in obj)
    if isinstance(obj, dict):
        return {k: _copy(v) for k, v in obj.items()}
    if is_dataclass(obj) and not isinstance(obj, type):
        return replace(obj, **{f.name: _copy(getattr(obj, f.name)) for f in fields(obj) if f.init})
    return copy.deepcopy(obj)


def _kwic(settings, store, view, phrase, width, sort, limit, filters, fold_reposts, top, collocate_sample) -> KwicResult:
    quoted = '"' + phrase.replace('"', " ") + '"'
    request = SearchRequest(query=quoted, mode="keyword", filters=dict(filters or {}), fold=fold_reposts,
                            per_page=10)
    needle = fold(phrase)
    found = matches(settings, request, store=store)
    pids = np.asarray(found.paragraph_ids, dtype=np.int64)
    rows = np.searchsorted(view.pid, pids)
    rows[rows >= len(view.pid)] = 0
    known = (np.asarray(view.pid)[rows] == pids) if len(pids) else np.zeros(0, dtype=bool)
    text, toff = view.chars.text, view.chars.toff
    starts, stops = toff[rows].tolist(), (toff[rows + 1] - 1).tolist()
    overlapping = _overlaps_itself(needle)
    counts = [(_count(text, needle, a, b, overlapping) if ok else 0)
              for a, b, ok in zip(starts, stops, known.tolist(), strict=True)]
    total = sum(counts)
    paragraphs = sum(1 for n in counts if n)

    # collocates, from the index's folded text, in rank order
    tokenizer = _Memo(query_tokenizer(settings))
    left_c: Counter = Counter()
    right_c: Counter = Counter()
    sampled = 0
    cap = total if collocate_sample is None else min(total, collocate_sample)
    notice = None
    for k, n in enumerate(counts):
        if sampled >= cap:
            break
        if not n:
            continue
        if budget.expired():
            notice = budget.NOTICE
            break
        a, b = starts[k], stops[k]
        i = text.find(needle, a, b)
        while i >= 0 and sampled < cap:
            j = i + len(needle)
            sampled += 1
            lw = _left_collocate(text[max(a, i - 40):i], tokenizer)
            rw = _right_collocate(text[j:min(b, j + 40)], tokenizer)
            if lw:
                left_c[lw + text[i:j]] += 1
            if rw:
                right_c[text[i:j] + rw] += 1
            i = text.find(needle, i + 1, b)

    # lines: the original text of the best-ranked paragraphs, until `limit` lines
    lines: list[KwicLine] = []
    want = total if limit is None else min(limit, total)
    k = 0
    while len(lines) < want and k < len(counts):
        stop = k
        need = want - len(lines)
        while stop < len(counts) and need > 0:  # enough paragraphs for the lines still missing
            need -= counts[stop]
            stop += 1
        for hit in found.hits(k, stop):
            _add_lines(lines, hit, needle, width, want)
        k = stop
    if sort == "left":
        lines.sort(key=lambda ln: (fold(ln.left)[::-1], fold(ln.right)))
    elif sort == "right":
        lines.sort(key=lambda ln: (fold(ln.right), fold(ln.left)[::-1]))
    return KwicResult(
        phrase=phrase, lines=lines, total=total, paragraphs=paragraphs,
        left_collocates=left_c.most_common(top), right_collocates=right_c.most_common(top),
        width=width, sort=sort, sampled=sampled, notice=notice,
    )


def _add_lines(lines: list[KwicLine], hit, needle: str, width: int, want: int) -> None:
    text = hit.text
    f = fold(text)
    start = f.find(needle)
    while start >= 0 and len(lines) < want:
        end = start + len(needle)
        lines.append(KwicLine(
            left=_clean(text[max(0, start - width):start]), match=text[start:end],
            right=_clean(text[end:end + width]), paragraph_id=hit.paragraph_id, doc_id=hit.doc_id,
            position=hit.position, offset=start, title=hit.title, unit=hit.unit, date=hit.date,
            site=hit.site, copies=hit.copy_count,
        ))
        start = f.find(needle, start + 1)
