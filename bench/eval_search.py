"""Search quality on the evaluation sets: graded nDCG@10 and Recall@20 per query kind and split.

    .venv/bin/python bench/eval_search.py [--data /tmp/corpus-eval] [--split dev|test|all] [--per-query]
                                          [--systems bm25,keyword,semantic,hybrid,page]

Sets (tests/eval): topics.json (34 topic words, binary judgments: gain 1) and questions.json
(natural-language questions, topic words and rare terms, graded 0/1/2 by reading pooled paragraphs).
Each query has a split: questions.json says it; topics.json alternates by position (even = dev).
Tune on dev, report test: the constants in indexer/rank.py and indexer/search.py were chosen on dev.

Systems, each the first 10/20 paragraphs a user is shown, through the one search function with reposts
folded (a folded hit stands for its copies):
- bm25     a plain baseline: BM25 (k1 1.2, b 0.75) over the index's jieba words of all paragraphs, any word
- keyword  mode keyword, the literal list only
- kwpage   mode keyword, the page as shown: 10 literal hits then the related (partial) list
- semantic mode semantic
- hybrid   mode hybrid, the literal list only (literal matches re-ranked by meaning)
- page     mode hybrid (the default), the page as shown: 10 literal hits then the related list
Unjudged paragraphs count 0. Judgments are keyed by document file name + paragraph text prefix, never
by database ids, so they survive re-ingesting. The corpus is ingested and indexed into --data on first
run (it is embedded: several minutes), then reused.
"""

from __future__ import annotations

import argparse
import glob
import json
import math
import os
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

EVAL = ROOT / "tests" / "eval"
PREFIX = 24  # characters of paragraph text in a judgment key
SYSTEMS = ("bm25", "keyword", "kwpage", "semantic", "hybrid", "page")


EXTRA = EVAL / "judgments_extra.json"  # later judgments (pool deepening), graded: merged into both sets


def load_sets() -> tuple[list[str], list[dict]]:
    """(corpus globs, queries) with each query as {query, kind, split, grades: {key: grade}}."""
    topics = json.loads((EVAL / "topics.json").read_text(encoding="utf-8"))
    queries = []
    for i, q in enumerate(topics["queries"]):
        queries.append({"query": q["query"], "kind": "topic34", "split": "dev" if i % 2 == 0 else "test",
                        "grades": {f"{r['file']}|{r['text'][:PREFIX]}": 1 for r in q["relevant"]}})
    qpath = EVAL / "questions.json"
    if qpath.exists():
        extra = json.loads(qpath.read_text(encoding="utf-8"))
        for q in extra["queries"]:
            grades: dict[str, int] = {}
            for j in q["judged"]:
                k = f"{j['file']}|{j['text'][:PREFIX]}"
                grades[k] = max(grades.get(k, 0), int(j["grade"]))
            queries.append({"query": q["query"], "kind": q["kind"], "split": q["split"], "grades": grades})
    if EXTRA.exists():  # judged later, by reading, when a new ranking showed paragraphs nobody had judged
        extra = json.loads(EXTRA.read_text(encoding="utf-8"))["queries"]
        for q in queries:
            for j in extra.get(q["query"], []):
                k = f"{j['file']}|{j['text'][:PREFIX]}"
                if k not in q["grades"]:
                    g = int(j["grade"])
                    q["grades"][k] = min(g, 1) if q["kind"] == "topic34" else g  # topics.json is binary
    return topics["corpus"], queries


def corpus_paths(globs: list[str]) -> list[Path]:
    out: list[Path] = []
    for pattern in globs:
        hits = sorted(glob.glob(str(ROOT / pattern)))
        if not hits:
            raise SystemExit(f"evaluation corpus path missing: {pattern} (is ../shared there?)")
        out += [Path(h) for h in hits]
    return out


def prepare(settings, globs: list[str], progress: bool) -> None:
    """Ingest the evaluation corpus and build both indexes (incremental: cheap when done before)."""
    from corpus.ingest import ingest_paths
    from corpus.store import open_store
    from indexer.update import update_indexes

    if not settings.db_path.exists() or open_store(settings).stats()["documents"] == 0:
        ingest_paths(settings, corpus_paths(globs), progress=progress)
    t = time.time()
    report = update_indexes(settings, progress=progress, semantic=True)
    sem = getattr(report, "semantic", None)
    if sem and sem.get("embedded"):
        print(f"indexed in {time.time() - t:.0f} s; embeddings: {sem}", file=sys.stderr)


def key_of(file_path: str | None, text: str) -> str:
    name = os.path.basename(file_path or "")
    return f"{name}|{text[:PREFIX]}"


def paragraph_keys(store) -> dict[int, str]:
    return {pid: key_of(path, text) for pid, text, path in store.paragraph_keys()} if hasattr(store, "paragraph_keys") \
        else {r[0]: key_of(r[2], r[1]) for r in store.db.execute(
            "SELECT p.id, p.text, d.file_path FROM paragraphs p JOIN documents d ON d.id=p.doc_id")}


def _hits(settings, query: str, mode: str, n: int):
    from indexer.api import SearchRequest
    from indexer.search import search

    res = search(settings, SearchRequest(query=query, mode=mode, per_page=n, page=1))
    if res.mode != mode:
        raise SystemExit(f"asked for {mode}, search used {res.mode}: {res.notice}")
    return res


def bm25_baseline(settings, query: str, n: int) -> list[tuple[int, list[int]]]:
    import numpy as np

    from indexer import analysis
    from indexer.keyword import open_view
    from indexer.terms import get_tokenizer

    view = open_view(settings)
    words = [w for w in get_tokenizer(settings).lcut_for_search(analysis.fold(query)) if analysis.RUN.search(w)]
    if not words:
        return []
    scores = view.bm25(words, np.arange(view.n))
    top = np.argsort(-scores, kind="stable")[:n]
    return [(int(view.pid[r]), []) for r in top if scores[r] > 0]


def ranked(settings, system: str, query: str, n: int = 20) -> list[tuple[int, list[int]]]:
    """[(paragraph id, ids of the reposts it stands for)] as shown, best first."""
    if system == "bm25":
        return bm25_baseline(settings, query, n)
    mode = {"keyword": "keyword", "kwpage": "keyword", "semantic": "semantic"}.get(system, "hybrid")
    res = _hits(settings, query, mode, 10 if system in ("kwpage", "page") else n)
    shown = list(res.hits)
    if system in ("kwpage", "page"):
        shown += list(getattr(res, "related", []))
    return [(h.paragraph_id, [c.paragraph_id for c in h.copies]) for h in shown[:n]]


def ndcg(grades: list[int], ideal_grades: list[int], k: int = 10) -> float:
    """Graded nDCG with gain 2^grade - 1 (grade 2 = 3, grade 1 = 1; binary judgments: gain 1)."""
    dcg = sum((2 ** g - 1) / math.log2(i + 2) for i, g in enumerate(grades[:k]))
    ideal = sum((2 ** g - 1) / math.log2(i + 2) for i, g in enumerate(sorted(ideal_grades, reverse=True)[:k]))
    return dcg / ideal if ideal else 0.0


def score(keys: dict[int, str], shown, grades: dict[str, int]) -> tuple[float, float]:
    found: set[str] = set()
    gains = []
    for pid, copies in shown:
        ks = [k for k in [keys.get(pid), *(keys.get(c) for c in copies)] if k in grades and k not in found]
        g = max((grades[k] for k in ks), default=0)
        gains.append(g)
        found.update(ks)
    relevant = {k for k, g in grades.items() if g > 0}
    nd = ndcg(gains, [g for g in grades.values() if g > 0])
    rc = len(found & relevant) / len(relevant) if relevant else 0.0
    return nd, rc


def unjudged(settings, queries: list[dict], systems, out: Path, k: int = 10) -> None:
    """Write the shown top-k paragraphs that have no judgment yet (to be read and graded)."""
    from corpus.store import open_store

    store = open_store(settings, readonly=True)
    keys = paragraph_keys(store)
    todo = {}
    for q in queries:
        seen, items = set(), []
        for system in systems:
            for pid, _ in ranked(settings, system, q["query"])[:k]:
                key = keys.get(pid)
                if key is None or key in q["grades"] or key in seen:
                    continue
                seen.add(key)
                p = store.get_paragraph(pid)
                d = store.get_document(p["doc_id"])
                items.append({"file": key.split("|", 1)[0], "text": p["text"][:40], "title": d["title"],
                              "section": p.get("section"), "kind": p["kind"], "full_text": p["text"][:1500]})
        if items:
            todo[q["query"]] = {"kind": q["kind"], "items": items}
    out.write_text(json.dumps(todo, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"{sum(len(v['items']) for v in todo.values())} unjudged paragraphs of {len(todo)} queries -> {out}")


def evaluate(settings, queries: list[dict], systems, per_query: bool = False) -> dict:
    from corpus.store import open_store

    store = open_store(settings, readonly=True)
    keys = paragraph_keys(store)
    known = set(keys.values())
    missing = [(q["query"], k) for q in queries for k, g in q["grades"].items() if g > 0 and k not in known]
    table: dict = defaultdict(lambda: defaultdict(list))
    for q in queries:
        line = [f"{q['kind']:<8}{q['split']:<5}{q['query'][:14]:<16}"]
        for system in systems:
            nd, rc = score(keys, ranked(settings, system, q["query"]), q["grades"])
            for group in (q["kind"], "all"):
                table[(group, q["split"])][system].append((nd, rc))
                table[(group, "all")][system].append((nd, rc))
            line.append(f"{system} {nd:.2f}/{rc:.2f}")
        if per_query:
            print("  ".join(line))
    if missing:
        print(f"warning: {len(missing)} judged paragraphs not found in the corpus, e.g. {missing[:3]}", file=sys.stderr)
    return table


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="/tmp/corpus-eval", help="data directory for the evaluation corpus")
    ap.add_argument("--split", default="all", choices=("dev", "test", "all"), help="which queries to print")
    ap.add_argument("--per-query", action="store_true", help="print nDCG@10/Recall@20 per query")
    ap.add_argument("--systems", default=",".join(SYSTEMS), help="comma-separated, from: " + " ".join(SYSTEMS))
    ap.add_argument("--kinds", default=None, help="only these query kinds (comma-separated)")
    ap.add_argument("--set", action="append", default=[], metavar="MODULE.NAME=VALUE",
                    help="override a ranking constant for this run, e.g. rank.LONG_CHARS=1e9 search.PARTS_CREDIT=0.5")
    ap.add_argument("--unjudged", default=None, metavar="FILE", help="write the shown, unjudged top 10 to FILE and exit")
    args = ap.parse_args()

    import importlib

    from corpus.settings import Settings

    for item in args.set:
        name, _, value = item.partition("=")
        mod, _, attr = name.rpartition(".")
        module = importlib.import_module(f"indexer.{mod}")
        if not hasattr(module, attr):
            raise SystemExit(f"--set {item}: indexer.{mod} has no {attr}")
        setattr(module, attr, type(getattr(module, attr))(float(value)) if not isinstance(getattr(module, attr), str)
                else value)
    globs, queries = load_sets()
    if args.kinds:
        queries = [q for q in queries if q["kind"] in args.kinds.split(",")]
    settings = Settings.from_env(data_dir=args.data)
    prepare(settings, globs, progress=sys.stderr.isatty())
    systems = [s for s in args.systems.split(",") if s]
    if args.unjudged:
        unjudged(settings, queries, systems, Path(args.unjudged))
        return
    t0 = time.time()
    table = evaluate(settings, queries, systems, per_query=args.per_query)
    print(f"{len(queries)} queries, corpus {args.data}, {time.time() - t0:.0f} s, load {os.getloadavg()[0]:.2f}")
    print("nDCG@10 / Recall@20 (mean over queries)")
    print(f"{'kind':<9}{'split':<6}{'n':>3}  " + "".join(f"{s:>14}" for s in systems))
    kinds = sorted({k for k, _ in table}, key=lambda k: (k == "all", k))
    splits = ("dev", "test", "all") if args.split == "all" else (args.split,)
    for kind in kinds:
        for split in splits:
            row = table.get((kind, split))
            if not row:
                continue
            n = len(next(iter(row.values())))
            cells = "".join(
                f"{sum(x[0] for x in row[s]) / n:>8.3f}/{sum(x[1] for x in row[s]) / n:.2f}" for s in systems)
            print(f"{kind:<9}{split:<6}{n:>3}  {cells}")


if __name__ == "__main__":
    main()
