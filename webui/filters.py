"""Template helpers: highlighting, labels and links. All output is escaped text or built by
webui.highlight from escaped segments."""

from __future__ import annotations

import functools
import re
from urllib.parse import parse_qsl, urlencode, urlsplit

from flask import Flask, g, url_for
from markupsafe import Markup

from .citing import citations, cite_doc
from .highlight import highlight
from .params import FACET_FILTERS, FILTER_KEYS

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


# What a "back to the results" link may carry: the search's own URL arguments, nothing else.
BACK_KEYS = ("q", "mode", "scope", "sort", "page", "per_page", "fold", *FILTER_KEYS)
_BACK_FRAGMENT = re.compile(r"(?:hit|rel)-\d{1,7}")


def back_args(back: str | None) -> str:
    """A search's query string (and '#hit-N' fragment) kept for 返回检索结果, cleaned of anything else."""
    if not back:
        return ""
    return _back_args(back[:4000])


@functools.lru_cache(maxsize=512)  # a results page asks for the same one for each of its hits' links
def _back_args(back: str) -> str:
    qs, _, fragment = back.partition("#")
    args = [(k, v[:1000]) for k, v in parse_qsl(qs.lstrip("?")) if k in BACK_KEYS]
    if not args:
        return ""
    out = urlencode(args)
    if _BACK_FRAGMENT.fullmatch(fragment):
        out += "#" + fragment
    return out


def back_state(back: str | None) -> dict[str, str]:
    """The search arguments of a `back=` value, as the header search box on a document page keeps them."""
    return {k: v[:600] for k, v in parse_qsl(back_args(back).partition("#")[0])}


def back_url(back: str | None) -> str | None:
    """The results page a document was opened from, or None."""
    args = back_args(back)
    return url_for("pages.search") + "?" + args if args else None


def doc_link(doc_id: int, paragraph_id: int | None = None, terms: list[str] | None = None,
             back: str | None = None) -> str:
    """A document, scrolled to `paragraph_id`, `terms` marked; `back` = the results' query string."""
    args = {}
    if paragraph_id is not None:
        args["p"] = paragraph_id
    if terms:
        args["hl"] = " ".join(t for t in terms if t)
    kept = back_args(back)
    if kept:
        args["back"] = kept
    url = _doc_prefix() + str(int(doc_id))
    if args:
        url += "?" + urlencode(args)
    if paragraph_id is not None:
        url += f"#p{paragraph_id}"
    return url


def _doc_prefix() -> str:
    """url_for('pages.document') without the id, once per request (a KWIC page links 200 lines)."""
    prefix = g.get("corpus_doc_prefix")
    if prefix is None:
        base = url_for("pages.document", doc_id=0)
        prefix = g.corpus_doc_prefix = base[:-1]  # (the route ends in the id: /doc/<int:doc_id>)
    return prefix


def basename(path: str | None) -> str:
    """A local source file's name without the server's directories (JSONL records keep '#n')."""
    if not path:
        return ""
    return path.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]


# Bidirectional formatting controls: in untrusted text (a title, a paragraph) U+202E would reverse
# the page text after it. Every value a template prints that holds one is wrapped in FSI ... PDI
# (U+2068, U+2069): by the Unicode bidi algorithm the PDI ends every embedding and override
# opened inside, so the text can only reorder itself, never what stands around it.
BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")
FSI, PDI = "\u2068", "\u2069"


_ISOLATES = re.compile("[\u2066-\u2069]")


def isolate_bidi(value):
    """Jinja's finalize: every printed value, bidi controls isolated (see BIDI_CONTROLS). The
    value's own isolate marks are dropped first: an unmatched PDI in it would close ours early."""
    if isinstance(value, str) and BIDI_CONTROLS.search(value):
        if isinstance(value, Markup):
            return Markup(FSI) + Markup(_ISOLATES.sub("", str(value))) + Markup(PDI)
        return FSI + _ISOLATES.sub("", value) + PDI
    return value


def register(app: Flask) -> None:
    app.jinja_env.finalize = isolate_bidi
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
        back_url=back_url,
        citations=citations,
        cite_doc=cite_doc,
        error_zh=error_zh,
        notice_zh=notice_zh,
    )


# The search's notices (English, shared with the CLI) as the page shows them.
NOTICES_ZH = (
    ("switched off", "语义检索已关闭"),
    ("not installed", "语义检索组件未安装"),
    ("no semantic index yet", "尚未建立语义索引（运行 `corpus index`）"),
    ("semantic index unusable", "语义索引无法使用"),
    ("semantic ranking unavailable", "语义排序暂不可用"),
)


def notice_zh(notice: str | None) -> str:
    if not notice:
        return ""
    parts = []
    for part in notice.split("; "):
        zh = next((z for key, z in NOTICES_ZH if key in part), None)
        if zh is None:
            parts.append("提示：" + part)
        elif "keyword results shown" in part:
            parts.append(zh + "：下面是关键词检索的结果。")
        else:
            parts.append(zh + "：按关键词排序。")
    return " ".join(parts)


def error_zh(error) -> str:
    from .errors import message_zh

    zh, detail = message_zh(error)
    return zh if not detail else f"{zh}（{detail}）"
