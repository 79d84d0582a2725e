"""Re-flow of hard-wrapped text, tables, fragments, invisible characters.

Snippets quote real lines from ../shared/data/text (policy-docs = pkulaw JSONL, gov-work-reports,
speeches-newscn, state-council-regulations); the last tests run on the shared files themselves and
skip when ../shared is absent.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from corpus.cleaning import clean_text
from corpus.cleaning.reflow import display_width, wrap_width

SHARED_TEXT = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "text"

# policies_central.jsonl#33 (有色金属行业智能制造标准体系建设指南), copied from a PDF: 26 Han per line
WRAPPED = (
    "有色金属行业智能制造标准体系建设指南\n"
    "（一）指导思想\n"
    "借鉴现行智能制造国家标准，充分发挥标准的规范和引领作用，\n"
    "加快实现国家智能制造标准体系中基础共性标准和关键技\n"
    "术标准在有色金属行业的细化和落地。引导有色金属行业上\n"
    "下游企业、产学研用各方协同合作，共同开展标准制定，加\n"
    "快有色金属智能制造国家标准、行业标准及团体标准的协同\n"
    "发展。\n"
    "（二）基本原则\n"
    "术语定义标准用于规定有色金属行业智能制造领域使\n"
    "用名词的术语和定义，以及其所对应的外文表达等。该类标\n"
    "准可规范智能制造对应的设计、建设、装备、设施、工艺、\n"
    "检测、运维、评价等通用概念，为其他标准的制定提供基础\n"
    "支撑。\n"
    "（1）生产是指将物料进行加工、运送、装配、检验等\n"
    "活动创造产品的过程；\n"
    "（2）物流是指物品从供应地向接收地的实体流动过程；\n"
    "（3）销售是指产品或商品等从企业转移到客户手中的\n"
    "经营活动；\n"
)


def _paras(text: str, **meta):
    r = clean_text(text, meta=meta or None)
    return [(p.kind, p.text) for d in r.documents for p in d.paragraphs], r


def _texts(text: str, **meta) -> list[str]:
    return [t for _, t in _paras(text, **meta)[0]]


# --- re-flow: joins --------------------------------------------------------------------------

def test_width_clustered_document_is_detected():
    r = clean_text(WRAPPED)
    assert r.documents
    from corpus.cleaning.lines import Line

    lines = [Line(t, i) for i, t in enumerate(WRAPPED.splitlines())]
    w = wrap_width(lines)
    assert w is not None and 48 <= w <= 54  # 24-27 Han characters
    assert display_width("加快") == 4 and display_width("a1") == 2


def test_hard_wrapped_lines_join_into_sentences_headings_and_items_stay():
    texts = _texts(WRAPPED)
    assert texts == [
        "（一）指导思想",
        "借鉴现行智能制造国家标准，充分发挥标准的规范和引领作用，加快实现国家智能制造标准体系中基础共性标准和关键技"
        "术标准在有色金属行业的细化和落地。引导有色金属行业上下游企业、产学研用各方协同合作，共同开展标准制定，加"
        "快有色金属智能制造国家标准、行业标准及团体标准的协同发展。",
        "（二）基本原则",
        "术语定义标准用于规定有色金属行业智能制造领域使用名词的术语和定义，以及其所对应的外文表达等。该类标准可规范"
        "智能制造对应的设计、建设、装备、设施、工艺、检测、运维、评价等通用概念，为其他标准的制定提供基础支撑。",
        "（1）生产是指将物料进行加工、运送、装配、检验等活动创造产品的过程；",
        "（2）物流是指物品从供应地向接收地的实体流动过程；",
        "（3）销售是指产品或商品等从企业转移到客户手中的经营活动；",
    ]


def test_every_join_is_explained_with_its_rule():
    _, r = _paras(WRAPPED)
    rules = {j.rule for j in r.joins}
    assert rules == {"reflow.width"}
    assert any(j.before.endswith("关键技") and j.after.startswith("术标准") for j in r.joins)


def test_orphan_line_closing_a_sentence_is_joined_even_after_a_blank_line():
    # gov-work-reports/2017: "…保持人民币在全球货币体系中的稳" / "定地位。"
    texts = _texts("标题\n坚持汇率市场化改革方向，保持人民币在全球货币体系中的稳\n\n定地位。\n\n做好今年政府工作，要把握好以下几点。")
    assert texts == ["坚持汇率市场化改革方向，保持人民币在全球货币体系中的稳定地位。", "做好今年政府工作，要把握好以下几点。"]
    # policy-docs #74: "…提供传统服务和保障的能" / "力。"
    texts = _texts("标题\n同时，门店应具备为老年人、残疾人等群体提供传统服务和保障的能\n力。\n五、分业态要求\n智慧商店各业态除共同遵循上述通用要求外。")
    assert texts[0].endswith("提供传统服务和保障的能力。")
    assert "五、分业态要求" in texts


def test_page_number_between_halves_of_a_sentence_is_dropped():
    # policy-docs #34: "…紧扣检测装备精" / "1" / "准、可靠、智能、集成发展趋势…"
    text = WRAPPED.replace("协同\n发展。", "协同\n7\n发展。") + "— 10 —\n附件1\n典型场景清单\n"
    kinds_texts, r = _paras(text)
    texts = [t for _, t in kinds_texts]
    assert any(t.endswith("团体标准的协同发展。") for t in texts)
    assert [x.text for x in r.removed if x.rule == "layout.page_number"] == ["7", "— 10 —"]
    assert "附件1 典型场景清单" in texts  # label + title joined (reflow.label)


def test_lead_in_and_vertical_text_are_joined():
    assert _texts("致辞\n最后，\n祝马来西亚繁荣昌盛、人民幸福安康！") == ["最后，祝马来西亚繁荣昌盛、人民幸福安康！"]
    texts = _texts("申报书\n项\n目\n简\n介\n本项目面向中小企业提供数字化转型服务，覆盖研发、生产和管理。")
    assert texts[0] == "项目简介"


# --- re-flow: non-joins ----------------------------------------------------------------------

def test_signature_and_date_lines_are_not_joined():
    # policy-docs #154: the notice's signature block
    text = ("关于印发国家智能制造标准体系建设指南的通知\n"
            "工业和信息化部、国家标准化管理委员会共同组织制定了《国家智能制造标准体系建设指南（2015年版）》，现予发布。\n"
            "工业和信息化部\n国家标准化管理委员会\n2015年12月29日\n")
    texts = _texts(text)
    assert texts[-3:] == ["工业和信息化部", "国家标准化管理委员会", "2015年12月29日"]


def test_salutations_headings_and_paragraph_ends_are_not_joined():
    # speeches-newscn and gov-work-reports: real one-line paragraphs
    texts = _texts("讲话\n女士们，先生们，朋友们：\n大家好！\n很高兴在这里同各位记者朋友见面。")
    assert texts == ["女士们，先生们，朋友们：", "大家好！", "很高兴在这里同各位记者朋友见面。"]
    texts = _texts("报告\n为世界和平和人类进步事业作出更大的贡献。\n结束语\n各位代表！")
    assert texts == ["为世界和平和人类进步事业作出更大的贡献。", "结束语", "各位代表！"]
    # a long line that ends its sentence is a paragraph end even in a wrapped document
    text = WRAPPED + "二、建设思路\n国家智能制造标准体系按照“三步法”原则建设完成。\n第一步，通过研究各类智能制造应用系统。\n"
    texts = _texts(text)
    assert "国家智能制造标准体系按照“三步法”原则建设完成。" in texts
    assert "二、建设思路" in texts


def test_heading_as_wide_as_the_page_is_not_joined_to_the_body():
    text = WRAPPED + "（三）加快推进智能制造标准体系建设和推广应用主要任务\n各地要结合实际制定实施方案，明确时间表和路线图，\n确保各项任务落到实处。\n"
    texts = _texts(text)
    assert "（三）加快推进智能制造标准体系建设和推广应用主要任务" in texts
    assert "各地要结合实际制定实施方案，明确时间表和路线图，确保各项任务落到实处。" in texts


def test_law_articles_and_annex_headings_are_not_joined():
    # state-council-regulations: "附 则" / "第五十条 本条例自2024年5月1日起施行。"
    texts = _texts("# 人体器官捐献和移植条例\n\n违反本条例规定，给他人造成损害的，依法承担民事责任\n\n附 则\n\n第五十条 本条例自2024年5月1日起施行。\n")
    assert texts[-2:] == ["附 则", "第五十条 本条例自2024年5月1日起施行。"]


# --- tables ----------------------------------------------------------------------------------

# policy-docs #154, 附件2: one cell per line, cells separated by whitespace-only lines, 序号 counts up
PKULAW_TABLE = (
    "已发布、制定中的智能制造基础共性标准和关键技术标准\n"
    "总序号\n  \n分序号\n  \n标准名称\n  \n标准号/计划号\n  \n状态\n  \n"
    "1\n  \n1\n  \n信息技术 词汇\n  \nGB/T 5271\n  \n已发布\n  \n"
    "2\n  \n2\n  \n信息技术 嵌入式系统术语\n  \nGB/T 22033-2008\n  \n已发布\n  \n"
    "3\n  \n3\n  \n工业过程测量和控制 术语和定义\n  \nGB/T 17212-1998\n  \n已发布\n  \n"
    "4\n  \n4\n  \n网络化制造技术术语\n  \nGB/T 25486-2010\n  \n已发布\n"
)


def test_flattened_table_becomes_one_paragraph_per_row():
    paras, r = _paras(PKULAW_TABLE)
    assert paras == [
        ("table", "总序号 | 分序号 | 标准名称 | 标准号/计划号 | 状态"),
        ("table", "1 | 1 | 信息技术 词汇 | GB/T 5271 | 已发布"),
        ("table", "2 | 2 | 信息技术 嵌入式系统术语 | GB/T 22033-2008 | 已发布"),
        ("table", "3 | 3 | 工业过程测量和控制 术语和定义 | GB/T 17212-1998 | 已发布"),
        ("table", "4 | 4 | 网络化制造技术术语 | GB/T 25486-2010 | 已发布"),
    ]
    assert sum(1 for j in r.joins if j.rule == "table.row") == 5


def test_numbered_table_keeps_its_long_description_cells_in_the_row():
    # policy-docs #88: rows separated by blank lines, a long description column
    text = ("推荐目录\n一、稳就业促就业类（6家）\n序号\n服务商名称\n产品或活动名称\n主要功能与特色\n服务对象\n咨询电话\n\n"
            "1\n北京微令信息科技有限公司\n中小企业职业培训公共服务平台\n"
            "平台以“互联网+职业培训”为主线，集成丰富的数字课程资源以及模拟仿真形式，提供视频直播、点播并且可互动的在线培训服务。\n"
            "中小企业\n13810398406\n\n"
            "2\n西安时代光华企业管理咨询服务有限公司\n西安时代光华网络学院\n"
            "“E-learning”服务产品，以SAAS服务模式构建企业网络学院，并提供完善的学习管理平台、丰富的课程资源及全方位实施服务。\n"
            "中小微企业\n029-84335021\n")
    paras, _ = _paras(text)
    assert paras[0] == ("heading", "一、稳就业促就业类（6家）") or paras[0][1] == "一、稳就业促就业类（6家）"
    rows = [t for k, t in paras if k == "table"]
    assert rows[0] == "序号 | 服务商名称 | 产品或活动名称 | 主要功能与特色 | 服务对象 | 咨询电话"
    assert rows[1].startswith("1 | 北京微令信息科技有限公司 | ") and rows[1].endswith(" | 中小企业 | 13810398406")
    assert rows[2].startswith("2 | 西安时代光华") and rows[2].endswith("029-84335021")
    assert len(rows) == 3


def test_empty_form_rows_and_continued_table_marks_are_dropped():
    text = ("申报表\n序号\n项目名称\n牵头单位名称\n联系人\n1\n智能工厂\n某某公司\n张三\n2\n\n3\n\n4\n\n续表\n"
            "说明：以上项目按优先级先后顺序排列，由推荐单位统一报送。\n")
    paras, r = _paras(text)
    assert [t for k, t in paras if k == "table"] == ["序号 | 项目名称 | 牵头单位名称 | 联系人", "1 | 智能工厂 | 某某公司 | 张三"]
    assert sorted(x.text for x in r.removed if x.rule == "table.empty_row") == ["2", "3", "4"]
    assert [x.text for x in r.removed if x.rule == "layout.table_continued"] == ["续表"]


def test_run_of_short_list_items_is_one_row_and_tab_rows_are_rows():
    # state-council-regulations 导弹及相关物项和技术出口管制清单
    text = "清单\n本清单所称“技术”包括下列各项：\n1．锆\n2．硼\n3．镁\n4．钛\n5．铀\n6．钨\n7．锌\n8．铈\n二、定义\n本清单应用以下定义。\n"
    paras, _ = _paras(text)
    assert ("table", "1．锆 | 2．硼 | 3．镁 | 4．钛 | 5．铀 | 6．钨 | 7．锌 | 8．铈") in paras
    paras, _ = _paras("名单\n姓名\t职务\t电话\n张荣瀚\t处长\t010-68205624\n")
    assert paras == [("table", "姓名 | 职务 | 电话"), ("table", "张荣瀚 | 处长 | 010-68205624")]


def test_short_lines_that_are_not_a_table_stay_lines():
    texts = _texts("讲话\n同志们：\n今天召开这次会议，主要是贯彻落实市委政府的工作部署。\n谢谢大家！\n市委书记\n张三\n2023年5月1日\n")
    assert texts == ["同志们：", "今天召开这次会议，主要是贯彻落实市委政府的工作部署。", "谢谢大家！", "市委书记", "张三", "2023年5月1日"]


# --- invisible characters --------------------------------------------------------------------

@pytest.mark.parametrize("ch", ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u202e", "\u2067", "\u200f"])
def test_invisible_and_bidi_characters_are_removed(ch):
    texts = _texts(f"标题{ch}行\n要{ch}素保障跟着项目走，是我们的一贯做法。")
    assert texts == ["要素保障跟着项目走，是我们的一贯做法。"]
    r = clean_text(f"要{ch}素保障\n正文一句话，内容足够长了。", meta={"title": f"要{ch}素保障"})
    assert r.documents[0].title == "要素保障"


def test_query_with_invisible_characters_matches_clean_text():
    from indexer.query import parse

    q = parse("要\u200c素\u2060保障")
    assert [t.text for c in q.clauses for t in c.alternatives] == ["要素保障"]


# --- corpus clean --explain ------------------------------------------------------------------

def test_clean_explain_lists_joins(tmp_path, monkeypatch):
    from corpus.cli import main

    monkeypatch.setenv("CORPUS_DATA", str(tmp_path / "data"))
    f = tmp_path / "wrapped.txt"
    f.write_text(WRAPPED, encoding="utf-8")
    out = CliRunner().invoke(main, ["clean", "--explain", str(f)])
    assert out.exit_code == 0, out.output
    assert "joined (" in out.output and "[reflow.width]" in out.output and "关键技 ⏎ 术标准" in out.output
    out = CliRunner().invoke(main, ["clean", "--json", "--explain", str(f)])
    data = json.loads(out.output)
    assert data[0]["joined"] and data[0]["joined"][0]["rule"] == "reflow.width"


# --- on the shared files ---------------------------------------------------------------------

def _policy(n: int) -> str:
    path = SHARED_TEXT / "policy-docs" / "policies_central.jsonl"
    if not path.is_file():
        pytest.skip(f"shared data not found at {path}")
    with path.open(encoding="utf-8") as f:
        for i, line in enumerate(f, 1):
            if i == n:
                return json.loads(line)["Policy Content"]
    raise AssertionError(n)


def test_smart_manufacturing_guide_tables_no_longer_yield_hundreds_of_fragments():
    # policies_central.jsonl#154 alone gave 671 paragraphs under 5 characters before re-flow and tables
    r = clean_text(_policy(154))
    paras = [p for d in r.documents for p in d.paragraphs]
    short = [p.text for p in paras if len(p.text) < 5]
    assert len(short) <= 5, short
    assert sum(1 for p in paras if p.kind == "table") >= 100
    assert any(p.text.startswith("1 | 1 | 信息技术 词汇 | GB/T 5271") for p in paras)


def test_phrase_across_a_pdf_line_break_is_in_one_paragraph():
    r = clean_text(_policy(74))
    texts = [p.text for d in r.documents for p in d.paragraphs]
    assert any("提供传统服务和保障的能力。" in t for t in texts)
    assert "力。" not in texts


def test_salutation_lines_of_a_speech_are_not_a_table():
    # 12371cn: the salutations opening a speech, one per line
    text = ("在中国－中东欧国家领导人峰会上的讲话\n尊敬的马克龙总统，\n尊敬的霍尔尼斯总理、米佐塔基斯总理，\n尊敬的各位议长，\n"
            "尊敬的各位国际组织负责人，\n尊敬的各位部长，\n各位来宾，\n女士们，先生们，朋友们：\n大家好！\n")
    paras, _ = _paras(text)
    assert all(k == "body" for k, _t in paras) and paras[0][1] == "尊敬的马克龙总统，"
