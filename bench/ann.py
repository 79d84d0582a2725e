"""Approximate nearest neighbours for the embedding index: HNSW and IVF libraries against exact dot product.

    nice .venv/bin/python bench/ann.py --real /tmp/corpus-eval/vectors/vectors-1.npy [--n 1000000]
        [--libs usearch-f16 faiss faissivf hnswlib] [--queries 500] [--out /tmp/corpus-ann] [--reuse] [--noise auto]
    (faiss and faissivf need `pip install faiss-cpu==1.15.1`, hnswlib `pip install hnswlib`: not in any extra)
    (environment: ANN_M=32 links per node instead of 16, ANN_EF_CONSTRUCTION=64 instead of 128,
    ANN_EFS="64 256" the search breadths measured, ANN_BUILD_THREADS=1, ANN_KEEP=1 keeps the index file)

The vectors: the real e5 window vectors of an existing embedding index (--real, an .npy of
L2-normalised float32 rows, or a data directory whose vectors/ holds one), minus --queries of them held
out as queries, plus synthetic ones up to --n made from the real ones so their distribution is
realistic: each is a random convex mix of two real vectors (weight 0.55-1 on the first) plus Gaussian
noise, so they lie around the real ones' cone (e5 vectors are far from isotropic: random pairs have
cosine ~0.75-0.9) instead of spreading over the sphere as random vectors would. The noise is calibrated
(--noise auto, the default): the norm at which as many synthetic vectors as there are real ones have
the real ones' mean top-1 neighbour cosine, so the synthetic set is as clumpy as the real one at equal
count. Isotropic noise adds 384 independent dimensions a real embedding does not have, so too much of it
makes a set harder than real vectors for every graph index: --noise 0.35 (the first runs' fixed
value: top-1 neighbour cosine 0.89 among 50,000 synthetic vs 0.96 among 8,000 real) is kept as the
stress case. The figures printed first compare the two populations (random-pair cosine, top-1
neighbour cosine at equal count) so the reader can judge.
The queries are the held-out real vectors (never in the index). Ground truth: exact top-10 by inner
product over all --n vectors, as the exact path computes it.

Each library runs in its own child process (its peak RSS is its own): build with all cores (HNSW,
M=16, ef_construction=128 unless ANN_EF_CONSTRUCTION says otherwise, inner product; usearch-f16 stores
the vectors as float16, usearch-f32 as float32), size on disk, load time, then for each ef: recall@10
against exact, p50/p95 of one query at a time on one thread (as a search request runs). Also an
incremental check: 1% of the vectors removed and re-added, recall measured again.
Asserts nothing; prints the table (and writes it to OUT/ann-table.txt).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
M = int(os.environ.get("ANN_M", "16"))
EF_CONSTRUCTION = int(os.environ.get("ANN_EF_CONSTRUCTION", "128"))
# usearch's build threads (default all cores; on an oversubscribed machine 1 can be faster: its
# threads wait on each other's node locks while the scheduler runs other work)
BUILD_THREADS = int(os.environ.get("ANN_BUILD_THREADS", "0")) or (os.cpu_count() or 1)
EFS = tuple(int(x) for x in os.environ.get("ANN_EFS", "16 32 64 128 256").split())
POOLS = (74, 256)  # re-scored candidates: 74 is what the app asks for a first page of 10 (max(4k, k + 64))
POOL = POOLS[0]  # candidates the search asks for a first page of 10 (max(4k, k + 64)): what the app's recall is
K = 10


def _pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def _unit(a: np.ndarray) -> np.ndarray:
    return a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)


def find_real(path: Path) -> Path:
    if path.is_file():
        return path
    for cand in sorted((path / "vectors").glob("vectors-*.npy")) + sorted(path.glob("vectors-*.npy")):
        return cand
    sys.exit(f"no vectors-*.npy under {path}: point --real at an embedding index's vectors file")


def _mix(base: np.ndarray, m: int, noise: float, rng) -> np.ndarray:
    a = base[rng.integers(0, len(base), m)]
    b = base[rng.integers(0, len(base), m)]
    w = rng.uniform(0.55, 1.0, (m, 1)).astype(np.float32)
    eps = rng.standard_normal((m, base.shape[1]), dtype=np.float32) * (noise / np.sqrt(base.shape[1]))
    return _unit(w * a + (1 - w) * b + eps)


def _top1(x: np.ndarray, rng, n: int = 300) -> float:
    """Mean cosine of a vector's nearest other vector in x (identical copies excluded)."""
    s = rng.choice(len(x), min(n, len(x)), replace=False)
    sims = x[s] @ x.T
    sims[sims > 0.9999] = -1
    return float(np.mean(sims.max(axis=1)))


def calibrate_noise(base: np.ndarray, rng) -> tuple[float, float, float]:
    """(noise, synthetic top-1 cosine at that noise, real top-1 cosine): the noise norm at which
    len(base) synthetic vectors have the real ones' mean top-1 neighbour cosine."""
    target = _top1(base, rng)
    best = None
    for noise in (0.02, 0.05, 0.08, 0.1, 0.12, 0.15, 0.2, 0.25, 0.3, 0.35):
        got = _top1(_mix(base, len(base), noise, rng), rng)
        if best is None or abs(got - target) < abs(best[1] - target):
            best = (noise, got)
    return best[0], best[1], target


def make_dataset(real_path: Path, n: int, n_queries: int, out: Path, seed: int, noise: str = "auto") -> dict:
    rng = np.random.default_rng(seed)
    real = np.load(real_path).astype(np.float32)
    real = real[np.linalg.norm(real, axis=1) > 0.5]
    perm = rng.permutation(len(real))
    queries, base = real[perm[:n_queries]], real[perm[n_queries:]]
    if noise == "auto":
        sigma, syn_eq, real_eq = calibrate_noise(base, rng)
    else:
        sigma = float(noise)
        real_eq, syn_eq = _top1(base, rng), _top1(_mix(base, len(base), sigma, rng), rng)
    data = np.lib.format.open_memmap(out / "base.npy", mode="w+", dtype=np.float32, shape=(n, base.shape[1]))
    data[:len(base)] = base
    i = len(base)
    while i < n:
        m = min(200_000, n - i)
        data[i:i + m] = _mix(base, m, sigma, rng)
        i += m
    data.flush()
    np.save(out / "queries.npy", queries)

    def stats(x: np.ndarray) -> tuple[float, float]:
        s = rng.choice(len(x), 2000, replace=False)
        pair = float(np.mean(np.sum(x[s[:1000]] * x[s[1000:]], axis=1)))
        return pair, _top1(x, rng)

    real_pair, real_nn = stats(base)
    syn = np.asarray(data[len(base):len(base) + 50_000])
    syn_pair, syn_nn = stats(syn)
    return {"real": len(base), "synthetic": n - len(base), "queries": n_queries, "dim": int(base.shape[1]),
            "real_pair_cos": round(real_pair, 3), "real_top1_cos": round(real_nn, 3),
            "synthetic_pair_cos": round(syn_pair, 3), "synthetic_top1_cos_in_50k": round(syn_nn, 3),
            "real_top1_cos_in_base": round(real_nn, 3), "noise": sigma,
            "equal_count_top1_cos_real": round(real_eq, 3), "equal_count_top1_cos_synthetic": round(syn_eq, 3)}


def ground_truth(out: Path) -> dict:
    base = np.load(out / "base.npy", mmap_mode="r")
    q = np.load(out / "queries.npy")
    top = np.zeros((len(q), K), dtype=np.int64)
    step = 100_000
    best_s = np.full((len(q), K), -np.inf, dtype=np.float32)
    for i in range(0, len(base), step):
        s = q @ np.asarray(base[i:i + step]).T
        cand = np.argpartition(-s, K - 1, axis=1)[:, :K]
        cs = np.take_along_axis(s, cand, axis=1)
        allc = np.concatenate([top, cand + i], axis=1)
        alls = np.concatenate([best_s, cs], axis=1)
        o = np.argsort(-alls, axis=1)[:, :K]
        top, best_s = np.take_along_axis(allc, o, axis=1), np.take_along_axis(alls, o, axis=1)
    np.save(out / "truth.npy", top)
    mat = np.asarray(base)  # exact, one query at a time, as the exact path does (matrix in RAM)
    times = []
    for v in q[:50]:
        t = time.perf_counter()
        s = mat @ v
        np.argpartition(-s, 4 * K)[:4 * K]
        times.append((time.perf_counter() - t) * 1000)
    return {"exact_p50_ms": round(_pct(times, 50), 1), "exact_p95_ms": round(_pct(times, 95), 1),
            "matrix_mb": round(mat.nbytes / 1e6)}


# ---------------------------------------------------------------------------------------------
# the libraries (each in a child)
# ---------------------------------------------------------------------------------------------

class _Usearch:
    def __init__(self, dim, dtype="f32"):
        from usearch.index import Index

        self.Index, self.dtype, self.dim = Index, dtype, dim
        self.ix = Index(ndim=dim, metric="ip", dtype=dtype, connectivity=M, expansion_add=EF_CONSTRUCTION)

    def add(self, keys, vecs):
        self.ix.add(keys, vecs, threads=BUILD_THREADS)

    def remove(self, keys):
        self.ix.remove(keys)

    def set_ef(self, ef):
        self.ix.expansion_search = ef

    def search(self, v, k):
        return self.ix.search(v, k, threads=1).keys

    def save(self, path):
        self.ix.save(str(path))

    def load(self, path):
        self.ix = self.Index.restore(str(path), view=True)


class _Faiss:
    def __init__(self, dim):
        import faiss

        self.faiss = faiss
        faiss.omp_set_num_threads(os.cpu_count() or 1)
        self.ix = faiss.IndexIDMap2(faiss.IndexHNSWFlat(dim, M, faiss.METRIC_INNER_PRODUCT))
        faiss.downcast_index(self.ix.index).hnsw.efConstruction = EF_CONSTRUCTION

    def add(self, keys, vecs):
        self.faiss.omp_set_num_threads(os.cpu_count() or 1)
        self.ix.add_with_ids(np.ascontiguousarray(vecs), keys.astype(np.int64))

    def remove(self, keys):
        return None  # HNSW in faiss cannot remove (remove_ids raises for IndexHNSW)

    def set_ef(self, ef):
        self.faiss.omp_set_num_threads(1)
        self.faiss.downcast_index(self.ix.index).hnsw.efSearch = ef

    def search(self, v, k):
        return self.ix.search(v.reshape(1, -1), k)[1][0]

    def save(self, path):
        self.faiss.write_index(self.ix, str(path))

    def load(self, path):
        self.ix = self.faiss.read_index(str(path), self.faiss.IO_FLAG_MMAP)


class _FaissIVF:
    """faiss IVF-Flat (inverted lists over k-means cells, vectors kept exact): the partition kind
    of index, for data where HNSW's graph links are used up inside dense clumps. The breadth is the
    number of cells probed: ef / 8 (ef 256 probes 32 of sqrt(n) * 4 cells)."""

    def __init__(self, dim, n):
        import faiss

        self.faiss, self.dim = faiss, dim
        faiss.omp_set_num_threads(BUILD_THREADS)
        self.nlist = max(16, int(4 * np.sqrt(max(n, 1))))
        self.ix = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, self.nlist, faiss.METRIC_INNER_PRODUCT)

    def add(self, keys, vecs):
        if not self.ix.is_trained:  # k-means on the first batch (at most 100,000 vectors: 25 per cell and more)
            self.ix.train(np.ascontiguousarray(vecs[:max(100_000, 40 * self.nlist)]))
        self.ix.add_with_ids(np.ascontiguousarray(vecs), keys.astype(np.int64))

    def remove(self, keys):
        self.ix.remove_ids(self.faiss.IDSelectorArray(keys.astype(np.int64)))

    def set_ef(self, ef):
        self.faiss.omp_set_num_threads(1)
        self.ix.nprobe = max(1, ef // 8)

    def search(self, v, k):
        return self.ix.search(v.reshape(1, -1), k)[1][0]

    def save(self, path):
        self.faiss.write_index(self.ix, str(path))

    def load(self, path):
        self.ix = self.faiss.read_index(str(path))


class _Hnswlib:
    def __init__(self, dim, n=0):
        import hnswlib

        self.hnswlib, self.dim = hnswlib, dim
        self.ix = hnswlib.Index(space="ip", dim=dim)
        self.ix.init_index(max_elements=n, ef_construction=EF_CONSTRUCTION, M=M, allow_replace_deleted=True)

    def add(self, keys, vecs):
        self.ix.add_items(vecs, keys, num_threads=os.cpu_count() or 1, replace_deleted=True)

    def remove(self, keys):
        for k in keys:
            self.ix.mark_deleted(int(k))

    def set_ef(self, ef):
        self.ix.set_ef(ef)
        self.ix.set_num_threads(1)

    def search(self, v, k):
        return self.ix.knn_query(v, k=k)[0][0]

    def save(self, path):
        self.ix.save_index(str(path))

    def load(self, path):
        n = self.ix.get_max_elements()
        self.ix = self.hnswlib.Index(space="ip", dim=self.dim)
        self.ix.load_index(str(path), max_elements=n, allow_replace_deleted=True)


def _rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def run_lib(lib: str, out: Path) -> dict:
    base = np.load(out / "base.npy", mmap_mode="r")
    q = np.load(out / "queries.npy")
    truth = np.load(out / "truth.npy")
    n, dim = base.shape
    # recall with ties counted right: the real vectors repeat (identical windows embed identically), so a
    # returned vector counts when its exact score reaches the exact 10th best score
    kth_score = np.array([float(np.min(np.asarray(base[np.sort(tr)]) @ v)) for v, tr in zip(q, truth, strict=True)])

    def _hits(got, v, kth) -> int:
        got = np.asarray(got).astype(np.int64)
        got = np.unique(got[(got >= 0) & (got < n)])
        return int(np.sum(np.asarray(base[got]) @ v >= kth - 1e-6)) if len(got) else 0

    name, _, dtype = lib.partition("-")
    make = {"usearch": lambda: _Usearch(dim, dtype or "f32"), "faiss": lambda: _Faiss(dim), "faissivf": lambda: _FaissIVF(dim, n),
            "hnswlib": lambda: _Hnswlib(dim, n)}[name]
    ix = make()
    rss0 = _rss_mb()
    t = time.perf_counter()
    step = 100_000
    for i in range(0, n, step):
        ix.add(np.arange(i, min(n, i + step), dtype=np.uint64 if name == "usearch" else np.int64),
               np.ascontiguousarray(base[i:i + step]))
        print(f"    {lib}: {min(n, i + step):,} added in {time.perf_counter() - t:.0f} s", flush=True)
    build = time.perf_counter() - t
    rss_built = _rss_mb()
    path = out / f"index-{lib}.bin"
    ix.save(path)
    size_mb = path.stat().st_size / 1e6
    del ix
    ix = make()
    t = time.perf_counter()
    ix.load(path)
    load_s = time.perf_counter() - t

    def measure() -> list[dict]:
        rows = []
        for ef in EFS:
            ix.set_ef(ef)
            for v in q[:20]:
                ix.search(v, K)  # warm the pages this ef touches
            times, hit = [], 0
            for v, kth in zip(q, kth_score, strict=True):
                t0 = time.perf_counter()
                got = ix.search(v, K)
                times.append((time.perf_counter() - t0) * 1000)
                hit += _hits(got, v, kth)
            row = {"ef": ef, "recall": round(hit / (K * len(q)), 4), "p50_ms": round(_pct(times, 50), 2),
                   "p95_ms": round(_pct(times, 95), 2)}
            for pool in POOLS:  # the exact top 10 among `pool` candidates re-scored exactly, as the app does
                ix.set_ef(max(ef, pool))
                pool_hit = sum(min(K, _hits(ix.search(v, pool), v, kth)) for v, kth in zip(q, kth_score, strict=True))
                row[f"recall_in_{pool}"] = round(pool_hit / (K * len(q)), 4)
            rows.append(row)
        return rows

    rows = measure()
    res = {"lib": lib, "n": n, "build_s": round(build, 1), "build_per_s": round(n / build),
           "rss_after_build_mb": round(rss_built - rss0), "file_mb": round(size_mb), "load_s": round(load_s, 2),
           "rss_after_load_and_queries_mb": round(_rss_mb()), "efs": rows}
    # incremental: remove 1% and add them back (the update path), then measure recall at the last good ef
    if name != "faiss":
        ix = make()
        if name == "usearch":  # a viewed (memory-mapped) index is read-only: load a writable copy
            ix.ix = ix.Index.restore(str(path), view=False)
        else:
            ix.load(path)
        rng = np.random.default_rng(1)
        keys = rng.choice(n, n // 100, replace=False).astype(np.uint64 if name == "usearch" else np.int64)
        t = time.perf_counter()
        ix.remove(keys)
        ix.add(keys, np.ascontiguousarray(base[keys.astype(np.int64)]))
        res["incremental_1pct_s"] = round(time.perf_counter() - t, 1)
        ef = next((r["ef"] for r in rows if r["recall"] >= 0.99), EFS[-1])
        ix.set_ef(ef)
        hit = sum(_hits(ix.search(v, K), v, kth) for v, kth in zip(q, kth_score, strict=True))
        res["incremental_recall_at_ef"] = {"ef": ef, "recall": round(hit / (K * len(q)), 4)}
    else:
        res["incremental_1pct_s"] = None  # faiss HNSW cannot remove ids: an update rebuilds
    if not os.environ.get("ANN_KEEP"):  # ANN_KEEP=1 keeps the built index file in --out
        path.unlink(missing_ok=True)
    return res


def child(lib: str, out: Path) -> dict:
    res = out / f"res-{lib}.json"
    res.unlink(missing_ok=True)
    proc = subprocess.Popen([sys.executable, __file__, "_lib", lib, str(out)])
    _, status, ru = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0 or not res.exists():
        return {"lib": lib, "error": f"exit {os.waitstatus_to_exitcode(status)}"}
    got = json.loads(res.read_text())
    got["peak_rss_mb"] = round(ru.ru_maxrss / 1024)
    return got


def table(info: dict, exact: dict, results: list[dict]) -> str:
    lines = [f"vectors: {info['real']:,} real + {info['synthetic']:,} synthetic = "
             f"{info['real'] + info['synthetic']:,} x {info['dim']}; {info['queries']} held-out real queries; "
             f"load {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores",
             f"realism: random-pair cosine real {info['real_pair_cos']} / synthetic {info['synthetic_pair_cos']}; "
             f"top-1 neighbour cosine real (in {info['real']:,}) {info['real_top1_cos_in_base']} / synthetic "
             f"(in 50k) {info['synthetic_top1_cos_in_50k']}; at equal count real {info.get('equal_count_top1_cos_real')} "
             f"/ synthetic {info.get('equal_count_top1_cos_synthetic')} (noise {info.get('noise', 0.35)})",
             f"exact dot product (one query, matrix {exact['matrix_mb']} MB in RAM): p50 {exact['exact_p50_ms']} ms, "
             f"p95 {exact['exact_p95_ms']} ms",
             f"HNSW M={M} ef_construction={EF_CONSTRUCTION}, inner product (faissivf: IVF-Flat, 4 sqrt(n) cells, ef / 8 "
             "of them probed); build on all cores, queries one at a time on one thread",
             f"{'library':<14}{'build s':>9}{'add/s':>8}{'file MB':>9}{'peak RSS MB':>12}{'load s':>8}  "
             f"ef: recall@10 (exact top 10 among {POOL} / {POOLS[-1]} candidates re-scored exactly; {POOL} is what a first "
             "page asks for) p50/p95 ms"]
    for r in results:
        if "error" in r:
            lines.append(f"{r['lib']:<14} failed: {r['error']}")
            continue
        efs = "  ".join(f"{e['ef']}: {e['recall']:.3f} ("
                        + ", ".join(f"{e[f'recall_in_{p}']:.3f} in {p}" for p in POOLS if f"recall_in_{p}" in e)
                        + f") {e['p50_ms']}/{e['p95_ms']}" for e in r["efs"])
        lines.append(f"{r['lib']:<14}{r['build_s']:>9}{r['build_per_s']:>8}{r['file_mb']:>9}{r['peak_rss_mb']:>12}"
                     f"{r['load_s']:>8}  {efs}")
        inc = r.get("incremental_recall_at_ef")
        lines.append(f"{'':<14}incremental (1% removed and re-added): "
                     + (f"{r['incremental_1pct_s']} s, recall@10 {inc['recall']} at ef {inc['ef']}" if inc
                        else "not supported (HNSW ids cannot be removed): an update rebuilds"))
    return "\n".join(lines)


def main(argv: list[str]) -> None:
    if argv[:1] == ["_lib"]:
        out = Path(argv[2])
        (out / f"res-{argv[1]}.json").write_text(json.dumps(run_lib(argv[1], out)))
        return
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--real", type=Path, required=True, help="vectors-G.npy of an embedding index, or its data dir")
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--queries", type=int, default=500)
    ap.add_argument("--libs", nargs="+", default=["usearch", "faiss"])
    ap.add_argument("--out", type=Path, default=Path("/tmp/corpus-ann"))
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--noise", default="auto",
                    help="noise norm of the synthetic vectors: auto (calibrated, see above) or a number (0.35: stress)")
    ap.add_argument("--reuse", action="store_true", help="reuse the dataset and ground truth already in --out")
    args = ap.parse_args(argv)
    out = args.out.resolve()
    if str(out).startswith(str(ROOT)):
        sys.exit(f"--out {out} is inside the repository: use a folder outside it")
    out.mkdir(parents=True, exist_ok=True)
    if args.reuse and (out / "info.json").exists():
        info, exact = json.loads((out / "info.json").read_text()), json.loads((out / "exact.json").read_text())
    else:
        t = time.perf_counter()
        info = make_dataset(find_real(args.real), args.n, args.queries, out, args.seed, args.noise)
        print(f"dataset in {time.perf_counter() - t:.0f} s: {info}", flush=True)
        t = time.perf_counter()
        exact = ground_truth(out)
        print(f"ground truth in {time.perf_counter() - t:.0f} s: {exact}", flush=True)
        (out / "info.json").write_text(json.dumps(info))
        (out / "exact.json").write_text(json.dumps(exact))
    results = []
    for lib in args.libs:
        print(f"  {lib} ...", flush=True)
        results.append(child(lib, out))
        print(f"  {json.dumps(results[-1])}", flush=True)
    text = table(info, exact, results)
    (out / "ann-table.txt").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main(sys.argv[1:])
