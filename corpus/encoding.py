"""Decoding bytes collected from Chinese sites and files: UTF-8 (with or without BOM), GB2312/GBK/GB18030,
UTF-16 (with or without BOM), often undeclared or declared wrongly, sometimes mixed within one file.

Why the care: a wrong decoding stores damaged text silently (GB18030 behind a UTF-8 byte-order mark
became 76% U+FFFD), and nothing downstream can repair it. So:

- a byte-order mark or a declared charset is a *hint*, tried first, never proof;
- every candidate is decoded strictly and judged (no control or private-use characters, mostly Han,
  CJK punctuation and ASCII); the first plausible one wins: BOM hint, UTF-8, the declaration
  (GB2312/GBK widen to GB18030, their superset), GB18030, UTF-16 when the bytes look like it;
- a file whose lines are UTF-8 and GB18030 by turns (two files concatenated) is decoded line by line;
- a decoding with a few broken bytes (a truncated download) is accepted with U+FFFD only when they are
  a tiny share (MAX_REPLACED_SHARE); otherwise the file is refused with a message naming it, instead of
  storing damaged text. The raw bytes are kept in the store, so `corpus reclean` can decode them again.

HTML adds its own declarations (<meta charset>, the HTTP header): `decode_html` is the one place that
decides which to believe, for saved pages (readers), extraction (corpus.html) and the crawler.
"""

from __future__ import annotations

import codecs
import re
import unicodedata

from .errors import InputError

_GB_ALIASES = {"gb2312", "gbk", "gb18030", "x-gbk", "cp936", "hz-gb-2312", "euc-cn", "gb_2312-80", "csgb2312"}
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-]+)""", re.I)
_XML_DECL = re.compile(rb"""<\?xml[^>]+encoding=["']([A-Za-z0-9_\-]+)""", re.I)
_ANY_ENCODING_ATTR = re.compile(rb"""\bencoding\s*=\s*["']([A-Za-z0-9_\-]+)""", re.I)
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9_\-]+)", re.I)
# Declarations worth believing on a Chinese page. A Western code page (iso-8859-1, windows-1252) is a
# server default and would decode GBK bytes into plausible-looking mojibake, so it is ignored.
_TRUSTED_PREFIXES = ("utf", "gb", "big5", "hz", "cp936", "x-gbk", "euc-cn", "csgb")

# U+FFFD from a lenient decoding is accepted only up to this share of the text (and at least 3)
MAX_REPLACED_SHARE = 1 / 500
# ...and a strict decoding whose odd characters are private-use symbols, up to this share, is kept
MAX_PRIVATE_USE_SHARE = 0.05
# a strict decoding is plausible when at most this share of its characters is implausible
MAX_IMPLAUSIBLE_SHARE = 0.01


def looks_binary(data: bytes) -> bool:
    """Many control characters in the first 8 KB, or NUL bytes that UTF-16 cannot explain: not text."""
    head = data[:8192]
    if not head:
        return False
    if b"\x00" in head and _utf16_guess(data) is None:
        return True
    controls = sum(1 for b in head if b < 9 or 13 < b < 32)
    return controls > len(head) * 0.05 and _utf16_guess(data) is None


def declared_charset(data: bytes) -> str | None:
    """The charset an HTML/XML document declares for itself, if any."""
    m = _META_CHARSET.search(data[:4096]) or _XML_DECL.search(data[:512]) or _ANY_ENCODING_ATTR.search(data[:2048])
    return m.group(1).decode("ascii").lower() if m else None


def header_charset(content_type: str) -> str | None:
    """The charset of an HTTP Content-Type header, if any."""
    m = _HEADER_CHARSET.search(content_type or "")
    return m.group(1).lower() if m else None


def _normalise_name(name: str) -> str:
    name = name.lower().strip()
    if name in _GB_ALIASES:
        return "gb18030"
    try:
        return codecs.lookup(name).name
    except LookupError:
        return name


def _implausible(ch: str) -> bool:
    o = ord(ch)
    if o < 32:
        return ch not in "\r\n\t\f"
    if 0x7F <= o < 0xA0 or 0xE000 <= o <= 0xF8FF or o == 0xFFFD or 0xD800 <= o <= 0xDFFF:
        return True
    if o < 0x3000:
        return False
    return unicodedata.category(ch) == "Cn"  # unassigned


def _plausible(text: str, max_share: float = MAX_IMPLAUSIBLE_SHARE) -> bool:
    """No more than a trace of control, private-use, unassigned or replacement characters."""
    if not text:
        return True
    sample = text[:20000]
    bad = sum(1 for ch in sample if _implausible(ch))
    return bad <= len(sample) * max_share


def _utf16_guess(data: bytes) -> str | None:
    """'utf-16-le' / 'utf-16-be' when the bytes decode strictly as UTF-16 into plausible text."""
    if len(data) < 4 or len(data) % 2:
        return None
    head = data[:8192]
    zeros_even = head[0::2].count(0)
    zeros_odd = head[1::2].count(0)
    order = ["utf-16-le", "utf-16-be"] if zeros_odd >= zeros_even else ["utf-16-be", "utf-16-le"]
    for enc in order:
        try:
            text = data[: 20000 * 2].decode(enc)
        except UnicodeDecodeError:
            continue
        han = sum(1 for ch in text if "\u4e00" <= ch <= "\u9fff" or "\u3000" <= ch <= "\u303f")
        if _plausible(text) and (han >= len(text) * 0.2 or zeros_even + zeros_odd >= len(head) * 0.2):
            return enc
    return None


def _strict(data: bytes, enc: str, *, max_share: float = MAX_IMPLAUSIBLE_SHARE) -> str | None:
    try:
        text = data.decode(enc)
    except (UnicodeDecodeError, LookupError):
        return None
    if enc == "gb18030" and "\ue5e5" in text:
        # GB2312 pages use the undefined code A3A0 as a full-width space; GB18030 maps it to U+E5E5
        text = text.replace("\ue5e5", "\u3000")
    return text if _plausible(text, max_share) else None


def _line_by_line(data: bytes) -> str | None:
    """Lines in UTF-8 and lines in GB18030 (concatenated files): each line decoded on its own."""
    out: list[str] = []
    kinds = set()
    for line in data.splitlines(keepends=True):
        for enc in ("utf-8", "gb18030"):
            try:
                out.append(line.decode(enc))
                kinds.add(enc if not line.isascii() else "ascii")
                break
            except UnicodeDecodeError:
                continue
        else:
            return None
    text = "".join(out)
    return text if {"utf-8", "gb18030"} <= kinds and _plausible(text) else None


def _replaced_ok(text: str) -> bool:
    return text.count("\ufffd") <= max(3, int(len(text) * MAX_REPLACED_SHARE))


def decode_bytes(data: bytes, *, declared: str | None = None, name: str = "input") -> tuple[str, str]:
    """Return (text, encoding used). Raises InputError (naming `name`) for binary data, or when every
    candidate decoding would store damaged text."""
    body = data
    hinted: list[str] = []
    suffix = ""
    if data.startswith(codecs.BOM_UTF8):
        body, hinted, suffix = data[3:], ["utf-8"], "+bom"
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        hinted = ["utf-16"]
    if not hinted and (b"\x00" in data[:8192] or looks_binary(data)):
        guess = _utf16_guess(data)
        if guess is None:
            raise InputError(f"{name}: binary file, not text")
        hinted = [guess]
    candidates = [*hinted, "utf-8"]
    if declared:
        candidates.append(_normalise_name(declared))
    candidates.append("gb18030")
    for enc in dict.fromkeys([*candidates, "utf-16?"]):
        if enc == "utf-16?":  # UTF-16 Chinese without a BOM and without ASCII has no NUL bytes
            enc = (_utf16_guess(data) if not hinted else None) or ""
            if not enc:
                continue
        src = data if enc == "utf-16" else body
        text = _strict(src, enc)
        if text is not None:
            if enc == "utf-8" and suffix:
                return text, "utf-8-sig"
            if enc == "utf-16" and text.startswith("\ufeff"):
                text = text[1:]
            return text, enc + (suffix if enc != "utf-8" else "")
    mixed = _line_by_line(body)
    if mixed is not None:
        return mixed, "utf-8+gb18030 (mixed lines)"
    # Mostly-UTF-8 or mostly-GB text with a few broken bytes (a truncated download, one bad byte in a
    # long page) is far more likely here than some other legacy encoding.
    best_share = 1.0
    for enc in dict.fromkeys([*(e for e in hinted if e != "utf-16"), "utf-8", "gb18030"]):
        text = body.decode(enc, errors="replace")
        if _replaced_ok(text) and _plausible(text.replace("\ufffd", "")):
            return text, enc + "+replace"
        best_share = min(best_share, text.count("\ufffd") / max(1, len(text)))
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(body).best()
    except Exception:  # pragma: no cover - defensive
        best = None
    if best is not None and best.encoding:
        text = str(best)
        if "\ufffd" not in text and _plausible(text) and _mostly_cjk_or_ascii(text):
            return text, best.encoding
    # A clean decoding (no broken bytes) with some private-use symbols (user-defined GBK codes) is
    # still the text: better than refusing it.
    for enc in dict.fromkeys(candidates):
        text = _strict(data if enc == "utf-16" else body, enc, max_share=MAX_PRIVATE_USE_SHARE)
        if text is not None:
            return text, enc + "+private-use"
    raise InputError(
        f"{name}: cannot be decoded without damage (tried {', '.join(dict.fromkeys([*candidates, 'mixed lines']))}; "
        f"the best leaves {best_share:.0%} of the characters unreadable): not stored"
    )


def _mostly_cjk_or_ascii(text: str) -> bool:
    sample = text[:20000]
    good = sum(1 for ch in sample if ch.isascii() or "\u3000" <= ch <= "\u9fff" or "\uff00" <= ch <= "\uffef")
    return good >= len(sample) * 0.9


# --------------------------------------------------------------------------------------------------
# HTML pages


def _trusted(name: str | None) -> str | None:
    return name if name and name.lower().startswith(_TRUSTED_PREFIXES) else None


def _han_share(text: str) -> float:
    sample = text[:20000]
    return sum(1 for ch in sample if "\u4e00" <= ch <= "\u9fff") / max(1, len(sample))


def decode_html(data: bytes, *, content_type: str = "", name: str = "page") -> tuple[str, str]:
    """Bytes of a saved or fetched HTML page -> (text, encoding used).

    Which declaration to believe: the page's own <meta charset> (or an `encoding="…"` attribute on an
    odd root element) before the HTTP header (often a server default), and only when it names a UTF or
    Chinese encoding; then the bytes decide (decode_bytes). A page that decodes to something other
    than a Chinese or Unicode encoding is read as lenient GB18030 when that gives clearly more Han
    characters (charset-normalizer sometimes names a Cyrillic code page for GBK with a broken byte).
    """
    if not data or not data.strip():
        raise InputError(f"{name}: empty page")
    declared = _trusted(declared_charset(data)) or _trusted(header_charset(content_type))
    text, encoding = decode_bytes(data, declared=declared, name=name)
    if not encoding.lower().startswith(_TRUSTED_PREFIXES):
        lenient = data.decode("gb18030", errors="replace")
        if _replaced_ok(lenient) and _han_share(lenient) > _han_share(text):
            return lenient, "gb18030+replace"
    return text, encoding
