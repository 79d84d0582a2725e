"""Paragraph lengths in one byte, as Whoosh stored field lengths, so BM25 ranks as it did under Whoosh.

Whoosh keeps a document's field length as a byte: 256 lengths `round((1.033**b - 1) * 27)` for
b = 0..255, exact up to 10 and coarser above; a length is stored as the first byte whose length is
not below it (106374 and more: 255). The keyword index left Whoosh but scores with the same
quantised lengths, so the first pages of results stayed identical (tests/test_charindex.py checks
the scores against Whoosh's own; this module needs no Whoosh at run time).
"""

from __future__ import annotations

from bisect import bisect_left

_BYTE_LENGTHS: tuple[int, ...] = tuple(int(round((1.033 ** b - 1) * 27)) for b in range(256))
_MAX_LENGTH = 106374  # this length and longer: byte 255


def length_to_byte(length: int | None) -> int:
    if length is None:
        return 0
    if length >= _MAX_LENGTH:
        return 255
    return bisect_left(_BYTE_LENGTHS, length)


def byte_to_length(byte: int) -> int:
    return _BYTE_LENGTHS[byte]
