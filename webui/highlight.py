"""Safe highlighting: document text is untrusted, so markup is built only here, by escaping.

The library returns matches as character spans (indexer.api.Span), never as HTML. We escape each
segment between span offsets and wrap the spans in <mark>; nothing else in the templates marks
document text safe, so a paragraph containing `<script>` renders as text.
"""

from __future__ import annotations

from collections.abc import Iterable

from markupsafe import Markup, escape

from indexer.snippets import merge_spans


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
