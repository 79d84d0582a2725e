"""Decoding bytes collected from Chinese sites: UTF-8 (with or without BOM), GB2312/GBK/GB18030,
often undeclared or declared wrongly.

Order: BOM; strict UTF-8; a declared charset (GB2312/GBK widen to GB18030, their superset) if it
decodes cleanly; strict GB18030; then charset-normalizer's best guess. Binary data is refused.
"""

from __future__ import annotations

import codecs
import re

from .errors import InputError

_GB_ALIASES = {"gb2312", "gbk", "gb18030", "x-gbk", "cp936", "hz-gb-2312", "euc-cn"}
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-]+)""", re.I)
_XML_DECL = re.compile(rb"""<\?xml[^>]+encoding=["']([A-Za-z0-9_\-]+)""", re.I)
_ANY_ENCODING_ATTR = re.compile(rb"""\bencoding\s*=\s*["']([A-Za-z0-9_\-]+)""", re.I)


def looks_binary(data: bytes) -> bool:
    """NUL bytes or many control characters in the first 8 KB: not a text file."""
    head = data[:8192]
    if not head:
        return False
    if b"\x00" in head and not (head.startswith(codecs.BOM_UTF16_LE) or head.startswith(codecs.BOM_UTF16_BE)):
        return True
    controls = sum(1 for b in head if b < 9 or 13 < b < 32)
    return controls > len(head) * 0.05


def declared_charset(data: bytes) -> str | None:
    """The charset an HTML/XML document declares for itself, if any."""
    m = _META_CHARSET.search(data[:4096]) or _XML_DECL.search(data[:512]) or _ANY_ENCODING_ATTR.search(data[:2048])
    return m.group(1).decode("ascii").lower() if m else None


def _normalise_name(name: str) -> str:
    name = name.lower().strip()
    if name in _GB_ALIASES:
        return "gb18030"
    try:
        return codecs.lookup(name).name
    except LookupError:
        return name


def decode_bytes(data: bytes, *, declared: str | None = None, name: str = "input") -> tuple[str, str]:
    """Return (text, encoding used). Raises InputError for binary or undecodable data."""
    if data.startswith(codecs.BOM_UTF8):
        return data[3:].decode("utf-8", errors="replace"), "utf-8-sig"
    if data.startswith(codecs.BOM_UTF16_LE) or data.startswith(codecs.BOM_UTF16_BE):
        return data.decode("utf-16"), "utf-16"
    if looks_binary(data):
        raise InputError(f"{name}: binary file, not text")
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    candidates = []
    if declared:
        candidates.append(_normalise_name(declared))
    candidates.append("gb18030")
    for enc in dict.fromkeys(candidates):
        if enc in ("utf-8",):
            continue
        try:
            text = data.decode(enc)
        except (UnicodeDecodeError, LookupError):
            continue
        if _plausible(text):
            return text, enc
    # Mostly-UTF-8 or mostly-GB text with a few broken bytes (a truncated download, one bad byte
    # in a long page) is far more likely here than some other legacy encoding: try that first.
    for enc in ("utf-8", "gb18030"):
        text = data.decode(enc, errors="replace")
        if text.count("\ufffd") <= max(3, len(text) // 500) and _plausible(text):
            return text, enc + "+replace"
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(data).best()
    except Exception:  # pragma: no cover - defensive
        best = None
    if best is not None and best.encoding:
        text = str(best)
        if _plausible(text):
            return text, best.encoding
    # Last resort: mostly-UTF-8 or mostly-GB text with a few broken bytes (a truncated download).
    for enc in ("utf-8", "gb18030"):
        text = data.decode(enc, errors="replace")
        if text.count("\ufffd") <= max(3, len(text) // 200):
            return text, enc + "+replace"
    raise InputError(f"{name}: unknown text encoding (not UTF-8 or GB18030)")


def _plausible(text: str) -> bool:
    """Reject decodings full of private-use or control characters."""
    if not text:
        return True
    sample = text[:20000]
    bad = sum(1 for ch in sample if ("\ue000" <= ch <= "\uf8ff") or (ord(ch) < 32 and ch not in "\r\n\t\f"))
    return bad <= len(sample) * 0.01
