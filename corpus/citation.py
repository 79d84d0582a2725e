"""The one citation a drafter pastes under a quoted passage.

Every place that shows or writes where a passage comes from — search results, KWIC rows, the
document page, the 素材篮 (collection), its .docx, result exports — builds it here, from the
document's fields: title, speaker unit (and speaker), meeting, date, site and URL, each where
known. Where the source is not known at all (no site, no web URL) the citation says 出处不详
instead of a server file name.

    《在全市重大项目要素保障工作推进会上的讲话》，xx市，2023年3月15日，来源：甲网 https://example.org/a/1.html
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import urlsplit

UNKNOWN = "出处不详"
PREFIX = "——"  # what goes before a citation printed under its passage
CITATION_FIELDS = ("title", "unit", "speaker", "meeting", "date", "site", "url")

_DATE = re.compile(r"^(\d{4})(?:[-/.年](\d{1,2}))?(?:[-/.月](\d{1,2}))?日?")


def web_url(value: str | None) -> str:
    """`value` if it is an http(s) URL, else "" (a local path or a `javascript:` URL is no source)."""
    value = (value or "").strip()
    try:
        return value if urlsplit(value).scheme in ("http", "https") and urlsplit(value).netloc else ""
    except ValueError:
        return ""


def chinese_date(value: str | None) -> str:
    """2023-03-15 -> 2023年3月15日 (also 2023-03 -> 2023年3月, 2023 -> 2023年); other text as is."""
    value = (value or "").strip()
    m = _DATE.match(value)
    if not m:
        return value
    y, mo, d = m.groups()
    out = f"{y}年"
    if mo and 1 <= int(mo) <= 12:
        out += f"{int(mo)}月"
        if d and 1 <= int(d) <= 31:
            out += f"{int(d)}日"
    return out


def _clean(value) -> str:
    return re.sub(r"\s+", " ", str(value)).strip() if value is not None else ""


def citation_parts(meta: Mapping) -> dict[str, str]:
    """The known fields of a citation, cleaned: title, who (unit and speaker), meeting, date, source."""
    if hasattr(meta, "keys"):  # a dict, a Mapping or a sqlite3.Row
        keys = set(meta.keys())

        def get(k):
            return _clean(meta[k]) if k in keys else ""
    else:  # an object with attributes (a search hit)
        def get(k):
            return _clean(getattr(meta, k, None))
    title = get("title")
    who = " ".join(x for x in (get("unit"), get("speaker")) if x)
    meeting = get("meeting")
    if meeting and meeting in title:  # 在××会议上的讲话: the title already names the meeting
        meeting = ""
    source = " ".join(x for x in (get("site"), web_url(get("url"))) if x)
    parts = {"title": title, "who": who, "meeting": meeting, "date": chinese_date(get("date")), "source": source}
    return {k: v for k, v in parts.items() if v}


def citation(meta: Mapping) -> str:
    """The citation of a document (a mapping or object with CITATION_FIELDS), one line."""
    parts = citation_parts(meta)
    if not parts:
        return UNKNOWN
    out = []
    if "title" in parts:
        out.append(f"《{parts['title']}》")
    out += [parts[k] for k in ("who", "meeting", "date") if k in parts]
    out.append(f"来源：{parts['source']}" if "source" in parts else UNKNOWN)
    return "，".join(out)


def with_citation(text: str, meta: Mapping | None = None, *, cite: str | None = None) -> str:
    """A passage followed by its citation on the next line: what 复制（含出处） copies."""
    cite = cite if cite is not None else citation(meta or {})
    return f"{(text or '').strip()}\n{PREFIX}{cite}"
