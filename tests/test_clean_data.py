"""The cleaner on real files from ../shared/data/text (skipped when the shared data is absent)."""

from __future__ import annotations

from pathlib import Path

import pytest

from corpus.cleaning import clean_text

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
TEXT = SHARED / "data" / "text"

pytestmark = pytest.mark.skipif(not TEXT.is_dir(), reason=f"shared data not found at {TEXT} (see ../shared/DATA.md)")


def _one(folder: str, pattern: str) -> Path:
    files = sorted((TEXT / folder).glob(pattern))
    if not files:
        pytest.skip(f"no {pattern} in {TEXT / folder}")
    return files[0]


def test_wikisource_footer_gone_from_every_gov_work_report():
    files = sorted((TEXT / "gov-work-reports").glob("*.txt"))
    assert files
    for f in files:
        r = clean_text(f.read_text(encoding="utf-8"))
        text = "\n".join(p.text for d in r.documents for p in d.paragraphs)
        for s in ("Public domain", "本作品", "公有领域", "中文维基文库社群认为", "\nfalse"):
            assert s not in text, (f.name, s)
        assert text.strip(), f.name


def test_gov_work_report_2025_outline_and_header():
    r = clean_text(_one("gov-work-reports", "000_2025_*.txt").read_text(encoding="utf-8"))
    d = r.documents[0]
    assert d.title == "2025年中华人民共和国国务院政府工作报告" and d.doc_type == "工作报告"
    heads = [p.text for p in d.paragraphs if p.kind == "heading" and p.level == 1]
    assert heads[:3] == ["一、2024年工作回顾", "二、2025年经济社会发展总体要求和政策取向", "三、2025年政府工作任务"]
    assert d.paragraphs[-1].text.startswith("各位代表！信心凝聚力量，实干谱写华章。")


def test_jhsjk_paragraphs_split_on_ideographic_spaces_and_wire_tail_removed():
    f = _one("speeches-jhsjk", "002_2020-03-27.txt")
    r = clean_text(f.read_text(encoding="utf-8"))
    d = r.documents[0]
    texts = [p.text for p in d.paragraphs]
    assert len(texts) >= 10
    assert texts[0] == "尊敬的萨勒曼国王，各位同事："
    assert "大家好！首先，我谨对萨勒曼国王和沙特方面为这次会议所做的大量沟通协调工作，表示衷心的感谢！" in texts
    assert texts[-1] == "谢谢大家。"
    assert not any("\u3000" in t for t in texts)
    assert not any("新华社北京3月26日电" in t or "人民日报" in t for t in texts)
    rules = {x.rule for x in r.removed}
    assert {"news.wire_tail", "news.source_tail"} <= rules


def test_jhsjk_glued_speech_header_gives_title_date_speaker():
    f = _one("speeches-jhsjk", "001_2020-04-30.txt")
    d = clean_text(f.read_text(encoding="utf-8")).documents[0]
    assert d.title == "在打好精准脱贫攻坚战座谈会上的讲话"
    assert d.date == "2018-02-12" and d.speaker == "习近平"
    assert d.paragraphs[0].text.startswith("党的十八大以后，我先后在延安、贵阳、银川、太原召开部分省区市党委书记座谈会")


def test_newscn_caption_and_dateline_removed_first_sentence_survives():
    f = _one("speeches-newscn", "000_2025-12-31_*.txt")
    r = clean_text(f.read_text(encoding="utf-8"))
    d = r.documents[0]
    texts = [p.text for p in d.paragraphs]
    assert not any("新华社记者" in t or "摄" == t[-1:] or "新华社北京12月31日电" in t for t in texts)
    assert "大家好！岁序更替，华章日新。在新年到来之际，我在北京向大家致以美好的祝福！" in texts
    assert d.url.startswith("https://www.news.cn/") and d.date == "2025-12-31"
    caps = [x.text for x in r.removed if x.rule == "news.caption"]
    assert caps and caps[0].endswith("新华社记者 燕雁 摄")


def test_newscn_speech_header_glued_after_dateline():
    f = _one("speeches-newscn", "001_2025-12-31_*.txt")
    r = clean_text(f.read_text(encoding="utf-8"))
    d = r.documents[0]
    assert d.speaker == "习近平" and d.meeting == "全国政协新年茶话会"
    assert d.paragraphs[0].text == "同志们，朋友们："
    assert d.paragraphs[1].text.startswith("大家好！很高兴与大家欢聚一堂")


def test_xinwenlianbo_day_splits_into_items_without_markup():
    f = _one("xinwenlianbo-2024", "20240101.md")
    r = clean_text(f.read_text(encoding="utf-8"))
    assert len(r.documents) >= 10
    first = r.documents[0]
    assert first.title == "中朝两党两国最高领导人互致新年贺电宣布启动“中朝友好年”"
    assert first.url.startswith("https://tv.cctv.com/") and first.date == "2024-01-01" and first.doc_type == "新闻"
    text = "\n".join(p.text for d in r.documents for p in d.paragraphs)
    for s in ("<p>", "<br>", "<strong>", "央视网消息", "查看原文"):
        assert s not in text
    assert first.paragraphs[0].text.startswith("1月1日，中共中央总书记、国家主席习近平同朝鲜劳动党总书记")


def test_regulation_markdown_outline():
    f = _one("state-council-regulations", "不动产登记暂行条例*.md")
    d = clean_text(f.read_text(encoding="utf-8")).documents[0]
    assert d.title == "不动产登记暂行条例" and d.doc_type == "法规"
    chapters = [p.text for p in d.paragraphs if p.kind == "heading" and p.level == 1]
    assert chapters[0] == "第一章 总则"
    art = next(p for p in d.paragraphs if p.text.startswith("第一条"))
    assert art.kind == "body" and art.section == ["第一章 总则"]
