"""Document metadata read from titles and boilerplate: doc_type, meeting, dates, site.

Why separate: the same title heuristics serve the cleaner, the HTML adapters and JSONL field
mapping (an importer with a title but no doc_type can call `doc_type_from_title`).
"""

from __future__ import annotations

import re

from ..dates import iso_date, normalise_date  # noqa: F401  (iso_date: the cleaner calls M.iso_date)
from ..levels import unit_level  # noqa: F401  (re-exported: the cleaner's metadata functions)
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


# --------------------------------------------------------------------------------------------------
# people, units, administrative level (rules in rules.py, "People and units")


def _name_ok(name: str | None) -> bool:
    return bool(name) and name not in R.NOT_NAMES and not any(name.startswith(w) for w in R.NOT_NAMES if len(w) == 2)


def person_from_title(title: str | None) -> tuple[str | None, str | None]:
    """(speaker, unit) a title names: 'xx县委书记张三在全县…上的讲话' -> ('张三', 'xx县委')."""
    if not title:
        return None, None
    t = title.split("——")[-1].strip() if title.startswith("——") else title.strip()
    m = R.TITLE_ROLE_PERSON.match(t)
    if m and _name_ok(m.group("name")):
        return m.group("name"), m.group("unit")
    m = R.TITLE_PERSON.match(t)
    if m and _name_ok(m.group("name")) and R.SPEECH_TITLE.search(t):
        return m.group("name"), None
    return None, None


def byline(line: str) -> tuple[str, str | None] | None:
    """(speaker, unit) of a byline alone on its line: '县委书记　张三', '（xx区区长　王五）'."""
    t = line.replace("\u3000", "").replace(" ", "")
    if not t or len(t) > R.BYLINE_MAX_LEN:
        return None
    m = R.BYLINE.match(t)
    if m is None or not _name_ok(m.group("name")):
        return None
    if m.group("role") is None and m.group("unit") is None and not (line != t or t.startswith(("(", "（"))):
        return None  # a bare two- or three-character line is a byline only when spaced out or bracketed
    return m.group("name"), m.group("unit")


def unit_from_title(title: str | None) -> str | None:
    """The unit a title names without a person: 'xx县2023年政府工作报告' -> 'xx县'."""
    if not title:
        return None
    m = R.TITLE_UNIT.match(title.strip())
    return m.group("unit") if m else None


def level_from_scope(*texts: str | None) -> str | None:
    """The level a meeting's scope names: '在全县…会上的讲话' -> '县'."""
    for text in texts:
        if not text:
            continue
        for rx, level in R.SCOPE_LEVEL_RES:
            if rx.search(text):
                return level
    return None


def bare_name(line: str) -> str | None:
    """A line that is only a person's name ('周恩来', '李　强'): the name, else None."""
    t = line.replace("\u3000", "").replace(" ", "")
    if 2 <= len(t) <= 4 and re.fullmatch(R.PERSON_NAME, t) and _name_ok(t):
        return t
    return None


def signature(texts: list[str]) -> str | None:
    """The signer of a letter or speech text: a name line followed by a date line at the end
    ('习近平' / '2020年3月15日')."""
    tail = texts[-3:]
    for i in range(len(tail) - 1):
        name = bare_name(tail[i])
        if name and R.SIGNATURE_DATE.match(tail[i + 1].strip()):
            return name
    return None
