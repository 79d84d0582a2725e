"""提法 explorer benchmark: latency of trend (one and five phrases), pattern (five frames),
collocations and compare on ../shared/data/text.

    .venv/bin/python bench/tifa.py [--data DIR] [--repeat N]

With --data, uses that already ingested and indexed data directory (e.g. one made with
`corpus --data DIR ingest ../shared/data/text && corpus --data DIR index --no-semantic`);
otherwise ingests ../shared/data/text into a temp dir and builds the keyword index first.
Each case runs once to warm up (index open, document table, per-row tables, jieba words), then
--repeat times per query; prints p50/p95 per kind in milliseconds, the aims (trend and pattern
p95 < 200 ms, compare < 3 s) and the machine load (other work shares the CPU). Asserts nothing.
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
from indexer.collocations import collocations  # noqa: E402
from indexer.compare import compare  # noqa: E402
from indexer.keyword import build_index  # noqa: E402
from indexer.pattern import pattern_search  # noqa: E402
from indexer.trend import trend  # noqa: E402

SHARED = ROOT.parent / "shared"

TREND_ONE = ["高质量发展", "新质生产力", "放管服", "改革开放", "乡村振兴", "共同富裕", "营商环境", "一带一路",
             "供给侧结构性改革", "发展"]
TREND_FIVE = [["高质量发展", "新质生产力", "放管服", "改革开放", "乡村振兴"],
              ["共同富裕", "营商环境", "一带一路", "碳达峰", "数字经济"],
              ["脱贫攻坚", "全面从严治党", "生态文明建设", "新发展理念", "科技创新"]]
FRAMES = ["以*为抓手", "坚持*不动摇", "一是*二是*三是", "以*为中心", "加快*建设"]
COLLOC = ["高质量发展", "新质生产力", "营商环境", "改革", "乡村振兴"]
COMPARE = [("year:2024", "year:2023"), ("type:工作报告", None), ("year:2020..2022", "year:2017..2019")]


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def timed(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=None, help="An ingested and indexed data directory.")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    tmp = None
    if args.data is None:
        src = SHARED / "data" / "text"
        if not src.exists():
            sys.exit(f"../shared data not available: {src}")
        tmp = Path(tempfile.mkdtemp(prefix="bench-tifa-"))
        settings = Settings(data_dir=tmp / "data", semantic=False)
        t = time.perf_counter()
        ingest_paths(settings, [src])
        build_index(settings)
        print(f"ingested and indexed {src} in {time.perf_counter() - t:.0f} s")
    else:
        settings = Settings(data_dir=args.data, semantic=False)
    try:
        t = time.perf_counter()
        trend(settings, ["高质量发展"])
        print(f"first call (opens the index, builds the per-row tables): {(time.perf_counter() - t) * 1000:.0f} ms")
        collocations(settings, "改革")  # loads the jieba words of the index
        per_kind: dict[str, list[float]] = {}
        aims = {"trend 1 phrase": 200, "trend 5 phrases": 200, "pattern": 200, "collocations": None,
                "compare (uncached)": 3000}
        for p in TREND_ONE:
            per_kind.setdefault("trend 1 phrase", []).extend(timed(lambda p=p: trend(settings, [p]), args.repeat))
        for ps in TREND_FIVE:
            per_kind.setdefault("trend 5 phrases", []).extend(timed(lambda ps=ps: trend(settings, ps), args.repeat))
        for f in FRAMES:
            per_kind.setdefault("pattern", []).extend(timed(lambda f=f: pattern_search(settings, f), args.repeat))
        for p in COLLOC:
            per_kind.setdefault("collocations", []).extend(timed(lambda p=p: collocations(settings, p), args.repeat))
        from indexer import compare as cmp_mod

        for a, b in COMPARE:
            def run(a=a, b=b):
                cmp_mod._results.clear()  # the figure is the computation, not the cache
                compare(settings, a, b)
            per_kind.setdefault("compare (uncached)", []).extend(timed(run, max(1, args.repeat // 2)))
        print(f"\n{'kind':<22}{'n':>4}{'p50 ms':>10}{'p95 ms':>10}{'max ms':>10}  aim")
        for kind, xs in per_kind.items():
            aim = aims.get(kind)
            verdict = "" if aim is None else (f"p95 < {aim} ms: " + ("yes" if pct(xs, 95) < aim else "NO"))
            print(f"{kind:<22}{len(xs):>4}{pct(xs, 50):>10.1f}{pct(xs, 95):>10.1f}{max(xs):>10.1f}  {verdict}")
        print("\nper query (median ms):")
        for name, fn in ([(f"trend {p}", lambda p=p: trend(settings, [p])) for p in TREND_ONE[:4]]
                         + [(f"pattern {f}", lambda f=f: pattern_search(settings, f)) for f in FRAMES]):
            print(f"  {name:<28}{pct(timed(fn, 3), 50):>8.1f}")
        print(f"\nload average: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
