"""Near-duplicate reposts: the same speech on several sites, lightly edited, forms one cluster."""

from __future__ import annotations

from corpus.dedup import distance, normalize, simhash
from corpus.ingest import ingest_paths
from corpus.store import Store

PARAS = [
    "今天，我们在这里召开全市重点项目建设推进会议，主要任务是深入分析当前全市重点项目建设的形势，总结前期工作成效。",
    "重点项目建设是经济社会发展的“生命线”，是拉动投资增长的“主引擎”，是推动产业升级的“加速器”，更是增进民生福祉的“压舱石”。",
    "要建立土地要素跟着项目走的机制，对符合规划和产业政策的重点项目，及时安排用地指标，鼓励项目建设使用存量建设用地和低效用地。",
    "同志们：",
]


def test_normalize_ignores_punctuation_width_and_spacing():
    assert normalize("要素保障，ＡＢ 12") == normalize("要素保障,ab12")


def test_simhash_close_for_reposts_far_for_other_text():
    a = "".join(PARAS[:3])
    repost = a.replace("，", ",").replace("“", '"').replace("”", '"')
    other = "新闻联播今天的主要内容有：国家主席发表新年贺词，各地举行活动迎接新年，气象部门发布寒潮预警信息。" * 3
    assert distance(simhash(a), simhash(repost)) == 0
    assert distance(simhash(a), simhash(other)) > 10


def test_reposts_on_two_sites_cluster_and_other_speeches_do_not(settings, tmp_path):
    site_a = "在全市重点项目建设推进会议上的讲话\n" + "\n".join(PARAS) + "\n"
    # the same speech reposted with other punctuation, a site footer and one paragraph edited
    site_b = ("在全市重点项目建设推进会议上的讲话\n" + "\n".join(p.replace("，", ",") for p in PARAS[:2])
              + "\n" + PARAS[2].replace("及时", "优先") + "\n同志们：\n")
    other = "在全县防汛工作会议上的讲话\n同志们：\n今年汛期形势严峻复杂，各级各部门要压紧压实防汛责任，确保安全度汛，全力保障人民群众生命财产安全。\n"
    for name, text in (("a.txt", site_a), ("b.txt", site_b), ("c.txt", other)):
        (tmp_path / name).write_text(text, encoding="utf-8")
    ingest_paths(settings, [tmp_path / "a.txt", tmp_path / "b.txt", tmp_path / "c.txt"])
    store = Store(settings.db_path)
    docs = {d["file_path"].rsplit("/", 1)[-1]: d for d in store.iter_documents()}
    assert docs["a.txt"]["cluster_id"] == docs["b.txt"]["cluster_id"] != docs["c.txt"]["cluster_id"]
    paras = {p["text"]: p["cluster_id"] for d in docs.values() for p in store.get_paragraphs(d["id"])}
    assert paras[PARAS[0]] == paras[PARAS[0].replace("，", ",")]
    greeting = [p["cluster_id"] for d in docs.values() for p in store.get_paragraphs(d["id"]) if p["text"] == "同志们："]
    assert len(greeting) == 3 and len(set(greeting)) == 1  # identical short lines fold only when identical
