"""Invisible and formatting characters, kept light: the cleaner removes them from stored text and the
query parser from queries, and a keyword search must not load the cleaner's rules to do so.

Zero-width space/non-joiner/joiner, word joiner and invisible operators, BOM/ZWNBSP, soft hyphen,
Mongolian vowel separator, bidi marks, embeddings, overrides and isolates: inside a word they break
every match ("要\\u200c素保障" is not found by 要素保障) and bidi controls can reorder what a reader sees.
"""

from __future__ import annotations

import re

INVISIBLE = re.compile("[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")


def strip_invisible(text: str) -> str:
    """Text without invisible/formatting characters (the raw source keeps them)."""
    return INVISIBLE.sub("", text) if INVISIBLE.search(text) else text
