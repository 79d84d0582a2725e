"""Cleaning rules as data: every pattern the cleaner uses, each with the rule name `--explain` shows.

Why data and not code: boilerplate changes per site; adding a site's chrome should be adding a line
here (and a test quoting the real string), not touching the pipeline in `clean.py`.
Every string here was seen in a real file: the seeds (corpus/sample), ../shared/data/text, or
../shared/notes/boilerplate-patterns.md.
"""

from __future__ import annotations

import re

from ..levels import LEVEL_RULES as _LEVEL_RULES
from ..rulecheck import RuleError, check_named_rules, check_regex, compile_table
from ..textnorm import INVISIBLE as _INVISIBLE

CN_NUM = "一二三四五六七八九十百零〇两"

# ---------------------------------------------------------------------------------------------
# Paywall
# ---------------------------------------------------------------------------------------------
# CMS paid-content markers (FastAdmin cms addon): removed wherever they are, text around them kept.
PAYWALL_MARKER = re.compile(r"(?:##|\$\$)(?:paidbegin|paidend|pagebreak)(?:##|\$\$)")
# Inline omission: "……(新文秘网http://www.wm114.cn省略857字,正式会员可完整阅读)……" -> split here.
PAYWALL_OMISSION = re.compile(
    r"\s*[…\.]*\s*[(（]\s*(?P<who>[^()（）]{0,60}?)省略\s*(?P<n>\d+)\s*字[^()（）]{0,40}[)）]\s*[…\.]*\s*"
)
# Truncation tail: "……(未完,全文共5223字,当前仅显示2407字,请阅读下面提示信息。收藏《…》" (also 当前只显示).
PAYWALL_TAIL = re.compile(
    r"\s*[…\.]*\s*[(（]\s*未完(?:[,，]\s*全文共\s*(?P<total>\d+)\s*字)?(?:[,，]\s*当前[仅只]显示\s*(?P<shown>\d+)\s*字)?.*$"
)
# A whole line saying the preview ended: "............试读结束............", "— 试读结束 —", "全文预览已结束".
PAYWALL_END_LINE = re.compile(
    r"^[\s\.…。\-—_=·*]*(?:试读(?:已)?结束|全文预览已结束|预览已结束|免费预览已结束|开通\s*VIP\s*后可阅读全文)"
    r"[^\n]{0,40}$"
)
CLAIMED_LENGTH = re.compile(r"全文共\s*(\d+)\s*字")

# ---------------------------------------------------------------------------------------------
# Markup left in text
# ---------------------------------------------------------------------------------------------
# Invisible and formatting characters (corpus/textnorm.py): removed from text and titles.
INVISIBLE = _INVISIBLE
HTML_BREAK_TAG = re.compile(r"<\s*(?:br|/p|p|/div|div|/li|li|/h\d|h\d)(?:\s[^<>]*)?/?\s*>", re.I)
HTML_INLINE_TAG = re.compile(r"</?\s*(?:strong|b|i|em|span|font|u|a|sup|sub|img|small|big)(?:\s[^<>]*)?/?\s*>", re.I)
HTML_COMMENT = re.compile(r"<!--.*?-->", re.S)
HTML_ENTITY = re.compile(r"&(?:[a-zA-Z]{2,8}|#\d{2,6}|#x[0-9a-fA-F]{2,5});")
MARKDOWN_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")
MARKDOWN_LINK_ONLY = re.compile(r"^\[(?P<label>[^\]]{0,20})\]\((?P<url>https?://[^)\s]+)\)$")
FRONT_MATTER_DELIM = "---"
# Discuz 干扰码 (anti-scrape jammer): runs of 1-2 char ASCII tokens, "/ G- k; W% a% |( ^# n% J3 ..."
JAMMER_TOKEN = r"[!-~]{1,2}"
JAMMER_LINE = re.compile(rf"^(?:{JAMMER_TOKEN}\s){{5,}}{JAMMER_TOKEN}?\s*$")
JAMMER_PREFIX = re.compile(rf"^((?:{JAMMER_TOKEN}\s){{4,}}{JAMMER_TOKEN}?)(?=[\u4e00-\u9fff“《（])")
JAMMER_PUNCT = re.compile(r"[!-/:-@\[-`{-~]")

# ---------------------------------------------------------------------------------------------
# Whole-line rules: (rule name, pattern). Applied only to lines up to LINE_RULE_MAX_LEN chars:
# chrome is short, and long lines are body text (this also keeps the cleaner fast).
# ---------------------------------------------------------------------------------------------
LINE_RULE_MAX_LEN = 320

LINE_RULES: list[tuple[str, str]] = [
    ("markup.hr", r"^[-*_=]{3,}$"),
    # site chrome
    ("chrome.breadcrumb", r"^(?:您的位置|您当前的位置|当前位置|你的位置|所在位置)\s*[:：]"),
    ("chrome.breadcrumb", r"^首页\s*(?:>|>>|/)"),
    ("chrome.search", r"^(?:文章搜索|搜索资料\s*全部分类\s*搜索教程|站内搜索)$"),
    ("chrome.back_to_top", r"^(?:返回顶部|回到顶部|TOP)$"),
    ("chrome.counter", r"^[(（]\d{1,6}[)）]$"),
    ("chrome.tools", r"^(?:分享到[:：]?|【?字体[:：]?\s*】?|打印本页|打印|关闭|收藏|已收藏|朗读|分享|×|收听本文|00:00/00:00|点击观看视频|正文复制|\[复制链接\]|pdf下载|word下载|合集下载|资源描述|文档简介|下载本文档)$"),
    ("chrome.tools", r"^(?:打印\s*[|丨]\s*关闭|字号\s*[:：].{0,30}|【字体[:：].{0,20}|返回\s*下载\s*相关\s*举报|点击查看更多>>)$"),
    ("chrome.tools", r"^扫一扫在手机(?:上)?打开当前页(?:面)?$|^微信扫一扫$|^欢迎使用手机浏览$"),
    ("chrome.footer", r"^(?:主办单位|主办|运行维护单位|版权所有|网站标识码|网站申明|违法和不良信息举报电话)\s*[:：]"),
    ("chrome.footer", r"(?:ICP备\d+号|公网安备\d+号|版权所有\s*$|©.{0,30}版权所有|Produced By 大汉网络)"),
    ("chrome.footer", r"^(?:关于我们|联系我们|网站地图|有奖调查|官方微博|官方微信|CNZZ|国务院客户端|中国政府网微博、微信|安全隐私.{0,40}网站地图)$"),
    ("chrome.footer", r"提示[:：]使用大于\d+\*\d+分辨率|本网站发布的所有信息均不收取任何费用"),
    ("chrome.nav", r"^(?:共产党员网首页|手机版|组工软件下载|用户中心|我的投稿|我的问答|我的自测|我的留言|延伸阅读|相关稿件|吉林省政府信息公开专栏|政府信息公开基础平台|政策原文)$"),
    ("chrome.source_line", r"^(?:时间|发布时间|发布日期|来源)\s*[:：].{0,60}(?:来源|浏览次数|信息来源|打印|编辑)\s*[:：]?.{0,60}$"),
    ("chrome.source_line", r"^来源\s*[:：].{0,40}(?:作者|编辑)\s*[:：].{0,20}$"),
    ("chrome.doc_info", r"^上传人[:：].{0,80}文档编号|^第\d+页\s*/\s*共\d+页$|由会员分享,可在线阅读"),
    ("chrome.forum", r"^发表于\s*\d{4}-\d{1,2}-\d{1,2}.{0,80}(?:楼层|阅读模式)"),
    ("chrome.site_line", r"^(?:酷乐文行|新文秘网|快文网|如来写作网)$"),
    ("chrome.site_line", r"^如来写作网\s*\S*\s*[(（]可搜索其他更多资料[)）]$"),
    # previous / next article (their dates are not the document's date)
    ("nav.prev_next", r"^(?:上一篇|下一篇|上一主题|下一主题|上一条|下一条)\s*[:：]?"),
    # ads: QQ / WeChat / 客服
    # (ads are short lines: the pattern must start within the first 40 characters)
    ("ads.qq", r"^.{0,40}(?:(?:QQ|qq)\s*[:：]?\s*\d{5,}|(?:免费)?QQ群|会员群\s*[:：])"),
    ("ads.wechat", r"^.{0,40}(?:(?:加|添加)(?:客服)?微信\s*[:：]?\s*[\dA-Za-z]|客服微信\s*[:：]?\s*\d|扫码关注|扫码添加|立即扫码|"
                   r"微信咨询$|客服代找资料|私发想要资料|快速代查找|关注公众号|微信公众号\s*[:：])"),
    # subscription blurbs (酷乐文行 header block)
    ("ads.subscription", r"仅供学习\s*禁止外传|现在订阅立享|自建平台、实时分享|根据实际需求和形式任务不断迭代|打击倒卖活动|举报倒卖会员资料|开通会员|加入书架继续阅读|购买本书|正式会员可完整阅读"),
    # copyright / disclaimer footers
    ("footer.disclaimer", r"本文内容由互联网用户自发贡献|免责声明[:：]|版权说明[:：]|如遇侵权请及时联系本站删除|不代表本网观点|如若转载[,，]?\s*请注明出处"),
    # related-article headers (items handled by the related-list block rule)
    ("related.header", r"^(?:更多相关文章|相关推荐|相关文章|相关栏目|相关阅读|相关链接|猜你喜欢|热门推荐|推荐阅读)\s*(?:[:：].{0,80})?$"),
]

check_named_rules("cleaning LINE_RULES", LINE_RULES)  # before they are joined: a bad one is named
LINE_RULE_RE = re.compile("|".join(f"(?P<r{i}>{pat})" for i, (_, pat) in enumerate(LINE_RULES)))
LINE_RULE_NAMES = {f"r{i}": name for i, (name, _) in enumerate(LINE_RULES)}

RELATED_HEADER_RULE = "related.header"
# items of a related-article list: "  • 在全市防汛工作推进会议上的讲话"
RELATED_ITEM = re.compile(r"^[•·●◆▪■□○◇►▶\-\*]\s*(?P<item>.*)$")
SENTENCE_END = re.compile(r"[。！？!?；;]")

# ---------------------------------------------------------------------------------------------
# Metadata in boilerplate
# ---------------------------------------------------------------------------------------------
SOURCE_URL = re.compile(r"(?:如若转载[,，]?\s*请注明出处|原文链接|本文链接|原文地址|文章来源)\s*[:：]\s*(?P<url>https?://\S+)")
URL_LINE = re.compile(r"^(?P<url>https?://[!-~]+?)[；;。，,]?$")
URL_LINE_MAX_POS = 8  # a bare URL line is the page's address only in the header
TITLE_PREFIX = re.compile(r"^(?:标题|文章标题|题目)\s*[:：]\s*(?P<title>.+)$")
DATE_LINE = re.compile(
    r"^(?:发表时间|发布时间|发布日期|更新时间|时间|日期|发文日期|成文日期)\s*[:：]\s*"
    r"(?P<y>\d{4})\s*[-/年.]\s*(?P<m>\d{1,2})\s*[-/月.]\s*(?P<d>\d{1,2})\s*日?(?:\s*\d{1,2}:\d{2}(?::\d{2})?)?\s*$"
)
DATETIME_LINE = re.compile(r"^(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?$")
# a line that is only a date in brackets: "（2023年1月4日）", "(2020年9月4日，北京)"
DATE_PAREN_LINE = re.compile(r"^[(（](?P<y>\d{4})年(?P<m>\d{1,2})月(?P<d>\d{1,2})日(?:[,，\u3000 ][^)）]{1,12})?[)）]$")
# "2014年11月24日 中华人民共和国国务院令第656号公布" at the head of a law
PROMULGATION_LINE = re.compile(
    r"^(?P<y>\d{4})年(?P<m>\d{1,2})月(?P<d>\d{1,2})日.{0,60}(?:公布|发布|通过|施行|印发)(?:[;；，,。].{0,80})?$"
)
CN_DATE = re.compile(r"(?P<y>(?:19|20)\d{2})年(?P<m>\d{1,2})月(?P<d>\d{1,2})日")
MD_TITLE_DATE = re.compile(r"[(（](?P<y>(?:19|20)\d{2})(?P<m>\d{2})(?P<d>\d{2})[)）]")
TITLE_YEAR = re.compile(r"^(?P<y>(?:19|20)\d{2})年")
PEOPLES_DAILY_TAIL = re.compile(r"《\s*人民日报\s*》\s*[(（]\s*(?P<y>\d{4})年(?P<m>\d{1,2})月(?P<d>\d{1,2})日\s*\d*\s*版\s*[)）]\s*$")

SITES: list[tuple[str, str]] = [
    (r"wm114\.cn|新文秘网", "新文秘网"),
    (r"fanwy\.cn|快文网", "快文网"),
    (r"rulaiwenku\.com|rulaixiezuo\.com|如来写作网", "如来写作网"),
    (r"酷乐文行", "酷乐文行"),
    (r"12371\.cn|共产党员网", "共产党员网"),
    (r"www\.news\.cn|xinhuanet\.com", "新华网"),
    (r"jhsjk\.people\.cn", "人民网"),
    (r"央视网消息|tv\.cctv\.com", "央视网"),
    (r"中文维基文库|wikisource\.org|本作品.{0,40}(?:不适用于该法|属于)", "维基文库"),
    (r"www\.gov\.cn|中国政府网", "中国政府网"),
]
SITE_RES = compile_table("cleaning SITES", SITES)

# ---------------------------------------------------------------------------------------------
# News: photo captions, datelines, wire tails
# ---------------------------------------------------------------------------------------------
PARA_SEPARATOR = re.compile(r"[\u3000\u2003]{2,}")
# caption ends with the photographer credit: "…新年贺词。新华社记者 燕雁 摄"
PHOTO_CAPTION = re.compile(r"^(?P<cap>.{0,300}?(?:新华社|人民日报|中新社)?记者\s*[\u4e00-\u9fff·、\s]{2,20}?\s*/?\s*摄)(?=$|[\u4e00-\u9fff“（])")
PHOTO_CAPTION_ALT = re.compile(r"^(?P<cap>.{0,300}?[(（](?:新华社|人民日报)?(?:记者|发)?\s*[\u4e00-\u9fff·、\s]{2,20}摄[)）])")
DATELINE = re.compile(
    r"^(?:新华社|人民日报|中新社|央视网)[\u4e00-\u9fff]{0,10}?\d{1,2}月\d{1,2}日[电讯](?:[(（]记者[^)）]{0,30}[)）])?[\u3000 ]?"
)
WIRE_TAIL = re.compile(r"[(（]\s*(?:据)?新华社[\u4e00-\u9fff]{1,10}\d{1,2}月\d{1,2}日电[^)）]{0,80}[)）]")
CCTV_LEAD = re.compile(r"^央视网消息\s*[(（]新闻联播[)）]\s*[:：]\s*")
NEWS_ITEM_LINK_LABEL = "查看原文"
NEWS_DETAIL_HEADING = re.compile(r"^详细新闻$")
NEWS_SUMMARY_HEADING = re.compile(r"^新闻摘要$")
# speech header glued at the start of jhsjk / news.cn bodies:
# "在全国政协新年茶话会上的讲话（2025年12月31日）习近平"
SPEECH_HEADER = re.compile(
    r"^(?P<title>[^。！？：:]{4,120}?)?[(（](?P<y>\d{4})年(?P<m>\d{1,2})月(?P<d>\d{1,2})日(?:[,，\u3000 ][^)）]{1,12})?[)）]"
    r"(?:(?:中共中央总书记、)?(?P<role>中华人民共和国主席|中华人民共和国国务院总理|国家主席|国务院总理))?[\u3000 ]?"
)
# "中共中央总书记、中华人民共和国主席　习近平" opening a speech (no date)
ROLE_SPEAKER = re.compile(
    r"^(?:中共中央总书记、)?(?:中华人民共和国主席|国家主席|中华人民共和国国务院总理|国务院总理)[\u3000 ]?"
)
SALUTATION_START = re.compile(r"^(?:同志们|同胞们|各位|尊敬的|女士们|朋友们|大家好|亲爱的|主席先生|大会主席)")
KNOWN_SPEAKERS = ["习近平", "李强", "李克强", "温家宝", "胡锦涛", "江泽民", "朱镕基", "李鹏", "赵乐际", "王沪宁",
                  "蔡奇", "丁薛祥", "李希", "韩正", "栗战书", "汪洋"]
# "——2024年3月5日在第十四届全国人民代表大会第二次会议上" under a report's title
SUBTITLE_DATE_MEETING = re.compile(
    r"^(?:[—\-]{1,2}\s*)?(?P<y>\d{4})年(?P<m>\d{1,2})月(?P<d>\d{1,2})日\s*在(?P<meeting>.{4,60}?)(?:上|中)(?:的[\u4e00-\u9fff]{1,6})?$"
)
# "国务院总理" then "李　强" on the next line
ROLE_LINE = re.compile(
    r"^(?:国务院总理|国务院副总理|中华人民共和国主席|国家主席|中共中央总书记|全国人民代表大会常务委员会委员长)[\u3000 ]*"
    r"(?P<name>[\u4e00-\u9fff](?:[\u3000 ]?[\u4e00-\u9fff]){1,3})?$"
)
# a spaced name alone under a title: "习　近　平"
SPACED_NAME_LINE = re.compile(r"^(?!摘\s*要|目\s*录|前\s*言|附\s*[件则录]|总\s*则|说\s*明|序\s*言)[\u4e00-\u9fff](?:\u3000[\u4e00-\u9fff]){1,3}$")
NAME_LINE = re.compile(r"^[\u4e00-\u9fff](?:[\u3000 ]?[\u4e00-\u9fff]){1,3}$")
SPEAKER_PREFIX = re.compile(r"^(?P<speaker>[\u4e00-\u9fff]{2,4})[：:](?P<rest>在.+)$")

# ---------------------------------------------------------------------------------------------
# Wikisource
# ---------------------------------------------------------------------------------------------
WIKISOURCE_END = re.compile(r"^(?:Public domain|false)$")
WIKISOURCE_LICENCE_START = re.compile(r"^(?:本作品|这部作品|這部作品|本模板)")
WIKISOURCE_FOOTNOTE_MARK = "↑"
# a line that continues the previous one (link text was split onto its own line)
CONTINUATION_START = re.compile(r"^[。，、；：）》」』”！？,.;:)]")
NON_TERMINAL_END = re.compile(r"[^。！？：；”」』\)）!?]$")

# ---------------------------------------------------------------------------------------------
# Tables of contents
# ---------------------------------------------------------------------------------------------
TOC_START = re.compile(r"^(?:目录|目\s*录|提纲|目录/提纲|内容提要|本文目录)\s*[:：]?\s*[…\.]*\s*$")
TOC_END = re.compile(r"^[…\.]{1,12}$")
NUMBERED_ITEM = re.compile(r"^(?P<n>\d{1,2})\s*[\.．、]\s*(?P<text>\S.{1,60})$")

# ---------------------------------------------------------------------------------------------
# Compilations (汇编)
# ---------------------------------------------------------------------------------------------
COMPILATION_TITLE = re.compile(r"汇编|精选\s*\d+\s*篇|[(（]\s*\d+\s*篇\s*[)）]|\d+篇$|合集|范文\s*\d+\s*篇")
COMPILATION_COUNT_LINE = re.compile(r"^[(（]\s*(?:精选)?\s*\d+\s*篇\s*[)）]$")
PIECE_MARKER = re.compile(r"^篇\s*(?P<n>\d{1,2})\s*[:：]\s*(?P<title>.*)$")
UNIT_LINE = re.compile(
    r"^(?:[\u4e00-\u9fffxX×*＊]{1,14}?)(?:区|县|市|省|州|旗|盟|镇|乡|街道|局|委|办|厅|处|署|院|校|部|中心|公司|集团|"
    r"经开区|高新区|开发区|新区|管委会|党委|党组|支部|委员会|分公司)$"
)

# ---------------------------------------------------------------------------------------------
# Outline (提纲) headings: (pattern, level). First match wins.
# ---------------------------------------------------------------------------------------------
HEADING_PATTERNS: list[tuple[re.Pattern, int]] = [
    (re.compile(rf"^第[{CN_NUM}\d]+(?:编)\s*\S*"), 1),
    (re.compile(rf"^第[{CN_NUM}\d]+(?:章|部分)(?:\s|　|$|[\u4e00-\u9fff])"), 1),
    (re.compile(rf"^第[{CN_NUM}\d]+节(?:\s|　|$|[\u4e00-\u9fff])"), 2),
    (re.compile(rf"^[{CN_NUM}]+\s*[、，,．.](?!是)"), 1),
    (re.compile(rf"^[(（]\s*[{CN_NUM}]+\s*[)）]"), 2),
    (re.compile(r"^\d{1,2}\s*[\.．、](?!\d)"), 3),
    (re.compile(r"^[(（]\s*\d{1,2}\s*[)）]"), 4),
    (re.compile(r"^[①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳]"), 5),
]
# 第一条 of a law: an article, kept as body text (its number stays in the text)
LAW_ARTICLE = re.compile(rf"^第[{CN_NUM}\d]+条(?:之[{CN_NUM}]+)?[\s　]")
# "一是…" opens an enumerated body paragraph, never a heading
ENUM_BODY = re.compile(rf"^[{CN_NUM}]是")
HEADING_MAX_LEN = 50  # a heading line longer than this is body text (or a heading sentence + body)
LEAD_SENTENCE = re.compile(r"^(?P<lead>[^。！？!?]{2,45}?[。！？!?])(?P<rest>.{10,})$")
SHORT_HEADING_MAX_LEN = 20
SHORT_HEADING_BAD = re.compile(r"[。，,；;！!？?：:、“”\"]|^[(（\[【《]|\d{4}")

# ---------------------------------------------------------------------------------------------
# Document metadata from the title
# ---------------------------------------------------------------------------------------------
# doc_type: the keyword appearing LAST in the title wins (the head noun of a Chinese title is at its end)
DOC_TYPES: list[tuple[str, str]] = [
    (r"讲话稿|讲话|演讲|主旨演讲|报告会上的", "讲话"),
    (r"发言稿|发言|交流材料|表态", "发言"),
    (r"致辞|致词|祝酒辞|贺辞", "致辞"),
    (r"贺词", "贺词"),
    (r"贺信|回信|书信|贺电", "书信"),
    (r"主持词", "主持词"),
    (r"调研报告|调查报告", "调研报告"),
    (r"工作报告", "工作报告"),
    (r"汇报", "汇报"),
    (r"意见|Opinions?\b", "意见"),
    (r"通知|Notice\b|Circular\b", "通知"),
    (r"规划|Plan\b", "规划"),
    (r"决议|决定", "决议"),
    (r"条例|规定|办法|细则|法$|章程|Regulations?\b|Provisions\b|Measures\b|Rules\b", "法规"),
    (r"新闻联播", "新闻"),
]
DOC_TYPE_RES = compile_table("cleaning DOC_TYPES", DOC_TYPES)
MEETING_RES = [
    # 在全市重点项目建设推进会议上的讲话 -> 全市重点项目建设推进会议
    re.compile(r"在(?P<m>.{2,60}?(?:会议|会|论坛|峰会|典礼|仪式|大会|座谈|学习|活动|开幕式|闭幕式|集会|茶话会)).{0,4}?(?:上|中|时)的"),
    # news of a speech: 习近平在中央经济工作会议上强调 / 李强在…开幕式上致辞 -> 中央经济工作会议
    re.compile(r"在(?P<m>[^在，。：:“”\s]{2,60}?(?:会议|会|论坛|峰会|典礼|仪式|大会|座谈会|开幕式|闭幕式|茶话会))(?:上|中)"
               r"(?:强调|指出|发表|讲话|致辞|表示|作|宣布|主持)"),
    # 在全市一季度重点项目建设现场推进会发言汇编
    re.compile(r"^在?(?P<m>.{2,60}?(?:会议|会|论坛|峰会|座谈会|大会))(?:上的)?(?:讲话|发言|致辞|交流发言|主持词)"),
]

# ---------------------------------------------------------------------------------------------
# Re-flow of hard-wrapped text (text copied from PDFs breaks lines inside sentences:
# "…提供传统服务和保障的能" / "力。"). Used by reflow.py; every join is recorded for --explain.
# ---------------------------------------------------------------------------------------------
# A line ends its paragraph when it ends with one of these (closing quotes/brackets after them allowed).
PARA_END = re.compile(r"[。！？!?；;：:…][”’」』》）)\]】]*$")
# A document is hard-wrapped at width W (display columns: a Han character is 2) when at least
# REFLOW_MIN_LINES lines of at least REFLOW_MIN_WIDTH columns end within REFLOW_SLACK columns short of
# W without closing their sentence, and they are at least REFLOW_MIN_SHARE of such prose lines.
REFLOW_MIN_WIDTH = 24
REFLOW_MIN_LINES = 5
REFLOW_MIN_SHARE = 0.25
REFLOW_SLACK = 6  # a first-line indent (2 Han characters) plus justification slack
# The next line starts something of its own: never joined onto the previous line.
# (outline headings are checked with outline.heading_level as well)
REFLOW_NEVER_JOIN_NEXT = re.compile(
    r"^(?:[•·●◆▪■□○◇►▶※★☆\-\*—]|第[一二三四五六七八九十百零〇两\d]+[条章节编部分]|附\s*件|附\s*[表图录]|注[:：]|"
    r"(?:19|20)\d{2}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日\s*$|同志们|各位|尊敬的|女士们|朋友们)"
)
# punctuation inside a sentence: an outline-numbered line without any is a heading, not wrapped prose
SENTENCE_MARK = re.compile(r"[，,。；;：:、！？!?]")
# An orphan: a short line that closes the sentence the previous line left open ("力。", "设。", "市融资。").
ORPHAN_MAX_LEN = 6
ORPHAN_PREV_MIN_LEN = 10
# A lead-in left alone on its line ("最后，", "同时，") continues on the next line.
LEAD_IN = re.compile(r"^[\u4e00-\u9fff]{1,4}[，,]$")
# The previous line must end inside a sentence: a Han character, a digit/letter, or a comma-like mark.
OPEN_END = re.compile(r"[\u4e00-\u9fff0-9A-Za-z，,、“‘（(《〈]$")
# Page numbers a PDF copy leaves between two halves of a sentence: "10", "— 10 —", "- 3 -", "第3页".
PAGE_NUMBER_LINE = re.compile(r"^\d{1,3}$")
PAGE_NUMBER_DECORATED = re.compile(r"^(?:[-—–－]\s*\d{1,3}\s*[-—–－]|第\s*\d{1,3}\s*页(?:\s*[/／共]\s*\d{1,3}\s*页?)?)$")
# Text set vertically, one Han character per line ("项" / "目" / "简" / "介"): one word.
VERTICAL_CHAR = re.compile(r"^[\u4e00-\u9fff]$")

# ---------------------------------------------------------------------------------------------
# Tables flattened to one cell per line (pkulaw, PDF and Word copies). Used by tables.py.
# ---------------------------------------------------------------------------------------------
TABLE_CELL_MAX_LEN = 30  # a cell is short...
TABLE_CELL_BAD_END = re.compile(r"[。！？!?；;，,、]$")  # ...and not a sentence or a clause ("尊敬的各位议长，")
TABLE_LABEL_MAX_LEN = 8  # a cell may end with "：" (a form label: "申报单位：") when it is this short
TABLE_MIN_CELLS = 6  # a run of at least this many cells is a table
TABLE_MIN_SHORT_CELLS = 3  # ...of which this many are very short (at most TABLE_SHORT_CELL_LEN)
TABLE_SHORT_CELL_LEN = 12
TABLE_MAX_BRIDGE = 2  # long cells (a description column) allowed in a row between short ones
TABLE_ROW_NUMBER = re.compile(r"^\d{1,4}$")  # a 序号 column cell
TABLE_ROW_MAX_CHARS = 160  # a table without row numbers is cut into rows of about this size
TABLE_SEPARATOR = " | "
# a row of a table given as cells separated by tabs (Word/HTML table rows, TSV copies)
TABLE_TAB = "\t"
# A label alone on its line, continued by the title on the next: "附件2" / "智能制造典型场景参考指引",
# "3.3" / "智慧社区基础数据", "附：" / "资源税税目税率表". Joined (with a space after a number).
LABEL_LINE = re.compile(
    r"^(?:附\s*件\s*\d{0,2}|附\s*[表图录]\s*\d{0,2}|附|[图表]\s*\d{1,2}(?:[-.．]\d{1,2})?|\d{1,2}(?:[.．]\d{1,2}){1,3})\s*[:：]?$"
)
LABEL_TITLE_MAX_LEN = 40
# "续表" (the table goes on over the page): a layout line, never content.
TABLE_CONTINUED = re.compile(r"^续\s*表\s*\d{0,2}$")

# ---------------------------------------------------------------------------------------------
# People and units: speaker (姓名+职务), speaker unit, administrative level. Used by metadata.py on
# the title and the first lines of a document ("xx县委书记张三在全县…会议上的讲话", "县委书记　张三",
# "——在全市…会议上的讲话", "（张三）").
# ---------------------------------------------------------------------------------------------
# the common single-character surnames (they cover the great majority of people) and compound ones
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
    "常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴"
    "霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑"
    "景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝"
    "蔺栗习"
)
# words a name pattern would take for a person: "关于在全市…", "全市在…", "各位…"
NOT_NAMES = frozenset(
    "关于 全市 全县 全区 全省 全国 全镇 全乡 全面 全体 全党 各级 各位 各地 我们 我市 我县 我区 我省 我镇 党委 市委 县委 区委 "
    "省委 政府 同志 今年 明年 去年 上午 下午 会议 大会 中共 中央 国家 高质量 高水平 新时代 新形势 新征程 常态化 "
    "安全 文明 和谐 平安 金融 农村 城市 工业 商务 交通 教育 卫生 宣传 组织 统战 政法 纪检 监察 人大 政协 党建 "
    "时代 明确 成功 连续 华夏".split()
)
COMPOUND_SURNAMES = ("欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文", "司徒",
                     "夏侯", "令狐", "万俟", "端木", "澹台", "呼延")
# a person's name: surname + one or two characters (template placeholders "xxx"/"XXX"/"×××" count too)
PERSON_NAME = (rf"(?:(?:{'|'.join(COMPOUND_SURNAMES)})[\u4e00-\u9fff]{{1,2}}|[{SURNAMES}][\u4e00-\u9fff]{{1,2}}"
               r"|[xX×＊*]{2,3}|[\u4e00-\u9fff][xX×＊*]{1,2})")
# offices, longest first (a title may stack them: "县委副书记、县长")
ROLE_WORDS = (
    "党组书记", "总书记", "副书记", "书记", "常务副省长", "副省长", "省长", "常务副市长", "副市长", "市长", "副县长",
    "县长", "副区长", "区长", "副州长", "州长", "旗长", "副镇长", "镇长", "副乡长", "乡长", "秘书长", "常委",
    "副主任", "主任", "副主席", "主席", "副局长", "局长", "副厅长", "厅长", "副部长", "部长", "副处长", "处长",
    "副院长", "院长", "副校长", "校长", "董事长", "总经理", "副总理", "总理", "委员长", "组长", "社长", "行长",
)
ROLE = rf"(?:{'|'.join(ROLE_WORDS)})"
ROLES = rf"{ROLE}(?:[、，,]?{ROLE}){{0,3}}"
# a government or Party unit: a place (a name, or xx) with its level, then the body
PLACE = (r"(?:(?:(?![在的和与上中及于全各我本该])[\u4e00-\u9fff]){1,8}?|[xX×＊*]{1,3})"
         r"(?:省|自治区|市|自治州|州|盟|县|区|旗|镇|乡|街道)")
BODY = (r"(?:委员会|委|人民政府|政府|人大常委会|人大|政协|纪委监委|纪委|组织部|宣传部|统战部|政法委|办公室|"
        r"[\u4e00-\u9fff]{1,6}?(?:局|厅|委|办|署|中心))")
UNIT = rf"(?:{PLACE}{BODY}?|(?:省|市|县|区|镇|乡){BODY})"
# "xx县委书记张三在…", "县委副书记、县长 张三：", "市长李四同志在…"
TITLE_ROLE_PERSON = re.compile(
    rf"^(?P<unit>{UNIT})?(?P<role>{ROLES})[\s\u3000]*(?P<name>{PERSON_NAME})(?:同志)?(?=在|[：:]|[\s\u3000]|——|$)"
)
# "张三在…上的讲话", "张三同志在…", "张三：在…"; the speech words the title must carry for a bare name
TITLE_PERSON = re.compile(rf"^(?P<name>{PERSON_NAME})(?:同志)?(?:在|[：:]\s*在?)")
SPEECH_TITLE = re.compile(r"讲话|致辞|致词|发言|报告|演讲|贺词|主持词|强调|指出|寄语|讲课|宣讲|动员|总结|部署|"
                          r"致电|致信|复信|回信|贺信|贺电|重要指示|批示|署名文章")
# a byline alone under the title: "县委书记　张三", "（xx区区长　王五）", "张　三"
BYLINE = re.compile(
    rf"^[(（]?(?P<unit>{UNIT})?(?P<role>{ROLES})?[\s\u3000]*(?P<name>{PERSON_NAME})[)）]?$"
)
BYLINE_MAX_LEN = 30
# the date under a signature: "2020年3月15日", "二〇二〇年三月十五日"
SIGNATURE_DATE = re.compile(r"^(?:(?:19|20)\d{2}年\d{1,2}月\d{1,2}日|[〇一二三四五六七八九零]{4}年[一二三四五六七八九十]{1,2}月[一二三四五六七八九十]{1,3}日)$")
# "——在全市…会议上的讲话" (a subtitle without a date)
SUBTITLE_MEETING = re.compile(
    rf"^[—\-]{{1,2}}\s*(?:(?P<name>{PERSON_NAME})(?:同志)?\s*)?在(?P<meeting>.{{3,60}}?)(?:上|中)的[\u4e00-\u9fff]{{1,6}}$")
# a date in brackets in the title: "在全县经济工作会议上的讲话（2023年2月10日）"
TITLE_PAREN_DATE = re.compile(r"[(（](?P<y>(?:19|20)\d{2})年(?P<m>\d{1,2})月(?P<d>\d{1,2})日[)）]")
# the unit named in the title when no person is: "xx县2023年政府工作报告", "中共xx市委关于…"
TITLE_UNIT = re.compile(rf"^(?:中共)?(?P<unit>{PLACE}{BODY}?)(?=\d{{4}}年|关于|在|[\u4e00-\u9fff]{{2,}}(?:会议|大会|报告))")
# the scope of a meeting names the level without the unit: "在全县…会上的讲话"
SCOPE_LEVEL: list[tuple[str, str]] = [
    (r"全省|省委|省政府", "省"), (r"全市|市委|市政府", "市"), (r"全县|县委|县政府", "县"),
    (r"全区|区委|区政府", "区"), (r"全镇|全乡|全街道|镇党委|乡党委", "乡镇"), (r"全国|中央|国务院", "中央"),
]
SCOPE_LEVEL_RES = [(re.compile(p), lvl) for p, lvl in SCOPE_LEVEL]
# the level of a unit (rules in corpus/levels.py, which search loads without the cleaner)
LEVEL_RULES = _LEVEL_RULES


# Checked at import (corpus/rulecheck.py): what the tables above cannot say about themselves.
if RELATED_HEADER_RULE not in LINE_RULE_NAMES.values():
    raise RuleError(f"cleaning RELATED_HEADER_RULE {RELATED_HEADER_RULE!r} is not a rule in LINE_RULES")
for _i, (_rx, _level) in enumerate(HEADING_PATTERNS):
    check_regex(f"cleaning HEADING_PATTERNS[{_i}]", _rx)
    if not isinstance(_level, int) or not 1 <= _level <= 6:
        raise RuleError(f"cleaning HEADING_PATTERNS[{_i}]: level {_level!r} is not 1..6")
for _i, _rx in enumerate(MEETING_RES):
    if "m" not in check_regex(f"cleaning MEETING_RES[{_i}]", _rx).groupindex:
        raise RuleError(f"cleaning MEETING_RES[{_i}]: the pattern has no (?P<m>...) group for the meeting")
