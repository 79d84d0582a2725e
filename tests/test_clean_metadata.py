"""Speaker, unit, level and meeting from titles and first lines (rules: corpus/cleaning/rules.py,
"People and units"), on the seeds, on snippets quoting real title forms, and on ../shared files."""

from __future__ import annotations

from pathlib import Path

import pytest

from corpus.cleaning import clean_text
from corpus.cleaning.metadata import byline, level_from_scope, person_from_title, unit_from_title, unit_level

ROOT = Path(__file__).resolve().parents[1]
TEXT = ROOT.parent / "shared" / "data" / "text"
BODY = "今天召开这次会议，主要是贯彻落实市委政府的工作部署，推动项目建设年活动取得实效，加快推进各项重点工程建设。"


def _doc(text: str):
    docs = clean_text(text).documents
    assert len(docs) == 1
    return docs[0]


# --- the seeds (corpus/sample) -------------------------------------------------------------------

def _seed(prefix: str):
    f = next((ROOT / "corpus" / "sample").glob(prefix + "*.txt"))
    return clean_text(f.read_text(encoding="utf-8")).documents


def test_seed_county_meeting_carries_meeting_and_level():
    d = _seed("004")[0]
    assert d.title == "在全县乡村振兴暨重点项目谋划工作会上的讲话"
    assert d.meeting == "全县乡村振兴暨重点项目谋划工作会" and d.level == "县"


def test_seed_city_meeting_and_compilation_units_and_levels():
    d = _seed("003")[0]
    assert d.meeting == "全市重点项目建设推进会议" and d.level == "市"
    pieces = _seed("000")
    assert len(pieces) == 6 and all(p.level for p in pieces)
    assert {p.unit for p in pieces if p.unit} and all(unit_level(p.unit) == p.level for p in pieces if p.unit)


# --- titles --------------------------------------------------------------------------------------

@pytest.mark.parametrize(("title", "speaker", "unit"), [
    ("xx县委书记张三在全县乡村振兴暨重点项目谋划工作会上的讲话", "张三", "xx县委"),
    ("县委副书记、县长 李四：在全县经济工作会议上的讲话", "李四", "县委"),
    ("市长王五在全市安全生产工作会议上的讲话", "王五", None),
    ("王五同志在全市重点项目建设推进会议上的讲话", "王五", None),
    ("习近平在参加江苏代表团审议时强调 因地制宜发展新质生产力", "习近平", None),  # 新闻联播 2024
    ("欧阳明在全区组织工作会议上的讲话", "欧阳明", None),
])
def test_speaker_and_unit_from_title(title, speaker, unit):
    assert person_from_title(title) == (speaker, unit)


@pytest.mark.parametrize("title", [
    "关于在全市开展安全生产专项整治行动的通知",
    "全市在重点项目建设推进会议上的讲话",
    "李强在安徽调研",  # news of a visit, not a speech
    "高质量发展在全省推进会上的讲话",
])
def test_no_speaker_from_words_that_only_look_like_names(title):
    assert person_from_title(title)[0] is None


def test_unit_and_level_from_titles():
    assert unit_from_title("xx县2023年政府工作报告") == "xx县"
    assert unit_from_title("中共青岛市委关于加强基层治理的意见") == "青岛市委"
    assert unit_from_title("山东省商务厅在全省外贸工作会议上的发言") == "山东省商务厅"
    assert unit_from_title("王五同志在全市重点项目建设推进会议上的讲话") is None
    assert [unit_level(u) for u in ("xx区", "市发改委", "山东省商务厅", "xx县xx镇")] == ["区", "市", "省", "乡镇"]
    assert level_from_scope("在全县乡村振兴暨重点项目谋划工作会上的讲话") == "县"
    assert level_from_scope("第十四届全国人民代表大会第二次会议") == "中央"


# --- first lines ---------------------------------------------------------------------------------

def test_byline_under_the_title_gives_speaker_and_unit_and_is_not_body_text():
    d = _doc("在全县项目建设年推进会上的讲话\n县委书记　张三\n同志们：\n" + BODY)
    assert (d.speaker, d.unit, d.level) == ("张三", "县委", "县")
    assert [p.text for p in d.paragraphs] == ["同志们：", BODY]
    d = _doc("在全区经济工作会议上的讲话\n（xx区区长　王五）\n" + BODY)
    assert (d.speaker, d.unit, d.level) == ("王五", "xx区", "区")


def test_subtitle_meeting_line_and_bare_name_before_the_salutation():
    d = _doc("坚定信心 真抓实干\n——在全市重点项目建设推进会议上的讲话\n" + BODY)
    assert d.meeting == "全市重点项目建设推进会议" and d.level == "市"
    # gov-work-reports/1957: a dated meeting line, then the speaker alone, then 各位代表：
    d = _doc("关于1956年度国民经济计划执行结果的报告\n1957年6月26日在第一届全国人民代表大会第四次会议上\n周恩来\n各位代表：\n" + BODY)
    assert d.speaker == "周恩来" and d.meeting == "第一届全国人民代表大会第四次会议" and d.date == "1957-06-26"


def test_letter_signature_names_the_speaker():
    d = _doc("回信北京大学援鄂医疗队全体“90后”党员\n你们好！来信收到了。" + BODY + "\n习近平\n2020年3月15日\n")
    assert d.speaker == "习近平"


def test_short_lines_that_are_not_bylines():
    assert byline("同志们：") is None and byline("谢谢大家！") is None and byline("张三") is None
    assert byline("县委书记　张三") == ("张三", "县委")


# --- ../shared ------------------------------------------------------------------------------------

@pytest.mark.skipif(not TEXT.is_dir(), reason=f"shared data not found at {TEXT}")
def test_shared_speeches_get_speakers_meetings_and_levels():
    report = next((TEXT / "gov-work-reports").glob("068_1957_*.txt"))
    d = clean_text(report.read_text(encoding="utf-8")).documents[0]
    assert (d.speaker, d.level) == ("周恩来", "中央")
    letters = sorted((TEXT / "speeches-jhsjk").glob("*.txt"))
    speakers = [clean_text(f.read_text(encoding="utf-8")).documents[0].speaker for f in letters]
    assert speakers.count("习近平") >= 25


def test_title_date_subtitle_speaker_and_byline_above_a_date_line():
    d = _doc("在全县经济工作会议上的讲话（2023年2月10日）\n同志们：\n" + BODY)
    assert (d.date, d.meeting, d.level) == ("2023-02-10", "全县经济工作会议", "县")
    d = _doc("凝心聚力 实干争先\n——张三同志在全市优化营商环境大会上的讲话\n" + BODY)
    assert (d.speaker, d.meeting, d.level) == ("张三", "全市优化营商环境大会", "市")
    d = _doc("在全市优化营商环境大会上的讲话\n市委书记 张三\n（2023年3月1日）\n" + BODY)
    assert (d.speaker, d.unit, d.date) == ("张三", "市委", "2023-03-01")
    assert [p.text for p in d.paragraphs] == [BODY]
