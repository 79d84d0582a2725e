"""Keyword engine comparison: our numpy postings (indexer.keyword / indexer.charindex) against
tantivy (tantivy-py) on bench/search.py's phrase and multi-word workload.

    .venv/bin/python bench/keyword_engines.py --data DIR [--keep PATH]

DIR is an ingested and keyword-indexed data directory (`corpus --data DIR ingest ../shared/data/text`,
`corpus --data DIR index --no-semantic`). Tantivy gets the same input ours has: each paragraph's
folded text, our jieba words pre-tokenised (field `words`, whitespace tokenizer, BM25) and its word
characters one by one (field `chars`, positions) so an exact phrase is a phrase query over
characters; its candidates need the same check against the folded text ours does (precision is
reported before that check). Printed: build time, index size, the process's RSS growth while
building and opening, phrase lookup p50/p95 (every matching row, as the search needs them) with
recall/precision against a substring scan, and top-10 BM25 latency for the multi-word queries.
Ours is timed on its already built index (its build time is what `corpus index --rebuild` prints).
Asserts nothing. Needs `pip install tantivy==0.27.0` (the bench extra).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from search import MULTI, PHRASES  # noqa: E402  (bench/search.py's workload)

from corpus.settings import Settings  # noqa: E402
from indexer.analysis import RUN, fold  # noqa: E402
from indexer.keyword import dir_bytes, open_view  # noqa: E402
from indexer.terms import query_tokenizer  # noqa: E402


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
    return 0.0


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def timed(f, reps: int = 3):
    best, out = float("inf"), None
    for _ in range(reps):
        t = time.perf_counter()
        out = f()
        best = min(best, (time.perf_counter() - t) * 1000)
    return best, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True, type=Path)
    ap.add_argument("--keep", type=Path, help="build the tantivy index here (default: a temp dir, removed)")
    args = ap.parse_args()
    import tantivy

    settings = Settings.from_env(data_dir=str(args.data))
    view = open_view(settings)
    n = view.n
    texts = [view.row_text(r) for r in range(n)]
    # each row's words from the index's own postings (the same tokens BM25 uses)
    toks: list[list[str]] = [[] for _ in range(n)]
    for w, i in view.vocab.items():
        a, b = int(view.woff[i]), int(view.woff[i + 1])
        for row, tf in zip(np.asarray(view.wrows[a:b]).tolist(), np.asarray(view.wtf[a:b]).tolist(), strict=True):
            toks[row].extend([w] * int(tf))
    print(f"corpus: {n} paragraphs, {sum(map(len, texts)):,} characters; load average {os.getloadavg()[0]:.1f}")

    path = args.keep or Path(tempfile.mkdtemp(prefix="tantivy-bench-"))
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    rss0 = rss_mb()
    sb = tantivy.SchemaBuilder()
    sb.add_integer_field("row", stored=True, indexed=True, fast=True)
    sb.add_text_field("words", tokenizer_name="whitespace", index_option="freq")
    sb.add_text_field("chars", tokenizer_name="whitespace", index_option="position")
    schema = sb.build()
    t = time.perf_counter()
    index = tantivy.Index(schema, path=str(path))
    writer = index.writer(heap_size=256_000_000, num_threads=2)
    for row in range(n):
        chars = " ".join(c for c in texts[row] if RUN.match(c))
        writer.add_document(tantivy.Document(row=row, words=" ".join(toks[row]), chars=chars))
    writer.commit()
    writer.wait_merging_threads()
    build = time.perf_counter() - t
    index.reload()
    searcher = index.searcher()
    rss1 = rss_mb()
    print(f"tantivy build {build:.1f} s, index {dir_bytes(path) / 1e6:.1f} MB, RSS +{rss1 - rss0:.0f} MB "
          f"(building and opening); ours: index {dir_bytes(Path(settings.index_dir)) / 1e6:.1f} MB")

    tk = query_tokenizer(settings)
    ours_t, tan_t, recall, precision = [], [], [], []
    for p in PHRASES:
        needle = fold(p)
        truth = {r for r in range(n) if needle in texts[r]}
        ms, rows = timed(lambda needle=needle: view.phrase_rows(needle))
        ours_t.append(ms)
        got_ours = set(np.asarray(rows).tolist())
        assert got_ours == truth, p  # ours is exact by construction; say so if it ever is not
        cs = [c for c in needle if RUN.match(c)]

        def tan(cs=cs, needle=needle):
            q = tantivy.Query.phrase_query(schema, "chars", cs) if len(cs) > 1 else \
                tantivy.Query.term_query(schema, "chars", cs[0])
            total = searcher.search(q, limit=1, count=True).count
            res = searcher.search(q, limit=max(1, total))
            cand = [searcher.doc(addr)["row"][0] for _score, addr in res.hits]
            exact = [r for r in cand if needle in texts[r]]  # the check ours does too
            return cand, exact

        ms, (cand, exact) = timed(tan)
        tan_t.append(ms)
        recall.append(len(set(exact) & truth) / len(truth) if truth else 1.0)
        precision.append(len(set(cand) & truth) / len(cand) if cand else 1.0)
    print(f"exact phrases ({len(PHRASES)}, every matching row): ours p50 {pct(ours_t, 50):.1f} ms p95 "
          f"{pct(ours_t, 95):.1f} ms recall 1.000 precision 1.000 | tantivy p50 {pct(tan_t, 50):.1f} ms p95 "
          f"{pct(tan_t, 95):.1f} ms recall {statistics.mean(recall):.3f} precision before the check "
          f"{statistics.mean(precision):.3f}")

    ours_m, tan_m = [], []
    for q in MULTI:
        ws = [w for part in q.split() for w in tk.lcut(fold(part)) if RUN.search(w)]

        def ours(ws=ws):
            rows = view.rows_with_words(ws)
            scores = view.bm25(ws, rows)
            return rows[np.argsort(-scores)[:10]]

        def tan(ws=ws):
            q = tantivy.Query.boolean_query([(tantivy.Occur.Must, tantivy.Query.term_query(schema, "words", w))
                                             for w in ws])
            return searcher.search(q, limit=10).hits

        ms, _ = timed(ours)
        ours_m.append(ms)
        ms, _ = timed(tan)
        tan_m.append(ms)
    print(f"all words, BM25 top 10 ({len(MULTI)} queries): ours p50 {pct(ours_m, 50):.1f} ms p95 {pct(ours_m, 95):.1f} ms"
          f" | tantivy p50 {pct(tan_m, 50):.1f} ms p95 {pct(tan_m, 95):.1f} ms")
    if not args.keep:
        shutil.rmtree(path, ignore_errors=True)


if __name__ == "__main__":
    main()
