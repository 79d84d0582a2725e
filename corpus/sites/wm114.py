"""新文秘网 www.wm114.cn -- selectors ASSUMED (no live HTML available; see tests/sites/pages.py).

What is known from the seed (../shared/seeds/002): a breadcrumb "您的位置:新文秘网>>…>>正文", the
title, "发表时间:2025/7/24 14:59:10", a "目录/提纲:……" outline ended by "……", the title again, the
body with inline omissions "……(新文秘网http://www.wm114.cn省略857字,正式会员可完整阅读)……", a paywall
tail "……(未完,全文共5223字,当前仅显示2407字,请阅读下面提示信息。收藏《…》", then "文章搜索" and
"相关文章". Markup, classes and URL layout below are guesses with fallbacks; a page they do not
fit falls back to the generic extractor.
"""

from __future__ import annotations

from .base import SiteAdapter

ADAPTER = SiteAdapter(
    name="wm114",
    label="新文秘网",
    hosts=("wm114.cn",),
    structure="assumed",
    fingerprints=("新文秘网", "wm114.cn"),
    article_url=(r"/wen/\d+/\d{3,}\.html?$", r"/\d{5,}\.html?$"),
    listing_url=(r"/wen/\d+/(?:(?:index|list)[_\d]*\.html?)?$",),
    title=("h1.title", "div.title h1", "h1"),
    date=("div.info", "div.time", "span.time"),
    body=("div#content", "div.content", "div.article_content", "div.nr"),
    drop=("div.tigang", "div.xgwz", "div.search", "script", "style"),
    drop_blocks=(r"^目录/提纲", r"^相关文章", r"^文章搜索"),
    drop_lines=(r"^您的位置\s*[:：]", r"^发表时间\s*[:：]"),
    tail_keep=(r"[(（]\s*未完[,，]", r"请阅读下面提示信息"),
    tail_cut=(r"^文章搜索$", r"^相关文章$", r"^收藏《"),
    article_links=("ul.list a", "div.list a", "a"),
    next_page=("div.page a.next",),
)
