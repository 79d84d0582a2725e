"""Main-content extraction from saved or fetched HTML pages of Chinese sites.

Why our own extractor: readability-lxml and trafilatura each lose whole pages on the Chinese gold
(readability keeps one table cell of a forum post, trafilatura keeps menus and link lists), and neither
knows Chinese punctuation. This one is a small density extractor on lxml:

1. The page is cut into *text blocks* at block-level tags and ``<br>`` (so paragraph boundaries
   survive as lines). Each block counts its non-space characters, the characters inside links and its
   Chinese/ASCII sentence punctuation.
2. Each block gets a weight: positive for prose (long or punctuated, few links), negative for link
   lists, short unpunctuated labels and blocks inside elements named like chrome (nav, footer, share,
   related...). The weight is added to every ancestor element.
3. The element with the largest summed weight is the main content: it covers the prose while leaving
   the menus, footers and sidebars (negative) outside.
4. Inside it, link lists, chrome lines (``上一篇``, ``打印 | 关闭``, 发布时间/来源 lines, copyright
   footers -- rules in ``corpus/html_rules.py``) and a repeated title are dropped.

Metadata (title, date, canonical url, site name, author) come from <meta>/<link> tags first, then from
the page text. ``extract_html_bytes`` decodes with ``corpus.encoding`` first.
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass, field

import lxml.html
from lxml import etree

from .dates import iso_date
from .encoding import decode_html
from .errors import InputError
from .html_rules import (
    CHROME_LINE_PATTERNS,
    COMMENT_NAME,
    COMMENTS_START,
    DISCLAIMER_START,
    DROP_TAGS,
    EDGE_WIDGET_MAX_LEN,
    EDGE_WIDGETS,
    NEGATIVE_NAME,
    POSITIVE_NAME,
    TITLE_SEPARATORS,
)

log = logging.getLogger(__name__)

__all__ = ["ExtractedPage", "decode_html", "extract_html", "extract_html_bytes"]

BLOCK_TAGS = frozenset(
    "address article aside blockquote body br caption center dd details dir div dl dt fieldset figcaption "
    "figure footer form h1 h2 h3 h4 h5 h6 header hr html legend li main menu nav ol p pre section summary "
    "table tbody td tfoot th thead tr ul".split()
)
_PUNCT = frozenset("，。；：！？、“”‘’（）《》…,.;:!?")
_STRONG_PUNCT = frozenset("，。；！？、")
_CHROME_MAX_PROSE = 200.0  # weighted prose chars above which a chrome-named element is not chrome
_WS = re.compile(r"\s+")
_CJK_GAP = re.compile(r"(?<=[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]) (?=[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef])")
_CLOSE_ROOT = re.compile(r"</\s*(?:html|body)\s*>", re.I)
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>", re.I)
_DATE = re.compile(r"((?:19|20)\d\d)\s*[-/年.]\s*(\d{1,2})\s*[-/月.]\s*(\d{1,2})")
_DATE_LABEL = re.compile(r"(?:发布|发表|更新|成文|印发)?(?:时间|日期)\s*[:：]?\s*|发表于\s*|\d{4}年\d{1,2}月\d{1,2}日")
_URL_DATE = re.compile(r"/((?:19|20)\d\d)[-/_]?(\d\d)[-/_]?(\d\d)(?:/|[^0-9])")
TABLE_CELL_MAX_CHARS = 60  # a data-table cell is short; a longer one is a layout cell holding text
CLOUD_MIN_LEN = 300
CLOUD_MAX_PUNCT_SHARE = 0.005
_OUTLINE_HEAD = re.compile(r"^[（(]?[一二三四五六七八九十]+[、）)]|^第[一二三四五六七八九十\d]+[章节部分篇]")
POST_MIN_WEIGHT = 60.0  # a post holds at least this much prose (weighted characters)...
POST_MIN_SHARE = 0.6  # ...and posts of one kind hold at least this share of the run's prose
POST_HEAD_BLOCKS = 3  # its title or date line is among its first blocks
_AUTHOR = re.compile(r"(?:作者|文|撰稿|记者)\s*[:：/]\s*([\u4e00-\u9fff·A-Za-z]{2,12})")


@dataclass
class ExtractedPage:
    """The main content of one page and what the page says about itself."""

    title: str | None
    text: str  # main content, one paragraph per line, in page order
    date: str | None = None  # ISO YYYY-MM-DD
    url: str | None = None  # canonical / og:url, else the url given
    site: str | None = None
    author: str | None = None
    meta: dict[str, str] = field(default_factory=dict)  # raw <meta> values kept for callers


@dataclass
class _Block:
    text: str
    chars: int
    link: int
    punct: int
    container: etree._Element
    weight: float = 0.0


# --------------------------------------------------------------------------------------------------
# public API


def extract_html_bytes(data: bytes, *, url: str | None = None, name: str = "page") -> tuple[ExtractedPage, str]:
    """Decode a fetched/saved page (declared charset honoured, wrong or missing ones survived) and extract.

    Returns (page, encoding used).
    """
    text, encoding = decode_html(data, name=name)
    return extract_html(text, url=url, name=name), encoding


# libxml2 stops building the tree 256 elements deep unless told otherwise ("huge_tree"): a page
# nested deeper (generated layouts, broken markup that never closes its <div>s) lost all its text.
# Even huge_tree stops at 2048: such a page is parsed again with its wrapper tags flattened.
_LOCAL = threading.local()  # lxml parsers must not be shared between threads
_WRAPPER_OPEN = re.compile(
    r"<(?:div|span|font|section|article|center|main|table|tbody|thead|tr|td|th|ul|ol|li|dl|dd|dt|blockquote)\b[^>]*>", re.I)
_WRAPPER_CLOSE = re.compile(
    r"</(?:div|section|article|center|main|table|tbody|thead|tr|td|th|ul|ol|li|dl|dd|dt|blockquote)\s*>", re.I)
_INLINE_CLOSE = re.compile(r"</(?:span|font)\s*>", re.I)


def _parser() -> lxml.html.HTMLParser:
    parser = getattr(_LOCAL, "parser", None)
    if parser is None:
        parser = _LOCAL.parser = lxml.html.HTMLParser(huge_tree=True)
    return parser


def parse_html(html: str) -> etree._Element:
    """The document tree of a page, at any nesting depth."""
    parser = _parser()
    root = lxml.html.document_fromstring(html, parser=parser)
    if any("Excessive depth" in e.message for e in parser.error_log):
        flat = _INLINE_CLOSE.sub("", _WRAPPER_CLOSE.sub("<br>", _WRAPPER_OPEN.sub("", html)))
        log.info("page nested deeper than the parser allows: its wrapper elements are flattened")
        root = lxml.html.document_fromstring(flat, parser=parser)
    return root


def extract_html(html: str, *, url: str | None = None, name: str | None = None) -> ExtractedPage:
    """Extract title, main text and metadata from one HTML page.

    Raises InputError (naming `name`, the file or URL, when given) when the page is empty or carries
    no main content.
    """
    where = f"{name}: " if name else ""
    if not html or not html.strip():
        raise InputError(f"{where}empty page: no HTML to extract from")
    html = _XML_DECL.sub("", html, count=1)
    # Server-side includes leave a "</html>" mid-page (www.gov.cn headers); libxml2 stops there.
    html = _CLOSE_ROOT.sub("", html)
    try:
        root = parse_html(html)
    except (etree.ParserError, ValueError) as exc:
        raise InputError(f"{where}page cannot be parsed as HTML: {exc}") from exc
    meta = _meta_values(root)
    raw_title = _raw_title(root, meta)
    canonical = _canonical_url(root, meta) or url
    _prune(root)
    body = root.find("body")
    if body is None:
        body = root
    blocks = _blocks(body)
    if not blocks:
        raise InputError(f"{where}page has no text content")
    heading = _heading(root, raw_title)
    title = heading or _strip_title_suffix(raw_title)
    span = _best_container(blocks)
    lines = _content_lines(blocks, span, title)
    text = "\n".join(lines)
    if not text.strip():
        raise InputError(f"{where}page has no main content (only navigation, links or boilerplate)")
    date = _find_date(meta, blocks, span, canonical)
    return ExtractedPage(
        title=title or None,
        text=text,
        date=date,
        url=canonical,
        site=_site_name(meta, raw_title, title),
        author=_find_author(meta, blocks, span),
        meta=meta,
    )


# --------------------------------------------------------------------------------------------------
# tree preparation and blocks


def _prune(root: etree._Element) -> None:
    """Remove elements that never carry main text (scripts, styles, forms controls, comments)."""
    doomed = [el for el in root.iter() if not isinstance(el.tag, str) or el.tag in DROP_TAGS]
    for el in doomed:
        if el.getparent() is not None:
            el.drop_tree()  # keeps the tail text
    for el in root.iter("*"):
        style = el.get("style")
        if style and re.search(r"display\s*:\s*none|visibility\s*:\s*hidden", style, re.I):
            if len(el) == 0 or el.tag in ("div", "span", "ul", "p"):
                if el.getparent() is not None:
                    el.drop_tree()


def _blocks(body: etree._Element) -> list[_Block]:
    """Cut the tree into text blocks at block tags and <br>, counting link text and punctuation."""
    blocks: list[_Block] = []
    buf: list[tuple[str, bool]] = []
    stack: list[etree._Element] = [body]
    link_depth = 0

    def flush() -> None:
        if not buf:
            return
        text = _norm("".join(t for t, _ in buf))
        if text:
            chars = sum(1 for ch in text if not ch.isspace())
            link = sum(sum(1 for ch in t if not ch.isspace()) for t, is_link in buf if is_link)
            punct = sum(1 for ch in text if ch in _PUNCT)
            blocks.append(_Block(text, chars, min(link, chars), punct, stack[-1]))
        buf.clear()

    for event, el in etree.iterwalk(body, events=("start", "end")):
        tag = el.tag
        if not isinstance(tag, str):
            continue
        if event == "start":
            if tag in BLOCK_TAGS:
                flush()
                if tag != "br":
                    stack.append(el)
            if tag == "a":
                link_depth += 1
            if el.text and tag != "br":
                buf.append((el.text, link_depth > 0))
        else:
            if tag == "a":
                link_depth = max(0, link_depth - 1)
            if tag in BLOCK_TAGS:
                flush()
                if tag != "br" and len(stack) > 1:
                    stack.pop()
            if el.tail and el is not body:
                buf.append((el.tail, link_depth > 0))
    flush()
    return blocks


def _norm(text: str) -> str:
    text = _WS.sub(" ", text.replace("\u00a0", " ")).strip()
    return _CJK_GAP.sub("", text)


# --------------------------------------------------------------------------------------------------
# scoring


def _names(el: etree._Element) -> str:
    return f"{el.get('class', '')} {el.get('id', '')}".lower()


def _block_weight(b: _Block, chrome: bool) -> float:
    """Prose counts for, link lists and bare labels count against the block's ancestors."""
    own = b.chars - b.link
    density = b.link / b.chars if b.chars else 1.0
    if density > 0.5:
        w = -float(b.chars)
    elif b.punct == 0 and own < 25:
        w = -0.5 * own
    else:
        strong = sum(1 for ch in b.text if ch in _STRONG_PUNCT)
        w = own * (0.6 + min(0.4, strong * 12.0 / max(own, 1)))
        if density > 0.2:
            w *= 1.0 - density
    if chrome:
        w = min(w, 0.0) - 0.3 * own
    return w


def _best_container(blocks: list[_Block]) -> tuple[int, int]:
    """The range of blocks (first, last) of the main content: the best-scoring run of sibling units.

    Blocks inside an element named like chrome (nav, footer, share, related...) count against their
    ancestors -- unless that element holds a lot of prose itself (layout columns called "left"/"right",
    templates that put the article in a "footer"-named wrapper).
    """
    prose: dict[etree._Element, float] = {}
    for b in blocks:
        b.weight = _block_weight(b, False)
        if b.weight > 0:
            el = b.container
            while el is not None:
                prose[el] = prose.get(el, 0.0) + b.weight
                el = el.getparent()

    chrome_cache: dict[etree._Element, bool] = {}

    def own_chrome(el: etree._Element) -> bool:
        names = _names(el)
        own = (el.tag in ("nav", "footer", "aside")) or bool(
            names.strip() and NEGATIVE_NAME.search(names) and not POSITIVE_NAME.search(names)
        )
        return own and (prose.get(el, 0.0) < _CHROME_MAX_PROSE or bool(COMMENT_NAME.search(names)))

    def in_chrome(el: etree._Element | None) -> bool:
        # iterative (a page may nest thousands of elements): the first cached or chrome ancestor decides
        path: list[etree._Element] = []
        result = False
        while el is not None:
            if el in chrome_cache:
                result = chrome_cache[el]
                break
            path.append(el)
            if own_chrome(el):
                result = True
                break
            el = el.getparent()
        for e in path:
            chrome_cache[e] = result
        return result

    # Every element is a sequence of units (its child elements and its own text blocks, in order).
    # The best content is the best contiguous run of units of one element (maximum subarray), which
    # is the whole element when nothing around the article shares its parent, and cuts off the link
    # lists that templates put in the same cell after the article.
    units: dict[etree._Element, list[list]] = {}  # element -> [[key, weight, first, last], ...]
    for i, b in enumerate(blocks):
        if in_chrome(b.container):
            b.weight = _block_weight(b, True)
        key: object = i
        el = b.container
        while el is not None:
            seq = units.setdefault(el, [])
            if seq and seq[-1][0] is key:
                seq[-1][1] += b.weight
                seq[-1][3] = i
            else:
                seq.append([key, b.weight, i, i])
            key = el
            el = el.getparent()
    best: tuple[float, int, int, etree._Element | None] = (float("-inf"), 0, 0, None)
    for el, seq in units.items():
        run, start = 0.0, 0
        for _, w, first, last in seq:
            if run <= 0:
                run, start = w, first
            else:
                run += w
            if run > best[0]:
                best = (run, start, last, el)
    _, start, end, parent = best
    if parent is not None:
        first_post = _first_post(blocks, start, end, parent)
        if first_post is not None:
            start, end, parent = first_post
    # Grow the run over neighbouring plain-text blocks of the same element (a document's heading
    # lines, "（...通过）", a signature and date), stopping at a link or a chrome line.
    inside = set(parent.iter()) if parent is not None else set()

    def plain(b: _Block) -> bool:
        return (
            b.container in inside
            and b.link / b.chars <= 0.3
            and not in_chrome(b.container)
            and not _is_chrome_line(b.text)
        )

    while start > 0 and plain(blocks[start - 1]):
        start -= 1
    while end + 1 < len(blocks) and plain(blocks[end + 1]):
        end += 1
    return start, end


def _post_signature(el: etree._Element) -> tuple[str, str]:
    return el.tag, " ".join(sorted((el.get("class") or "").split()))


def _first_post(blocks: list[_Block], start: int, end: int, parent: etree._Element):
    """A run made of several posts (a list page, a forum thread, a blog's front page): the first one.

    Posts are sibling elements of one kind (same tag and class), each holding a fair share of the
    prose and each opening with its own title line -- a linked title or a date line near its top
    (what a section of one long speech, headed 一、/（一）, does not have). Returns (start, end,
    element) of the first post, or None when the run is one item."""
    for _ in range(50):  # a run that is one wrapper element: look inside it
        children: dict[etree._Element, list[int]] = {}
        for i in range(start, end + 1):
            el = blocks[i].container
            while el is not None and el.getparent() is not parent:
                el = el.getparent()
            if el is not None:
                children.setdefault(el, []).append(i)
        if len(children) != 1:
            break
        parent = next(iter(children))
    if len(children) < 2:
        return None
    total = sum(max(0.0, blocks[i].weight) for i in range(start, end + 1)) or 1.0
    share = {el: sum(max(0.0, blocks[i].weight) for i in idx) / total for el, idx in children.items()}
    by_kind: dict[tuple[str, str], list[etree._Element]] = {}
    for el in children:
        if share[el] * total >= POST_MIN_WEIGHT:
            by_kind.setdefault(_post_signature(el), []).append(el)
    posts = max(by_kind.values(), key=lambda els: sum(share[e] for e in els), default=[])
    if len(posts) < 2 or sum(share[e] for e in posts) < POST_MIN_SHARE:
        return None

    def opens_like_a_post(el: etree._Element) -> bool:
        head = [blocks[i] for i in children[el][:POST_HEAD_BLOCKS]]
        if any(_OUTLINE_HEAD.match(b.text) for b in head[:1]):
            return False
        linked_title = any(b.chars <= 60 and b.link >= 0.5 * b.chars for b in head)
        dated = any(len(b.text) <= 60 and _DATE.search(b.text) for b in head)
        return linked_title or dated

    if not all(opens_like_a_post(el) for el in posts):
        return None
    first = min(posts, key=lambda el: children[el][0])
    idx = children[first]
    log.debug("a run of %d posts: the first is the main item", len(posts))
    return idx[0], idx[-1], first


def _content_lines(blocks: list[_Block], span: tuple[int, int], title: str | None) -> list[str]:
    """The lines of the chosen range minus link lists, chrome lines and a repeated title."""
    lines: list[str] = []
    rows: list = []  # the (<tr>, <td>) each line sits in, or None
    for b in blocks[span[0] : span[1] + 1]:
        if b.link / b.chars > 0.5 and not (b.punct >= 3 and b.chars >= 80):
            continue  # a link list or a link-only line (a long linked paragraph is kept)
        if _is_chrome_line(b.text):
            continue
        if _is_disclaimer_start(b.text) and len(lines) >= 3:
            break  # 版权与免责声明 and everything after it
        if len(lines) >= 3 and any(p.search(b.text) for p in COMMENTS_START) \
                and sum(len(x) for x in lines) >= _remaining_chars(blocks, b, span):
            break  # the readers' comments (past the middle of the content) and everything after them
        lines.append(b.text)
        rows.append(_table_row(b.container))
    lines = _join_table_rows(lines, rows)
    # a title repeated at the top of the content
    if title:
        t = _squash(title)
        for i in [*range(min(3, len(lines))), *range(max(0, len(lines) - 2), len(lines))]:
            if i < len(lines) and _squash(lines[i]) == t:
                del lines[i]
    return _trim_edges(lines)


def _table_row(el: etree._Element | None) -> tuple[etree._Element, etree._Element] | None:
    """(<tr>, <td>) a block's element sits in (a few levels up, not past a <table>), or None."""
    cell = None
    for _ in range(6):
        if el is None or el.tag == "table":
            return None
        if el.tag in ("td", "th"):
            cell = el
        if el.tag == "tr":
            return (el, cell) if cell is not None else None
        el = el.getparent()
    return None


def _join_table_rows(lines: list[str], rows: list) -> list[str]:
    """The cells of one data-table row as one tab-separated line (the cleaner keeps it as a row of
    kind "table"): each line its own cell, all short. Lines of one cell (a layout table holding the
    article, split at <br>) are left alone."""
    out: list[str] = []
    i = 0
    while i < len(lines):
        j = i + 1
        while rows[i] is not None and j < len(lines) and rows[j] is not None and rows[j][0] is rows[i][0]:
            j += 1
        cells = lines[i:j]
        distinct = {id(r[1]) for r in rows[i:j] if r is not None}
        if len(cells) >= 2 and len(distinct) == len(cells) and all(len(c) <= TABLE_CELL_MAX_CHARS for c in cells):
            out.append("\t".join(cells))
        else:
            out.extend(cells)
        i = j
    return out


def _remaining_chars(blocks: list[_Block], here: _Block, span: tuple[int, int]) -> int:
    """Characters from `here` to the end of the span (a comments block must come past the middle)."""
    i = blocks.index(here, span[0], span[1] + 1)
    return sum(len(b.text) for b in blocks[i : span[1] + 1])


def _keep_short(text: str) -> bool:
    """Short unpunctuated lines inside the content that are still content: section headings, dates."""
    return bool(re.match(r"^[（(]?[一二三四五六七八九十\d]+[、.．)）]", text))


def _trim_edges(lines: list[str]) -> list[str]:
    """Drop unpunctuated short lines at the very start and end (bylines, tool bars, source lines)."""

    def weak(line: str) -> bool:
        return len(line) < 30 and not any(ch in _STRONG_PUNCT for ch in line) and not _keep_short(line)

    def widget(line: str) -> bool:
        return len(line) <= EDGE_WIDGET_MAX_LEN and bool(EDGE_WIDGETS.search(line))

    lines = [ln for ln in lines if not _keyword_cloud(ln)]
    lines = _drop_teaser_tail(lines)
    start, end = 0, len(lines)
    while start < end and ((weak(lines[start]) and _is_meta_line(lines[start])) or widget(lines[start])):
        start += 1
    while end > start and ((weak(lines[end - 1]) and _is_meta_line(lines[end - 1], dates=False))
                           or widget(lines[end - 1])):
        end -= 1
    return lines[start:end]


def _keyword_cloud(line: str) -> bool:
    """A long line with (almost) no punctuation: a tag or keyword cloud, never prose."""
    return len(line) >= CLOUD_MIN_LEN and sum(1 for ch in line if ch in _PUNCT) < CLOUD_MAX_PUNCT_SHARE * len(line)


def _date_line(line: str) -> bool:
    return len(line) <= 24 and bool(_DATE.search(line)) and sum(ch.isdigit() for ch in line) >= 6


def _drop_teaser_tail(lines: list[str]) -> list[str]:
    """Other stories listed under the article, each a teaser and its date ('…' / '2019年11月03日'):
    from the end, cut while the lines come as (teaser, [source,] date) groups, at least two of them."""
    end = len(lines)
    while end > 0 and len(lines[end - 1]) <= 8 and not any(ch in _STRONG_PUNCT for ch in lines[end - 1]):
        end -= 1  # short labels after the list ("最近发表", "标签列表")
    cut, groups, i = end, 0, end
    while i >= 2 and _date_line(lines[i - 1]):
        j = i - 2
        if j >= 1 and len(lines[j]) <= 12 and not _date_line(lines[j - 1]):
            j -= 1  # a source line between the teaser and its date (",南方都市报")
        if _date_line(lines[j]):
            break
        groups += 1
        cut = i = j
    return lines[:cut] if groups >= 2 else lines


def _is_meta_line(line: str, dates: bool = True) -> bool:
    """Byline and tool-bar words; a bare date counts only at the top (at the end it signs a document)."""
    if re.search(r"来源|作者|编辑|时间|日期|浏览|点击|字号|字体|打印|分享|责编|校对|阅读", line):
        return True
    return dates and bool(_DATE.search(line))


def _is_disclaimer_start(line: str) -> bool:
    return any(p.search(line) for p in DISCLAIMER_START)


def _is_chrome_line(line: str) -> bool:
    return any(p.search(line) for p in CHROME_LINE_PATTERNS)


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


# --------------------------------------------------------------------------------------------------
# metadata


def _meta_values(root: etree._Element) -> dict[str, str]:
    meta: dict[str, str] = {}
    for el in root.iter("meta"):
        key = (el.get("property") or el.get("name") or el.get("itemprop") or "").strip().lower()
        value = (el.get("content") or "").strip()
        if key and value and key not in meta:
            meta[key] = value
    return meta


def _raw_title(root: etree._Element, meta: dict[str, str]) -> str:
    el = root.find(".//title")
    if el is not None and el.text_content().strip():
        return _norm(el.text_content())
    return _norm(meta.get("og:title", ""))


def _heading(root: etree._Element, raw_title: str) -> str | None:
    """An <h1>..<h3> (or og:title) that the <title> contains: the article title without the site suffix."""
    squashed = _squash(raw_title)
    best = None
    for tag in ("h1", "h2", "h3"):
        for el in root.iter(tag):
            text = _norm(el.text_content())
            if len(text) >= 4 and squashed and _squash(text) in squashed:
                if best is None or len(text) > len(best):
                    best = text
        if best:
            return best
    return None


def _strip_title_suffix(raw_title: str) -> str:
    parts = [p.strip() for p in TITLE_SEPARATORS.split(raw_title) if p.strip()]
    if len(parts) <= 1:
        return raw_title
    return max(parts[: max(1, len(parts) - 1)], key=len)


def _site_name(meta: dict[str, str], raw_title: str, title: str | None) -> str | None:
    for key in ("og:site_name", "sitename", "site_name", "application-name"):
        if meta.get(key):
            return meta[key]
    parts = [p.strip() for p in TITLE_SEPARATORS.split(raw_title) if p.strip()]
    if len(parts) >= 2 and parts[-1] != title and len(parts[-1]) <= 20:
        return parts[-1]
    return None


def _canonical_url(root: etree._Element, meta: dict[str, str]) -> str | None:
    for el in root.iter("link"):
        if (el.get("rel") or "").lower() == "canonical" and (el.get("href") or "").startswith("http"):
            return el.get("href").strip()
    url = meta.get("og:url", "")
    return url if url.startswith("http") else None


def _iso(y: str, m: str, d: str) -> str | None:
    return iso_date(y, m, d, min_year=1990)  # older dates on a web page are history in the text, not its date


def _find_date(meta: dict[str, str], blocks: list[_Block], span: tuple[int, int], url: str | None) -> str | None:
    for key in (
        "article:published_time",
        "pubdate",
        "publishdate",
        "publish_date",
        "og:release_date",
        "datepublished",
        "firstpublishedtime",
        "dc.date",
        "dc.date.issued",
        "date",
    ):
        m = _DATE.search(meta.get(key, ""))
        if m and (iso := _iso(*m.groups())):
            return iso
    # the first date in a short line near the content (the byline), else anywhere on the page
    first_inside = span[0]
    window = blocks[max(0, first_inside - 15) : first_inside + 5]
    for b in window:
        if len(b.text) <= 120:
            m = _DATE.search(b.text)
            if m and (iso := _iso(*m.groups())):
                return iso
    if url:
        m = _URL_DATE.search(url)
        if m and (iso := _iso(*m.groups())):
            return iso
    for b in blocks:
        if len(b.text) <= 120 and _DATE_LABEL.search(b.text):
            m = _DATE.search(b.text)
            if m and (iso := _iso(*m.groups())):
                return iso
    return None


def _find_author(meta: dict[str, str], blocks: list[_Block], span: tuple[int, int]) -> str | None:
    if meta.get("author"):
        return meta["author"]
    first_inside = span[0]
    for b in blocks[max(0, first_inside - 15) : first_inside + 3]:
        if len(b.text) <= 120:
            m = _AUTHOR.search(b.text)
            if m:
                return m.group(1)
    return None
