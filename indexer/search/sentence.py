"""同句 (scope "sentence"): which matched rows hold every clause within one sentence, as
`analysis.sentence_bounds` cuts it, using the sentence ends the keyword index precomputed (no
SQLite reads, no slicing of every sentence)."""

from __future__ import annotations

from bisect import bisect_right

import numpy as np

from .. import analysis, budget
from ..analysis import SENTENCE_END
from ..keyword import IndexView
from ..query import Query

_CLOSERS = "”’」』）)"  # may continue a sentence end (see analysis.SENTENCE_END)


def sentence_checker(q: Query, tokenizer, text: str):
    """A predicate (start, end, sentence ends) -> bool over `text` (the index's joined folded
    texts): some sentence of text[start:end] (as `analysis.sentence_bounds` cuts it; `ends` are
    the sentence ends inside, precomputed by the index) holds every clause, exactly or with its
    words apart. The words of each term are cut once per query; a paragraph is checked by where
    the needles occur (sentence numbers by bisection), never by slicing every sentence."""
    clauses = []
    for c in q.clauses:
        alts = []
        for t in c.alternatives:
            fine = [] if t.exact else analysis.fine_words(t.text, tokenizer)
            alts.append((t.folded, fine))
        clauses.append(alts)
    find = text.find

    def sentences_with(needle: str, start: int, end: int, ends: list[int]) -> set[int]:
        out = set()
        n = len(needle)
        i = find(needle, start, end)
        while i >= 0:
            k = bisect_right(ends, i)
            if i + n <= (ends[k] if k < len(ends) else end):
                out.add(k)
            i = find(needle, i + 1, end)
        return out

    def same_sentence_quick(start: int, end: int) -> bool:
        # the first exact occurrence of each clause, with no sentence end in between: holds
        lo, hi = end, start
        for alts in clauses:
            for exact, _ in alts:
                i = find(exact, start, end)
                if i >= 0:
                    lo, hi = min(lo, i), max(hi, i + len(exact))
                    break
            else:
                return False
        return text[lo] not in _CLOSERS and SENTENCE_END.search(text, lo, hi) is None

    simple = all(not fine or fine == [exact] for alts in clauses for exact, fine in alts)
    needles = [list(dict.fromkeys(exact for exact, _ in alts)) for alts in clauses]
    first, rest = needles[0], needles[1:]

    def check_simple(start: int, end: int, ends: list[int]) -> bool:
        # each clause is "any of these substrings": walk the sentences holding the first clause
        for needle in first:
            n = len(needle)
            i = find(needle, start, end)
            while i >= 0:
                k = bisect_right(ends, i)
                s0 = ends[k - 1] if k else start
                e0 = ends[k] if k < len(ends) else end
                if i + n <= e0:
                    if all(any(find(x, s0, e0) >= 0 for x in alts) for alts in rest):
                        return True
                    i = find(needle, e0, end)  # the rest of this sentence cannot do better
                else:
                    i = find(needle, i + 1, end)
        return False

    if simple:
        return check_simple

    def check(start: int, end: int, ends: list[int]) -> bool:
        if not ends:  # a single sentence
            return same_paragraph(start, end)
        if same_sentence_quick(start, end):
            return True
        common: set[int] | None = None
        for alts in clauses:
            found: set[int] = set()
            for exact, fine in alts:
                found |= sentences_with(exact, start, end, ends)
                if fine:
                    sets = [sentences_with(w, start, end, ends) for w in fine]
                    found |= set.intersection(*sets)
            common = found if common is None else common & found
            if not common:
                return False
        return True

    def same_paragraph(start: int, end: int) -> bool:
        # one sentence: every clause somewhere in it
        return all(any(find(exact, start, end) >= 0
                       or (fine and all(find(w, start, end) >= 0 for w in fine)) for exact, fine in alts)
                   for alts in clauses)

    return check


def same_sentence_rows(view: IndexView, q: Query, tokenizer, rows: np.ndarray) -> np.ndarray:
    """Which of `rows` hold every clause within one sentence."""
    ci = view.chars
    starts = np.asarray(ci.toff[rows])
    stops = np.asarray(ci.toff[rows + 1]) - 1
    se = view.sent_ends
    a = np.searchsorted(se, starts, side="right")
    b = np.searchsorted(se, stops, side="left")  # an end exactly at the row end closes its last sentence
    check = sentence_checker(q, tokenizer, ci.text)
    keep = np.zeros(len(rows), dtype=bool)
    for k, (s, e, i, j) in enumerate(zip(starts.tolist(), stops.tolist(), a.tolist(), b.tolist(), strict=True)):
        if k % 1024 == 1023 and budget.expired():  # the rest unchecked: a partial result with a notice
            break
        keep[k] = check(s, e, se[i:j].tolist())
    return keep


