"""What a site adapter is: selectors and line rules as data, one generic engine to extract with them.

A site module (wm114.py, fanwy.py, ...) only fills in a `SiteAdapter`: which hosts it serves, how to
tell article pages from listings, CSS selectors (lxml + cssselect) for title, date, body, the
elements to drop inside the body (related lists, share bars, photo captions), and line rules for the
paywall tail. Selectors are lists tried in order -- the first that matches wins -- so a template
change on the site degrades to the next selector, and a page with no body match falls back to the
generic extractor (`extract` returns None). The crawl rules (article/listing URL patterns, link and
next-page selectors) are data here too, beside the site's other rules; the crawler applies them
(`scrapers.listing`).

Paywall tails: the line carrying the site's truncation note ("……(未完,全文共5223字,当前仅显示2407字",
"试读结束") is KEPT so the cleaner can mark the document truncated and record the claimed length;
everything after it (收藏, 文章搜索, contact lines, related lists) is dropped.
"""

from __future__ import annotations

import html as _html
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import lxml.html
from lxml import etree

from ..dates import normalise_date
from ..errors import InputError
from ..html import BLOCK_TAGS, ExtractedPage  # one list of the tags that end a line
from ..rulecheck import RuleError, check_regexes, check_selectors, check_strings

_WS = re.compile(r"[ \t\r\n\u00a0]+")
_ENTITY = re.compile(r"&(?:[a-zA-Z]{2,8}|#\d{2,6});")
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>", re.I)


STRUCTURES = ("observed", "assumed", "any")  # "any": the generic profile
_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*")
_HOST = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+")
_SELECTOR_FIELDS = ("title", "date", "body", "drop", "article_links", "next_page")
_REGEX_FIELDS = ("article_url", "listing_url", "drop_blocks", "drop_lines", "tail_keep", "tail_cut")


@dataclass(frozen=True)
class SiteAdapter:
    """Selectors and rules for one site. Everything here is data; `extract` applies it (and the crawler's
    `scrapers.listing` the crawl rules)."""

    name: str  # short id used in --site and in record meta["adapter"]
    label: str  # the site's own name, stored as the document's site
    hosts: tuple[str, ...] = ()  # host suffixes served ("wm114.cn" matches www.wm114.cn)
    structure: str = "assumed"  # "observed" when the selectors were written from real saved pages
    fingerprints: tuple[str, ...] = ()  # strings that identify a saved page of this site when its URL is unknown
    article_url: tuple[str, ...] = ()  # regexes on the URL path: an article page
    listing_url: tuple[str, ...] = ()  # regexes on the URL path: a listing page (else: not followed)
    title: tuple[str, ...] = ("h1",)
    date: tuple[str, ...] = ()
    body: tuple[str, ...] = ()
    drop: tuple[str, ...] = ()  # elements removed inside the body (their tail text is kept)
    drop_blocks: tuple[str, ...] = ()  # regexes: a body element whose text starts like this is removed
    drop_lines: tuple[str, ...] = ()  # regexes: whole lines removed
    tail_keep: tuple[str, ...] = ()  # regexes: the paywall line; kept, everything after it dropped
    tail_cut: tuple[str, ...] = ()  # regexes: this line and everything after it dropped
    article_links: tuple[str, ...] = ("a",)  # on a listing: where the article links are
    next_page: tuple[str, ...] = ()  # on a listing: the next-page link (else a link reading 下一页)
    notes: str = ""

    def __post_init__(self) -> None:
        """Every rule checked when the profile is built (at import): a malformed one fails loudly."""
        where = f"site profile {self.name!r}"
        if not isinstance(self.name, str) or not _NAME.fullmatch(self.name):
            raise RuleError(f"{where}: name must be lower-case letters, digits, '-' or '_'")
        if not isinstance(self.label, str):
            raise RuleError(f"{where}: label must be a string")
        if self.structure not in STRUCTURES:
            raise RuleError(f"{where}: structure {self.structure!r} is not one of {', '.join(STRUCTURES)}")
        for host in check_strings(f"{where}.hosts", self.hosts):
            if not _HOST.fullmatch(host):
                raise RuleError(f"{where}.hosts: {host!r} is not a lower-case host name (no scheme, no path)")
        check_strings(f"{where}.fingerprints", self.fingerprints)
        for name in _SELECTOR_FIELDS:
            check_selectors(f"{where}.{name}", getattr(self, name))
        for name in _REGEX_FIELDS:
            check_regexes(f"{where}.{name}", check_strings(f"{where}.{name}", getattr(self, name)))

    # matching -------------------------------------------------------------------------------
    def matches_url(self, url: str | None) -> bool:
        if not url:
            return False
        host = (urlsplit(url).hostname or "").lower()
        return any(host == h or host.endswith("." + h) for h in self.hosts)

    def matches_page(self, html: str) -> bool:
        return bool(self.fingerprints) and any(f in html for f in self.fingerprints)

    # extraction -----------------------------------------------------------------------------
    def extract(self, html: str, url: str | None = None) -> ExtractedPage | None:
        """Title, date and body text by this site's selectors; None when the body selector finds nothing."""
        root = parse_page(html)
        body = _first(root, self.body)
        if body is None:
            return None
        title = _text_of(_first(root, self.title))
        date_el = _first(root, self.date)
        date = normalise_date(_text_of(date_el)) if date_el is not None else None
        for sel in self.drop:
            for el in body.cssselect(sel):
                if el is not body and el.getparent() is not None:
                    el.drop_tree()
        if self.drop_blocks:
            pats = [re.compile(p) for p in self.drop_blocks]
            for el in list(body.iter("div", "ul", "ol", "p", "dl", "table", "section")):
                if el is body or el.getparent() is None:
                    continue
                text = _norm(el.text_content())
                if any(p.match(text) for p in pats):
                    el.drop_tree()
        lines = self.apply_line_rules(block_lines(body))
        if title:
            lines = [ln for i, ln in enumerate(lines) if not (i < 3 and _squash(ln) == _squash(title))]
        text = "\n".join(lines)
        if not text.strip():
            return None
        return ExtractedPage(title=title or None, text=text, date=date, url=url, site=self.label)

    def apply_line_rules(self, lines: list[str]) -> list[str]:
        drop = [re.compile(p) for p in self.drop_lines]
        keep_tail = [re.compile(p) for p in self.tail_keep]
        cut_tail = [re.compile(p) for p in self.tail_cut]
        out: list[str] = []
        for line in lines:
            if any(p.search(line) for p in cut_tail):
                break
            if any(p.search(line) for p in keep_tail):
                out.append(line)
                break
            if any(p.search(line) for p in drop):
                continue
            out.append(line)
        return out

# helpers ----------------------------------------------------------------------------------------

def parse_page(html: str) -> etree._Element:
    html = _XML_DECL.sub("", html, count=1)
    if not html.strip():
        raise InputError("empty page: no HTML to extract from")
    try:
        return lxml.html.document_fromstring(html)
    except (etree.ParserError, ValueError) as exc:
        raise InputError(f"page cannot be parsed as HTML: {exc}") from exc


def _first(root: etree._Element, selectors: tuple[str, ...]) -> etree._Element | None:
    for sel in selectors:
        found = root.cssselect(sel)
        if found:
            return found[0]
    return None


def _norm(text: str) -> str:
    text = _WS.sub(" ", text).strip()
    if _ENTITY.search(text):  # entities escaped twice in the source ("&amp;ldquo;") show up as "&ldquo;"
        text = _html.unescape(text)
    return text


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _text_of(el: etree._Element | None) -> str:
    if el is None:
        return ""
    if el.tag == "meta":
        return _norm(el.get("content") or "")
    if el.tag == "time" and el.get("datetime"):
        return _norm(el.get("datetime") or "")
    return _norm(el.text_content())


def block_lines(el: etree._Element) -> list[str]:
    """The element's text cut into lines at block tags and <br>, scripts and styles left out."""
    lines: list[str] = []
    buf: list[str] = []

    def flush() -> None:
        text = _norm("".join(buf))
        if text:
            lines.append(text)
        buf.clear()

    skip_depth = 0
    for event, node in etree.iterwalk(el, events=("start", "end")):
        tag = node.tag if isinstance(node.tag, str) else None
        if event == "start":
            if tag in ("script", "style", "noscript", "template") or tag is None:
                skip_depth += 1
                continue
            if skip_depth:
                continue
            if tag in BLOCK_TAGS:
                flush()
            if node.text and tag != "br":
                buf.append(node.text)
        else:
            if tag in ("script", "style", "noscript", "template") or tag is None:
                skip_depth -= 1
                if not skip_depth and node.tail and node is not el:
                    buf.append(node.tail)
                continue
            if skip_depth:
                continue
            if tag in BLOCK_TAGS:
                flush()
            if node.tail and node is not el:
                buf.append(node.tail)
    flush()
    return lines
