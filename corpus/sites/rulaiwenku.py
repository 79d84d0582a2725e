"""如来写作网 www.rulaiwenku.com / gw.rulaixiezuo.com -- selectors ASSUMED (no live HTML available).

Known from the seed (../shared/seeds/004) and the URL it names (https://www.rulaiwenku.com/295968.html):
a WordPress-style site -- title twice, the body, "............试读结束............", "查阅全文加微信…",
a "如来写作网gw.rulaixiezuo.com(可搜索其他更多资料)" line, a copyright/reprint notice, a like counter
"(0)", "上一篇 2023年1月4日"/"下一篇 …", "相关推荐", and a customer-service sidebar repeated twice.
The classes below are those of the common WordPress themes (entry-title, entry-content, ...).
"""

from __future__ import annotations

from .base import SiteAdapter

ADAPTER = SiteAdapter(
    name="rulaiwenku",
    label="如来写作网",
    hosts=("rulaiwenku.com", "rulaixiezuo.com"),
    structure="assumed",
    fingerprints=("如来写作网", "rulaiwenku.com"),
    article_url=(r"^/\d+\.html?$", r"/archives/\d+"),
    listing_url=(r"^/category/", r"/page/\d+/?$", r"^/$", r"^/tag/"),
    title=("h1.entry-title", "article h1", "h1"),
    date=('meta[property="article:published_time"]', "time.entry-date", "span.entry-date"),
    body=("div.entry-content", "article div.content", "div.post-content"),
    drop=("div.entry-copyright", "div.entry-related", "div.entry-page", "div.entry-action", "script", "style"),
    drop_lines=(r"^查阅全文加微信", r"gw\.rulaixiezuo\.com", r"^[(（]\d+[)）]$"),
    tail_keep=(r"试读(?:已)?结束",),
    tail_cut=(r"^本文内容由互联网用户自发贡献", r"^如若转载", r"^上一篇\s", r"^相关推荐$"),
    article_links=("ul.post-loop a", "h2 a", "a"),
    next_page=("a.next", "a.next.page-numbers"),
)
