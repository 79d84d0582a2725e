"""Concordance (KWIC, 关键词索引): every occurrence of a phrase with its left and right context,
plus the words that most often come just before and after it (强化要素保障 ×12 ...), which is
what a drafter mines for ready-made collocations.

The occurrences come from the same index and query language as `search` (exact phrase, reposts
folded by default, same filters), so the two never disagree about what matches.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from dataclasses import asdict, dataclass, field

from corpus.errors import QueryError

from .analysis import RUN, fold
from .api import SearchRequest
from .search import iter_hits
from .terms import get_tokenizer

SORTS = ("left", "right", "position")
PUNCT_STOP = "，。！？；：、,.!?;:（）()《》“”\"‘’'【】[]…—\n"
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


def kwic(settings, phrase: str, width: int = 20, sort: str = "left", limit: int | None = 200,
         filters: dict[str, str] | None = None, fold_reposts: bool = True, top: int = 10) -> KwicResult:
    """Every occurrence of `phrase` (exact, folded match) with `width` characters each side.

    sort: "left" orders by the text just before the match read backwards (groups 强化|要素保障,
    加强|要素保障 ...), "right" by the text just after, "position" by rank of the paragraph.
    """
    if sort not in SORTS:
        raise QueryError(f"unknown sort {sort!r}: use left, right or position")
    phrase = (phrase or "").strip().strip('"“”')
    if not RUN.search(fold(phrase)):
        raise QueryError("give a word or phrase to look up, e.g. corpus kwic 要素保障")
    if width < 1 or width > 200:
        raise QueryError("width must be between 1 and 200 characters")
    quoted = '"' + phrase.replace('"', " ") + '"'
    request = SearchRequest(query=quoted, mode="keyword", filters=dict(filters or {}), fold=fold_reposts,
                            per_page=10)
    needle = fold(phrase)
    tokenizer = get_tokenizer(settings)
    lines: list[KwicLine] = []
    left_c: Counter = Counter()
    right_c: Counter = Counter()
    total = paragraphs = 0
    for hit in iter_hits(settings, request):
        paragraphs += 1
        text = hit.text
        f = fold(text)
        start = f.find(needle)
        while start >= 0:
            end = start + len(needle)
            total += 1
            lw = _left_collocate(text[max(0, start - 40):start], tokenizer)
            rw = _right_collocate(text[end:end + 40], tokenizer)
            if lw:
                left_c[lw + text[start:end]] += 1
            if rw:
                right_c[text[start:end] + rw] += 1
            if limit is None or len(lines) < limit or sort != "position":
                lines.append(KwicLine(
                    left=_clean(text[max(0, start - width):start]), match=text[start:end],
                    right=_clean(text[end:end + width]), paragraph_id=hit.paragraph_id, doc_id=hit.doc_id,
                    position=hit.position, offset=start, title=hit.title, unit=hit.unit, date=hit.date,
                    site=hit.site, copies=hit.copy_count,
                ))
            start = f.find(needle, start + 1)
    if sort == "left":
        lines.sort(key=lambda ln: (fold(ln.left)[::-1], fold(ln.right)))
    elif sort == "right":
        lines.sort(key=lambda ln: (fold(ln.right), fold(ln.left)[::-1]))
    if limit is not None:
        lines = lines[:limit]
    return KwicResult(
        phrase=phrase, lines=lines, total=total, paragraphs=paragraphs,
        left_collocates=left_c.most_common(top), right_collocates=right_c.most_common(top),
        width=width, sort=sort,
    )
