"""Citations on the pages, from corpus.citation (the one citation function).

Hits and KWIC lines carry only some document fields, so the templates ask for the citations of a
page's documents in one store query (`citations(doc_ids)`), cached for the request.
"""

from __future__ import annotations

from flask import g

from corpus.citation import citation

from . import services


def citations(doc_ids) -> dict[int, str]:
    """{doc_id: citation} for these documents (one query per request for the ids not yet seen)."""
    cache: dict[int, str] = g.setdefault("corpus_citations", {})
    missing = {int(i) for i in doc_ids if i is not None} - cache.keys()
    if missing:
        fields = services().store.citation_fields(missing)
        for doc_id in missing:
            cache[doc_id] = citation(fields.get(doc_id, {}))
    return cache


def cite_doc(doc_id) -> str:
    return citations([doc_id])[int(doc_id)]
