"""The document table the search filters, orders and counts by: fields by id (`DocInfo`), the same
as arrays (`DocArrays`, for thousands of matched documents without a Python call each), the
filter predicate of a query, newest-first date order and the facet counts.

The table is derived data, built from the store's documents and kept per database path until the
documents change (`doc_state`); the store itself is passed in by the caller.
"""

from __future__ import annotations

import threading
import weakref
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from corpus.store import Store

from ..analysis import fold
from ..charindex import fold_each
from ..facets import unit_level
from ..query import Query, parse_year

FACET_LIMIT = 30


@dataclass
class DocInfo:
    id: int
    title: str
    ftitle: str
    site: str | None
    url: str | None
    date: str | None
    year: int | None
    unit: str | None
    doc_type: str | None
    truncated: bool
    level: str | None
    date_rank: int = 0  # position in newest-first date order (undated last)


@dataclass
class DocArrays:
    """The document table as arrays (sorted ids) and value groups: filters and date order for
    thousands of matched documents without a Python call per document."""

    ids: np.ndarray
    year: np.ndarray  # -1: unknown
    date_rank: np.ndarray
    ftitle: list[str]
    values: dict[str, list]  # filter key -> each document's folded value (level: as stored)
    shown: dict[str, list] = field(default_factory=dict)  # facet key -> each document's value as counted (None: not)
    _groups: dict[str, dict[str, np.ndarray]] = field(default_factory=dict, repr=False)
    _codes: dict[str, tuple[np.ndarray, list[str]]] = field(default_factory=dict, repr=False)
    _titles: tuple[str, np.ndarray] | None = field(default=None, repr=False)

    @classmethod
    def of(cls, table: dict[int, DocInfo]) -> DocArrays:
        ds = [table[i] for i in sorted(table)]
        n = len(ds)
        folded = fold_each([x for d in ds for x in (d.site or "", d.doc_type or "", d.unit or "")])
        ftitle = [d.ftitle for d in ds]
        return cls(
            ids=np.fromiter((d.id for d in ds), dtype=np.int64, count=n),
            year=np.fromiter((d.year if d.year is not None else -1 for d in ds), dtype=np.int64, count=n),
            date_rank=np.fromiter((d.date_rank for d in ds), dtype=np.int64, count=n),
            ftitle=ftitle,
            values={"title": ftitle, "site": folded[0::3], "type": folded[1::3], "unit": folded[2::3],
                    "level": [d.level for d in ds]},
            shown={"year": [str(d.year) if d.year else None for d in ds], "site": [d.site or None for d in ds],
                   "type": [d.doc_type or None for d in ds], "unit": [d.level or None for d in ds]},
        )

    def positions(self, doc_ids: np.ndarray) -> np.ndarray:
        """Positions in `ids` of these document ids (-1 for an id the table does not hold)."""
        doc_ids = np.asarray(doc_ids, dtype=np.int64)
        if not len(self.ids):
            return np.full(len(doc_ids), -1, dtype=np.int64)
        pos = np.searchsorted(self.ids, doc_ids)
        pos[pos >= len(self.ids)] = 0
        return np.where(self.ids[pos] == doc_ids, pos, -1)

    def facet_codes(self, key: str) -> tuple[np.ndarray, list[str]]:
        """Each document's facet value as a number (-1: not counted) and the values by number."""
        got = self._codes.get(key)
        if got is None:
            labels: dict[str, int] = {}
            codes = np.fromiter((-1 if v is None else labels.setdefault(v, len(labels)) for v in self.shown[key]),
                                dtype=np.int64, count=len(self.ids))
            got = self._codes[key] = (codes, list(labels))
        return got

    def titles_with(self, terms: list[str]) -> np.ndarray:
        """Per document position: whether its folded title holds one of the (folded) terms."""
        hit = np.zeros(len(self.ids), dtype=bool)
        if not len(self.ids):
            return hit
        if self._titles is None:
            starts = np.zeros(len(self.ftitle), dtype=np.int64)
            np.cumsum([len(t) + 1 for t in self.ftitle[:-1]], out=starts[1:])
            self._titles = ("\x00".join(self.ftitle), starts)
        joined, starts = self._titles
        for t in terms:
            if not t or "\x00" in t:  # (cannot happen for a parsed term; checked one by one)
                hit |= np.fromiter((t in x for x in self.ftitle), dtype=bool, count=len(self.ftitle))
                continue
            at = []
            i = joined.find(t)
            while i >= 0:
                at.append(i)
                i = joined.find(t, i + 1)
            if at:
                hit[np.searchsorted(starts, np.asarray(at, dtype=np.int64), side="right") - 1] = True
        return hit

    def group(self, key: str) -> dict[str, np.ndarray]:
        """Folded value -> positions in ids, for one filter key (built on first use)."""
        g = self._groups.get(key)
        if g is None:
            where: dict[str, list[int]] = {}
            for i, v in enumerate(self.values[key]):
                where.setdefault(v, []).append(i)
            g = self._groups[key] = {v: np.array(ix, dtype=np.int64) for v, ix in where.items()}
        return g

    def allowed(self, q: Query) -> np.ndarray | None:
        """Which documents pass the query's filters (the same rules as `filter_fn`), or None."""
        if not q.filters:
            return None
        mask = np.ones(len(self.ids), dtype=bool)
        for key, values in q.filters.items():
            m = np.zeros(len(self.ids), dtype=bool)
            if key == "year":
                known = self.year >= 0
                for lo, hi in (parse_year(v) for v in values):
                    m |= known & (self.year >= lo) & (self.year <= hi)
            elif key == "level":
                levels = self.group("level")
                for v in set(values):
                    if v in levels:
                        m[levels[v]] = True
            else:
                needles = [fold(v).strip() for v in values]
                for value, ix in self.group(key).items():
                    if any(x in value for x in needles):
                        m[ix] = True
            mask &= m
        return mask


_docs: dict[str, tuple[tuple, dict[int, DocInfo], DocArrays]] = {}  # db path -> (signature, table, arrays)
# store -> {thread id: (connection, data_version, signature)}: what each connection last saw
_seen: weakref.WeakKeyDictionary[Store, dict[int, tuple[object, int, tuple]]] = weakref.WeakKeyDictionary()
_state_lock = threading.Lock()


def doc_state(store: Store) -> tuple[dict[int, DocInfo], DocArrays]:
    """Document fields by id (and as arrays), reloaded only when the documents table changed.

    `PRAGMA data_version` (microseconds; it changes when another connection commits) decides
    whether the table signature (a scan of the documents table, ~2 ms) must be read again."""
    key = str(store.path)
    conn = store.db
    version = conn.execute("PRAGMA data_version").fetchone()[0]
    cached = _docs.get(key)
    per_thread = _seen.get(store)
    seen = per_thread.get(threading.get_ident()) if per_thread else None
    if cached and seen and seen[0] is conn and seen[1] == version and seen[2] == cached[0]:
        return cached[1], cached[2]
    sig = store.change_signature()
    if not (cached and cached[0] == sig):
        with _state_lock:
            table = _table(store)
            cached = (sig, table, DocArrays.of(table))
            _docs[key] = cached
    with _state_lock:
        _seen.setdefault(store, {})[threading.get_ident()] = (conn, version, sig)
    return cached[1], cached[2]


_FIELDS = ("id", "title", "site", "url", "date", "year", "unit", "doc_type", "truncated", "level")


def _table(store: Store) -> dict[int, DocInfo]:
    """Every document's DocInfo (one query of plain rows, the titles folded in one pass)."""
    rows = store.document_columns(_FIELDS)
    ftitles = fold_each([r[1] or "" for r in rows])
    levels: dict = {}
    table = {}
    for (did, title, site, url, date, year, unit, doc_type, truncated, level), ftitle in zip(rows, ftitles, strict=True):
        if not level:
            level = levels[unit] if unit in levels else levels.setdefault(unit, unit_level(unit))
        table[did] = DocInfo(id=did, title=title or "", ftitle=ftitle, site=site, url=url, date=date, year=year,
                             unit=unit, doc_type=doc_type, truncated=bool(truncated), level=level)
    order = sorted({d.date or "" for d in table.values()}, key=neg_date)
    ranks = {v: i for i, v in enumerate(order)}
    for d in table.values():
        d.date_rank = ranks[d.date or ""]
    return table


def neg_date(date: str) -> tuple:
    """Sort key: newer first (compare on the digits, inverted)."""
    return tuple(-ord(ch) for ch in date) + (1,)


def filter_fn(q: Query):
    """A predicate over DocInfo from the query's filters (values of one key: any of them)."""
    if not q.filters:
        return None
    checks = []
    for key, values in q.filters.items():
        if key == "year":
            ranges = [parse_year(v) for v in values]
            checks.append(lambda d, r=ranges: d.year is not None and any(lo <= d.year <= hi for lo, hi in r))
        elif key == "level":
            vals = set(values)
            checks.append(lambda d, v=vals: d.level in v)
        else:
            attr = {"title": "title", "site": "site", "type": "doc_type", "unit": "unit"}[key]
            needles = [fold(v).strip() for v in values]
            memo: dict = {}  # field values repeat across documents: fold and test each once

            def check(d, a=attr, n=needles, memo=memo):
                v = getattr(d, a) or ""
                r = memo.get(v)
                if r is None:
                    r = memo[v] = any(x in fold(v) for x in n)
                return r

            checks.append(check)
    return lambda d: all(c(d) for c in checks)


def facets(cands, docs: dict[int, DocInfo], arrays: DocArrays | None = None) -> dict[str, list[tuple[str, int]]]:
    """Counts of the (folded) hits by year, site, type and administrative level, most first (with
    the table's arrays: counted per document code, not per hit in Python)."""
    if arrays is not None:
        pos = arrays.positions(np.fromiter((c.doc_id for c in cands), dtype=np.int64, count=len(cands)))
        pos = pos[pos >= 0]
        out = {}
        for k in ("year", "site", "type", "unit"):
            codes, labels = arrays.facet_codes(k)
            got = codes[pos]
            counts = np.bincount(got[got >= 0], minlength=len(labels))
            items = [(labels[i], int(counts[i])) for i in np.flatnonzero(counts).tolist()]
            items.sort(key=(lambda kv: (-int(kv[0]),)) if k == "year" else (lambda kv: (-kv[1], kv[0])))
            out[k] = items[:FACET_LIMIT]
        return out
    counters = {"year": Counter(), "site": Counter(), "type": Counter(), "unit": Counter()}
    for c in cands:
        d = docs.get(c.doc_id)
        if d is None:
            continue
        if d.year:
            counters["year"][str(d.year)] += 1
        if d.site:
            counters["site"][d.site] += 1
        if d.doc_type:
            counters["type"][d.doc_type] += 1
        if d.level:
            counters["unit"][d.level] += 1
    out = {}
    for k, cnt in counters.items():
        items = sorted(cnt.items(), key=(lambda kv: (-int(kv[0]),)) if k == "year" else (lambda kv: (-kv[1], kv[0])))
        out[k] = items[:FACET_LIMIT]
    return out
