"""Safe highlighting: document text is untrusted, so markup is built only here, by escaping.

The library returns matches as character spans (indexer.api.Span), never as HTML. We escape each
segment between span offsets and wrap the spans in <mark>; nothing else in the templates marks
document text safe, so a paragraph containing `<script>` renders as text.
"""

from __future__ import annotations

from collections.abc import Iterable

from markupsafe import Markup, escape


def _pairs(spans: Iterable) -> list[tuple[int, int]]:
    out = []
    for s in spans or ():
        if isinstance(s, (list, tuple)):
            start, end = int(s[0]), int(s[1])
        else:
            start, end = int(s.start), int(s.end)
        out.append((start, end))
    return out


def merge_spans(spans: Iterable, length: int) -> list[tuple[int, int]]:
    """Clamp to the text, drop empty spans, merge overlapping ones so every phrase is marked whole."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(_pairs(spans)):
        start, end = max(0, start), min(length, end)
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def highlight(text: str | None, spans: Iterable = ()) -> Markup:
    """Escaped `text` with each span wrapped in <mark>."""
    text = text or ""
    parts: list[str] = []
    pos = 0
    for start, end in merge_spans(spans, len(text)):
        parts.append(str(escape(text[pos:start])))
        parts.append("<mark>" + str(escape(text[start:end])) + "</mark>")
        pos = end
    parts.append(str(escape(text[pos:])))
    return Markup("".join(parts))


def sentence_at(text: str, offset: int) -> str:
    """The sentence of `text` that contains `offset`: what "收藏本句" adds to the collection."""
    from indexer.analysis import sentence_bounds

    for start, end in sentence_bounds(text):
        if start <= offset < end:
            return text[start:end].strip()
    return text.strip()
