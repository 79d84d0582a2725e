"""Search backends side by side on one data directory: the local index against the Qdrant backend
(embedded local mode, the same client code a server or cluster takes): sync time, per-query latency
p50/p95, and whether every query's main list is the same set with the same count.

    python bench/backends.py --data DIR [--texts ../shared/data/text/gov-work-reports ...] [--runs 3]

Without an existing store in DIR the --texts folders are ingested and indexed (keyword only) first.
Queries are bench/search.py's workload (phrases, several words, filters, 同句). The embedded mode
keeps every point in this process and scans payloads in Python: its latency says nothing about a
Qdrant server (docs/scale.md), only that the same answers come back through the interface.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from search import FILTERED, MULTI, PHRASES, SENTENCE, pct  # noqa: E402

from corpus.ingest import ingest_paths  # noqa: E402
from corpus.settings import Settings  # noqa: E402
from indexer.api import SearchRequest  # noqa: E402
from indexer.search import iter_hits  # noqa: E402
from indexer.search import qdrant as qd  # noqa: E402
from indexer.update import update_indexes  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--texts", type=Path, nargs="*", default=[ROOT.parent / "shared" / "data" / "text" / "gov-work-reports",
                                                               ROOT.parent / "shared" / "data" / "text" / "speeches-jhsjk"])
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    local = Settings(data_dir=args.data, semantic=False)
    if not local.db_path.exists():
        t = time.perf_counter()
        s = ingest_paths(local, args.texts)
        update_indexes(local)
        print(f"ingested {s.documents_added} documents and built the keyword index in {time.perf_counter() - t:.1f} s")
    remote = replace(local, search_backend="qdrant")
    t = time.perf_counter()
    report = update_indexes(remote)
    print(f"sync: {time.perf_counter() - t:.1f} s  ({[n for n in report.notes if n.startswith('qdrant')][0]})")
    t = time.perf_counter()
    update_indexes(remote)
    print(f"re-sync, nothing changed: {time.perf_counter() - t:.1f} s")

    queries = [(q, "paragraph") for q in PHRASES + MULTI + FILTERED] + [(q, "sentence") for q in SENTENCE]
    times: dict[str, list[float]] = {"local": [], "qdrant": []}
    same = 0
    differ = []
    for q, scope in queries:
        got = {}
        for name, st in (("local", local), ("qdrant", remote)):
            best = None
            for _ in range(args.runs):
                t = time.perf_counter()
                ids = [h.paragraph_id for h in iter_hits(st, SearchRequest(query=q, scope=scope, fold=False,
                                                                             mode="keyword"), batch=10_000)]
                dt = (time.perf_counter() - t) * 1000
                best = dt if best is None else min(best, dt)
            times[name].append(best)
            got[name] = ids
        if set(got["local"]) == set(got["qdrant"]) and len(got["local"]) == len(got["qdrant"]):
            same += 1
        else:
            differ.append((q, scope, len(got["local"]), len(got["qdrant"])))
    print(f"{len(queries)} queries (every hit of each, best of {args.runs}); same main list and count: {same}/{len(queries)}")
    for q, scope, a, b in differ:
        print(f"  differs: {q!r} ({scope}): local {a}, qdrant {b}")
    print(f"{'backend':8} {'p50 ms':>9} {'p95 ms':>9} {'mean ms':>9}")
    for name, xs in times.items():
        print(f"{name:8} {pct(xs, 50):9.1f} {pct(xs, 95):9.1f} {statistics.mean(xs):9.1f}")
    qd.close_clients()


if __name__ == "__main__":
    main()
