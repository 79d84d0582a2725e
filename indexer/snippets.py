"""Highlight spans and snippets: where the matched phrase is in a paragraph, and which sentences
to show for a long one. Spans are character offsets into the original text (fold() keeps the
length), never markup: each front end marks them its own way."""

from __future__ import annotations

from .analysis import fold, sentence_bounds

SNIPPET_CHARS = 160  # aim for about this much text around a hit
WHOLE_UNDER = 240  # paragraphs shorter than this are shown whole


def find_spans(text: str, needles: list[str], *, folded: str | None = None) -> list[tuple[int, int]]:
    """Every occurrence of every needle (folded match), overlapping ones merged, in order."""
    hay = folded if folded is not None else fold(text)
    raw = []
    for needle in needles:
        n = fold(needle).strip()
        if not n:
            continue
        start = hay.find(n)
        while start >= 0:
            raw.append((start, start + len(n)))
            start = hay.find(n, start + 1)
    return merge_spans(raw)


def merge_spans(spans, length: int | None = None) -> list[tuple[int, int]]:
    """Spans ((start, end) pairs or objects with .start/.end) sorted, clamped to a text of `length`
    when given, empty ones dropped, overlapping or touching ones merged, so that every phrase is
    marked whole: the one merge the snippets, the web highlight and the export's 【】 all use."""
    pairs = []
    for sp in spans or ():
        a, b = (int(sp[0]), int(sp[1])) if isinstance(sp, (list, tuple)) else (int(sp.start), int(sp.end))
        if length is not None:
            a, b = max(0, a), min(length, b)
        if b > a:
            pairs.append((a, b))
    out: list[tuple[int, int]] = []
    for a, b in sorted(pairs):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def snippet(text: str, spans: list[tuple[int, int]], *, max_chars: int = SNIPPET_CHARS,
            whole_under: int = WHOLE_UNDER) -> tuple[str, list[tuple[int, int]]]:
    """The sentence holding the first hit plus neighbours up to about `max_chars`, with '…' where
    text was cut; spans shifted into the snippet. Short paragraphs come back whole."""
    if len(text) <= whole_under:
        return text, list(spans)
    bounds = sentence_bounds(text)
    anchor = spans[0][0] if spans else 0
    i = next((k for k, (s, e) in enumerate(bounds) if s <= anchor < e), 0)
    lo = hi = i
    length = bounds[i][1] - bounds[i][0]
    while length < max_chars:
        grew = False
        if hi + 1 < len(bounds) and length + (bounds[hi + 1][1] - bounds[hi + 1][0]) <= max_chars * 1.3:
            hi += 1
            length += bounds[hi][1] - bounds[hi][0]
            grew = True
        if length < max_chars and lo > 0 and length + (bounds[lo - 1][1] - bounds[lo - 1][0]) <= max_chars * 1.3:
            lo -= 1
            length += bounds[lo][1] - bounds[lo][0]
            grew = True
        if not grew:
            break
    start, end = bounds[lo][0], bounds[hi][1]
    if end - start > max_chars * 2:  # one very long sentence: a window around the hit
        start = max(bounds[lo][0], anchor - max_chars // 2)
        end = min(bounds[hi][1], start + max_chars)
    body = text[start:end].strip()
    lead = len(text[start:end]) - len(text[start:end].lstrip())
    start += lead
    prefix = "…" if start > 0 else ""
    suffix = "…" if start + len(body) < len(text) else ""
    shift = len(prefix) - start
    out_spans = [(max(s, start) + shift, min(e, start + len(body)) + shift)
                 for s, e in spans if e > start and s < start + len(body)]
    return prefix + body + suffix, out_spans
