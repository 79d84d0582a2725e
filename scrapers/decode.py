"""Fetched bytes -> text: the crawler uses the one HTML decoder, corpus.encoding.decode_html.

Kept as a module so the crawler's import stays put; the rules (which declaration to believe, the
lenient GB18030 repair) live in corpus/encoding.py only.
"""

from __future__ import annotations

from corpus.encoding import decode_html, header_charset

__all__ = ["decode_page", "header_charset"]


def decode_page(data: bytes, content_type: str = "", *, name: str = "page") -> tuple[str, str]:
    """(text, encoding used). Raises corpus.errors.InputError (naming the page) for binary or undecodable data."""
    return decode_html(data, content_type=content_type, name=name)
