"""Patterns with gaps (句式): what fills a frame such as 以*为抓手, 坚持*不动摇, 一是*二是*三是.

`*` is a gap of 1 to `max_gap` word characters (letters, digits, Chinese; default 8), `?` exactly
one; several gaps are allowed, two gaps side by side are not (where one ends would be arbitrary).
The frame is folded like every query (traditional -> simplified, full-width -> half-width), so
＊ and ？ work too. A gap takes the *shortest* filler that completes the frame (以此以党建为抓手
gives 此以党建, the same as a regex scan: the leftmost match wins).

The answer is exactly the matches of the regular expression `pattern_regex()` builds over every
paragraph (tests compare with such a scan); the paragraphs to scan come from the character index:
every literal part of the frame must occur in them, so only candidate rows are read.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

import numpy as np

from corpus.errors import QueryError

from . import budget
from .analysis import RUN, fold
from .subcorpus import corpus_rows, doc_ref, find_in_rows, normalise_filters, row_mask

DEFAULT_MAX_GAP = 8
MAX_GAP_LIMIT = 30
MAX_PATTERN_CHARS = 60
SORTS = ("count", "documents", "first", "filler")
GAP_JOIN = " … "  # how the fillers of a frame with several gaps are shown as one text
EXAMPLE_CONTEXT = 24


@dataclass
class Filler:
    filler: str  # the gap text(s); several gaps joined with GAP_JOIN
    parts: list[str]
    phrase: str  # the frame with its gaps filled: what the hits, KWIC and timeline links look up
    count: int
    documents: int
    paragraphs: int
    first_year: int | None
    first_date: str | None
    example: dict | None = None  # doc/paragraph reference plus left, match, right


@dataclass
class PatternResult:
    pattern: str
    regex: str
    max_gap: int
    filters: dict[str, list[str]]
    fold: bool
    sort: str
    total: int  # matches
    paragraphs: int
    candidates: int  # paragraphs read (those holding every literal part)
    fillers: list[Filler] = field(default_factory=list)
    distinct: int = 0
    notice: str | None = None  # the request's time budget cut the scan: counts are of the part read

    def to_json(self) -> dict:
        return asdict(self)

    def table(self) -> tuple[list[str], list[list]]:
        cols = ["filler", "phrase", "count", "documents", "paragraphs", "first_year", "first_date",
                "example_title", "example_date", "example_paragraph_id", "example"]
        out = []
        for f in self.fillers:
            ex = f.example or {}
            out.append([f.filler, f.phrase, f.count, f.documents, f.paragraphs, f.first_year, f.first_date,
                        ex.get("title"), ex.get("date"), ex.get("paragraph_id"),
                        (ex.get("left", "") + "【" + ex.get("match", "") + "】" + ex.get("right", "")) if ex else None])
        return cols, out


@dataclass
class Frame:
    literals: list[str]  # folded literal parts, len = gaps + 1 (empty at an edge)
    gaps: list[str]  # "*" or "?"


def parse_frame(pattern: str) -> Frame:
    p = fold((pattern or "").strip()).strip('"“”')
    if not p:
        raise QueryError("give a frame with gaps, e.g. 以*为抓手 (* = 1 to 8 characters, ? = exactly one)")
    if len(p) > MAX_PATTERN_CHARS:
        raise QueryError(f"frame too long ({len(p)} characters; at most {MAX_PATTERN_CHARS})")
    pieces = re.split(r"([*?])", p)
    literals, gaps = [pieces[0]], []
    for i in range(1, len(pieces), 2):
        gaps.append(pieces[i])
        literals.append(pieces[i + 1])
    if not gaps:
        raise QueryError(f"'{pattern}' has no gap: mark one with * (1 to N characters) or ? (exactly one), "
                         "e.g. 以*为抓手 — for a fixed phrase use search or KWIC")
    for lit in literals[1:-1]:
        if lit == "":
            raise QueryError("two gaps side by side (** or *?) are ambiguous: put a character between them")
    if not any(RUN.search(lit) for lit in literals):
        raise QueryError("a frame needs at least one fixed character besides the gaps, e.g. 以*为抓手")
    return Frame(literals=literals, gaps=gaps)


def pattern_regex(pattern: str, max_gap: int = DEFAULT_MAX_GAP) -> re.Pattern:
    """The regular expression the frame means (over folded text): a gap is a group."""
    fr = parse_frame(pattern)
    out = [re.escape(fr.literals[0])]
    for g, lit in zip(fr.gaps, fr.literals[1:], strict=True):
        out.append(rf"([^\W_]{{1,{int(max_gap)}}}?)" if g == "*" else r"([^\W_])")
        out.append(re.escape(lit))
    return re.compile("".join(out))


def _fill(fr: Frame, parts: tuple[str, ...]) -> str:
    out = [fr.literals[0]]
    for part, lit in zip(parts, fr.literals[1:], strict=True):
        out += [part, lit]
    return "".join(out)


def pattern_search(settings, pattern: str, max_gap: int = DEFAULT_MAX_GAP, filters: dict | None = None,
                   fold: bool = True, sort: str = "count", limit: int | None = 200,
                   examples: bool = True) -> PatternResult:
    """Distinct fillers of the frame with counts, documents, first year and an example each."""
    if sort not in SORTS:
        raise QueryError(f"unknown sort {sort!r}: use one of {', '.join(SORTS)}")
    if not 1 <= int(max_gap) <= MAX_GAP_LIMIT:
        raise QueryError(f"the gap length must be between 1 and {MAX_GAP_LIMIT} characters")
    fr = parse_frame(pattern)
    regex = pattern_regex(pattern, max_gap)
    f = normalise_filters(filters)
    rows = corpus_rows(settings)
    mask = row_mask(rows, f, fold)
    chars = rows.view.chars
    cand: np.ndarray | None = None
    for lit in fr.literals:
        if not RUN.search(lit):
            continue
        r = np.asarray(chars.rows_for(lit), dtype=np.int64)
        cand = r if cand is None else np.intersect1d(cand, r, assume_unique=True)
        if not len(cand):
            break
    cand = cand[mask[cand]] if cand is not None and len(cand) else np.zeros(0, dtype=np.int64)
    hit_rows, starts, ends, groups = find_in_rows(rows, regex, cand, mask, groups=True,
                                                  whole_text_above=len(rows.year) // 2, stop=budget.expired)
    notice = budget.NOTICE if budget.was_cut() else None
    # per filler, vectorised: count, distinct rows and documents, the earliest dated occurrence
    index: dict[tuple, int] = {}
    fid = np.fromiter((index.setdefault(g, len(index)) for g in groups), dtype=np.int64, count=len(groups))
    keys = list(index)
    nf = len(keys)
    counts = np.bincount(fid, minlength=nf) if nf else np.zeros(0, np.int64)
    n_rows = np.bincount(np.unique(np.stack([fid, hit_rows]), axis=1)[0], minlength=nf) if nf else counts
    dpos = rows.docpos[hit_rows] if len(hit_rows) else np.zeros(0, np.int64)
    n_docs = np.bincount(np.unique(np.stack([fid, dpos]), axis=1)[0], minlength=nf) if nf else counts
    order = np.lexsort((starts, hit_rows, rows.date_key[hit_rows], fid)) if nf else np.zeros(0, np.int64)
    first_of = order[np.flatnonzero(np.r_[True, fid[order][1:] != fid[order][:-1]])] if nf else order
    first_key = rows.date_key[hit_rows[first_of]] if nf else np.zeros(0, np.int64)

    def make(k: int) -> Filler:
        i = int(first_of[k])
        g = keys[k]
        r = int(hit_rows[i])
        d = rows.doc(r)
        dated = d is not None and d.date
        return Filler(
            filler=GAP_JOIN.join(g), parts=list(g), phrase=_fill(fr, g), count=int(counts[k]),
            documents=int(n_docs[k]), paragraphs=int(n_rows[k]),
            first_year=(d.year if dated else None), first_date=(d.date if dated else None),
            example={"_at": (r, int(starts[i]), int(ends[i]))},
        )

    text_order = sorted(range(nf), key=lambda k: keys[k])  # ties and the "filler" sort: by the text
    rank_text = np.empty(nf, dtype=np.int64)
    rank_text[text_order] = np.arange(nf)
    if sort == "count":
        order_k = np.lexsort((rank_text, -n_docs, -counts))
    elif sort == "documents":
        order_k = np.lexsort((rank_text, -counts, -n_docs))
    elif sort == "first":
        order_k = np.lexsort((rank_text, -counts, first_key))  # oldest first, undated last
    else:
        order_k = np.asarray(text_order, dtype=np.int64)
    fillers = [make(int(k)) for k in (order_k[:limit] if limit is not None else order_k)]
    distinct = nf
    if examples:
        _examples(settings, rows, fillers)
    else:
        for x in fillers:
            x.example = None
    return PatternResult(pattern=pattern, regex=regex.pattern, max_gap=int(max_gap), filters=f, fold=fold, sort=sort,
                         total=len(hit_rows), paragraphs=len(np.unique(hit_rows)), candidates=len(cand),
                         fillers=fillers, distinct=distinct, notice=notice)


def _examples(settings, rows, fillers: list[Filler]) -> None:
    """Each filler's example: its earliest dated occurrence, cut from the stored (unfolded) text."""
    from corpus.store import reading

    with reading(settings) as store:
        for x in fillers:
            r, s, e = x.example.pop("_at")
            ref = doc_ref(rows, r)
            base = int(rows.toff[r])
            try:
                text = store.get_paragraph(ref["paragraph_id"])["text"]
            except Exception:  # deleted since the index was built: the folded text still shows it
                text = rows.text[base:int(rows.toff[r + 1]) - 1]
            a, b = s - base, e - base
            ref.update(left=text[max(0, a - EXAMPLE_CONTEXT):a].replace("\n", " "), match=text[a:b],
                       right=text[b:b + EXAMPLE_CONTEXT].replace("\n", " "), offset=a)
            x.example = ref
