"""Fetched bytes -> text, for Chinese sites whose charset declarations are often missing or wrong.

Which declaration to believe: the page's own <meta charset> (written by whoever made the page)
before the HTTP header (often a server default), and only when it names a UTF or Chinese encoding.
A declaration of a Western code page (iso-8859-1, windows-1252) on a Chinese page is a server
default and would decode GBK bytes into plausible-looking mojibake, so it is ignored and the bytes
decide (strict UTF-8, then GB18030; corpus.encoding). A page that decodes to something other than a
Chinese or Unicode encoding is read as lenient GB18030 when that gives clearly more Han characters
(a GBK page cut short or with one bad byte).
"""

from __future__ import annotations

import re

from corpus.encoding import declared_charset, decode_bytes

_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9_\-]+)", re.I)
_TRUSTED_PREFIXES = ("utf", "gb", "big5", "hz", "cp936", "x-gbk", "euc-cn")


def header_charset(content_type: str) -> str | None:
    m = _HEADER_CHARSET.search(content_type or "")
    return m.group(1).lower() if m else None


def _trusted(name: str | None) -> str | None:
    return name if name and name.lower().startswith(_TRUSTED_PREFIXES) else None


def decode_page(data: bytes, content_type: str = "", *, name: str = "page") -> tuple[str, str]:
    """(text, encoding used). Raises corpus.errors.InputError for binary or undecodable data."""
    declared = _trusted(declared_charset(data)) or _trusted(header_charset(content_type))
    text, encoding = decode_bytes(data, declared=declared, name=name)
    if not encoding.lower().startswith(_TRUSTED_PREFIXES):
        lenient = data.decode("gb18030", errors="replace")
        if lenient.count("\ufffd") <= max(3, len(lenient) // 500) and _han(lenient) > _han(text):
            return lenient, "gb18030+replace"
    return text, encoding


def _han(text: str) -> int:
    return sum(1 for ch in text[:20000] if "\u4e00" <= ch <= "\u9fff")
