"""Keyword search benchmark: our index vs Whoosh + jieba's stock ChineseAnalyzer vs a substring scan.

    .venv/bin/python bench/search.py [--data DIR] [--keep] [--no-baseline] [--subset NAME ...]
                                     [--store-from DATA_DIR]

Ingests ../shared/data/text plus the bundled seeds into a temp data dir (via ingest_paths; or
copies the store of an already ingested data dir with --store-from), builds the keyword index
from scratch (jieba, character index and word index times shown apart), re-indexes the
unchanged corpus, and runs a fixed list of queries (phrases,
multi-word, filtered, same-sentence) for latency p50/p95 of a first page of 10 and hit counts.
The same phrases go to the baseline (stock ChineseAnalyzer, Whoosh's own query parser) and to a
plain substring scan over all paragraphs (the floor, and the ground truth for exact-phrase
recall). Prints figures and the machine load (other work shares the CPU); asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from corpus.ingest import ingest_paths  # noqa: E402
from corpus.settings import Settings  # noqa: E402
from corpus.store import Store  # noqa: E402
from indexer.analysis import fold  # noqa: E402
from indexer.api import SearchRequest  # noqa: E402
from indexer.keyword import build_index, dir_bytes  # noqa: E402
from indexer.search import search  # noqa: E402

SHARED = ROOT.parent / "shared"

PHRASES = [
    "要素保障", "双招双引", "三区同建", "放管服", "营商环境", "新质生产力", "高质量发展", "乡村振兴",
    "共同富裕", "一带一路", "脱贫攻坚", "人类命运共同体", "全面从严治党", "供给侧结构性改革", "生态文明建设",
    "新发展理念", "碳达峰", "数字经济", "国家治理体系", "实体经济", "科技创新", "民营企业", "粮食安全",
    "疫情防控", "依法治国", "改革开放", "社会主义市场经济", "不忘初心", "安全生产", "城乡融合",
    "素保", "动高质", "廉", "鼎", "GDP", "百分之", "基层减负", "招商引资", "项目建设", "优化营商环境",
]
MULTI = [
    "要素 保障", "项目 资金", "改革 创新 发展", "乡村 振兴 产业", "生态 环境 保护", "营商环境 优化",
    "科技 人才", "就业 收入", "教育 医疗 养老", "防范 化解 风险",
]
FILTERED = [
    "高质量发展 year:2020..2024", "改革 year:2023", '"乡村振兴" -脱贫', "发展 type:讲话", "创新 year:1990..2000",
]
SENTENCE = ["改革 开放", "项目 资金", "科技 创新", "人民 幸福", "经济 增长"]


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def run_ours(settings) -> list[tuple[str, str, int, float]]:
    out = []
    queries = [(q, "paragraph") for q in PHRASES + MULTI + FILTERED] + [(q, "sentence") for q in SENTENCE]
    for q, scope in queries:  # warm (jieba, index open, doc table)
        search(settings, SearchRequest(query=q, scope=scope))
        break
    for q, scope in queries:
        times = []
        for _ in range(3):
            t = time.perf_counter()
            r = search(settings, SearchRequest(query=q, scope=scope, per_page=10))
            times.append((time.perf_counter() - t) * 1000)
        out.append((q, scope, r.total, min(times)))
    return out


def build_baseline(store: Store, path: Path) -> tuple[float, int]:
    from jieba.analyse import ChineseAnalyzer
    from whoosh import index as windex
    from whoosh.fields import ID, TEXT, Schema

    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    schema = Schema(pid=ID(stored=True), content=TEXT(analyzer=ChineseAnalyzer()))
    ix = windex.create_in(str(path), schema)
    t = time.perf_counter()
    w = ix.writer(procs=1, limitmb=512)
    n = 0
    for pid, text in store.db.execute("SELECT id, text FROM paragraphs"):
        w.add_document(pid=str(pid), content=text)
        n += 1
    w.commit()
    return time.perf_counter() - t, n


def run_baseline(path: Path, phrases: list[str]) -> list[tuple[str, int, float]]:
    from whoosh import index as windex
    from whoosh.qparser import QueryParser

    ix = windex.open_dir(str(path))
    out = []
    with ix.searcher() as s:
        qp = QueryParser("content", ix.schema)
        for p in phrases:
            q = qp.parse(f'"{p}"')
            times = []
            for _ in range(3):
                t = time.perf_counter()
                r = s.search(q, limit=10)
                n = len(r)
                times.append((time.perf_counter() - t) * 1000)
            out.append((p, n, min(times)))
    return out


def run_scan(store: Store, phrases: list[str]) -> tuple[dict[str, int], list[float]]:
    texts = [fold(t) for (t,) in store.db.execute("SELECT text FROM paragraphs")]
    counts, times = {}, []
    for p in phrases:
        needle = fold(p)
        t = time.perf_counter()
        counts[p] = sum(1 for x in texts if needle in x)
        times.append((time.perf_counter() - t) * 1000)
    return counts, times


def _update_one(settings):
    """Add a document, update the index, delete it, update again: the two reports."""
    from corpus.models import Document, Paragraph

    st = Store(settings.db_path)
    doc = Document(title="增量测试", paragraphs=[Paragraph("增量更新的测试段落：要素保障跟着项目走。")])
    with st.transaction():
        raw = st.add_raw(sha256="bench-update", path="bench-update", format="text", encoding="utf-8",
                         raw=doc.text, meta={})
        doc_id = st.add_document(doc, raw_id=raw, part_index=0, content_hash="bench-update", file_path="bench-update")
    added = build_index(settings)
    with st.transaction():
        st.delete_document(doc_id)
    deleted = build_index(settings)
    st.close()
    return added, deleted


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", help="data dir to use (default: a temp dir)")
    ap.add_argument("--keep", action="store_true", help="keep the temp data dir")
    ap.add_argument("--no-baseline", action="store_true", help="skip the stock ChineseAnalyzer baseline")
    ap.add_argument("--subset", nargs="*", help="only these folders of ../shared/data/text")
    ap.add_argument("--store-from", help="copy corpus.sqlite3 from this data dir instead of ingesting")
    args = ap.parse_args()
    la = os.getloadavg()
    print(f"load average (1/5/15 min): {la[0]:.2f} {la[1]:.2f} {la[2]:.2f} on {os.cpu_count() or 1} cores")
    data = Path(args.data) if args.data else Path(tempfile.mkdtemp(prefix="corpus-bench-"))
    settings = Settings(data_dir=data, semantic=False)
    src = SHARED / "data" / "text"
    paths = [ROOT / "corpus" / "sample"]
    if src.exists():
        paths += [src / n for n in (args.subset or sorted(p.name for p in src.iterdir()))]
    else:
        print("../shared/data/text not found: seeds only")
    t = time.perf_counter()
    if args.store_from:
        data.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(Path(args.store_from) / "corpus.sqlite3", settings.db_path)
        print(f"store copied from {args.store_from}")
    else:
        summary = ingest_paths(settings, paths)
        print(f"ingest: {summary.documents_added} documents, {summary.paragraphs_added} paragraphs "
              f"in {time.perf_counter() - t:.1f} s")
    store = Store(settings.db_path, readonly=True)
    n_par = store.db.execute("SELECT count(*) FROM paragraphs").fetchone()[0]

    rep = build_index(settings, rebuild=True)
    print("\n== ours (numpy postings: jieba precise words + word characters; folded texts in memory) ==")
    print(f"paragraphs: {n_par}  build: {rep.seconds:.1f} s  ({n_par / max(rep.seconds, 1e-9):.0f} paragraphs/s)  "
          f"index size: {dir_bytes(settings.index_dir) / 1e6:.1f} MB")
    print(f"  of which: jieba {rep.tokenize_seconds:.1f} s ({os.cpu_count() or 1} cores), character index "
          f"{rep.char_seconds:.1f} s, word index {rep.word_seconds:.1f} s; load now {os.getloadavg()[0]:.2f}")
    rep2 = build_index(settings)
    print(f"re-index unchanged corpus: {rep2.seconds:.2f} s ({rep2.mode})")
    rep3 = _update_one(settings)
    print(f"incremental update, +1 document then -1: {rep3[0].seconds:.1f} s / {rep3[1].seconds:.1f} s "
          f"({rep3[0].mode}, {rep3[1].mode})")

    ours = run_ours(settings)
    lat = [ms for *_, ms in ours]
    print(f"queries: {len(ours)}  latency first page of 10: p50 {pct(lat, 50):.1f} ms  p95 {pct(lat, 95):.1f} ms  "
          f"max {max(lat):.1f} ms")
    for q, scope, n, ms in ours:
        print(f"  {q:<28} {scope:<9} hits {n:>6}  {ms:7.1f} ms")

    phrases = PHRASES
    scan_counts, scan_times = run_scan(store, phrases)
    ours_exact = {}
    for p in phrases:
        r = search(settings, SearchRequest(query=f'"{p}"', fold=False, per_page=1))
        ours_exact[p] = r.total
    print("\n== substring scan over all paragraphs (floor; ground truth) ==")
    print(f"latency p50 {pct(scan_times, 50):.1f} ms  p95 {pct(scan_times, 95):.1f} ms")

    if not args.no_baseline:
        bpath = data / "baseline-index"
        secs, n = build_baseline(store, bpath)
        base = run_baseline(bpath, phrases)
        blat = [ms for *_, ms in base]
        print("\n== baseline: Whoosh + jieba.analyse.ChineseAnalyzer ==")
        print(f"build: {secs:.1f} s ({n / max(secs, 1e-9):.0f} paragraphs/s)  index size: {dir_bytes(bpath) / 1e6:.1f} MB")
        print(f"phrase latency p50 {pct(blat, 50):.1f} ms  p95 {pct(blat, 95):.1f} ms")
        bcounts = {p: n for p, n, _ in base}
    else:
        bcounts = {}
    print("\n== exact-phrase recall (paragraphs, unfolded): scan / ours / baseline ==")
    tot_s = tot_o = tot_b = 0
    for p in phrases:
        s_, o_, b_ = scan_counts[p], ours_exact[p], bcounts.get(p, -1)
        tot_s += s_
        tot_o += min(o_, s_)
        tot_b += max(0, min(b_, s_))
        print(f"  {p:<16} scan {s_:>6}  ours {o_:>6}  baseline {b_ if b_ >= 0 else '-':>6}")
    print(f"total: scan {tot_s}  ours {tot_o} ({100 * tot_o / max(tot_s, 1):.1f}%)"
          + (f"  baseline {tot_b} ({100 * tot_b / max(tot_s, 1):.1f}%)" if bcounts else ""))
    print("load average at the end: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    if not args.data and not args.keep:
        shutil.rmtree(data, ignore_errors=True)
    else:
        print(f"data kept in {data}")


if __name__ == "__main__":
    main()
