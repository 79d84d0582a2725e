"""A served corpus for the web UI tests: the bundled sample, a hostile document and a reposted
speech, ingested and indexed with the real library into a temporary data directory."""

from __future__ import annotations

import json
from pathlib import Path

from corpus.ingest import ingest_paths, sample_dir
from corpus.settings import Settings

HOSTILE_TITLE = '<script>alert(1)</script>要素保障"><img src=x onerror=alert(1)>讲话'
HOSTILE_TEXT = [
    "同志们：今天召开会议，研究部署要素保障工作。",
    '要素保障要跟着项目走<script>alert(1)</script>，确保"><img src=x onerror=alert(1)>资金、土地、人才等要素及时到位。',
    "各级各部门要加强协调配合，形成工作合力，推动各项任务落地见效。",
]

REPOST_PARAS = [
    "一、统一思想认识，切实增强做好要素保障工作的责任感紧迫感",
    "当前，我市经济发展正处在爬坡过坎的关键时期，重大项目建设任务艰巨繁重，土地、资金、能耗、人才等要素制约日益凸显。",
    "各级各部门要深刻认识到，要素保障是项目建设的生命线，是稳增长、调结构、促发展的关键支撑，必须摆在更加突出的位置来抓。",
    "二、突出工作重点，全力强化重大项目要素保障",
    "要坚持要素跟着项目走，建立重大项目用地、用能、资金需求清单，实行清单化管理、项目化推进、责任化落实。",
    "要创新投融资机制，用好地方政府专项债券，引导金融机构加大对重点项目的信贷投放力度，着力破解融资难题。",
    "三、加强组织领导，确保各项措施落地见效",
    "各牵头部门要主动对接、靠前服务，定期调度要素保障情况，对工作推进不力的要严肃问责，确保全年目标任务圆满完成。",
]


def hostile_and_repost_records() -> list[dict]:
    base = {"doc_type": "讲话"}
    hostile = {**base, "title": HOSTILE_TITLE, "text": "\n".join(HOSTILE_TEXT), "site": "测试站<b>粗</b>",
               "url": "javascript:alert(1)", "unit": "<i>xx区</i>", "date": "2024-05-01"}
    original = {**base, "title": "在全市重大项目要素保障工作推进会上的讲话", "text": "\n".join(REPOST_PARAS),
                "site": "甲网", "url": "https://example.org/a/1.html", "unit": "xx市", "date": "2023-03-15"}
    changed = [p.replace("圆满完成", "顺利完成") for p in REPOST_PARAS]  # a near-duplicate (simhash distance 2)
    repost = {**base, "title": "在全市重大项目要素保障工作推进会上的讲话（转载）", "text": "\n".join(changed),
              "site": "乙网", "url": "https://example.net/b/2.html", "unit": "xx市", "date": "2023-03-20"}
    return [hostile, original, repost]


def build_data_dir(data_dir: Path, *, semantic: bool = False, with_sample: bool = True, prepare=None) -> Settings:
    """Ingest and index; `prepare(settings)` runs before indexing (e.g. to link the embedding model)."""
    settings = Settings(data_dir=data_dir, semantic=semantic)
    if prepare is not None:
        prepare(settings)
    extra = data_dir.parent / "extra"
    extra.mkdir(parents=True, exist_ok=True)
    (extra / "extra.jsonl").write_text(
        "\n".join(json.dumps(r, ensure_ascii=False) for r in hostile_and_repost_records()) + "\n", encoding="utf-8")
    summary = ingest_paths(settings, [sample_dir(), extra] if with_sample else [extra])
    assert summary.ok, summary.failed
    from indexer.update import update_indexes

    report = update_indexes(settings, semantic=semantic)
    assert not semantic or report.semantic, report.notes
    return settings
