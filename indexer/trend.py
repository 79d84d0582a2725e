"""Timeline of a formulation (提法走势): when a phrase was first used, how its use grew year by
year, who uses it.

For each phrase: per year the hits (exact occurrences, as the character index finds them) per
million characters of that year's (sub-)corpus and the number of documents using it; the first
and the last use (earliest and latest dated document, with the paragraph); a breakdown by unit
level, site and document type. Hits in documents without a date count in the totals and are
reported as such (`undated_hits`): the chart can only show dated ones, and says how many it
leaves out. Reposts are folded as in search (see indexer.subcorpus).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field

import numpy as np

from corpus.errors import QueryError

from .subcorpus import UNKNOWN, clean_phrase, corpus_rows, doc_ref, normalise_filters, occurrences, row_mask

MAX_PHRASES = 8
BREAKDOWNS = ("level", "site", "type")


@dataclass
class YearCount:
    year: int
    hits: int
    documents: int
    per_million: float  # hits per million characters of that year's corpus


@dataclass
class PhraseTrend:
    phrase: str
    hits: int  # all occurrences in the sub-corpus
    documents: int
    paragraphs: int
    undated_hits: int  # occurrences in documents without a date (not on the chart)
    years: list[YearCount]  # every year of the corpus span, zeros included
    first: dict | None  # earliest dated use: doc_id, paragraph_id, title, date, year, site, unit, url
    last: dict | None
    breakdown: dict[str, list[tuple[str, int, int]]] = field(default_factory=dict)  # key -> (value, hits, docs)

    @property
    def first_year(self) -> int | None:
        return self.first["year"] if self.first else None

    @property
    def last_year(self) -> int | None:
        return self.last["year"] if self.last else None


@dataclass
class TrendResult:
    phrases: list[str]
    filters: dict[str, list[str]]
    fold: bool
    years: list[int]  # the corpus span: first to last year with a dated document
    corpus_chars: list[int]  # characters of each year's corpus (aligned with years)
    corpus_documents: list[int]
    undated_documents: int
    series: list[PhraseTrend]

    def to_json(self) -> dict:
        d = asdict(self)
        for s, p in zip(d["series"], self.series, strict=True):
            s["first_year"] = p.first_year
            s["last_year"] = p.last_year
            s["breakdown"] = {k: [{"value": v, "hits": h, "documents": n} for v, h, n in vals]
                              for k, vals in p.breakdown.items()}
        return d

    def table(self) -> tuple[list[str], list[list]]:
        """The numbers behind the chart: one row per year (what CSV/XLSX export)."""
        cols = ["year", "corpus_chars", "corpus_documents"]
        for p in self.phrases:
            cols += [f"{p} hits", f"{p} documents", f"{p} per_million"]
        out = []
        for i, y in enumerate(self.years):
            row = [y, self.corpus_chars[i], self.corpus_documents[i]]
            for s in self.series:
                yc = s.years[i]
                row += [yc.hits, yc.documents, yc.per_million]
            out.append(row)
        return cols, out


def parse_phrases(phrases: list[str] | str) -> list[str]:
    """Several phrases from the command line or a form: separate arguments, or one text split at
    spaces, commas and 、 (a phrase cannot hold a space)."""
    import re

    if isinstance(phrases, str):
        phrases = [phrases]
    out: list[str] = []
    for p in phrases:
        for part in re.split(r"[\s,，、;；]+", p or ""):
            part = part.strip().strip('"“”')
            if part and part not in out:
                out.append(part)
    if not out:
        raise QueryError("give one or more phrases, e.g. 高质量发展 新质生产力")
    if len(out) > MAX_PHRASES:
        raise QueryError(f"at most {MAX_PHRASES} phrases on one chart ({len(out)} given)")
    return [clean_phrase(p) for p in out]


def trend(settings, phrases: list[str] | str, filters: dict | None = None, fold: bool = True) -> TrendResult:
    """The timeline of each phrase over the sub-corpus the filters describe."""
    phrases = parse_phrases(phrases)
    f = normalise_filters(filters)
    rows = corpus_rows(settings)
    mask = row_mask(rows, f, fold)
    sel = np.flatnonzero(mask)
    ysel = rows.year[sel]
    dated = ysel >= 0
    if dated.any():
        y0, y1 = int(ysel[dated].min()), int(ysel[dated].max())
    else:
        y0, y1 = 0, -1
    span = list(range(y0, y1 + 1))
    nyears = len(span)
    chars = np.zeros(nyears, dtype=np.int64)
    docs_per_year = np.zeros(nyears, dtype=np.int64)
    undated_docs = 0
    if nyears:
        chars = np.bincount(ysel[dated] - y0, weights=rows.length[sel][dated], minlength=nyears).astype(np.int64)
    dp = rows.docpos[sel]
    if len(dp):
        udp, first_idx = np.unique(dp, return_index=True)
        uy = ysel[first_idx]
        if nyears:
            docs_per_year = np.bincount(uy[uy >= 0] - y0, minlength=nyears).astype(np.int64)
        undated_docs = int((uy < 0).sum())
    series = [_phrase_trend(rows, p, mask, span, chars) for p in phrases]
    return TrendResult(phrases=phrases, filters=f, fold=fold, years=span, corpus_chars=chars.tolist(),
                       corpus_documents=docs_per_year.tolist(), undated_documents=undated_docs, series=series)


def _phrase_trend(rows, phrase: str, mask: np.ndarray, span: list[int], chars: np.ndarray) -> PhraseTrend:
    hit_rows, _starts = occurrences(rows, phrase, mask)
    nyears = len(span)
    y0 = span[0] if span else 0
    years = rows.year[hit_rows]
    dpos = rows.docpos[hit_rows]
    dated = years >= 0
    hits_y = np.bincount(years[dated] - y0, minlength=nyears) if nyears and dated.any() else np.zeros(nyears, int)
    docs_y = np.zeros(nyears, dtype=np.int64)
    if nyears and dated.any():
        pairs = np.unique(np.stack([years[dated], dpos[dated]]), axis=1)
        docs_y = np.bincount(pairs[0] - y0, minlength=nyears)
    ylist = []
    for i, y in enumerate(span):
        h = int(hits_y[i])
        ylist.append(YearCount(year=y, hits=h, documents=int(docs_y[i]),
                               per_million=round(h / chars[i] * 1e6, 3) if chars[i] else 0.0))
    first = last = None
    if dated.any():
        dk = rows.date_key[hit_rows]
        order = np.lexsort((hit_rows, dk))
        first = doc_ref(rows, int(hit_rows[order[0]]))
        # latest date; its first paragraph using the phrase
        latest = dk[dated].max()
        cand = hit_rows[dk == latest]
        last = doc_ref(rows, int(cand.min()))
    breakdown = _breakdown(rows, hit_rows, dpos)
    return PhraseTrend(
        phrase=phrase, hits=len(hit_rows), documents=len(np.unique(dpos)), paragraphs=len(np.unique(hit_rows)),
        undated_hits=int((~dated).sum()), years=ylist, first=first, last=last, breakdown=breakdown,
    )


def _breakdown(rows, hit_rows: np.ndarray, dpos: np.ndarray) -> dict[str, list[tuple[str, int, int]]]:
    hits: dict[str, Counter] = {k: Counter() for k in BREAKDOWNS}
    docs: dict[str, dict[str, set]] = {k: defaultdict(set) for k in BREAKDOWNS}
    per_doc = Counter(dpos.tolist())
    ids = rows.arrays.ids
    for p, n in per_doc.items():
        d = rows.docs.get(int(ids[p]))
        if d is None:
            continue
        for key, value in (("level", d.level), ("site", d.site), ("type", d.doc_type)):
            v = value or UNKNOWN
            hits[key][v] += n
            docs[key][v].add(p)
    return {k: sorted(((v, n, len(docs[k][v])) for v, n in hits[k].items()), key=lambda t: (-t[1], t[0]))
            for k in BREAKDOWNS}
