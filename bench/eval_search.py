"""Search quality on the evaluation set: nDCG@10 and Recall@20 for keyword, semantic and hybrid.

    .venv/bin/python bench/eval_search.py [--data /tmp/corpus-eval] [--per-query] [--fusion-grid]

The evaluation corpus (tests/eval/topics.json "corpus": the seeds plus a slice of ../shared/data/text)
is ingested and indexed into --data on first run (a few minutes: it is embedded), then reused.
Judgments are keyed by document file name + paragraph text prefix, never by database ids, so they
survive re-ingesting. Results go through the one search function (indexer.search.search) with
reposts folded, exactly as a user sees them.
"""

from __future__ import annotations

import argparse
import glob
import json
import math
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TOPICS = ROOT / "tests" / "eval" / "topics.json"
PREFIX = 24  # characters of paragraph text in a judgment key


def corpus_paths(spec: dict) -> list[Path]:
    out: list[Path] = []
    for pattern in spec["corpus"]:
        hits = sorted(glob.glob(str(ROOT / pattern)))
        if not hits:
            raise SystemExit(f"evaluation corpus path missing: {pattern} (is ../shared there?)")
        out += [Path(h) for h in hits]
    return out


def prepare(settings, spec: dict, progress: bool) -> None:
    """Ingest the evaluation corpus and build both indexes (incremental: cheap when done before)."""
    from corpus.ingest import ingest_paths
    from corpus.store import open_store
    from indexer.keyword import update_indexes

    if not settings.db_path.exists() or open_store(settings).stats()["documents"] == 0:
        ingest_paths(settings, corpus_paths(spec), progress=progress)
    t = time.time()
    report = update_indexes(settings, progress=progress, semantic=True)
    sem = getattr(report, "semantic", None)
    if sem and sem.get("embedded"):
        print(f"indexed in {time.time() - t:.0f} s; embeddings: {sem}", file=sys.stderr)


def key_of(file_path: str | None, text: str) -> str:
    name = os.path.basename(file_path or "")
    return f"{name}|{text[:PREFIX]}"


def paragraph_keys(store) -> dict[int, str]:
    rows = store.db.execute("SELECT p.id, p.text, d.file_path FROM paragraphs p JOIN documents d ON d.id=p.doc_id")
    return {r[0]: key_of(r[2], r[1]) for r in rows}


def ranked(settings, query: str, mode: str, n: int = 20) -> list[int]:
    from indexer.api import SearchRequest
    from indexer.search import search

    res = search(settings, SearchRequest(query=query, mode=mode, per_page=n, page=1))
    if res.mode != mode:
        raise SystemExit(f"asked for {mode}, search used {res.mode}: {res.notice}")
    ids = [h.paragraph_id for h in res.hits][:n]
    # a folded hit stands for its copies: judged keys may name any of them
    return ids, {h.paragraph_id: [c.paragraph_id for c in h.copies] for h in res.hits}


def ndcg(gains: list[int], n_rel: int, k: int = 10) -> float:
    dcg = sum(g / math.log2(i + 2) for i, g in enumerate(gains[:k]))
    ideal = sum(1 / math.log2(i + 2) for i in range(min(n_rel, k)))
    return dcg / ideal if ideal else 0.0


def evaluate(settings, spec: dict, modes=("keyword", "semantic", "hybrid"), per_query: bool = False) -> dict:
    from corpus.store import open_store

    store = open_store(settings, readonly=True)
    keys = paragraph_keys(store)
    by_key: dict[str, set[int]] = {}
    for pid, k in keys.items():
        by_key.setdefault(k, set()).add(pid)
    totals = {m: {"ndcg@10": 0.0, "recall@20": 0.0} for m in modes}
    missing = []
    queries = spec["queries"]
    for q in queries:
        rel_keys = {f"{r['file']}|{r['text'][:PREFIX]}" for r in q["relevant"]}
        for k in rel_keys:
            if k not in by_key:
                missing.append((q["query"], k))
        line = [f"{q['query']:<10}"]
        for m in modes:
            ids, copies = ranked(settings, q["query"], m)
            found: set[str] = set()
            gains = []
            for pid in ids:
                ks = {keys.get(pid)} | {keys.get(c) for c in copies.get(pid, [])}
                hit = (ks & rel_keys) - found
                gains.append(1 if hit else 0)
                found |= hit
            nd = ndcg(gains, len(rel_keys))
            rc = len(found) / len(rel_keys) if rel_keys else 0.0
            totals[m]["ndcg@10"] += nd
            totals[m]["recall@20"] += rc
            line.append(f"{m[:3]} {nd:.2f}/{rc:.2f}")
        if per_query:
            print("  ".join(line) + f"  ({len(rel_keys)} relevant)")
    for m in modes:
        for k in totals[m]:
            totals[m][k] /= max(1, len(queries))
    if missing:
        print(f"warning: {len(missing)} judged paragraphs not found in the corpus, e.g. {missing[:3]}", file=sys.stderr)
    return totals


def fusion_grid(settings, spec: dict) -> None:
    """nDCG@10 / Recall@20 of fusing the keyword and semantic result lists with other constants."""
    from corpus.store import open_store
    from indexer.hybrid import fuse

    store = open_store(settings, readonly=True)
    keys = paragraph_keys(store)
    lists = []
    for q in spec["queries"]:
        rel = {f"{r['file']}|{r['text'][:PREFIX]}" for r in q["relevant"]}
        kw, kc = ranked(settings, q["query"], "keyword", 100)
        se, sc = ranked(settings, q["query"], "semantic", 100)
        lists.append((rel, kw, se, {**kc, **sc}))
    print(f"{'rrf_k':>6}{'kw_w':>6}{'sem_w':>6}{'nDCG@10':>10}{'Recall@20':>11}")
    for rrf_k in (10, 20, 30, 60, 100):
        for kw_w, sem_w in ((1.0, 1.0), (1.0, 0.5), (0.5, 1.0), (1.0, 0.75), (0.75, 1.0)):
            nd = rc = 0.0
            for rel, kw, se, copies in lists:
                fused = fuse([(p, 0.0) for p in kw], [(p, 0.0) for p in se], 20, rrf_k=rrf_k,
                             keyword_weight=kw_w, semantic_weight=sem_w)
                found: set[str] = set()
                gains = []
                for pid, _ in fused:
                    ks = {keys.get(pid)} | {keys.get(c) for c in copies.get(pid, [])}
                    hit = (ks & rel) - found
                    gains.append(1 if hit else 0)
                    found |= hit
                nd += ndcg(gains, len(rel))
                rc += len(found) / len(rel) if rel else 0.0
            n = max(1, len(lists))
            print(f"{rrf_k:>6}{kw_w:>6}{sem_w:>6}{nd / n:>10.3f}{rc / n:>11.3f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="/tmp/corpus-eval", help="data directory for the evaluation corpus")
    ap.add_argument("--per-query", action="store_true", help="print nDCG@10/Recall@20 per query")
    ap.add_argument("--quantize", default=None, help="int8 or fp32 for a new embedding index (default: settings)")
    ap.add_argument("--backend", default=None, help="auto, onnx or torch for a new embedding index (default: settings)")
    ap.add_argument("--fusion-grid", action="store_true", help="also try other fusion constants and weights")
    args = ap.parse_args()

    from corpus.settings import Settings

    spec = json.loads(TOPICS.read_text(encoding="utf-8"))
    settings = Settings.from_env(data_dir=args.data, quantize=args.quantize, embed_backend=args.backend)
    prepare(settings, spec, progress=sys.stderr.isatty())
    from indexer.semantic import index_info

    info = index_info(settings) or {}
    print(f"{len(spec['queries'])} queries, corpus {args.data} ({settings.model}, vectors "
          f"{info.get('variant', 'none')}), load {os.getloadavg()[0]:.2f}")
    totals = evaluate(settings, spec, per_query=args.per_query)
    print(f"{'mode':<10}{'nDCG@10':>10}{'Recall@20':>12}")
    for m, t in totals.items():
        print(f"{m:<10}{t['ndcg@10']:>10.3f}{t['recall@20']:>12.3f}")
    if args.fusion_grid:
        fusion_grid(settings, spec)


if __name__ == "__main__":
    main()
