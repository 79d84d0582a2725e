"""Test pages for the three 文秘 sites, rebuilt from the seed documents (corpus/sample = ../shared/seeds).

HONESTY NOTE: no real HTML of 新文秘网 (wm114.cn), 快文网 (fanwy.cn) or 如来写作网 (rulaiwenku.com) is
available to this project. The *visible text* of the article pages below is the seeds' text, line for
line, including the paywall tails, related lists and 上一篇/下一篇; the *markup* (tag names, classes,
URL layout) is ASSUMED -- plausible for each kind of site (an old GB2312 ASP/PHP template for wm114,
a GBK template without charset declaration for fanwy, a WordPress theme for rulaiwenku). The adapters
are written defensively against it (several selectors each, generic fallback), and must be
checked against live pages before a real crawl.

`python tests/sites/pages.py` rewrites the saved article pages (tests/sites/<site>/article.html).
"""

from __future__ import annotations

import html
from pathlib import Path

HERE = Path(__file__).resolve().parent
SAMPLE = HERE.parents[1] / "corpus" / "sample"


def _seed(prefix: str) -> list[str]:
    path = next(SAMPLE.glob(f"{prefix}_*.txt"))
    return path.read_text(encoding="utf-8").splitlines()


def _p(lines: list[str]) -> str:
    return "\n".join(f"<p>{html.escape(ln.strip())}</p>" for ln in lines if ln.strip())


# --- 新文秘网 wm114.cn (GB2312 declared) -------------------------------------------------------------

def wm114_article(title: str, date: str, outline: list[str], body: list[str], tail: str = "",
                  related: list[tuple[str, str]] = ()) -> str:
    tail_html = f"<div class=\"tishi\">{html.escape(tail)}</div>" if tail else ""
    rel = "".join(f'<li><a href="{u}">{html.escape(t)}</a></li>' for u, t in related)
    toc = ("<div class=\"tigang\">目录/提纲:……<br>" + "<br>".join(html.escape(x) for x in outline) + "<br>……</div>") if outline else ""
    return f"""<!DOCTYPE html>
<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312">
<title>{html.escape(title)}_新文秘网</title></head>
<body>
<div class="top"><a href="/">新文秘网首页</a> | <a href="/user/login.asp">会员登录</a> | <a href="/user/reg.asp">免费注册</a></div>
<div class="weizhi">您的位置:<a href="/">新文秘网</a>>><a href="/wen/208/">建筑</a>/<a href="/wen/209/">县域</a>/科学发展/调研报告/会议致辞/会议主持/会议发言/>>正文</div>
<div class="main"><div class="left">
<h1 class="title">{html.escape(title)}</h1>
<div class="info">发表时间:{html.escape(date)}</div>
{toc}
<div class="content" id="content">
<p>{html.escape(title)}</p>
{_p(body)}
</div>
{tail_html}
<div class="search">文章搜索 <form action="/search.asp"><input name="k"></form></div>
<div class="xgwz"><h3>相关文章</h3><ul>{rel}</ul></div>
</div>
<div class="right"><h3>热门文章</h3><ul><li><a href="/wen/208/100001.html">在全县工作会议上的讲话</a></li></ul></div>
</div>
<div class="footer">Copyright 2006-2025 新文秘网 版权所有</div>
</body></html>
"""


def wm114_seed_article() -> str:
    lines = _seed("002")
    title = lines[2].strip()
    date = lines[4].split(":", 1)[1]
    toc_end = lines.index("……", 6)
    outline = lines[6:toc_end]
    start = toc_end + 2  # the title repeated, then the body
    last = next(i for i, ln in enumerate(lines) if "……(未完" in ln)
    head, _, rest = lines[last].partition(" ……(未完")
    tail_note, _, collect = ("……(未完" + rest).partition("收藏")
    body = lines[start:last] + [head + " " + tail_note]
    return wm114_article(title, date, outline, body, tail="收藏" + collect,
                         related=[("/wen/208/100002.html", "在全市乡村振兴工作会议上的讲话")])


def wm114_listing(articles: list[tuple[str, str]], next_url: str | None) -> str:
    items = "".join(f'<li><a href="{u}">{html.escape(t)}</a><span>2025-07-24</span></li>' for u, t in articles)
    nxt = f'<a href="{next_url}">下一页</a>' if next_url else ""
    return f"""<html><head><meta charset="gb2312"><title>会议发言_新文秘网</title></head><body>
<div class="weizhi">您的位置:<a href="/">新文秘网</a>>>会议发言</div>
<ul class="list">{items}</ul><div class="page"><a href="/wen/208/">首页</a> {nxt}</div>
<div class="footer">Copyright 新文秘网</div></body></html>"""


# --- 快文网 fanwy.cn (GBK, no charset declared) ------------------------------------------------------

def fanwy_article(title: str, body_before: list[str], body_after: list[str], related: list[str],
                  prev_next: tuple[str, str] = ("", ""), columns: str = "") -> str:
    rel = "".join(f'<li>• <a href="/a/{1000 + i}.html">{html.escape(t)}</a></li>' for i, t in enumerate(related))
    related_html = (f'<div class="xgwz">\u00a0\u00a0更多相关文章:<a href="/search.php?q=x">{html.escape(title[:14])}</a>'
                    f"<ul>{rel}</ul></div>") if related else ""
    return f"""<html><head><title>{html.escape(title)} - 快文网</title></head>
<body>
<div class="nav"><a href="/">快文网首页</a> <a href="/jianghua/">讲话稿</a> <a href="/vip.html">开通会员</a></div>
<div class="article">
<div class="biaoti">标题:{html.escape(title)}</div>
<h1>{html.escape(title)}</h1>
<div class="art_con" id="article_content">
{_p(body_before)}
{related_html}
{_p(body_after)}
</div>
<div class="sxp"><p>上一篇:<a href="/a/1.html">{html.escape(prev_next[0])}</a></p><p>下一篇:<a href="/a/2.html">{html.escape(prev_next[1])}</a></p></div>
<div class="lanmu">相关栏目:{html.escape(columns)}</div>
</div>
<div class="foot">快文网 www.fanwy.cn</div>
</body></html>
"""


def fanwy_seed_article() -> str:
    lines = _seed("003")
    title = lines[1].strip()
    omit = next(i for i, ln in enumerate(lines) if "省略" in ln)
    rel_start = omit + 1
    resumed = next(i for i, ln in enumerate(lines) if ln.strip().startswith("• 年上半年"))
    related = [ln.strip().lstrip("•").strip() for ln in lines[rel_start + 1:resumed] if ln.strip()]
    prev_i = next(i for i, ln in enumerate(lines) if ln.strip().startswith("上一篇"))
    body_before = lines[3:omit + 1]
    body_after = [lines[resumed].strip().lstrip("•").strip()] + lines[resumed + 1:prev_i]
    return fanwy_article(title, body_before, body_after, related,
                         prev_next=(lines[prev_i].split(":", 1)[1], lines[prev_i + 1].split(":", 1)[1]),
                         columns=lines[prev_i + 3].split(":", 1)[1])


# --- 如来写作网 rulaiwenku.com (WordPress theme, UTF-8) ----------------------------------------------

def rulai_article(title: str, body: list[str], date: str = "2023-01-04", post_id: int = 295968) -> str:
    return f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="UTF-8">
<title>{html.escape(title)} - 如来写作网</title>
<meta property="article:published_time" content="{date}T08:00:00+08:00">
</head>
<body class="post-template-default single single-post">
<header class="header"><a class="logo" href="/">如来写作网</a><nav><a href="/category/jianghua">讲话</a></nav></header>
<div class="wrap container"><main class="main">
<article class="entry">
<div class="entry-head"><h1 class="entry-title">{html.escape(title)}</h1></div>
<div class="entry-content clearfix">
<p>{html.escape(title)}</p>
{_p(body)}
<p>............试读结束............</p>
<p>查阅全文加微信3231169</p>
<p>如来写作网gw.rulaixiezuo.com(可搜索其他更多资料)</p>
</div>
<div class="entry-copyright"><p>本文内容由互联网用户自发贡献,该文观点仅代表作者本人。本站仅提供信息存储空间服务,不拥有所有权,不承担相关法律责任。如发现本站有涉嫌抄袭侵权/违法违规的内容, 请发送邮件至 3231169@qq.com 举报,一经查实,本站将立刻删除。</p>
<p>如若转载,请注明出处:https://www.rulaiwenku.com/{post_id}.html</p></div>
<div class="entry-action"><span class="btn-zan">(0)</span></div>
<div class="entry-page"><div class="entry-page-prev"><a href="/{post_id - 1}.html">上一篇 2023年1月4日</a></div>
<div class="entry-page-next"><a href="/{post_id + 1}.html">下一篇 2023年1月4日</a></div></div>
<div class="entry-related"><h3 class="entry-related-title">相关推荐</h3><ul><li><a href="/{post_id + 2}.html">在全县项目建设推进会上的讲话</a></li></ul></div>
</article></main>
<aside class="sidebar"><div class="widget">搜索资料 全部分类 搜索教程</div><div class="widget">扫码关注</div>
<div class="widget kefu">客服代找资料<br>加客服微信:3231169<br>私发想要资料的标题/关键词<br>快速代查找相关所有资料<br>如来写作网客服微信3231169<br>立即扫码添加我吧</div></aside>
</div>
<div class="action"><div>微信咨询</div><div class="kefu">客服代找资料<br>加客服微信:3231169</div><a class="gotop">返回顶部</a></div>
</body></html>
"""


def rulai_seed_article() -> str:
    lines = _seed("004")
    title = lines[0].strip()
    end = next(i for i, ln in enumerate(lines) if "试读结束" in ln)
    return rulai_article(title, lines[2:end])


def rulai_listing(articles: list[tuple[str, str]], next_url: str | None) -> str:
    items = "".join(f'<li class="item"><h2><a href="{u}">{html.escape(t)}</a></h2></li>' for u, t in articles)
    nxt = f'<a class="next page-numbers" href="{next_url}">下一页</a>' if next_url else ""
    return f"""<!DOCTYPE html><html><head><meta charset="UTF-8"><title>讲话 - 如来写作网</title></head>
<body><ul class="post-loop">{items}</ul><div class="pagination">{nxt}</div></body></html>"""


SEED_PAGES = {
    "wm114/article.html": (wm114_seed_article, "gb18030"),  # declared gb2312, really GBK+ (common)
    "fanwy/article.html": (fanwy_seed_article, "gb18030"),  # GBK bytes, no charset anywhere
    "rulaiwenku/article.html": (rulai_seed_article, "utf-8"),
}


def build() -> None:
    for rel, (make, enc) in SEED_PAGES.items():
        path = HERE / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(make().encode(enc))


if __name__ == "__main__":
    build()
