"""One date normaliser: what sources give ('2025/7/24 14:59', '2025年7月24日', '20250724', an Excel day
number, '2025年') -> an ISO date '2025-07-24', month '2025-07' or year '2025'; None when it is not one.

Used by the readers (JSONL fields), the site profiles (the date element), the generic HTML
extractor (bylines, meta tags, URLs) and the cleaner (dates in the text). Impossible dates
(template residue such as '20xx', 2025-02-30, a year outside `min_year`..`max_year`) are None.
"""

from __future__ import annotations

import datetime as _dt
import re

_EXCEL_EPOCH = _dt.date(1899, 12, 30)
_EXCEL_SERIAL = re.compile(r"\d{5}(?:\.\d+)?")
_YMD = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})")
_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})")
_YM = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})")
_Y = re.compile(r"(\d{4})年?")


def iso_date(y: str | int, m: str | int | None = None, d: str | int | None = None, *,
             min_year: int = 1900, max_year: int = 2100) -> str | None:
    """'2025', '7', '24' -> '2025-07-24' (or '2025-07', '2025' without day/month); None if impossible."""
    try:
        yi = int(y)
        mi = None if m is None else int(m)
        di = None if d is None else int(d)
    except (TypeError, ValueError):
        return None
    if not min_year <= yi <= max_year:
        return None
    if mi is None:
        return f"{yi:04d}"
    if not 1 <= mi <= 12:
        return None
    if di is None:
        return f"{yi:04d}-{mi:02d}"
    try:
        return _dt.date(yi, mi, di).isoformat()
    except ValueError:
        return None


def normalise_date(value, *, min_year: int = 1900) -> str | None:
    """The ISO date (or month, or year) a source's date field or date line holds; None if none."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float) or (isinstance(value, str) and _EXCEL_SERIAL.fullmatch(value.strip())):
        days = int(float(value))
        if 20000 < days < 80000:
            return (_EXCEL_EPOCH + _dt.timedelta(days=days)).isoformat()
        return None
    s = str(value).strip()
    if not s:
        return None
    m = _YMD.search(s)
    if m:
        return iso_date(*m.groups(), min_year=min_year)
    m = _COMPACT.fullmatch(s)
    if m:
        return iso_date(*m.groups(), min_year=min_year)
    m = _YM.search(s)
    if m:
        return iso_date(*m.groups(), min_year=min_year)
    m = _Y.fullmatch(s)
    return iso_date(m.group(1), min_year=min_year) if m else None
