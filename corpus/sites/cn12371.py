"""共产党员网 www.12371.cn -- selectors OBSERVED on 107 real saved article pages (../shared/data/html/12371cn).

Page layout seen on every one of them: breadcrumb ``p.mbx``, title ``h1.big_title`` (subtitle
``h2.small_title``), a ``div.title_bottom`` tool bar (分享 打印), the article in
``div.font_area_mid > div.con > div.word``, then a second ``div.title_bottom.title_mobile_bottom``
carrying "发布时间：2017年10月25日 16:59 来源：新华社". Inside ``div.word``: photo captions
(``p.photo_title``), a centred "点击观看视频" link, and on 69 of 107 pages a closing "延伸阅读" heading
followed by links to related articles -- that heading and what follows are not the speech.
"""

from __future__ import annotations

from .base import SiteAdapter

ADAPTER = SiteAdapter(
    name="12371",
    label="共产党员网",
    hosts=("12371.cn",),
    structure="observed",
    fingerprints=("京ICP备12024993号", "共产党员网首页"),
    article_url=(r"/ARTI\d+\.shtml$", r"/\d{4}/\d{2}/\d{2}/[A-Z]{4}\d+\.shtml$"),
    listing_url=(r"/(?:index|list)[\w\-]*\.s?html?$", r"/$", r"/special/"),
    title=("h1.big_title", "h1"),
    date=("div.title_mobile_bottom", "div.title_bottom", "div.time"),
    body=("div.font_area_mid div.word", "div.word", "div.font_area_mid"),
    drop=("p.photo_title", "div.bdsharebuttonbox", "div#wxfx", "script", "style"),
    drop_lines=(r"^[\[【]?点击观看视频[\]】]?$", r"^收听本文$", r"^\d\d:\d\d\s*/\s*\d\d:\d\d$", r"^(?:分享|收藏|打印|×|微信扫一扫)$"),
    tail_cut=(r"^延伸阅读(?:\s|[:：]|$)", r"^相关(?:阅读|稿件|新闻)$"),
    article_links=("div.list_box a", "ul.list_txt a", "a"),
    next_page=("a.next", "a.page_next"),
)
