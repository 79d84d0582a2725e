"""Hit shaping: candidates (ranked paragraph ids) into the `Hit`s the front ends show — the
paragraph's text and fields from the store, highlight spans of the query's terms, the snippet, the
best sentence of a meaning neighbour, the folded reposts (`Hit.copies`) and, for a heading, the
start of the section beneath it."""

from __future__ import annotations

import json

from corpus.store import Store

from ..analysis import fold, sentence_bounds
from ..api import Copy, Hit, Span
from ..charindex import fold_each
from ..query import Query
from ..snippets import find_spans, snippet
from .candidates import Cand

MAX_COPIES = 50


def needles_of(q: Query, text_folded: str, related_words: list[str] | None) -> list[str]:
    """What to mark in a hit: the query's terms where the text holds them whole; in the related list
    also the whole partial-match words (never single characters)."""
    needles = [t.folded for t in q.positive_terms if t.folded in text_folded]
    if related_words:
        needles += [w for w in related_words if len(w) >= 2 and w in text_folded]
    return needles


def make_hits(store: Store, docs, q: Query, cands: list[Cand], start_rank: int,
              fold_reposts: bool, related_words: list[str] | None = None) -> list[Hit]:
    if not cands:
        return []
    rows = store.paragraphs_by_ids([c.pid for c in cands])
    # a page's reposts and heading sections in one query each (not two per hit)
    members = store.cluster_members_of(
        [r["cluster_id"] for r in rows.values() if r["cluster_id"] is not None], limit=MAX_COPIES + 1,
    ) if fold_reposts else {}
    bodies = store.section_bodies([(c.doc_id, rows[c.pid]["position"]) for c in cands
                                   if c.pid in rows and rows[c.pid]["kind"] == "heading"])
    found = list(rows)
    folded = dict(zip(found, fold_each([rows[p]["text"] for p in found]), strict=True))  # in one pass
    hits = []
    for i, c in enumerate(cands):
        r = rows.get(c.pid)
        d = docs.get(c.doc_id)
        if r is None or d is None:  # deleted since the index was built
            continue
        text = r["text"]
        f = folded[c.pid]
        needles = needles_of(q, f, related_words)
        spans = find_spans(text, needles, folded=f)
        best = best_sentence(text, c.best_sentence, q)
        relation = c.relation
        if relation == "meaning" and any(w in f for w in (related_words or []) if len(w) >= 2):
            relation = "partial"
        if relation == "meaning" and best:  # a meaning neighbour shows the sentence that matched best
            snip, snip_spans = best, []
        else:
            snip, snip_spans = snippet(text, spans)
        copies = []
        if fold_reposts and r["cluster_id"] is not None:
            for m in members.get(r["cluster_id"], ()):
                if m["id"] == c.pid:
                    continue
                copies.append(Copy(paragraph_id=m["id"], doc_id=m["doc_id"], title=m["title"], site=m["site"],
                                   date=m["date"], unit=m["unit"], url=m["url"]))
                if len(copies) >= MAX_COPIES:
                    break
        body = bodies.get((c.doc_id, r["position"]), []) if r["kind"] == "heading" else []
        hits.append(Hit(
            paragraph_id=c.pid, doc_id=c.doc_id, position=r["position"], text=text,
            spans=[Span(s, e) for s, e in spans], snippet=snip, snippet_spans=[Span(s, e) for s, e in snip_spans],
            title=d.title, site=d.site, url=d.url, date=d.date, year=d.year, unit=d.unit, doc_type=d.doc_type,
            truncated=bool(d.truncated), section=json.loads(r["section"] or "[]"), kind=r["kind"],
            score=round(c.score, 4), rank=start_rank + i, cluster_id=r["cluster_id"], copies=copies,
            best_sentence=best, relation=relation, body=body,
        ))
    return hits


def best_sentence(text: str, window: str | None, q: Query) -> str | None:
    """The sentence to show for a semantic match, or None when it would only repeat the paragraph.

    The embedding index scores windows of up to a few sentences; within the best window the
    sentence sharing most character pairs with the query is shown (the window's first sentence
    when none does). A window that is (nearly) the whole paragraph and one sentence long adds
    nothing to the card, so it is dropped.
    """
    if not window:
        return None
    f = fold(window)
    bounds = [(a, b) for a, b in sentence_bounds(f) if f[a:b].strip()]
    if len(bounds) <= 1:
        return window.strip() if len(window) < 0.9 * len(text) else None
    pairs = {t.folded[i:i + 2] for t in q.positive_terms for i in range(max(1, len(t.folded) - 1))}
    best = max(bounds, key=lambda ab: (sum(1 for pr in pairs if pr and pr in f[ab[0]:ab[1]]), -ab[0]))
    sentence = window[best[0]:best[1]].strip()
    return sentence if len(sentence) < 0.9 * len(text) else None

