"""Embedding speed: throughput of each backend/precision vs torch fp32, their agreement, full-build estimate.

    .venv/bin/python bench/embed.py [--sample 2000] [--reps 2] [--variants torch-fp32,torch-int8,onnx-fp32,onnx-int8]
                                    [--full] [--latency-data /tmp/corpus-eval]
    .venv/bin/python bench/embed.py --executors [--sample 4000] [--reps 3] [--workers N]

- Throughput: paragraphs/s embedding a random sample of real paragraphs of ../shared/data/text
  (cleaned by the real ingest pipeline into --data), cut into the index's windows, all cores. The
  variants run interleaved, --reps rounds, in one process, so a busy shared machine affects them
  alike; the load average is printed with every figure. Compare figures of one run only.
- Agreement: cosine of each variant to torch fp32 per window, and top-10 overlap of the evaluation
  queries over the sample (each variant's own query vectors).
- Full build: estimated from the sample's paragraphs/s for every variant; `--full` really embeds the
  whole corpus with the default variant (about 121k paragraphs; do not run it on a busy shared machine).
- `--executors`: the build's embedding loop (indexer.semantic._embed_chunks: chunks of whole
  documents, identical windows once, chunk files written) over the sample with the default variant,
  today's default (one process, the build thread choice) against the local process pool (one worker
  process per core, one thread each), interleaved round by round, each pool round paying its workers'
  start-up; the vectors of both are compared, and the full-build estimate of each is printed.
- Ranking quality on the evaluation set (nDCG@10, Recall@20) is bench/eval_search.py's job.
- Latency: hybrid search p50/p95 over the evaluation queries on --latency-data, first call per query
  (query embedding included) and repeated (query vector cached).
"""

from __future__ import annotations

import argparse
import json
import os
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


def embedder(settings, variant: str):
    from indexer.embed import model as embed_model

    backend, precision = variant.split("-")
    emb = embed_model.get_model(settings, precision=precision, backend=backend)
    if emb.variant != variant:
        raise SystemExit(f"{variant} unavailable here (got {emb.variant}): is onnxruntime installed?")
    return emb


def throughput(settings, emb, texts: list[str], wins: list[str], batch: int) -> tuple[float, float, np.ndarray]:
    from indexer.embed import model as embed_model

    embed_model.set_threads(settings, "build")
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
    ap.add_argument("--reps", type=int, default=2, help="interleaved rounds per variant (median reported)")
    ap.add_argument("--threads", action="store_true",
                    help="only compare build threads for the default variant: 1 thread, all cores, and the "
                         "automatic choice (indexer.embed_model.build_threads), interleaved")
    ap.add_argument("--executors", action="store_true",
                    help="only compare where the build's embedding jobs run: one process (today's default) "
                         "against the process pool, interleaved")
    ap.add_argument("--workers", type=int, default=0, help="pool workers for --executors (0 = one per core)")
    ap.add_argument("--variants", default="torch-fp32,torch-int8,onnx-fp32,onnx-int8",
                    help="backend-precision pairs to compare with torch fp32")
    args = ap.parse_args()
    progress = sys.stderr.isatty()

    settings, store = load_store(Path(args.data), progress)
    rows = store.db.execute("SELECT text FROM paragraphs").fetchall()
    texts_all = [r[0] for r in rows]
    chars = sum(len(t) for t in texts_all)
    print(f"corpus: {len(texts_all)} paragraphs, mean {chars / max(1, len(texts_all)):.0f} chars")

    if args.threads:
        _threads(settings, texts_all, args)
        return
    if args.executors:
        _executors(settings, texts_all, args)
        return
    if not args.skip_throughput:
        from indexer.embed import model as embed_model

        rnd = random.Random(0)
        sample = rnd.sample(texts_all, min(args.sample, len(texts_all)))
        variants = [v.strip() for v in args.variants.split(",") if v.strip()]
        if "torch-fp32" not in variants:
            variants.insert(0, "torch-fp32")
        embs = {v: embedder(settings, v) for v in variants}
        wins = windows_of(embs["torch-fp32"], sample)
        for emb in embs.values():  # warm up (ONNX sessions, torch quantised kernels)
            embed_model.set_threads(settings, "build")
            emb.encode_passages(wins[:64], batch_size=args.batch)
        default = embed_model.get_model(settings).variant
        print(f"sample: {len(sample)} paragraphs ({len(wins)} windows), mean {sum(map(len, sample)) / len(sample):.0f} "
              f"chars, batch {args.batch}, length-sorted, threads = all cores ({os.cpu_count()}); "
              f"load {_load()}; default variant here: {default}")
        res: dict[str, list[float]] = {v: [] for v in variants}
        vecs: dict[str, np.ndarray] = {}
        for rnd_i in range(args.reps):
            for v in variants:
                pps, wps, vecs[v] = throughput(settings, embs[v], sample, wins, args.batch)
                res[v].append(pps)
                print(f"  round {rnd_i + 1} {v:<11} {pps:6.1f} paragraphs/s ({wps:.1f} windows/s)  load {_load()}",
                      flush=True)
        qvecs = _query_vectors(embs)
        print(f"{'variant':<12}{'paragraphs/s':>13}{'x fp32':>8}{'cos mean':>10}{'cos min':>9}{'top10':>7}"
              f"{'full build':>12}")
        base = statistics.median(res["torch-fp32"])
        for v in variants:
            pps = statistics.median(res[v])
            cos = np.sum(vecs[v] * vecs["torch-fp32"], axis=1)
            overlap = _overlap(vecs["torch-fp32"], qvecs["torch-fp32"], vecs[v], qvecs[v])
            est = len(texts_all) / pps
            mark = "  <- default" if v == default else ""
            print(f"{v:<12}{pps:>13.1f}{pps / base:>8.2f}{cos.mean():>10.4f}{cos.min():>9.4f}{overlap:>7.2f}"
                  f"{est / 60:>9.1f} min{mark}")
        print(f"(median of {args.reps} rounds; full build = {len(texts_all)} paragraphs / paragraphs/s, before "
              "identical windows are embedded once)")

    if args.full:
        from indexer.semantic import update_embeddings

        t = time.time()
        fig = update_embeddings(settings, store, progress=progress)
        print(f"full embedding build: {time.time() - t:.0f} s {fig}")

    _latency(Path(args.latency_data))


def _threads(settings, texts_all: list[str], args) -> None:
    """Build throughput of the default variant with 1 thread, all cores and the automatic choice,
    interleaved round by round (a shared machine's load drifts), and the full-build estimate of each."""
    from indexer.embed import model as embed_model

    sample = random.Random(0).sample(texts_all, min(args.sample, len(texts_all)))
    emb = embed_model.get_model(settings)
    wins = windows_of(emb, sample)
    cores = os.cpu_count() or 1
    modes = {"1 thread": lambda: 1, f"{cores} threads": lambda: cores,
             "auto": lambda: embed_model.build_threads(current=embed_model._threads)}
    for pick in modes.values():
        embed_model._threads = pick()
        emb.encode_passages(wins[:64], batch_size=args.batch)
    print(f"{emb.variant}, {len(sample)} paragraphs ({len(wins)} windows), {args.reps} interleaved rounds")
    res: dict[str, list[float]] = {m: [] for m in modes}
    for r in range(args.reps):
        for m, pick in modes.items():
            embed_model._threads = n = pick()
            t = time.perf_counter()
            emb.encode_passages(wins, batch_size=args.batch)
            pps = len(sample) / (time.perf_counter() - t)
            res[m].append(pps)
            print(f"  round {r + 1} {m:<10} ({n} used) {pps:6.1f} paragraphs/s  load {_load()}", flush=True)
    base = statistics.median(res[f"{cores} threads"])
    for m, xs in res.items():
        pps = statistics.median(xs)
        print(f"{m:<12} {pps:6.1f} paragraphs/s  x{pps / base:.2f} vs all cores  full build "
              f"{len(texts_all) / pps / 60:.0f} min")


def _executors(settings, texts_all: list[str], args) -> None:
    """Today's default embedding loop (one process) against the process pool, interleaved."""
    import tempfile
    from collections import Counter
    from dataclasses import replace

    from indexer import semantic
    from indexer.embed import model as embed_model
    from indexer.embed.executors import _cores

    rnd = random.Random(0)
    sample = rnd.sample(texts_all, min(args.sample, len(texts_all)))
    emb = embed_model.get_model(settings)
    jobs, doc_of_job = [], []
    for i, (t, n) in enumerate(zip(sample, emb.count_tokens(sample), strict=True)):
        for a, b in semantic.split_windows(t, n, emb.max_tokens, emb.count_tokens):
            jobs.append((i, i, a, b, t[a:b]))
            doc_of_job.append(i)
    revs = dict.fromkeys(range(len(sample)), 1)
    workers = args.workers or _cores()  # the pool even where the default would not choose it (load)
    modes = {"default": replace(settings, embed_workers=1), "pool": replace(settings, embed_workers=workers)}
    seen = Counter(j[4] for j in jobs)
    print(f"{emb.variant}, {len(sample)} paragraphs ({len(jobs)} windows, {len(seen)} distinct), chunks of "
          f"{semantic.CHUNK_WINDOWS} windows, {args.reps} interleaved rounds; pool = {workers} worker processes "
          "x 1 thread (start-up included in every round)")
    res: dict[str, list[float]] = {m: [] for m in modes}
    vecs: dict[str, np.ndarray] = {}
    with tempfile.TemporaryDirectory(prefix="bench-embed-") as tmp:
        for r in range(args.reps):
            for m, s in modes.items():
                pending = Path(tmp) / f"{m}-{r}"
                pending.mkdir()
                chunks: list[Path] = []
                repeated = {t: None for t, c in seen.items() if c > 1}
                t0 = time.perf_counter()
                how = semantic._embed_chunks(s, emb, jobs, doc_of_job, repeated, pending, chunks, revs=revs,
                                             precision=emb.precision, batch_size=args.batch, progress=False)
                pps = len(sample) / (time.perf_counter() - t0)
                res[m].append(pps)
                vecs[m] = np.concatenate([np.load(pending / f"{c.name[:-5]}.vectors.npy") for c in chunks])
                print(f"  round {r + 1} {m:<8} {pps:6.1f} paragraphs/s  ({how})  load {_load()}", flush=True)
    base = statistics.median(res["default"])
    for m, xs in res.items():
        pps = statistics.median(xs)
        print(f"{m:<8} {pps:6.1f} paragraphs/s  x{pps / base:.2f} vs default  full build of {len(texts_all)} "
              f"paragraphs: {len(texts_all) / pps / 60:.1f} min")
    print(f"vectors of the pool equal the default's: {bool(np.array_equal(vecs['default'], vecs['pool']))}")


def _load() -> str:
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


def _query_vectors(embs: dict) -> dict[str, np.ndarray]:
    topics = json.loads((ROOT / "tests" / "eval" / "topics.json").read_text(encoding="utf-8"))
    queries = [q["query"] for q in topics["queries"]] or ["要素保障", "营商环境", "乡村振兴", "防汛"]
    return {v: emb.encode_queries(queries) for v, emb in embs.items()}


def _overlap(ref: np.ndarray, qref: np.ndarray, got: np.ndarray, qgot: np.ndarray) -> float:
    """Mean top-10 overlap over the evaluation queries: a variant's ranking of the sample vs fp32's."""
    sr, sg = ref @ qref.T, got @ qgot.T
    out = []
    for j in range(sr.shape[1]):
        ta = set(np.argsort(-sr[:, j])[:10].tolist())
        tb = set(np.argsort(-sg[:, j])[:10].tolist())
        out.append(len(ta & tb) / 10)
    return statistics.mean(out)


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
