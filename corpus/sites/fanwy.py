"""快文网 www.fanwy.cn -- selectors ASSUMED (no live HTML available; see tests/sites/pages.py).

Known from the seed (../shared/seeds/003): a "标题:…" line, the title, the body with an inline
omission "……(快文网http://www.fanwy.cn省略1427字,正式会员可完整阅读)……" right after which the site
inserts a "更多相关文章:…" list of bullet links (the body resumes after it), a paywall tail
"……(未完,全文共7705字,当前只显示3710字,请阅读下面提示信息。收藏…", then 上一篇/下一篇 and
"相关栏目:…". The page is GBK and may not declare its charset (handled by corpus.encoding.decode_html).
"""

from __future__ import annotations

from .base import SiteAdapter

ADAPTER = SiteAdapter(
    name="fanwy",
    label="快文网",
    hosts=("fanwy.cn",),
    structure="assumed",
    fingerprints=("快文网", "fanwy.cn"),
    article_url=(r"/a/\d+\.html?$", r"/\w+/\d{3,}\.html?$"),
    listing_url=(r"/\w+/(?:list_?\d*\.html?)?$",),
    title=("div.article h1", "h1", "div.biaoti"),
    date=("div.info", "span.time", "div.time"),
    body=("div#article_content", "div.art_con", "div.content"),
    drop=("div.xgwz", "div.sxp", "div.lanmu", "script", "style"),
    drop_blocks=(r"^更多相关文章", r"^相关栏目"),
    drop_lines=(r"^标题\s*[:：]", r"^•\s"),
    tail_keep=(r"[(（]\s*未完[,，]", r"请阅读下面提示信息"),
    tail_cut=(r"^上一篇\s*[:：]", r"^下一篇\s*[:：]", r"^相关栏目\s*[:：]"),
    article_links=("ul.list a", "div.list a", "a"),
    next_page=("a.next",),
)
