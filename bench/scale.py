"""How each cost grows with the corpus: synthetic corpora of 1x, 3x and 10x ../shared/data/text.

    nice .venv/bin/python bench/scale.py prepare [--out /tmp/corpus-scale] [--sizes 1 3 10]
    nice .venv/bin/python bench/scale.py run --size 10 [--out ...]      # one size, every phase
    .venv/bin/python bench/scale.py table [--out ...]                   # the growth table and the ceilings
    nice .venv/bin/python bench/scale.py all [--out ...] [--sizes 10 1 3]  # prepare, run each size, table

Everything is written under --out (default /tmp/corpus-scale), never into the repository.

How the synthetic corpora are made (`prepare`, deterministic: --seed, default 17):
1. ../shared/data/text is ingested as it is into OUT/real (timed: the "real" row).
2. The stored paragraphs are cut into passages (runs of up to 6 consecutive paragraphs of one real
   document). Copy c of the corpus deals all passages, shuffled by a seeded RNG, to as many synthetic
   documents as the real corpus has, each taking the paragraph count of one real document (so the
   length distribution is the real one). A synthetic document therefore joins passages of several
   different real documents. Its title is the title of its first passage's document with a distinct
   suffix (`（汇编c-n）`), its date a seeded random day 1980-2025, its type the type of that document.
3. Copy 0 keeps the paragraphs verbatim. In copies 1.. every paragraph of 24 normalised characters or
   more is rewritten at the sentence level: its sentences rotated and about a third of them (at least
   one) replaced by sentences drawn from the whole corpus (so the vocabulary, sentence lengths and
   exact phrases stay real). Shorter lines (headings, 同志们：) are kept: they fold only when identical,
   as they would in a real collection.
Why the deduplicator does not collapse them: a document is a duplicate only when its normalised text's
hash equals a stored one (every synthetic document's paragraph set differs), and near-duplicates are
grouped, never dropped (SimHash within 3 bits over character 3-grams; a paragraph with a third of its
sentences replaced is far more than 3 bits away). `run` checks it and prints: documents added vs
generated, duplicates, and the share of paragraphs grouped with an earlier one (for 1x that share is
the real corpus's own reposts; it must not grow with the copies).

Each phase of `run` is a child process, so its peak RSS and CPU time are its own (os.wait4; on a shared
machine the CPU time is the steadier figure, wall time depends on the other work):
- ingest: the synthetic JSONL into OUT/data-Nx (keyword index off, embeddings off)
- keyword: build_index from scratch (time, peak RSS, index size)
- search: warm p50/p95 of a first page of 10 for phrases, words, filtered and 同句 queries (3 runs each),
  and the serving process's peak RSS
- web: bench/load.py against `corpus serve` on that data dir, 4 clients for 30 s; the search routes' p95
- exact vectors: one exact dot-product query over a float32 matrix of the size the embedding index would
  have (windows x 384), timed in RAM (random unit vectors: the cost does not depend on the values)
Embedding is measured once, on a sample of the 1x corpus through the real update path
(update_embeddings), and extrapolated: it is linear in windows and nothing else.

`table` prints each figure per size, the growth exponent b (cost ~ size^b, fitted from 1x to 10x), and
for each part the corpus size at which one 24 GB / 2-core machine stops being enough, under the limits
stated in the output. Asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SHARED_TEXT = ROOT.parent / "shared" / "data" / "text"
DEFAULT_OUT = Path("/tmp/corpus-scale")
PASSAGE = 6  # paragraphs per passage at most
DIM = 384
_SENT = re.compile(r"(?<=[。！？；!?;])")

PHRASES = ["要素保障", "高质量发展", "乡村振兴", "营商环境", "人类命运共同体", "供给侧结构性改革",
           "碳达峰", "粮食安全", "素保", "廉", "招商引资", "百分之"]
WORDS = ["要素 保障", "改革 创新 发展", "生态 环境 保护", "科技 人才", "教育 医疗 养老", "防范 化解 风险"]
FILTERED = ["高质量发展 year:2000..2010", "改革 year:2003", '"乡村振兴" -脱贫', "发展 type:讲话",
            "创新 year:1990..2000"]
SENTENCE = ["改革 开放", "项目 资金", "科技 创新", "人民 幸福", "经济 增长"]


# ---------------------------------------------------------------------------------------------
# child processes with their own peak RSS
# ---------------------------------------------------------------------------------------------

def child(phase: str, out: Path, *args: str, env: dict | None = None) -> dict:
    """Run `scale.py _phase PHASE ...` in a child; its JSON result plus wall time and peak RSS (MB)."""
    res = out / f".phase-{phase}-{os.getpid()}.json"
    res.unlink(missing_ok=True)
    t = time.perf_counter()
    proc = subprocess.Popen([sys.executable, __file__, "_phase", phase, str(res), *args], cwd=ROOT,
                            env={**os.environ, **(env or {})})
    _, status, ru = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - t
    if proc.returncode != 0 or not res.exists():
        raise SystemExit(f"phase {phase} {' '.join(args)} failed (exit {proc.returncode})")
    got = json.loads(res.read_text())
    res.unlink()
    got.update(wall_s=round(wall, 1), cpu_s=round(ru.ru_utime + ru.ru_stime, 1),
               peak_rss_mb=round(ru.ru_maxrss / 1024, 1))
    print(f"  {phase}: {json.dumps(got, ensure_ascii=False)}", flush=True)
    return got


def _settings(data: Path, **kw):
    from corpus.settings import Settings

    return Settings(data_dir=data, semantic=False, **kw)


def phase_ingest(res: Path, data: str, *paths: str) -> dict:
    from corpus.ingest import ingest_paths

    s = ingest_paths(_settings(Path(data)), [Path(p) for p in paths])
    return {"documents": s.documents_added, "paragraphs": s.paragraphs_added, "records": s.records,
            "duplicates": s.duplicates, "failed": len(s.failed), "seconds": round(s.seconds, 1),
            "failed_sample": [r for _p, r in s.failed[:3]]}


def phase_keyword(res: Path, data: str) -> dict:
    from indexer.keyword import build_index, dir_bytes

    settings = _settings(Path(data))
    rep = build_index(settings, rebuild=True)
    return {"seconds": round(rep.seconds, 1), "tokenize_s": round(rep.tokenize_seconds, 1),
            "paragraphs": rep.paragraphs_total, "index_mb": round(dir_bytes(settings.index_dir) / 1e6, 1),
            "store_mb": round(Path(settings.db_path).stat().st_size / 1e6, 1)}


def _pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))] if xs else float("nan")


def phase_search(res: Path, data: str) -> dict:
    from indexer.api import SearchRequest
    from indexer.search import search

    settings = _settings(Path(data))
    t = time.perf_counter()
    search(settings, SearchRequest(query="发展", per_page=10))  # loads the index and the document table
    first = time.perf_counter() - t
    out: dict = {"first_query_s": round(first, 2)}
    for name, qs, scope in (("phrase", PHRASES, "paragraph"), ("words", WORDS, "paragraph"),
                            ("filters", FILTERED, "paragraph"), ("sentence", SENTENCE, "sentence")):
        times, hits = [], 0
        for q in qs:
            search(settings, SearchRequest(query=q, scope=scope, per_page=10))  # warm this query's postings
            for _ in range(3):
                t = time.perf_counter()
                r = search(settings, SearchRequest(query=q, scope=scope, per_page=10))
                times.append((time.perf_counter() - t) * 1000)
            hits += r.total
        out[name] = {"p50_ms": round(_pct(times, 50), 1), "p95_ms": round(_pct(times, 95), 1), "hits": hits}
    return out


def phase_vectors(res: Path, windows: str) -> dict:
    import numpy as np

    n = int(windows)
    rng = np.random.default_rng(0)
    m = np.empty((n, DIM), dtype=np.float32)
    for i in range(0, n, 100_000):  # fill in slices: no float64 temporary of the whole matrix
        block = rng.standard_normal((min(100_000, n - i), DIM), dtype=np.float32)
        m[i:i + len(block)] = block / np.linalg.norm(block, axis=1, keepdims=True)
    q = m[0].copy()
    times = []
    for _ in range(7):
        t = time.perf_counter()
        s = m @ q
        np.argpartition(-s, 40)[:40]
        times.append((time.perf_counter() - t) * 1000)
    return {"windows": n, "matrix_mb": round(m.nbytes / 1e6, 1), "p50_ms": round(_pct(times, 50), 1),
            "p95_ms": round(_pct(times, 95), 1)}


def phase_embed(res: Path, data: str, *paths: str) -> dict:
    from corpus.ingest import ingest_paths
    from corpus.settings import Settings
    from corpus.store import Store
    from indexer.semantic import update_embeddings

    settings = Settings(data_dir=Path(data), semantic=True)
    ingest_paths(settings, [Path(p) for p in paths])
    store = Store(settings.db_path)
    try:
        fig = update_embeddings(settings, store)
    finally:
        store.close()
    return {k: fig[k] for k in ("embedded", "windows_embedded", "embed_seconds", "paragraphs_per_s", "variant")
            if k in fig} | {"variant": f"{fig.get('backend')}-{fig.get('precision')}"}


PHASES = {"ingest": phase_ingest, "keyword": phase_keyword, "search": phase_search, "vectors": phase_vectors,
          "embed": phase_embed}


# ---------------------------------------------------------------------------------------------
# the synthetic corpora
# ---------------------------------------------------------------------------------------------

def _real_documents(db: Path) -> list[dict]:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    docs = {r[0]: {"title": r[1], "doc_type": r[2], "paras": []}
            for r in con.execute("SELECT id, title, doc_type FROM documents ORDER BY id")}
    for doc_id, text in con.execute("SELECT doc_id, text FROM paragraphs ORDER BY doc_id, position"):
        docs[doc_id]["paras"].append(text)
    con.close()
    return [d for d in docs.values() if d["paras"]]


def _normal_len(text: str) -> int:
    return len(re.sub(r"[\s\W_]+", "", text))


def _rewrite(text: str, rng: random.Random, sentences: list[str]) -> str:
    """A paragraph of copy 1..: sentences rotated, a third of them (at least one) replaced."""
    if _normal_len(text) < 24:
        return text
    sents = [s for s in _SENT.split(text) if s]
    k = rng.randrange(len(sents))
    sents = sents[k:] + sents[:k]
    for i in rng.sample(range(len(sents)), max(1, len(sents) // 3)):
        sents[i] = rng.choice(sentences)
    if len(sents) == 1:  # one sentence: it was replaced; keep the paragraph's own words too
        sents.insert(0, text)
    return "".join(sents)


def generate(real: list[dict], copies: int, dest: Path, seed: int) -> dict:
    """Write `copies` copies of the corpus as JSONL files under dest; returns counts."""
    rng = random.Random(seed)
    passages = []  # (doc index, paragraphs)
    for i, d in enumerate(real):
        for a in range(0, len(d["paras"]), PASSAGE):
            passages.append((i, d["paras"][a:a + PASSAGE]))
    sentences = [s for d in real for p in d["paras"] if _normal_len(p) >= 24 for s in _SENT.split(p)
                 if _normal_len(s) >= 8]
    sizes = [len(d["paras"]) for d in real]
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    n_docs = n_paras = 0
    part, f = 0, None
    start_day = 3652  # 1980-01-01 as days since 1970
    for c in range(copies):
        order = list(range(len(passages)))
        rng.shuffle(order)
        templates = list(range(len(real)))
        rng.shuffle(templates)
        pos = off = 0  # the next passage, and how much of it earlier documents took
        for k, t in enumerate(templates):
            want, paras, first_doc = sizes[t], [], None
            while len(paras) < want and pos < len(order):
                di, ps = passages[order[pos]]
                take = ps[off:off + want - len(paras)]
                off += len(take)
                if off >= len(ps):
                    pos, off = pos + 1, 0
                first_doc = di if first_doc is None else first_doc
                paras.extend(take)
            if not paras:
                break
            if c:
                paras = [_rewrite(p, rng, sentences) for p in paras]
            src = real[first_doc]
            day = start_day + rng.randrange(46 * 365)
            date = time.strftime("%Y-%m-%d", time.gmtime(day * 86400))
            rec = {"title": f"{src['title'][:60]}（汇编{c + 1}-{k + 1}）", "date": date,
                   "doc_type": src["doc_type"] or "", "site": f"synthetic-{c + 1}",
                   "text": "\n\n".join(paras)}
            if f is None or n_docs % 2000 == 0:
                if f:
                    f.close()
                part += 1
                f = (dest / f"part-{part:04d}.jsonl").open("w", encoding="utf-8")
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")
            n_docs += 1
            n_paras += len(paras)
    if f:
        f.close()
    return {"documents": n_docs, "paragraphs": n_paras, "bytes": sum(p.stat().st_size for p in dest.iterdir())}


def cmd_prepare(out: Path, sizes: list[int], seed: int) -> None:
    out.mkdir(parents=True, exist_ok=True)
    results = _load(out)
    if not SHARED_TEXT.exists():
        sys.exit(f"{SHARED_TEXT} not found: the scale bench needs ../shared/data/text")
    real_dir = out / "real"
    if not (real_dir / "corpus.sqlite3").exists() or "real" not in results:
        shutil.rmtree(real_dir, ignore_errors=True)
        print("ingest of the real corpus (the pool and the 'real' row)", flush=True)
        results["real"] = {"ingest": child("ingest", out, str(real_dir), str(SHARED_TEXT))}
        _save(out, results)
    real = _real_documents(real_dir / "corpus.sqlite3")
    print(f"real corpus: {len(real)} documents, {sum(len(d['paras']) for d in real)} paragraphs", flush=True)
    for n in sizes:
        t = time.perf_counter()
        g = generate(real, n, out / f"synth-{n}x", seed)
        g["seconds"] = round(time.perf_counter() - t, 1)
        results.setdefault(f"{n}x", {})["generated"] = g
        print(f"  {n}x: {g}", flush=True)
        _save(out, results)
    # the embedding sample: the first 60 synthetic documents of copy 1 (real paragraphs)
    sample = out / "embed-sample"
    shutil.rmtree(sample, ignore_errors=True)
    sample.mkdir()
    with (out / "synth-1x" / "part-0001.jsonl").open(encoding="utf-8") as src, \
            (sample / "sample.jsonl").open("w", encoding="utf-8") as dst:
        for i, line in enumerate(src):
            if i >= 60:
                break
            dst.write(line)


def _dedup_check(data: Path) -> dict:
    con = sqlite3.connect(f"file:{data / 'corpus.sqlite3'}?mode=ro", uri=True)
    docs = con.execute("SELECT count(*) FROM documents").fetchone()[0]
    paras = con.execute("SELECT count(*) FROM paragraphs").fetchone()[0]
    grouped = con.execute("SELECT count(*) FROM paragraphs WHERE cluster_id IS NOT NULL AND cluster_id != id")\
        .fetchone()[0]
    dgrouped = con.execute("SELECT count(*) FROM documents WHERE cluster_id IS NOT NULL AND cluster_id != id")\
        .fetchone()[0]
    con.close()
    return {"documents": docs, "paragraphs": paras, "paragraphs_grouped_share": round(grouped / max(paras, 1), 4),
            "documents_grouped": dgrouped}


def _web(data: Path, clients: int = 4, seconds: int = 30) -> dict:
    env = {**os.environ, "CORPUS_SEMANTIC": "0"}
    t = time.perf_counter()
    p = subprocess.run([sys.executable, str(ROOT / "bench" / "load.py"), "--data", str(data), "--clients",
                        str(clients), "--seconds", str(seconds)],
                       capture_output=True, text=True, env=env, cwd=ROOT)
    out = {"clients": clients, "seconds": seconds, "exit": p.returncode, "wall_s": round(time.perf_counter() - t, 1)}
    for line in p.stdout.splitlines():
        m = re.match(r"(searches|all)\s+n\s+(\d+)\s+p50\s+([\d.]+)\s+p95\s+([\d.]+)", line)
        if m:
            out[m.group(1)] = {"n": int(m.group(2)), "p50_ms": float(m.group(3)), "p95_ms": float(m.group(4))}
        m = re.match(r"requests: (\d+).*requests/s: ([\d.]+)", line)
        if m:
            out["requests_per_s"] = float(m.group(2))
        m = re.match(r"errors: (\d+)", line)
        if m:
            out["errors"] = int(m.group(1))
    if "searches" not in out:
        out["output_tail"] = (p.stdout + p.stderr)[-800:]
    print(f"  web: {json.dumps(out, ensure_ascii=False)}", flush=True)
    return out


def cmd_run(out: Path, n: int, phases: list[str]) -> None:
    results = _load(out)
    key = f"{n}x"
    r = results.setdefault(key, {})
    data = out / f"data-{n}x"
    print(f"== {key} ({time.strftime('%H:%M:%S')}, load {os.getloadavg()[0]:.1f}) ==", flush=True)
    if "ingest" in phases:
        shutil.rmtree(data, ignore_errors=True)
        r["ingest"] = child("ingest", out, str(data), str(out / f"synth-{n}x"))
        r["dedup"] = _dedup_check(data)
        print(f"  dedup: {r['dedup']}", flush=True)
        _save(out, results)
    if "keyword" in phases:
        r["keyword"] = child("keyword", out, str(data))
        _save(out, results)
    if "search" in phases:
        r["search"] = child("search", out, str(data))
        _save(out, results)
    if "web" in phases:
        r["web"] = _web(data)
        _save(out, results)
    if "vectors" in phases:
        emb = results.get("embed") or {}
        ratio = emb.get("windows_embedded", 1) / max(emb.get("embedded", 1), 1)
        paras = (r.get("dedup") or {}).get("paragraphs") or r.get("generated", {}).get("paragraphs", 0)
        r["vectors"] = child("vectors", out, str(int(paras * ratio)))
        _save(out, results)
    r["load_after"] = round(os.getloadavg()[0], 1)
    _save(out, results)


def cmd_embed(out: Path) -> None:
    results = _load(out)
    data = out / "data-embed-sample"
    shutil.rmtree(data, ignore_errors=True)
    print(f"== embedding sample ({time.strftime('%H:%M:%S')}, load {os.getloadavg()[0]:.1f}) ==", flush=True)
    results["embed"] = child("embed", out, str(data), str(out / "embed-sample"))
    _save(out, results)


def _load(out: Path) -> dict:
    p = out / "results.json"
    return json.loads(p.read_text()) if p.exists() else {}


def _save(out: Path, results: dict) -> None:
    p = out / "results.json"
    tmp = p.with_suffix(".tmp")
    tmp.write_text(json.dumps(results, ensure_ascii=False, indent=1))
    os.replace(tmp, p)


# ---------------------------------------------------------------------------------------------
# the table
# ---------------------------------------------------------------------------------------------

MACHINE_GB = 24.0
USABLE_GB = 20.0  # what one process may take on a 24 GB machine beside the OS, the page cache and a server
ROWS = [  # (label, path into a size's results, unit, limit kind)
    ("paragraphs", ("dedup", "paragraphs"), "", None),
    ("ingest time", ("ingest", "wall_s"), "s", "hours"),
    ("ingest CPU time", ("ingest", "cpu_s"), "s", "hours"),
    ("ingest peak RSS", ("ingest", "peak_rss_mb"), "MB", "ram"),
    ("store size (SQLite)", ("keyword", "store_mb"), "MB", "disk"),
    ("keyword build time", ("keyword", "seconds"), "s", "hours"),
    ("keyword build CPU time", ("keyword", "cpu_s"), "s", "hours"),
    ("keyword build peak RSS", ("keyword", "peak_rss_mb"), "MB", "ram"),
    ("keyword index size", ("keyword", "index_mb"), "MB", "disk"),
    ("search: first query (load)", ("search", "first_query_s"), "s", None),
    ("search process peak RSS", ("search", "peak_rss_mb"), "MB", "ram"),
    ("search phrase p50", ("search", "phrase", "p50_ms"), "ms", None),
    ("search phrase p95", ("search", "phrase", "p95_ms"), "ms", "latency"),
    ("search words p95", ("search", "words", "p95_ms"), "ms", "latency"),
    ("search filters p95", ("search", "filters", "p95_ms"), "ms", "latency"),
    ("search 同句 p95", ("search", "sentence", "p95_ms"), "ms", "latency"),
    ("web search p95, 4 clients", ("web", "searches", "p95_ms"), "ms", "latency"),
    ("web requests/s, 4 clients", ("web", "requests_per_s"), "/s", None),
    ("vectors (windows x 384 fp32)", ("vectors", "matrix_mb"), "MB", "ram"),
    ("exact vector query p95", ("vectors", "p95_ms"), "ms", "latency"),
]
LIMITS = {"ram": f"peak RSS reaches {USABLE_GB:.0f} GB of the {MACHINE_GB:.0f} GB",
          "hours": "one full run takes longer than 24 h", "latency": "p95 passes 1 s",
          "disk": "more than 1 TB (a large local disk)"}


def _get(d: dict, path: tuple) -> float | None:
    for k in path:
        if not isinstance(d, dict) or k not in d:
            return None
        d = d[k]
    return d if isinstance(d, (int, float)) else None


def _ceiling(kind: str, sizes: list[int], values: list[float], base_paras: float) -> str:
    """Paragraphs at which a cost fitted as a*size^b (from the smallest to the largest size) hits its limit."""
    if kind is None or len(values) < 2 or min(values) <= 0:
        return ""
    s0, s1, v0, v1 = sizes[0], sizes[-1], values[0], values[-1]
    b = math.log(v1 / v0) / math.log(s1 / s0) if v1 != v0 else 0.0
    limit = {"ram": USABLE_GB * 1024, "hours": 24 * 3600, "latency": 1000.0, "disk": 1e6}[kind]
    if b <= 0.05:
        return "flat"
    x = s0 * (limit / v0) ** (1 / b)
    return f"{x * base_paras / 1e6:,.1f} M paragraphs"


def cmd_table(out: Path) -> None:
    results = _load(out)
    sizes = sorted(int(k[:-1]) for k in results if re.fullmatch(r"\d+x", k) and "keyword" in results[k])
    if not sizes:
        sys.exit(f"no measured sizes in {out / 'results.json'}: run `bench/scale.py run --size N` first")
    base = _get(results[f"{sizes[0]}x"], ("dedup", "paragraphs")) or 1
    base_paras = base / sizes[0]
    print(f"scale bench ({out}): sizes {', '.join(f'{s}x' for s in sizes)} of ../shared/data/text; "
          "every run on this shared 2-core machine (load shown per size)")
    head = f"{'part':<30}" + "".join(f"{str(s) + 'x':>12}" for s in sizes) + f"{'growth b':>10}  24 GB machine ends at"
    print(head)
    print("-" * len(head))
    for label, path, unit, kind in ROWS:
        vals = [_get(results[f"{s}x"], path) for s in sizes]
        if all(v is None for v in vals):
            continue  # not measured by the runs in this results file (e.g. CPU time before it was recorded)
        cells = "".join(f"{(f'{v:,.1f}' if isinstance(v, float) else f'{v:,}') if v is not None else '-':>12}"
                        for v in vals)
        ok = [(s, v) for s, v in zip(sizes, vals, strict=True) if v is not None]
        b = ""
        if len(ok) >= 2 and ok[0][1] > 0 and ok[-1][1] > 0:
            b = f"{math.log(ok[-1][1] / ok[0][1]) / math.log(ok[-1][0] / ok[0][0]):.2f}"
        ceil = _ceiling(kind, [s for s, _ in ok], [v for _, v in ok], base_paras) if kind else ""
        print(f"{label + (f' ({unit})' if unit else ''):<30}{cells}{b:>10}  {ceil}")
    loads = [results[f"{s}x"].get("load_after") for s in sizes]
    print(f"{'load average after the run':<30}" + "".join(f"{v if v is not None else '-':>12}" for v in loads))
    for s in sizes:
        d, g = results[f"{s}x"].get("dedup", {}), results[f"{s}x"].get("generated", {})
        print(f"  {s}x: generated {g.get('documents')} documents / {g.get('paragraphs')} paragraphs; stored "
              f"{d.get('documents')} / {d.get('paragraphs')} (duplicates "
              f"{results[f'{s}x'].get('ingest', {}).get('duplicates')}); paragraphs grouped with an earlier one "
              f"{100 * d.get('paragraphs_grouped_share', 0):.1f}%")
    emb = results.get("embed")
    if emb:
        rate = emb.get("paragraphs_per_s") or 0
        ratio = emb.get("windows_embedded", 0) / max(emb.get("embedded", 1), 1)
        print(f"embedding ({emb.get('variant')}), measured on {emb.get('embedded')} paragraphs "
              f"({emb.get('windows_embedded')} windows) of the 1x corpus: {rate} paragraphs/s "
              f"(peak RSS {emb.get('peak_rss_mb')} MB, the model loaded); extrapolated, linear in windows:")
        for s in sizes:
            p = _get(results[f"{s}x"], ("dedup", "paragraphs")) or 0
            if rate:
                print(f"  {s}x: {p:,} paragraphs, ~{int(p * ratio):,} windows: {p / rate / 3600:.1f} h on this machine")
        if rate:
            print(f"  a full embedding takes more than 24 h past {rate * 86400 / 1e6:.1f} M paragraphs "
                  f"(100 M paragraphs: {1e8 / rate / 86400:.0f} days)")
    print("limits: " + "; ".join(f"{k}: {v}" for k, v in LIMITS.items()))
    real = results.get("real", {}).get("ingest")
    if real:
        print(f"real corpus as it is: {real.get('documents')} documents, {real.get('paragraphs')} paragraphs, "
              f"ingest {real.get('wall_s')} s, peak RSS {real.get('peak_rss_mb')} MB")


def main(argv: list[str]) -> None:
    if argv[:1] == ["_phase"]:
        phase, res, *args = argv[1:]
        got = PHASES[phase](Path(res), *args)
        Path(res).write_text(json.dumps(got, ensure_ascii=False))
        return
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("command", choices=("prepare", "run", "embed", "table", "all"))
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--sizes", type=int, nargs="+", default=[10, 1, 3])
    ap.add_argument("--size", type=int, help="the size for `run`")
    ap.add_argument("--phases", nargs="+", default=["ingest", "keyword", "search", "web", "vectors"])
    ap.add_argument("--seed", type=int, default=17)
    args = ap.parse_args(argv)
    out = args.out.resolve()
    if str(out).startswith(str(ROOT)):
        sys.exit(f"--out {out} is inside the repository: write synthetic data elsewhere (default {DEFAULT_OUT})")
    if args.command in ("prepare", "all"):
        cmd_prepare(out, sorted(set(args.sizes)), args.seed)
    if args.command in ("embed", "all"):
        cmd_embed(out)
    if args.command == "run":
        if not args.size:
            sys.exit("run needs --size N")
        cmd_run(out, args.size, args.phases)
    if args.command == "all":
        for n in args.sizes:
            cmd_run(out, n, args.phases)
    if args.command in ("table", "all"):
        cmd_table(out)


if __name__ == "__main__":
    main(sys.argv[1:])
