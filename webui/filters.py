"""Template helpers: highlighting, labels and links. All output is escaped text or built by
webui.highlight from escaped segments."""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

from flask import Flask, url_for

from .highlight import highlight
from .params import FACET_FILTERS

FACET_LABELS = {"year": "年份", "site": "来源网站", "type": "文稿类型", "unit": "单位层级", "level": "单位层级", "title": "标题"}
FILTER_LABELS = {"year": "年份", "site": "来源网站", "type": "文稿类型", "unit": "单位", "level": "单位层级", "title": "标题"}
MODE_LABELS = {"keyword": "关键词", "semantic": "语义", "hybrid": "混合"}
SCOPE_LABELS = {"paragraph": "同段", "sentence": "同句"}
SORT_LABELS = {"relevance": "相关度", "date": "日期（新→旧）"}


def is_web_url(value: str | None) -> bool:
    """Only http(s) URLs become links: a stored `javascript:` URL must stay text."""
    if not value:
        return False
    try:
        return urlsplit(value).scheme in ("http", "https")
    except ValueError:
        return False


def doc_link(doc_id: int, paragraph_id: int | None = None, terms: list[str] | None = None) -> str:
    args = {}
    if paragraph_id is not None:
        args["p"] = paragraph_id
    if terms:
        args["hl"] = " ".join(t for t in terms if t)
    url = url_for("pages.document", doc_id=doc_id)
    if args:
        url += "?" + urlencode(args)
    if paragraph_id is not None:
        url += f"#p{paragraph_id}"
    return url


def basename(path: str | None) -> str:
    """A local source file's name without the server's directories (JSONL records keep '#n')."""
    if not path:
        return ""
    return path.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]


def register(app: Flask) -> None:
    app.jinja_env.filters["highlight"] = highlight
    app.jinja_env.filters["basename"] = basename
    app.jinja_env.globals.update(
        FACET_LABELS=FACET_LABELS,
        FILTER_LABELS=FILTER_LABELS,
        FACET_FILTERS=FACET_FILTERS,
        MODE_LABELS=MODE_LABELS,
        SCOPE_LABELS=SCOPE_LABELS,
        SORT_LABELS=SORT_LABELS,
        is_web_url=is_web_url,
        doc_link=doc_link,
    )
