"""One test per cleaning rule family, on small snippets quoting real strings (seeds, data, notes)."""

from __future__ import annotations

from corpus.cleaning import clean_text
from corpus.cleaning.metadata import doc_type_from_title, meeting_from_title, normalize_date

BODY = "今天,我们在这里召开全市重点项目建设推进会议,主要任务是深入分析当前全市重点项目建设的形势,总结前期工作成效。"
BODY2 = "重点项目建设是经济社会发展的“生命线”,是拉动投资增长的“主引擎”,是推动产业升级的“加速器”。"


def _doc(text, **meta):
    r = clean_text(text, meta=meta or None)
    assert len(r.documents) == 1
    return r.documents[0], r


def _texts(doc):
    return [p.text for p in doc.paragraphs]


def _rules(r):
    return [x.rule for x in r.removed]


# --- paywall -------------------------------------------------------------------------------

def test_paywall_markers_removed_text_kept():
    d, r = _doc("标题行\n##paidbegin##5.推进乡村振兴促进城乡融合。后面的正文。\n$$paidbegin$$" + BODY + "##pagebreak##\n##paidend##")
    assert _texts(d) == ["5.推进乡村振兴促进城乡融合。后面的正文。", BODY]
    assert _rules(r).count("paywall.marker") == 4
    assert not d.truncated


def test_paywall_inline_omission_splits_paragraph():
    text = "在全市会议上的讲话\n有效推动了我市产业结构的优化升级 ……(快文网http://www.fanwy.cn省略1427字,正式会员可完整阅读)…… 年上半年可投入运营。"
    d, r = _doc(text)
    assert _texts(d) == ["有效推动了我市产业结构的优化升级", "年上半年可投入运营。"]
    assert [p.omitted_before for p in d.paragraphs] == [None, 1427]
    assert ("paywall.omission" in _rules(r))


def test_paywall_tail_sets_truncated_and_claimed_length():
    text = ("在全市重点项目建设推进会议上的讲话\n" + BODY + "\n设立重 ……(未完,全文共7705字,当前只显示3710字,请阅读下面提示信息。收藏在全市重点项目建设推进会议上的讲话\n"
            "    上一篇:在全县订单农业助推乡村振兴会议上的讲话\n    相关栏目:建筑\xa0电信\xa0会议致辞")
    d, r = _doc(text)
    assert d.truncated and d.claimed_length == 7705
    assert _texts(d) == [BODY, "设立重"]
    assert "paywall.tail" in _rules(r) and "nav.prev_next" in _rules(r) and "related.header" in _rules(r)
    d2, _ = _doc(text.replace("当前只显示", "当前仅显示"))
    assert d2.claimed_length == 7705


def test_paywall_trial_end_variants():
    for marker in ["............试读结束............", "— 试读结束 —", "试读已结束", "试读结束，开通 VIP 后可阅读全文。"]:
        d, r = _doc(f"讲话标题\n{BODY}\n{marker}\n查阅全文加微信3231169\n一段看似正文的广告文字,不应保留。")
        assert d.truncated, marker
        assert _texts(d) == [BODY], marker
        assert "paywall.tail" in _rules(r)


# --- site chrome ---------------------------------------------------------------------------

def test_chrome_breadcrumb_and_published_date():
    d, r = _doc("您的位置:新文秘网>>建筑/县域/科学发展/调研报告/会议致辞/会议主持/会议发言/>>正文\n\n"
                "在全市开展“百千万工程”促进城乡区域协调发展调研工作会议上的讲话\n\n发表时间:2025/7/24 14:59:10\n" + BODY)
    assert d.title == "在全市开展“百千万工程”促进城乡区域协调发展调研工作会议上的讲话"
    assert d.date == "2025-07-24" and d.site == "新文秘网"
    assert _texts(d) == [BODY]
    assert _rules(r) == ["chrome.breadcrumb", "meta.date"]


def test_title_prefix_and_repeated_title():
    d, r = _doc("标题:在全市重点项目建设推进会议上的讲话\n在全市重点项目建设推进会议上的讲话\n\n同志们:\n" + BODY)
    assert d.title == "在全市重点项目建设推进会议上的讲话"
    assert _texts(d) == ["同志们:", BODY]
    assert set(_rules(r)) == {"title.prefix", "title.repeat"}


def test_related_list_removed_but_text_after_it_kept():
    text = ("在全市重点项目建设推进会议上的讲话\n" + BODY + "\n\xa0\xa0更多相关文章:在全市重点项目建设推进会议上\n"
            "  • 在全市康复医疗事业发展推进会议上的讲话\n\n  • 在全市防汛工作推进会议上的讲话\n\n"
            "  • 年上半年可投入运营。该项目建成后,将成为华北地区重要的云计算中心。\n\n    " + BODY2)
    d, r = _doc(text)
    assert _texts(d) == [BODY, "年上半年可投入运营。该项目建成后,将成为华北地区重要的云计算中心。", BODY2]
    assert _rules(r).count("related.list") == 2
    assert "related.header" in _rules(r) and "related.bullet" in _rules(r)


def test_prev_next_dates_are_not_the_document_date():
    d, r = _doc("讲话标题\n" + BODY + "\n(0)\n上一篇 2023年1月4日\n下一篇 2023年1月4日\n返回顶部")
    assert d.date is None
    assert _rules(r) == ["chrome.counter", "nav.prev_next", "nav.prev_next", "chrome.back_to_top"]


def test_ads_qq_wechat_subscription():
    text = ("仅供学习 禁止外传\n酷乐文行\n自建平台、实时分享\n现在订阅立享前3年的所有权益和资料 \n\n【打击倒卖活动】\n"
            "举报倒卖会员资料的人，举报成功免费赠送一年会员材料！\n会员群：                      免费QQ群：         \n"
            "全区项目建设年推进会讲话\n酷乐文行整理，咨询QQ206157060\n同志们：\n" + BODY + "\n扫码关注\n加客服微信:3231169\n微信咨询")
    d, r = _doc(text)
    assert d.title == "全区项目建设年推进会讲话" and d.site == "酷乐文行"
    assert _texts(d) == ["同志们：", BODY]
    rules = _rules(r)
    assert rules.count("ads.subscription") == 5 and rules.count("ads.qq") == 2 and rules.count("ads.wechat") == 3


def test_disclaimer_footer_gives_url():
    d, r = _doc("讲话标题\n" + BODY + "\n本文内容由互联网用户自发贡献,该文观点仅代表作者本人。本站仅提供信息存储空间服务。\n"
                "如若转载,请注明出处:https://www.rulaiwenku.com/295968.html")
    assert d.url == "https://www.rulaiwenku.com/295968.html" and d.site == "如来写作网"
    assert _texts(d) == [BODY]
    assert _rules(r) == ["footer.disclaimer", "footer.disclaimer"]


def test_gov_site_chrome_lines():
    lines = ["扫一扫在手机打开当前页", "主办单位：国务院办公厅　运行维护单位：中国政府网运行中心", "京ICP备05070218号",
             "打印 | 关闭", "时间： 2019-09-18 06:23 来源： 山西日报 打印 字体： 放大 正常 缩小 分享", "分享到：", "打印本页"]
    d, r = _doc("关于做好工作的通知\n" + BODY + "\n" + "\n".join(lines))
    assert _texts(d) == [BODY]
    assert len(r.removed) == len(lines) and all(x.rule.startswith("chrome.") for x in r.removed)


# --- markup --------------------------------------------------------------------------------

def test_html_tags_and_entities():
    d, r = _doc("# 《新闻联播》 (20240101)\n\n<p><strong>央视网消息</strong>（新闻联播）：1月1日，习近平同志强调&ldquo;中朝友好&rdquo;。<br></p><p>第二段文字。</p>")
    assert _texts(d) == ["1月1日，习近平同志强调“中朝友好”。", "第二段文字。"]
    assert d.date == "2024-01-01"
    assert "markup.html" in _rules(r) and "news.cctv_lead" in _rules(r)


def test_discuz_jammer_codes():
    d, r = _doc("讲话标题\n/ G- k; W% a% |( ^# n% J3 n I/ @ 9 |8 L9 l j8 \\ P- t7 ^3 X4 ~\n"
                "2 O; C) B# m) l8 m3 Y\" \\9 N: o在各级机关工作中要坚持实事求是。")
    assert _texts(d) == ["在各级机关工作中要坚持实事求是。"]
    assert _rules(r) == ["jammer.line", "jammer.prefix"]


# --- news ----------------------------------------------------------------------------------

def test_newscn_caption_and_dateline_split_off():
    text = ("国家主席习近平发表二〇二六年新年贺词\n2025-12-31 19:35:10\nhttps://www.news.cn/politics/leaders/20251231/x/c.html\n\n"
            "\u2003\u2003新年前夕，国家主席习近平通过中央广播电视总台和互联网，发表二〇二六年新年贺词。新华社记者 燕雁 摄"
            "\u2003\u2003新华社北京12月31日电\u3000新年前夕，国家主席习近平发表了二〇二六年新年贺词。全文如下：\u2003\u2003大家好！岁序更替，华章日新。")
    d, r = _doc(text)
    assert _texts(d) == ["新年前夕，国家主席习近平发表了二〇二六年新年贺词。全文如下：", "大家好！岁序更替，华章日新。"]
    assert d.date == "2025-12-31" and d.site == "新华网" and d.doc_type == "贺词" and d.speaker == "习近平"
    assert {"news.caption", "news.dateline", "meta.date", "meta.url"} <= set(_rules(r))


def test_speech_header_and_wire_tail():
    text = ("在全国劳动模范和先进工作者表彰大会上的讲话（2020年11月24日）习近平同志们：今天，我们隆重召开大会。"
            "\u3000\u3000谢谢大家。\u3000\u3000（新华社北京11月24日电）\u3000\u3000《 人民日报 》（ 2020年11月25日 02 版）")
    d, r = _doc(text)
    assert d.title == "在全国劳动模范和先进工作者表彰大会上的讲话"
    assert d.date == "2020-11-24" and d.speaker == "习近平" and d.doc_type == "讲话"
    assert _texts(d) == ["同志们：今天，我们隆重召开大会。", "谢谢大家。"]
    assert {"news.speech_header", "news.wire_tail", "news.source_tail"} <= set(_rules(r))


# --- wikisource ----------------------------------------------------------------------------

def test_wikisource_footer_and_link_fragments():
    text = ("第十四届全国人民代表大会第三次会议关于政府工作报告的决议\n\n第十四届全国人民代表大会第三次会议听取和审议了国务院总理李强所作的\n"
            "政府工作报告\n。会议充分肯定国务院过去一年的工作。\n\n\n本作品是中华人民共和国的\n法律\n、\n法规\n，国家机关的决议…属于\n公有领域\n。\n\n"
            "注：中文维基文库社群认为，中华人民共和国公务演讲，\n不总是\n具有立法、行政、司法性质的文件。\n\nPublic domain\nPublic domain\nfalse\nfalse\n")
    d, r = _doc(text)
    assert _texts(d) == ["第十四届全国人民代表大会第三次会议听取和审议了国务院总理李强所作的政府工作报告。会议充分肯定国务院过去一年的工作。"]
    assert d.doc_type == "决议" and d.site == "维基文库"
    assert set(_rules(r)) == {"footer.wikisource"}


# --- table of contents and compilations ------------------------------------------------------

def test_toc_block_is_not_body():
    text = ("在全市调研工作会议上的讲话\n发表时间:2025/7/24 14:59:10\n目录/提纲:……\n一、深刻认识战略意义\n(一)贯彻中央精神的政治担当\n"
            "一是部门协同联动:各部门要树立“一盘棋”思想\n……\n在全市调研工作会议上的讲话\n\n尊敬的各位领导、同志们:\n一、深刻认识战略意义\n" + BODY)
    d, r = _doc(text)
    assert _texts(d) == ["尊敬的各位领导、同志们:", "一、深刻认识战略意义", BODY]
    assert _rules(r).count("toc") == 5


def test_compilation_with_piece_markers():
    text = ("领导干部讲话稿(精选3篇)\n篇1:在全县工作会议上的讲话\n" + BODY + "\n篇2:在全市推进会上的发言\nxx县\n" + BODY2 +
            "\n篇3:\n在全区总结会上的讲话\n同志们：\n" + BODY)
    r = clean_text(text)
    assert [d.title for d in r.documents] == ["在全县工作会议上的讲话", "在全市推进会上的发言", "在全区总结会上的讲话"]
    assert [d.unit for d in r.documents] == [None, "xx县", None]
    assert [d.doc_type for d in r.documents] == ["讲话", "发言", "讲话"]
    assert [d.meeting for d in r.documents] == ["全县工作会议", "全市推进会", "全区总结会"]
    assert [p.text for p in r.documents[2].paragraphs] == ["同志们：", BODY]


# --- outline -------------------------------------------------------------------------------

def test_outline_levels_sections_and_enumerations():
    text = ("在全市会议上的讲话\n同志们：\n一、提高政治站位\n（一）聚焦双招双引，推进实体经济提质增效。XX市提出把双招双引作为一号工程、头等大事来抓，"
            "这是扩大经济增量、调整产业结构的最有效途径，必须创新思路，持续用力。\n1.坚定招引方向\n（1）做强主导产业\n"
            "一是坚定招引方向。今年，市里实行产业布局市级统筹，要求每个区县形成主导产业。\n二、明确目标要求\n" + BODY)
    d, _ = _doc(text)
    got = [(p.kind, p.level, p.text[:12], p.section) for p in d.paragraphs]
    assert got == [
        ("body", 0, "同志们：", []),
        ("heading", 1, "一、提高政治站位", []),
        ("heading", 2, "（一）聚焦双招双引，推进", ["一、提高政治站位"]),
        ("body", 0, "XX市提出把双招双引作为", ["一、提高政治站位", "（一）聚焦双招双引，推进实体经济提质增效。"]),
        ("heading", 3, "1.坚定招引方向", ["一、提高政治站位", "（一）聚焦双招双引，推进实体经济提质增效。"]),
        ("heading", 4, "（1）做强主导产业", ["一、提高政治站位", "（一）聚焦双招双引，推进实体经济提质增效。", "1.坚定招引方向"]),
        ("body", 0, "一是坚定招引方向。今年，", ["一、提高政治站位", "（一）聚焦双招双引，推进实体经济提质增效。", "1.坚定招引方向",
                                          "（1）做强主导产业"]),
        ("heading", 1, "二、明确目标要求", []),
        ("body", 0, BODY[:12], ["二、明确目标要求"]),
    ]


def test_outline_law_chapters_and_articles():
    text = ("# 不动产登记暂行条例\n\n2014年11月24日 中华人民共和国国务院令第656号公布\n\n<!-- INFO END -->\n\n## 第一章 总则\n\n"
            "第一条 为整合不动产登记职责，规范登记行为，制定本条例。\n\n第二条 本条例所称不动产登记，是指不动产登记机构依法记载的行为。")
    d, r = _doc(text)
    assert d.title == "不动产登记暂行条例" and d.doc_type == "法规" and d.date == "2014-11-24"
    kinds = [(p.kind, p.level, p.section) for p in d.paragraphs]
    assert kinds[1] == ("heading", 1, [])
    assert kinds[2] == ("body", 0, ["第一章 总则"]) and kinds[3] == ("body", 0, ["第一章 总则"])
    assert "markup.comment" in _rules(r)


# --- metadata ------------------------------------------------------------------------------

def test_meta_from_source_wins_text_fills_the_rest():
    d, _ = _doc("在全县乡村振兴暨重点项目谋划工作会上的讲话\n（2023年1月4日）\n" + BODY, url="https://example.org/1", unit="xx县")
    assert d.url == "https://example.org/1" and d.unit == "xx县"
    assert d.date == "2023-01-04" and d.doc_type == "讲话" and d.meeting == "全县乡村振兴暨重点项目谋划工作会"
    d2, _ = _doc("标题\n（2023年1月4日）\n" + BODY, title="来源给的标题", date="2024/5/6")
    assert d2.title == "来源给的标题" and d2.date == "2024-05-06"


def test_doc_type_meeting_and_dates_from_titles():
    assert doc_type_from_title("第十四届全国人民代表大会第三次会议关于政府工作报告的决议") == "决议"
    assert doc_type_from_title("2025年中华人民共和国国务院政府工作报告") == "工作报告"
    assert doc_type_from_title("国家主席习近平发表二〇二六年新年贺词") == "贺词"
    assert doc_type_from_title("关于开展城乡区域协调发展的调研报告") == "调研报告"
    assert doc_type_from_title("不动产登记暂行条例") == "法规"
    assert doc_type_from_title("关于加强基层治理的意见") == "意见"
    assert meeting_from_title("在全市重点项目建设推进会议上的讲话") == "全市重点项目建设推进会议"
    assert meeting_from_title("习近平：在全国政协新年茶话会上的讲话") == "全国政协新年茶话会"
    assert normalize_date("2025/7/24 14:59:10") == "2025-07-24"
    assert normalize_date("20xx年") is None


def test_ad_words_inside_body_sentences_are_not_ads():
    # real 新闻联播 sentence (20241128): mentions 加微信 but is news text
    s = "第二次参加链博会的李先龙，这两天平均每天都要接待数十家上下游企业的到访。和去年到处留资料、加微信、“找朋友”相比，今年，不少老朋友是主动上门。"
    d, r = _doc("链博会新闻\n" + s)
    assert _texts(d) == [s] and r.removed == []


def test_spaced_name_under_title_is_speaker_but_section_words_are_not():
    d, r = _doc("高举中国特色社会主义伟大旗帜\n习\u3000近\u3000平\n同志们：\n" + BODY)
    assert d.speaker == "习近平" and _texts(d) == ["同志们：", BODY]
    d2, _ = _doc("关于加强管理的意见\n摘 要\n" + BODY)
    assert d2.speaker is None and _texts(d2)[0] == "摘 要"
