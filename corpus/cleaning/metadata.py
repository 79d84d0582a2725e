"""Document metadata read from titles and boilerplate: doc_type, meeting, dates, site.

Why separate: the same title heuristics serve the cleaner, the HTML adapters and JSONL field
mapping (an importer with a title but no doc_type can call `doc_type_from_title`).
"""

from __future__ import annotations

import re

from ..dates import iso_date, normalise_date  # noqa: F401  (iso_date: the cleaner calls M.iso_date)
from . import rules as R

# The one date normaliser (corpus.dates), under the names the cleaner's stages call it by.
normalize_date = normalise_date


def doc_type_from_title(title: str | None, *, at_end: bool = False) -> str | None:
    """The type keyword that ends latest in the title: '关于政府工作报告的决议' -> 决议, '…会议上的讲话' -> 讲话.

    `at_end`: only a keyword closing the title counts (a speech title inside a compilation such as
    '城乡规划同步产业链条同构公共服务共享' is not a 规划).
    """
    if not title:
        return None
    best: tuple[int, str] | None = None
    for rx, name in R.DOC_TYPE_RES:
        for m in rx.finditer(title):
            if best is None or m.end() >= best[0]:
                best = (m.end(), name)
    if best is None or (at_end and best[0] < len(title.rstrip("）)")) - 1):
        return None
    return best[1]


def meeting_from_title(title: str | None) -> str | None:
    """'在全市重点项目建设推进会议上的讲话' -> '全市重点项目建设推进会议'."""
    if not title:
        return None
    t = title.split("——")[-1]
    t = R.SPEAKER_PREFIX.sub(lambda m: m.group("rest"), t)
    for rx in R.MEETING_RES:
        m = rx.search(t)
        if m:
            meeting = m.group("m").strip()
            meeting = re.sub(r"^在", "", meeting)
            if len(meeting) >= 3:
                return meeting
    return None


def year_from_title(title: str | None) -> str | None:
    """'2025年中华人民共和国国务院政府工作报告' -> '2025' (only a real year at the start)."""
    if not title:
        return None
    m = R.TITLE_YEAR.match(title)
    return iso_date(m.group("y")) if m else None


def site_from_text(text: str) -> str | None:
    """The site a page came from, judged from its boilerplate (removed lines, URLs)."""
    if not text:
        return None
    for rx, name in R.SITE_RES:
        if rx.search(text):
            return name
    return None
