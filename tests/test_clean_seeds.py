"""The cleaner on the five seed documents (the core contract): boilerplate gone, content intact."""

from __future__ import annotations

from pathlib import Path

import pytest

from corpus.cleaning import clean_text

SAMPLE = Path(__file__).resolve().parents[1] / "corpus" / "sample"


def _load(prefix: str) -> str:
    files = sorted(SAMPLE.glob(f"{prefix}_*.txt"))
    assert files, f"seed {prefix} missing from corpus/sample"
    return files[0].read_text(encoding="utf-8")


def _clean(prefix: str):
    return clean_text(_load(prefix))


def _all_text(result) -> str:
    return "\n".join(p.text for d in result.documents for p in d.paragraphs)


def _assert_gone(result, strings):
    text = _all_text(result) + "\n" + "\n".join(d.title for d in result.documents)
    for s in strings:
        assert s not in text, f"boilerplate survived: {s!r}"


def _assert_kept(result, sentences):
    paras = [p.text for d in result.documents for p in d.paragraphs]
    for s in sentences:
        assert any(s in p for p in paras), f"content lost or split: {s!r}"


def _assert_explained(result, raw: str):
    """Every non-blank source line is in the output (body or title) or in `removed` with a rule name."""
    kept = _all_text(result) + "\n" + "\n".join(d.title for d in result.documents)
    removed = "\n".join(r.text for r in result.removed)
    for r in result.removed:
        assert r.rule and r.text, r
    for line in raw.splitlines():
        s = line.replace("\xa0", " ").strip()
        if not s or s in kept or s in removed:
            continue
        assert _split_covered(s, kept, removed), f"line neither kept nor explained: {s[:60]!r}"


def _split_covered(piece: str, kept: str, removed: str) -> bool:
    """The line is a concatenation of kept and removed fragments (marker glued to text, bullet, omission)."""
    for i in range(1, len(piece)):
        a = piece[:i].strip()
        if a and (a in kept or a in removed) and not (piece[: i + 1].strip() in kept or piece[: i + 1].strip() in removed):
            b = piece[i:].strip()
            return not b or b in kept or b in removed or _split_covered(b, kept, removed)
    return False


# --- seed 000: a compilation of six 发言 ------------------------------------------------------

SEED0_TITLES = [
    "加快重塑乡村振兴发展新格局",
    "城乡规划同步产业链条同构公共服务共享",
    "走出一条“三生相融”新路子",
    "以“三区同建”推动乡村振兴",
    "推进乡村振兴促进城乡融合",
    "推进产城、景城、城乡深度融合",
]


def test_seed000_compilation_splits_into_six_speeches_in_toc_order():
    r = _clean("000")
    assert [d.title for d in r.documents] == SEED0_TITLES
    assert [d.unit for d in r.documents][1:] == ["xx区", "xx县", "xx县", "xx县", "xx经开区"]
    assert all(d.doc_type == "发言" for d in r.documents)
    assert all(d.meeting == "全市一季度重点项目建设现场推进会" for d in r.documents)
    assert not any(d.truncated for d in r.documents)


def test_seed000_content_and_boilerplate():
    r = _clean("000")
    _assert_gone(r, ["##paidbegin##", "##paidend##", "（6篇）", "1.加快重塑乡村振兴发展新格局",
                     "5.推进乡村振兴促进城乡融合"])
    first, second, *_, fifth, sixth = r.documents
    _assert_kept(r, [
        "近年来，xx区坚定把“三区同建”作为加快高质量发展的有力抓手，统筹实施各类重大项目",
        "坚持项目打捆，推进“三区共建”。强引擎，解决产业怎么兴的问题。",
        "竣工投产项目xx个、总投资xx.x亿元。",
    ])
    assert first.paragraphs[0].text.startswith("近年来，xx区坚定把“三区同建”")
    assert second.paragraphs[0].text.startswith("近年来，xx区坚持城乡规划同步")
    # speeches 5 and 6 are inside the paid block and still complete
    assert fifth.paragraphs[-1].text.endswith("xx个续建项目复工率达xxx%。")
    assert sixth.paragraphs[0].text.startswith("xx经开区认真贯彻落实市委、市政府决策部署")
    assert sixth.paragraphs[-1].text.endswith("竣工投产项目xx个、总投资xx.x亿元。")
    # no speech title or unit line left as body text
    assert not any(p.text in SEED0_TITLES or p.text in ("xx区", "xx县") for d in r.documents for p in d.paragraphs)
    _assert_explained(r, _load("000"))


# --- seed 001: 酷乐文行, subscription block and QQ ads ----------------------------------------

def test_seed001():
    r = _clean("001")
    assert len(r.documents) == 1
    d = r.documents[0]
    assert d.title == "全区项目建设年推进会讲话"
    assert d.site == "酷乐文行"
    assert d.doc_type == "讲话"
    assert d.truncated is False and d.claimed_length is None
    _assert_gone(r, ["酷乐文行整理，咨询QQ206157060", "仅供学习 禁止外传", "【打击倒卖活动】",
                     "举报倒卖会员资料的人，举报成功免费赠送一年会员材料！", "现在订阅立享前3年的所有权益和资料",
                     "自建平台、实时分享", "免费QQ群"])
    _assert_kept(r, [
        "今天召开这次会议，主要是贯彻落实市委政府的工作部署，推动我区项目建设年活动取得实效",
        "要严把项目质量关,加强对工程项目质量的监督检查，确保各类项目经得起时间检验",
        "加快建设产业发达、环境优美、人民幸福的XX东部新区！",
    ])
    headings = [(p.level, p.text) for p in d.paragraphs if p.kind == "heading"]
    assert (1, "一、提高政治站位，增强加快工程项目建设的紧迫感责任感") in headings
    assert (2, "（二）项目融资要“活”。") in headings
    body = next(p for p in d.paragraphs if p.text.startswith("重点项目的投资，尤其是基础设施建设的投资是巨大的"))
    assert body.section == ["三、凝心聚力，更好更快推进工程项目建设", "（二）项目融资要“活”。"]
    rules = {x.rule for x in r.removed}
    assert {"ads.qq", "ads.subscription"} <= rules
    _assert_explained(r, _load("001"))


# --- seed 002: 新文秘网, TOC, inline omission, truncation tail ---------------------------------

def test_seed002():
    r = _clean("002")
    assert len(r.documents) == 1
    d = r.documents[0]
    assert d.title == "在全市开展“百千万工程”促进城乡区域协调发展调研工作会议上的讲话"
    assert d.date == "2025-07-24"
    assert d.site == "新文秘网"
    assert d.truncated is True and d.claimed_length == 5223
    assert d.meeting == "全市开展“百千万工程”促进城乡区域协调发展调研工作会议"
    assert d.doc_type == "讲话"
    _assert_gone(r, ["您的位置", "发表时间", "目录/提纲", "一是部门协同联动:各部门要树立“一盘棋”思想",
                     "(四)严格督导考核", "省略857字", "正式会员可完整阅读", "未完", "全文共5223字", "文章搜索",
                     "相关文章"])
    _assert_kept(r, [
        "今天,我们召开全市开展“百千万工程”促进城乡区域协调发展调研工作会议,这是深入贯彻落实_总书记关于城乡融合发展重要论述",
        "一是土地制度改革滞后:农村集体经营性建设用地入市规模小,宅基地“三权分置”改革尚未全面推开。",
        "落实农业农村用地政策,新增建设用地指标50%以上用于乡村振",
    ])
    texts = [p.text for p in d.paragraphs]
    # the TOC is not body text: its headings appear once (as the body's own headings)
    assert texts.count("一、深刻认识“百千万工程”的战略意义") == 1
    assert texts.count(d.title) == 0
    # the inline omission splits: the words on each side stay in different paragraphs
    i = next(k for k, p in enumerate(d.paragraphs) if p.text.endswith("打造城乡融合发展的**样板"))
    nxt = d.paragraphs[i + 1]
    assert nxt.text.startswith("增效:城乡低保标准实现一体化") and nxt.omitted_before == 857
    assert d.paragraphs[i].omitted_before is None
    assert any(x.rule == "paywall.omission" for x in r.removed)
    assert any(x.rule == "paywall.tail" and "全文共5223字" in x.text for x in r.removed)
    assert any(x.rule == "toc" and x.text.startswith("目录/提纲") for x in r.removed)
    _assert_explained(r, _load("002"))


# --- seed 003: 快文网, title prefix, related list with real text after it ---------------------

def test_seed003():
    r = _clean("003")
    assert len(r.documents) == 1
    d = r.documents[0]
    assert d.title == "在全市重点项目建设推进会议上的讲话"
    assert d.site == "快文网"
    assert d.truncated is True and d.claimed_length == 7705
    assert d.meeting == "全市重点项目建设推进会议"
    _assert_gone(r, ["标题:", "更多相关文章", "在全市康复医疗事业发展推进会议上的讲话", "在全市双拥工作推进会议上的讲话",
                     "•", "上一篇", "下一篇", "相关栏目", "快文网http://www.fanwy.cn", "当前只显示"])
    _assert_kept(r, [
        "今天,我们在这里召开全市重点项目建设推进会议,主要任务是深入分析当前全市重点项目建设的形势",
        # after the related-article list: the speech goes on
        "定兴百度云计算中心三期四期项目,总投资35亿元,1-7月已完成投资20亿元",
        "三是民生和基础设施项目稳步推进,群众生活品质持续提升。",
        "一是部分项目建设进度滞后于计划。尽管我市重点项目开工率达到了100%",
        "充分发挥政府投资基金的引导作用,吸引社会资本参与重点项目建设。",
    ])
    texts = [p.text for p in d.paragraphs]
    assert texts.count(d.title) == 0
    after = next(p for p in d.paragraphs if p.text.startswith("年上半年可投入运营。"))
    assert after.omitted_before == 1427
    related = [x for x in r.removed if x.rule == "related.list"]
    assert len(related) == 13
    _assert_explained(r, _load("003"))


# --- seed 004: 如来写作网, 试读结束, WeChat ads, disclaimer with the source URL -----------------

def test_seed004():
    r = _clean("004")
    assert len(r.documents) == 1
    d = r.documents[0]
    assert d.title == "在全县乡村振兴暨重点项目谋划工作会上的讲话"
    assert d.url == "https://www.rulaiwenku.com/295968.html"
    assert d.site == "如来写作网"
    assert d.truncated is True
    assert d.date is None  # "上一篇 2023年1月4日" is another article's date
    assert d.meeting == "全县乡村振兴暨重点项目谋划工作会"
    _assert_gone(r, ["试读结束", "查阅全文加微信3231169", "本文内容由互联网用户自发贡献", "如若转载", "返回顶部",
                     "扫码关注", "加客服微信", "立即扫码添加我吧", "上一篇", "相关推荐", "搜索资料"])
    _assert_kept(r, [
        "重点项目谋划储备是做好稳投资、促发展工作的基础和前提,也是促进全县经济社会持续健康发展的关键一环。",
        "下面,我就做好乡村振兴和重点项目谋划提五点要求:",
        "另一方面,全县各级各部门要",
    ])
    assert [p.text for p in d.paragraphs].count(d.title) == 0
    heads = [p.text for p in d.paragraphs if p.kind == "heading"]
    assert heads == ["一、研究谋划要“准”。", "二、招引力度要“强”。"]
    rules = {x.rule for x in r.removed}
    assert {"paywall.tail", "ads.wechat", "footer.disclaimer", "chrome.back_to_top", "title.repeat"} <= rules
    _assert_explained(r, _load("004"))


@pytest.mark.parametrize("prefix,truncated", [("000", False), ("001", False), ("002", True), ("003", True), ("004", True)])
def test_seed_truncated_flags(prefix, truncated):
    r = _clean(prefix)
    assert any(d.truncated for d in r.documents) is truncated
