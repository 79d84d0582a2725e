"""Crawl rules of a site applied to a page: is a URL an article or a listing, which links to follow.

The rules are data on the site's profile (`corpus.sites`: `article_url`, `listing_url`,
`article_links`, `next_page`); this is the crawler's engine for them.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

from corpus.sites.base import SiteAdapter, parse_page

_NEXT_TEXT = re.compile(r"^\s*(?:下一页|下页|后页|>|›|»)\s*$")


def page_kind(adapter: SiteAdapter, url: str) -> str:
    """'article', 'listing' or 'other' from the URL alone."""
    path = urlsplit(url).path + (("?" + urlsplit(url).query) if urlsplit(url).query else "")
    if any(re.search(p, path) for p in adapter.article_url):
        return "article"
    if any(re.search(p, path) for p in adapter.listing_url):
        return "listing"
    return "other"


def listing_links(adapter: SiteAdapter, html: str, base_url: str) -> tuple[list[str], list[str]]:
    """(article URLs, next-page URLs) found on a listing page, on this site only, in page order."""
    root = parse_page(html)
    base_host = (urlsplit(base_url).hostname or "").lower()

    def on_site(url: str) -> bool:  # the site's hosts, or the listing's own host (a mirror, a test server)
        return adapter.matches_url(url) or (urlsplit(url).hostname or "").lower() == base_host

    articles: list[str] = []
    for sel in adapter.article_links:
        for a in root.cssselect(sel):
            href = a.get("href") if a.tag == "a" else None
            url = _abs(base_url, href)
            if url and on_site(url) and page_kind(adapter, url) == "article" and url not in articles:
                articles.append(url)
    nexts: list[str] = []
    candidates = [a for sel in adapter.next_page for a in root.cssselect(sel)] or [
        a for a in root.iter("a") if _NEXT_TEXT.match(a.text_content() or "")]
    for a in candidates:
        url = _abs(base_url, a.get("href"))
        if url and on_site(url) and url != base_url.split("#")[0] and url not in nexts:
            nexts.append(url)
    return articles, nexts


def _abs(base: str, href: str | None) -> str | None:
    if not href or href.startswith(("javascript:", "mailto:", "#")):
        return None
    url = urljoin(base, href.strip()).split("#", 1)[0]
    return url if urlsplit(url).scheme in ("http", "https") else None
