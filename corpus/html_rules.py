"""Rules (data) for HTML main-content extraction, used by corpus/html.py.

Why a separate module: the chrome strings come from pages actually seen (see
../shared/notes/boilerplate-patterns.md: 共产党员网 12371.cn, www.gov.cn, 山西, 浙江发改委, 内蒙古, 巴彦淖尔,
吉林) and grow as scrapers meet new sites; each family is tested in tests/test_html_extraction.py.
"""

from __future__ import annotations

import re

from .rulecheck import check_regex, check_regexes

# Elements that never hold main text. (form is NOT here: ASP.NET pages wrap the whole page in one.)
DROP_TAGS = frozenset(
    "script style noscript iframe object embed svg canvas select option button input textarea "
    "audio video map head template link meta".split()
)

# class/id names of page chrome. A block inside such an element counts against its ancestors.
NEGATIVE_NAME = re.compile(
    r"(?:^|[\s_-])(?:nav|navbar|menu|topbar|header|foot|footer|copyright|crumbs?|breadcrumbs?|position|"
    r"location|share|bdshare|sharebar|social|related|relate|recommend|tuijian|xgyd|xgxw|hot|rank|"
    r"sidebar|side|aside|right|left|widget|ad|ads|advert|banner|login|search|pager|pagination|"
    r"page-?nav|prev|next|sxp|tool|tools|toolbar|print|fontsize|font-size|zoom|qrcode|erweima|ewm|"
    r"comment|comments|pinglun|reply|tags?|keywords?|link|links|yqlj|friend)(?:$|[\s_-]|\d)",
    re.I,
)
# Reader comments: chrome however much prose they hold.
COMMENT_NAME = re.compile(r"(?:^|[\s_-])(?:comments?|pinglun|reply|replies|talk)(?:$|[\s_-]|\d)", re.I)
# ...unless the same element is also named like content.
POSITIVE_NAME = re.compile(
    r"article|content|contents|main|body|text|detail|zoom|zw|con_|news_con|TRS_Editor|pages_content|"
    r"entry|post|story|wenzhang|neirong",
    re.I,
)

TITLE_SEPARATORS = re.compile(r"\s+[-|–—_－]\s+|\s*[_|｜]\s*|\s+-\s*|-{2,}")

# Whole lines that are site chrome wherever they appear inside the main content.
_CHROME_LINES = [
    # 上一篇/下一篇, 相关 lists
    r"^\s*[【\[]?\s*(?:上一篇|下一篇|上一条|下一条|上篇|下篇|上一主题|下一主题)\s*[】\]]?\s*[:：]",
    r"^\s*(?:上一篇|下一篇)\s*$",
    r"^\s*(?:相关(?:稿件|阅读|新闻|文章|链接|报道)|延伸阅读|推荐阅读|热点推荐|猜你喜欢|更多>+|更多)\s*[:：]?\s*$",
    # tool bars: 打印 | 关闭, 字号, 分享到, 收藏
    r"^\s*(?:【\s*)?(?:字号|字体)\s*[:：]?.{0,20}(?:大|中|小|默认|放大|缩小|正常)",
    r"^\s*[【\[]?\s*(?:打印(?:本页)?|关闭(?:窗口|本页)?|收藏|已收藏|分享|分享到|朗读|纠错|返回顶部)\s*[】\]]?"
    r"(?:\s*[|丨/]?\s*[【\[]?\s*(?:打印(?:本页)?|关闭(?:窗口|本页)?|收藏|已收藏|分享|分享到|朗读|纠错|返回顶部)\s*[】\]]?)*\s*[:：]?\s*$",
    r"^\s*【\s*字体\s*[:：]",
    # a line made only of tool-bar words: "打印字体：放大正常缩小分享", "字号 超大 大 标准 小"
    r"^(?:\s|[:：|丨/【】\[\]]|打印|字体|字号|放大|正常|缩小|分享|超大|标准|默认|大|中|小|关闭|收藏|A-|A\+|A)+$",
    r"扫一扫在手机(?:上)?打开当前页",
    r"^\s*微信扫一扫",
    r"^\s*(?:收听本文|点击观看视频|00:00\s*/\s*00:00)(?:\s*(?:收听本文|点击观看视频|00:00\s*/\s*00:00))*\s*$",
    r"^\s*×\s*$",
    # byline / source lines (the date and source are kept as metadata)
    r"^\s*(?:发布时间|发布日期|时间|日期)\s*[:：].{0,60}(?:来源|浏览|字号|字体|打印|点击|作者|信息来源)",
    r"^\s*(?:来源|信息来源|文章来源)\s*[:：].{0,40}(?:编辑|作者|时间|发布|浏览|责任编辑)",
    r"^\s*(?:责任编辑|责编|编辑)\s*[:：]\s*\S{1,12}\s*\]?\s*\)?$",
    r"^\s*[（(\[【]\s*(?:责任编辑|责编|编辑)\s*[:：].{0,20}[)）\]】]\s*$",
    r"^\s*(?:浏览次数|阅读次数|点击数|点击量)\s*[:：]",
    r"^\s*当前位置\s*[:：]",
    r"^\s*您(?:现在)?的(?:当前)?位置\s*[:：]",
    # footers
    r"版权所有|Copyright\s*©|©\s*\d{4}|ICP备|ICP证|公网安备|网站标识码|主办单位\s*[:：]|运行维护单位|承办\s*[:：]",
    r"违法和不良信息举报|Produced By|大汉版通|网站地图.{0,10}联系我们|联系我们.{0,10}网站地图|关于我们.{0,10}联系我们",
    r"本网站发布的所有信息均不收取任何费用",
    r"使用大于\d+\*\d+分辨率",
    r"^\s*(?:共产党员网首页|手机版|欢迎使用手机浏览|组工软件下载|用户中心|我的投稿|我的问答|我的自测|我的留言|有奖调查)\s*$",
    r"^\s*(?:pdf下载|word下载|政策原文|网站申明|官方微博|官方微信|国务院客户端|中国政府网微博、微信)\s*$",
    r"^\s*分享到\s*[:：]",
    # related-headline lists: "·title (2005-04-27 14:32PM)"
    r"^\s*[·•]\s*.{2,80}[（(]\s*\d{2,4}[-/.年]\d{1,2}[-/.月]\d{1,2}.{0,15}[)）]\s*$",
    # short source lines: "来源：新华网", "2005年08月16日来源：新华网", "|发布: 2021-1-29|点击: 313|来自: 互联网"
    r"^.{0,30}(?:文章|信息|稿件)?来源\s*[:：].{0,30}$",
    r"^.{0,30}(?:发布|点击|浏览)\s*[:：]\s*\S{0,20}\s*[|丨].{0,40}$",
    r"转载申请事宜|禁止.{0,6}转载|未经(?:书面)?(?:许可|授权).{0,10}(?:不得|禁止|严禁)转载|(?:转载|引用)请注明(?:出处|来源)",
    r"^\s*[（(]?更多(?:内容|精彩|资讯)请(?:继续)?关注.{0,30}[)）]?\s*$",
]

# A line that starts the site's copyright/disclaimer block at the end of an article: it and all
# lines after it are dropped.
DISCLAIMER_START = [
    re.compile(p)
    for p in (
        r"^\s*[【\[]?\S{0,10}(?:版权与免责声明|免责声明|版权声明|反侵权公告|法律声明)\s*[】\]]?\s*[:：]?\s*$",
        r"^\s*(?:版权与免责声明|免责声明|版权声明|反侵权公告)\s*[:：]",
        # a hosting platform's note under a user's post (网易号, 百家号...): the post ended above it
        r"仅提供信息存储(?:空间)?服务|only provides information storage services",
    )
]
CHROME_LINE_PATTERNS = check_regexes("html CHROME_LINES", _CHROME_LINES, flags=re.I)  # checked at import

check_regexes("html DISCLAIMER_START", DISCLAIMER_START)
for _name in ("NEGATIVE_NAME", "COMMENT_NAME", "POSITIVE_NAME", "TITLE_SEPARATORS"):
    check_regex(f"html {_name}", globals()[_name])

# Reader comments start under the article: "[四川省成都市手机网友]2019-09-07 22:44:09 …", "+1顶0 |+1踩0",
# "热门跟贴". Found in the second half of the content, the line and everything after it are dropped.
COMMENTS_START = [
    re.compile(p)
    for p in (
        r"网友\]?\s*(?:19|20)\d\d-\d\d-\d\d\s+\d{1,2}:\d\d",
        r"[+＋]1\s*顶\s*\d*\s*[|丨]?\s*[+＋]1\s*踩",
        r"^\s*(?:热门|最新|全部)?(?:跟贴|跟帖|评论)\s*(?:[(（]?\s*\d+\s*(?:条)?\s*[)）]?)?\s*$",
    )
]

# Widgets that sit just before or after an article on news and portal sites (share / QR prompts, app
# promotions, comment and vote boxes, feedback forms, font-size controls). A line at either edge of
# the content that is short (EDGE_WIDGET_MAX_LEN) and names one of them is chrome; it is dropped, and
# the next edge line is judged in turn. Families, not sites: each is a kind of widget seen on many.
EDGE_WIDGET_MAX_LEN = 80
EDGE_WIDGETS = re.compile(
    r"|".join(
        (
            # share / QR code prompts: "用微信扫码二维码", "分享至好友和朋友圈", "扫二维码上移动长江网"
            r"扫(?:描|一扫|码)?.{0,16}二维码|二维码.{0,16}(?:关注|分享|下载|阅读)|分享(?:至|到)(?:好友|朋友圈|微信)|用微信扫",
            # app promotions: "安装新浪财经客户端第一时间接收…", "请下载“澎湃新闻”APP"
            r"(?:下载|安装|打开).{0,16}(?:客户端|APP|App)|客户端.{0,12}第一时间",
            # comment and vote boxes: "目前没有跟贴，欢迎你发表观点", "+1顶0 |+1踩0", "推荐99", "按alt+4进行评论"
            r"跟贴|跟帖|发表(?:你的|您的)?(?:观点|评论)|[+＋]1\s*[顶踩]|^\s*推荐\s*\d+\s*$|^\s*[+＋]1\s*$|按\s*alt\s*\+\s*\d|"
            r"正文已结束|返回.{0,10}首页\s*>+",
            # feedback forms: "感谢您的反馈，我们将会减少此类文章的推荐", "其他问题，我要吐槽"
            r"感谢您的反馈|我要吐槽|请填写原因|^\s*(?:举报|纠错|订阅|媒体报道\s*订阅)\s*$",
            # report-a-problem reasons under feed articles: "标题夸张、文不对题", "与事实不符", "疑似抄袭"
            r"^\s*(?:标题夸张|文不对题|与事实不符|低俗色情|欺诈或恶意营销|疑似抄袭|(?:文章|内容)质量差|旧闻重复|重复、旧闻|广告软文|不感兴趣)|"
            r"等展示问题\s*$|^\s*阅读数\s*[(（]\s*\d+\s*[)）]",
            # font-size controls and breadcrumbs glued to a byline: "2019-09-07 15:10:53 字号：A- A A+ 来源：…"
            r"字号\s*[:：]?\s*A\s*-|您所在(?:的)?位置\s*[:：]",
            # tag lines and account plugs: "关键字 : 公园", "新浪新闻公众号"; a lone section label: "图集"
            r"^\s*(?:关键字|关键词|标签|Tags?)\s*[:：]|^.{0,12}公众号\s*$|^\s*(?:图集|组图|视频|专题)\s*$",
            # sidebar headings left at the end: "最近发表", "标签列表", "友情链接"
            r"^\s*(?:最近发表|最新发表|标签列表|热门标签|友情链接|最新文章|热门文章|精彩推荐|猜你喜欢|为你推荐|为您推荐)\s*$",
            # platform hosting notes: "…仅提供信息存储空间服务", "…only provides information storage services."
            r"信息存储(?:空间)?服务|information storage services",
        )
    ),
    re.I,
)
check_regexes("html COMMENTS_START", COMMENTS_START)
check_regex("html EDGE_WIDGETS", EDGE_WIDGETS)
