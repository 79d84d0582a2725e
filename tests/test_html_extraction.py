"""Behaviour of corpus.html: decoding, main text, chrome removal, metadata, errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from corpus.errors import InputError
from corpus.html import extract_html, extract_html_bytes
from corpus.html_rules import CHROME_LINE_PATTERNS, DISCLAIMER_START

SHARED = Path(__file__).resolve().parents[1].parent / "shared"

BODY = (
    "<p>　　同志们：今天我们召开全市经济工作会议，主要任务是总结今年工作，分析当前形势，部署明年任务。</p>"
    "<p>　　一、今年工作回顾。全市上下坚持稳中求进工作总基调，经济运行总体平稳、稳中有进，"
    "主要指标好于预期，高质量发展迈出坚实步伐。</p>"
    "<p>　　二、明年重点任务。要坚定信心、真抓实干，着力扩大有效需求，着力推动产业升级，着力保障和改善民生。</p>"
)


def page(body: str = BODY, head: str = "<title>在全市经济工作会议上的讲话_市政府网</title>") -> str:
    nav = "<div class='nav'><a href='/'>首页</a> <a href='/a'>要闻</a> <a href='/b'>政务公开</a> <a href='/c'>办事服务</a></div>"
    foot = (
        "<div class='footer'><p>主办单位：某市人民政府办公室 版权所有</p><p>京ICP备05070218号</p>"
        "<p><a href='/x'>网站地图</a> | <a href='/y'>联系我们</a></p></div>"
    )
    return (
        f"<html><head>{head}</head><body>{nav}<div class='main'><h1>在全市经济工作会议上的讲话</h1>"
        f"<div class='info'>发布时间：2023-12-20 09:30 来源：市政府办公室 字号：大 中 小</div>"
        f"<div class='article'>{body}</div>"
        "<div class='share'>分享到： <a href='#'>微信</a> <a href='#'>微博</a></div>"
        "<div class='prevnext'><p>上一篇：<a href='/1'>关于做好春节期间安全生产工作的通知</a></p>"
        "<p>下一篇：<a href='/2'>市政府常务会议研究部署近期重点工作</a></p></div>"
        f"</div>{foot}</body></html>"
    )


def test_main_text_kept_in_paragraphs_and_chrome_removed():
    p = extract_html(page())
    lines = p.text.splitlines()
    assert lines[0].startswith("同志们：今天我们召开全市经济工作会议")
    assert any(line.startswith("一、今年工作回顾") for line in lines)
    assert lines[-1].startswith("二、明年重点任务")
    for chrome in ("首页", "版权所有", "ICP备", "上一篇", "下一篇", "分享到", "发布时间", "网站地图"):
        assert chrome not in p.text


def test_metadata_title_date_site_url():
    head = (
        "<title>在全市经济工作会议上的讲话_市政府网</title>"
        "<link rel='canonical' href='https://www.example.gov.cn/art/2023/12/20/1.html'>"
    )
    p = extract_html(page(head=head), url="https://mirror.example.com/1.html")
    assert p.title == "在全市经济工作会议上的讲话"
    assert p.date == "2023-12-20"
    assert p.site == "市政府网"
    assert p.url == "https://www.example.gov.cn/art/2023/12/20/1.html"


def test_og_metadata_and_given_url():
    head = (
        "<title>讲话全文</title><meta property='og:site_name' content='中国政府网'>"
        "<meta property='article:published_time' content='2024-03-05T09:00:00+08:00'>"
        "<meta name='author' content='新华社'>"
    )
    p = extract_html(page(head=head), url="https://example.org/x.html")
    assert p.site == "中国政府网"
    assert p.date == "2024-03-05"
    assert p.author == "新华社"
    assert p.url == "https://example.org/x.html"


def test_gbk_page_without_charset_declaration():
    data = page().replace("<head>", "<head>").encode("gbk")
    p, enc = extract_html_bytes(data)
    assert enc == "gb18030"
    assert "全市上下坚持稳中求进工作总基调" in p.text


def test_page_declaring_the_wrong_charset():
    html = page(head='<meta charset="utf-8"><title>在全市经济工作会议上的讲话</title>')
    p, enc = extract_html_bytes(html.encode("gb18030"))
    assert enc.startswith("gb18030")
    assert "高质量发展迈出坚实步伐" in p.text
    html = page(head='<meta http-equiv="Content-Type" content="text/html; charset=gb2312"><title>讲话</title>')
    p, enc = extract_html_bytes(html.encode("utf-8"))
    assert enc == "utf-8"
    assert "高质量发展迈出坚实步伐" in p.text


def test_empty_page_raises_input_error():
    with pytest.raises(InputError):
        extract_html("")
    with pytest.raises(InputError):
        extract_html_bytes(b"   \n")
    with pytest.raises(InputError, match="no (main|text) content"):
        extract_html("<html><body><div><a href='/'>首页</a></div></body></html>")


def test_truncated_page_still_extracts_what_is_there():
    html = page()
    cut = html[: html.index("二、明年重点任务") + 12]
    p = extract_html(cut)
    assert "全市上下坚持稳中求进工作总基调" in p.text
    assert "二、明年重点任务" in p.text
    # a GBK download cut in the middle of a two-byte character
    data = html.encode("gbk")
    p, _ = extract_html_bytes(data[: data.index("二、明年".encode("gbk")) + 5])
    assert "全市上下坚持稳中求进工作总基调" in p.text


def test_mid_page_closing_html_tag_does_not_end_the_page():
    html = page().replace("<div class='main'>", "</html><!-- include end --><div class='main'>")
    assert "全市上下坚持稳中求进工作总基调" in extract_html(html).text


@pytest.mark.parametrize(
    "line",
    [
        "上一篇：关于做好春节期间安全生产工作的通知",
        "【打印】【关闭】",
        "打印字体：放大正常缩小分享",
        "字号： 默认 大 超大 | 打印",
        "扫一扫在手机打开当前页",
        "收听本文 00:00/00:00",
        "主办单位：国务院办公厅　运行维护单位：中国政府网运行中心",
        "京ICP备05070218号",
        "时间： 2019-09-18 06:23 来源： 山西日报 打印 字体： 放大 正常 缩小 分享",
        "发布日期：2016-11-22 | 浏览次数： | 信息来源：省发改委",
        "本网站发布的所有信息均不收取任何费用如遇到任何以本网站名义收取费用的情况请向自治区政府办公厅纪检部门举报",
        "来源：巴彦淖尔日报  编辑：苏亮",
        "·娱乐圈受黑社会控制? 明星挨打事件回顾 (2005-04-27 14:32PM)",
    ],
)
def test_chrome_line_rules(line):
    assert any(p.search(line) for p in CHROME_LINE_PATTERNS)


@pytest.mark.parametrize(
    "line",
    [
        "同志们：今天我们召开全市经济工作会议，主要任务是总结今年工作。",
        "一、今年工作回顾",
        "2022年1月27日",
        "要坚持以人民为中心的发展思想，做到发展为了人民、发展依靠人民。",
    ],
)
def test_chrome_line_rules_keep_content(line):
    assert not any(p.search(line) for p in CHROME_LINE_PATTERNS)


def test_disclaimer_rules():
    assert any(p.search("振兴东北网版权与免责声明：") for p in DISCLAIMER_START)
    assert not any(p.search("要做好声明的解释工作。") for p in DISCLAIMER_START)


def test_12371cn_speech_page_chrome_gone_speech_kept():
    f = SHARED / "data" / "html" / "12371cn" / "ARTI1508921834409967.shtml"
    if not f.exists():
        pytest.skip(f"{f} not found (../shared is not checked out)")
    p, _ = extract_html_bytes(f.read_bytes())
    assert "习近平最后说，百闻不如一见。" in p.text
    assert p.date == "2017-10-25"
    assert p.site == "共产党员网"
    for chrome in (
        "共产党员网首页",
        "组工软件下载",
        "我的投稿",
        "微信扫一扫",
        "京ICP备12024993号",
        "关于我们",
        "&ldquo;",
    ):
        assert chrome not in p.text
    assert not {"分享", "收藏", "打印", "×"} & {line.strip() for line in p.text.splitlines()}


def test_cwce_gbk_page_with_broken_byte_and_odd_declaration():
    """<text encoding="gb2312"> root and one invalid byte: charset-normalizer alone says ptcp154."""
    gold = SHARED / "data" / "extraction-gold" / "cwce"
    f = gold / "original" / "6dc2d508-abb9-467c-bbea-1fedfcec5f9d.html"
    if not f.exists():
        pytest.skip(f"{f} not found (../shared is not checked out)")
    p, enc = extract_html_bytes(f.read_bytes())
    assert enc.startswith("gb18030")
    assert "《太行山上》主要讲述八路军总司令朱德" in p.text


def test_gov_cn_gazette_keeps_document_heading():
    f = SHARED / "data" / "html" / "gne-news" / "other" / "1.html"
    if not f.exists():
        pytest.skip(f"{f} not found (../shared is not checked out)")
    p, _ = extract_html_bytes(f.read_bytes())
    assert "（2007年6月29日第十届全国人民代表大会常务委员会第二十八次会议通过）" in p.text
    assert "批准2007年末国债余额限额调整为53365.53亿元" in p.text
    for chrome in ("扫一扫在手机打开当前页", "版权所有", "京ICP备05070218号", "网站标识码"):
        assert chrome not in p.text


def test_page_nested_hundreds_of_divs_deep_still_extracts():
    body = "<p>" + "全市上下坚持稳中求进工作总基调，推动高质量发展取得新成效。" * 4 + "</p>"
    for depth in (255, 300, 3000):
        html = "<html><body><div class='nav'><a href='/'>首页</a></div>" + "<div>" * depth + body + \
            "</div>" * depth + "</body></html>"
        assert "推动高质量发展取得新成效" in extract_html(html).text, depth


def test_failure_messages_name_the_file(tmp_path):
    from corpus.ingest import ingest_paths
    from corpus.settings import Settings

    f = tmp_path / "menu-only.html"
    f.write_text("<html><body><div><a href='/'>首页</a><a href='/a'>关于</a></div></body></html>", encoding="utf-8")
    s = ingest_paths(Settings(data_dir=tmp_path / "d", semantic=False), [f])
    assert s.failed and str(f) in s.failed[0][1]
    with pytest.raises(InputError, match="^x.html: "):
        extract_html("<html><body></body></html>", name="x.html")


def _article(extra_top: str = "", extra_bottom: str = "") -> str:
    body = "".join(f"<p>{s}</p>" for s in (
        "全市上下坚持稳中求进工作总基调，推动高质量发展取得新成效，重点项目建设全面提速。",
        "要强化要素保障，土地、资金、用工等要素跟着项目走，确保项目早开工、早投产、早见效。",
        "各级各部门要压实责任，细化措施，以钉钉子精神抓好各项任务落实，确保全年目标顺利完成。",
    ))
    return f"<html><body><div class='content'>{extra_top}{body}{extra_bottom}</div></body></html>"


def test_share_app_and_feedback_widgets_at_the_edges_are_dropped():
    # strings seen on gne-news pages (163, 长江网, 环球网, 新浪, 澎湃)
    top = "<p>用微信扫码二维码</p><p>分享至好友和朋友圈</p>"
    bottom = ("<p>扫二维码上移动长江网</p><p>关键字 : 公园</p><p>新浪新闻公众号</p>"
              "<p>(本文来自澎湃新闻，更多原创资讯请下载“澎湃新闻”APP)</p><p>标题夸张、文不对题</p><p>疑似抄袭</p>")
    text = extract_html(_article(top, bottom)).text
    assert text.splitlines()[0].startswith("全市上下") and text.splitlines()[-1].startswith("各级各部门")


def test_reader_comments_after_the_article_are_cut():
    bottom = ("<p>+1顶0 |+1踩0</p><p>[四川省成都市手机网友]2019-09-07 22:44:09</p>"
              "<p>所谓的精装修就是一个坑，业主维权这么多年也没有结果，大家都很失望。</p>")
    text = extract_html(_article("", bottom)).text
    assert "网友" not in text and "精装修" not in text and text.endswith("确保全年目标顺利完成。")


def test_hosting_platform_note_ends_the_post():
    bottom = ("<p>特别声明：以上内容(如有图片或视频亦包括在内)为自媒体平台“网易号”用户上传并发布，本平台仅提供信息存储服务。</p>"
              "<p>Notice: The content above is uploaded and posted by a user of NetEase Hao, which only provides information "
              "storage services.</p>")
    text = extract_html(_article("", bottom)).text
    assert "网易号" not in text and "NetEase" not in text


def _post(i: int, title: str, paras: list[str], date: str) -> str:
    return (f"<div class='post'><h2><a href='/p/{i}'>{title}</a></h2><div class='meta'>发布时间：{date}</div>"
            + "".join(f"<p>{p}</p>" for p in paras) + "</div>")


_P = ["今年以来，全市上下坚持稳中求进工作总基调，推动高质量发展取得新成效，重点项目建设全面提速，投资保持较快增长。",
      "要强化要素保障，土地、资金、用工等要素跟着项目走，确保项目早开工、早投产、早见效，以项目建设的新成效推动发展。",
      "各级各部门要压实责任，细化措施，以钉钉子精神抓好各项任务落实，确保全年目标顺利完成，为全市发展作出新贡献。"]


def test_page_listing_several_posts_gives_the_first_post_only():
    html = ("<html><body><div class='nav'><a href='/'>首页</a></div><div id='list'>"
            + _post(1, "在全市重点项目建设推进会议上的讲话", ["第一篇：" + _P[0]], "2024-03-01")
            + _post(2, "在全县乡村振兴工作会议上的讲话", ["第二篇：" + _P[1], _P[2], _P[0]], "2024-02-20")
            + _post(3, "在全区经济工作会议上的讲话", ["第三篇：" + _P[2], _P[0]], "2024-02-10") + "</div></body></html>")
    text = extract_html(html).text
    assert text == "第一篇：" + _P[0]  # the main item, although a later post is longer


def test_one_speech_in_headed_sections_is_not_cut_to_its_first_section():
    sec = lambda h, ps: f"<div class='section'><h2>{h}</h2>" + "".join(f"<p>{p}</p>" for p in ps) + "</div>"  # noqa: E731
    html = ("<html><body><div class='article'>" + sec("一、充分肯定成绩", _P[:2]) + sec("二、明确目标任务", _P[1:])
            + sec("三、强化工作保障", [_P[2], _P[0]]) + "</div></body></html>")
    text = extract_html(html).text
    assert text.count("。") == 6 and "三、强化工作保障" in text


def test_keyword_cloud_and_list_of_other_stories_under_the_article_are_dropped():
    # gne-news njxfhn (a 156,878-character tag cloud) and stcn ("为你推荐" teasers with their dates)
    cloud = "邓朴方潜逃第92号红通自首活力影院灰姑娘钓鱼岛屿事件中国败 jmsjwend 铭鑫gtx560ti 222 " * 20
    teasers = "".join(f"<p>{t}</p><p>2019-09-30 0{i}:42</p>" for i, t in enumerate(
        ["十一国庆假期前，金融委召开会议，部署了一系列金融领域下一步的重点工作。",
         "今天是国庆节前最后一个交易日，持股还是持币过节又成为投资者一个老大难的问题。"]))
    text = extract_html(_article("", "<p>为你推荐</p>" + teasers + f"<p>{cloud}</p><p>友情链接</p>")).text
    assert text.splitlines()[-1].startswith("各级各部门") and "金融委" not in text and "jmsjwend" not in text


def test_a_signature_date_at_the_end_stays():
    text = extract_html(_article("", "<p>xx县人民政府</p><p>2023年5月1日</p>")).text
    assert text.endswith("2023年5月1日")


def test_data_table_rows_become_table_paragraphs_layout_tables_do_not():
    from corpus.cleaning import clean_text

    p = _P[0]
    html = ("<html><body><div class='content'><p>" + p + "</p><table><tr><td>序号</td><td>项目名称</td><td>投资（亿元）</td></tr>"
            "<tr><td>1</td><td>智能工厂</td><td>12.5</td></tr><tr><td>2</td><td>物流园区</td><td>8</td></tr></table>"
            "<p>" + _P[1] + "</p></div></body></html>")
    paras = [(x.kind, x.text) for x in clean_text(extract_html(html).text).documents[0].paragraphs]
    assert paras == [("body", p), ("table", "序号 | 项目名称 | 投资（亿元）"), ("table", "1 | 智能工厂 | 12.5"),
                     ("table", "2 | 物流园区 | 8"), ("body", _P[1])]
    # a layout table: the article in one cell, its lines split at <br>
    html = ("<html><body><table><tr><td class='nav'><a href='/'>首页</a></td><td>" + "<br>".join(_P) +
            "</td></tr></table></body></html>")
    assert extract_html(html).text.split("\n") == _P
