"""Embedding speed: throughput fp32 vs int8, their agreement, full-build estimate, hybrid query latency.

    .venv/bin/python bench/embed.py [--sample 2000] [--full] [--latency-data /tmp/corpus-eval]

- Throughput: paragraphs/s embedding a random sample of real paragraphs of ../shared/data/text
  (cleaned by the real ingest pipeline into --data), fp32 and torch dynamic int8, all cores.
- Agreement: cosine int8 vs fp32 per paragraph, and top-10 overlap for the evaluation queries.
- Full build: estimated from the sample's windows/s; `--full` really embeds the whole corpus
  (about 114k paragraphs: a quarter of an hour on 2 cores; do not run it on a busy shared machine).
- Latency: hybrid search p50/p95 over the evaluation queries on --latency-data (see
  bench/eval_search.py, which builds that corpus), first call per query (query embedding
  included) and repeated (query vector cached).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED_TEXT = ROOT.parent / "shared" / "data" / "text"


def load_store(data: Path, progress: bool):
    from corpus.ingest import ingest_paths
    from corpus.settings import Settings
    from corpus.store import open_store

    settings = Settings.from_env(data_dir=str(data))
    if not settings.db_path.exists() or open_store(settings).stats()["documents"] == 0:
        if not SHARED_TEXT.exists():
            raise SystemExit(f"{SHARED_TEXT} missing: the benchmark needs ../shared/data/text")
        t = time.time()
        ingest_paths(settings, [SHARED_TEXT], progress=progress)
        print(f"ingested {SHARED_TEXT} in {time.time() - t:.0f} s", file=sys.stderr)
    return settings, open_store(settings)


def windows_of(emb, texts: list[str]) -> list[str]:
    from indexer.semantic import split_windows

    out = []
    for t, n in zip(texts, emb.count_tokens(texts), strict=True):
        out += [t[a:b] for a, b in split_windows(t, n, emb.max_tokens, emb.count_tokens)]
    return out


def throughput(settings, texts: list[str], precision: str, batch: int) -> tuple[float, float, np.ndarray]:
    from indexer import embedding

    emb = embedding.get_model(settings, precision=precision)
    embedding.set_threads(settings, "build")
    emb.encode_passages(texts[:64], batch_size=batch)  # warm up
    wins = windows_of(emb, texts)
    t = time.perf_counter()
    vecs = emb.encode_passages(wins, batch_size=batch)
    dt = time.perf_counter() - t
    return len(texts) / dt, len(wins) / dt, vecs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="/tmp/corpus-bench", help="data directory holding ../shared/data/text ingested")
    ap.add_argument("--sample", type=int, default=2000, help="paragraphs to embed per variant")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--full", action="store_true", help="really build the embedding index of the whole corpus")
    ap.add_argument("--latency-data", default="/tmp/corpus-eval", help="an indexed corpus for query latency")
    ap.add_argument("--skip-throughput", action="store_true")
    args = ap.parse_args()
    progress = sys.stderr.isatty()

    settings, store = load_store(Path(args.data), progress)
    rows = store.db.execute("SELECT text FROM paragraphs").fetchall()
    texts_all = [r[0] for r in rows]
    chars = sum(len(t) for t in texts_all)
    print(f"corpus: {len(texts_all)} paragraphs, mean {chars / max(1, len(texts_all)):.0f} chars")

    if not args.skip_throughput:
        rnd = random.Random(0)
        sample = rnd.sample(texts_all, min(args.sample, len(texts_all)))
        print(f"sample: {len(sample)} paragraphs, mean {sum(map(len, sample)) / len(sample):.0f} chars, "
              f"batch {args.batch}, length-sorted, torch threads = all cores")
        res = {}
        for precision in ("fp32", "int8"):
            pps, wps, vecs = throughput(settings, sample, precision, args.batch)
            res[precision] = (pps, wps, vecs)
            print(f"  {precision}: {pps:6.1f} paragraphs/s ({wps:.1f} windows/s)")
        cos = np.sum(res["fp32"][2] * res["int8"][2], axis=1)
        print(f"  int8 vs fp32 cosine per window: mean {cos.mean():.4f}, min {cos.min():.4f}")
        _ranking_agreement(settings, res["fp32"][2], res["int8"][2])
        best = max(res, key=lambda p: res[p][0])
        est = len(texts_all) / res[best][0]
        print(f"full build estimate ({best}): {len(texts_all)} paragraphs / {res[best][0]:.0f} per s "
              f"= {est / 60:.1f} min")

    if args.full:
        from indexer.semantic import update_embeddings

        t = time.time()
        fig = update_embeddings(settings, store, progress=progress)
        print(f"full embedding build: {time.time() - t:.0f} s {fig}")

    _latency(Path(args.latency_data))


def _ranking_agreement(settings, fp32: np.ndarray, int8: np.ndarray) -> None:
    """Top-10 overlap of the evaluation queries over the sample, int8 vs fp32 (same-precision queries)."""
    from indexer import embedding

    topics = json.loads((ROOT / "tests" / "eval" / "topics.json").read_text(encoding="utf-8"))
    queries = [q["query"] for q in topics["queries"]] or ["要素保障", "营商环境", "乡村振兴", "防汛"]
    qf = embedding.get_model(settings, precision="fp32").encode_queries(queries)
    qi = embedding.get_model(settings, precision="int8").encode_queries(queries)
    overlaps = []
    sf, si = fp32 @ qf.T, int8 @ qi.T
    for j in range(len(queries)):
        ta = set(np.argsort(-sf[:, j])[:10].tolist())
        tb = set(np.argsort(-si[:, j])[:10].tolist())
        overlaps.append(len(ta & tb) / 10)
    print(f"  top-10 overlap int8 vs fp32 over {len(queries)} queries: mean {statistics.mean(overlaps):.2f}, "
          f"min {min(overlaps):.2f}")


def _latency(data: Path) -> None:
    from corpus.settings import Settings
    from indexer.api import SearchRequest
    from indexer.search import search
    from indexer.semantic import semantic_available

    settings = Settings.from_env(data_dir=str(data))
    if not semantic_available(settings):
        print(f"latency: skipped ({data} has no embedding index: run bench/eval_search.py first)")
        return
    topics = json.loads((ROOT / "tests" / "eval" / "topics.json").read_text(encoding="utf-8"))
    queries = [q["query"] for q in topics["queries"]]
    queries += [q + suffix for q in queries for suffix in ("工作", "措施")]  # unseen queries: embedding not cached
    search(settings, SearchRequest(query="开幕", mode="hybrid"))  # load model and indexes once
    first, again = [], []
    for q in queries:
        t = time.perf_counter()
        search(settings, SearchRequest(query=q, mode="hybrid"))
        first.append((time.perf_counter() - t) * 1000)
    for q in queries:
        t = time.perf_counter()
        search(settings, SearchRequest(query=q, mode="hybrid"))
        again.append((time.perf_counter() - t) * 1000)

    def pct(xs, p):
        xs = sorted(xs)
        return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]

    print(f"hybrid latency over {len(queries)} queries ({data}): first call p50 {pct(first, 50):.0f} ms, "
          f"p95 {pct(first, 95):.0f} ms; cached query vector p50 {pct(again, 50):.0f} ms, p95 {pct(again, 95):.0f} ms")


if __name__ == "__main__":
    main()
