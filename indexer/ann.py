"""Approximate nearest neighbours over the embedding index's window vectors, for large indexes.

Below `settings.ann_threshold` windows every semantic query is an exact dot product over all vectors
(at 1 M windows that reads 1.5 GB per query: p95 0.1 s on this machine idle, ~0.3 s under load); from the threshold on the
embedding index carries an HNSW graph (usearch, inner product, vectors stored as float16) and the
query path asks it for candidate windows, then scores those candidates exactly against the float32
vectors, so every score shown is the exact cosine and only the candidate set is approximate.
bench/ann.py measured the libraries on 1 M synthetic-plus-real 384-d vectors (the table is in
docs/scale.md); usearch was adopted: a manylinux wheel (hnswlib builds from source), removal of
single vectors (faiss's HNSW cannot remove, so an update would rebuild), a memory-mapped read-only
view (one copy in the page cache shared by every web worker) and half the memory with float16.

Files, beside the vectors of generation G and swept with them (indexer.generations):
- ann-G.usearch  the graph; keys are window keys (paragraph id << 24 | window start), so they survive
                 the row reordering of a new generation and an update only removes and adds what changed
- ann-G.json     what it holds: generation, windows, dim, M, dtype, the library version, the file's size
                 and CRC-32 (checked when it is first opened: a damaged file is never searched)

Built by the embedding update before the manifest names the new generation (`build`), incrementally
from the previous generation's graph when there is one (windows of changed or deleted documents
removed, new ones added), and by `ensure` when an unchanged index has crossed the threshold or lost its
graph. A missing, damaged or stale graph is never a wrong answer: the query falls back to the exact
scan and says so once per generation in the log.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
import time
import zlib
from pathlib import Path

import numpy as np

from corpus.atomic import write_json_atomic

log = logging.getLogger(__name__)

# HNSW M and ef_construction. bench/ann.py at 1 M synthetic-plus-real vectors (docs/scale.md): with 16 / 128
# recall@10 stayed at 0.85-0.90 up to ef 512 (likely: a node's 16 links are used up inside dense clumps of
# similar passages and a search does not cross between them); with 32 / 256 it is 0.991 at ef 1,024 (0.995
# after the exact re-scoring of the candidates a first page asks for), p95 13 ms, for a 14% larger file and
# a 3x slower build (15 min for 1 M vectors with 2 threads on an idle machine; this build uses one, see
# _threads; embedding those vectors takes ~14 h)
CONNECTIVITY = 32
EXPANSION_ADD = 256
DTYPE = "f16"
START_BITS = 24  # window start offsets below 16 M characters; paragraph ids below 2**39
COMPACT_SHARE = 0.25  # an incremental update rebuilds once this share of the windows was removed since the last
MAX_CANDIDATES = 4096  # past this many candidate windows a filtered query scans exactly instead


def graph_path(vdir: Path, gen: int) -> Path:
    return Path(vdir) / f"ann-{gen}.usearch"


def meta_path(vdir: Path, gen: int) -> Path:
    return Path(vdir) / f"ann-{gen}.json"


def window_keys(windows: np.ndarray) -> np.ndarray:
    """A key per window row that stays the same across generations: paragraph id and window start."""
    w = np.asarray(windows, dtype=np.int64)
    if len(w) and (int(w[:, 2].max()) >= 1 << START_BITS or int(w[:, 0].max()) >= 1 << (63 - START_BITS)):
        raise ValueError("window keys do not fit 64 bits")
    return ((w[:, 0] << START_BITS) | w[:, 2]).astype(np.uint64)


def wanted(settings, windows: int) -> bool:
    return windows > 0 and windows >= int(settings.ann_threshold)


def _library():
    """usearch's Index class, or None when it is not installed.

    onnxruntime (the embedding backend) is imported first when it is installed: importing it after
    usearch's compiled module crashes the process (a segmentation fault, seen with usearch 2.26.6 and
    onnxruntime 1.31.1; the other order works), so every import of usearch goes through here."""
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        pass
    try:
        from usearch.index import Index
    except ImportError:
        return None
    return Index


def _crc(path: Path) -> int:
    crc = 0
    with open(path, "rb") as f:
        while chunk := f.read(8 << 20):
            crc = zlib.crc32(chunk, crc)
    return crc


def _new_graph(Index, dim: int):
    return Index(ndim=dim, metric="ip", dtype=DTYPE, connectivity=CONNECTIVITY, expansion_add=EXPANSION_ADD)


def _threads() -> int:
    """Build threads: one. bench/ann.py on this 2-core machine under load ~7: usearch with 2 threads slowed
    from 1,400 to 105 inserts/s over the first 600,000 vectors (its threads wait on each other's node locks
    while the scheduler runs other work), with 1 thread it held ~400/s."""
    return 1


def _save(graph, vdir: Path, gen: int, windows: int, dim: int, built: str, seconds: float, removed: int) -> dict:
    path = graph_path(vdir, gen)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.part")  # swept by indexer.generations if we die here
    graph.save(str(tmp))
    with open(tmp, "rb+") as f:
        os.fsync(f.fileno())
    os.replace(tmp, path)
    version = getattr(sys.modules.get("usearch"), "__version__", "?")

    meta = {"generation": gen, "windows": int(windows), "dim": int(dim), "connectivity": CONNECTIVITY,
            "expansion_add": EXPANSION_ADD,
            "dtype": DTYPE, "metric": "ip", "library": f"usearch {version}", "bytes": path.stat().st_size,
            "crc32": _crc(path), "built": built, "seconds": round(seconds, 2),
            "removed": int(removed),  # windows removed since the last full build (their slots stay)
            "keys": "paragraph_id << 24 | window start"}
    write_json_atomic(meta_path(vdir, gen), meta)
    return meta


def _read_meta(vdir: Path, gen: int) -> dict | None:
    try:
        return json.loads(meta_path(vdir, gen).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def build(settings, vdir: Path, gen: int, vectors: np.ndarray, windows: np.ndarray,
          previous: dict | None = None) -> dict | None:
    """The graph of generation `gen` (vectors and windows as just written), before the manifest names it.

    Incremental when the previous generation (manifest `previous`) has a sound graph: the windows of
    documents whose rev changed or that went are removed, the windows not in it are added. Returns
    its figures, or None when the index is below the threshold (no graph: queries scan exactly) or
    the library is missing (logged). Never raises for the graph's sake: the vectors are what matters."""
    vdir = Path(vdir)
    if not wanted(settings, len(windows)):
        return None
    Index = _library()
    if Index is None:
        log.warning("embedding index has %d windows (ANN threshold %d) but usearch is not installed: "
                    "semantic queries scan every vector (pip install -e . installs usearch)", len(windows), settings.ann_threshold)
        return None
    t0 = time.time()
    try:
        keys = window_keys(windows)
        got, built = None, "full"
        if previous and previous.get("generation") is not None and previous.get("windows", 0):
            got = _incremental(Index, vdir, int(previous["generation"]), gen, vectors, windows, keys)
            built = "incremental" if got is not None else "full"
        graph, removed = got if got is not None else (_new_graph(Index, int(vectors.shape[1])), 0)
        if got is None:
            _add(graph, keys, vectors, np.arange(len(keys)))
        meta = _save(graph, vdir, gen, len(windows), int(vectors.shape[1]), built, time.time() - t0, removed)
    except Exception as e:  # a graph that cannot be built must not lose the vectors: exact search answers
        log.warning("ANN index for embedding generation %s not built (%s): semantic queries scan every vector",
                    gen, e)
        return None
    log.info("ANN index generation %s: %s, %d windows in %.1f s", gen, built, len(windows), meta["seconds"])
    return meta


def _add(graph, keys: np.ndarray, vectors: np.ndarray, rows: np.ndarray, step: int = 50_000) -> None:
    for i in range(0, len(rows), step):
        r = rows[i:i + step]
        graph.add(keys[r], np.ascontiguousarray(vectors[r], dtype=np.float32), threads=_threads())


def _incremental(Index, vdir: Path, pgen: int, gen: int, vectors, windows, keys):
    """The previous graph updated to this generation, or None (no sound previous graph: build anew)."""
    if pgen == gen or _check(vdir, pgen, None) is not None or not _current_build(_read_meta(vdir, pgen)):
        return None  # no sound previous graph, or one built with other parameters: build anew
    try:
        old_w = np.load(vdir / f"windows-{pgen}.npy")
        old_docs = np.load(vdir / f"docs-{pgen}.npy")
        new_docs = np.load(vdir / f"docs-{gen}.npy")
    except (OSError, ValueError):
        return None
    graph = Index.restore(str(graph_path(vdir, pgen)), view=False)
    if graph is None or graph.ndim != vectors.shape[1]:
        return None
    deleted = int((_read_meta(vdir, pgen) or {}).get("removed", 0))
    old_rev = dict(zip(old_docs[:, 0].tolist(), old_docs[:, 1].tolist(), strict=True))
    new_rev = dict(zip(new_docs[:, 0].tolist(), new_docs[:, 1].tolist(), strict=True))
    changed = np.array(sorted(d for d, r in old_rev.items() if new_rev.get(d) != r), dtype=np.int64)
    old_keys = window_keys(old_w)
    gone = np.isin(old_w[:, 1], changed) | ~np.isin(old_keys, keys)
    removed = deleted + int(gone.sum())
    if removed > COMPACT_SHARE * len(keys):
        log.info("ANN index: %d windows removed since its last full build: building anew", removed)
        return None  # removed nodes keep their slot in the graph; past a share, a fresh build is smaller
    if gone.any():
        graph.remove(old_keys[gone])
    kept = np.setdiff1d(old_keys, old_keys[gone], assume_unique=True)
    new_rows = np.flatnonzero(~np.isin(keys, kept))
    _add(graph, keys, vectors, new_rows)
    if len(graph) != len(keys):
        log.info("ANN index update left %d vectors for %d windows: building anew", len(graph), len(keys))
        return None
    return graph, removed


def ensure(settings, vdir: Path, manifest: dict | None) -> dict | None:
    """An unchanged embedding index that should have a graph and has none (the threshold was lowered,
    the file was damaged or removed, the library installed since): build it for the current generation."""
    if not manifest or not wanted(settings, manifest.get("windows", 0)):
        return None
    gen = int(manifest["generation"])
    if _check(Path(vdir), gen, manifest) is None and _current_build(_read_meta(Path(vdir), gen)):
        return None  # sound already, and built as this version builds
    vectors = np.load(Path(vdir) / f"vectors-{gen}.npy", mmap_mode="r")
    windows = np.load(Path(vdir) / f"windows-{gen}.npy")
    meta = build(settings, vdir, gen, vectors, windows)
    _opened.pop(str(Path(vdir).resolve()), None)
    return meta


def _current_build(meta: dict | None) -> bool:
    """Whether a graph was built with today's parameters. An older one still answers queries (its
    candidates are scored exactly), but the next `corpus index` builds it anew instead of adding to it."""
    return bool(meta) and meta.get("connectivity") == CONNECTIVITY and meta.get("expansion_add", 128) == EXPANSION_ADD


def _check(vdir: Path, gen: int, manifest: dict | None, *, crc: bool = True) -> str | None:
    """Why generation `gen`'s graph cannot be used, or None when it can."""
    path, meta = graph_path(vdir, gen), _read_meta(vdir, gen)
    if not path.exists():
        return f"{path.name} missing"
    if meta is None:
        return f"{meta_path(vdir, gen).name} missing or unreadable"
    if meta.get("generation") != gen:
        return f"{path.name} belongs to generation {meta.get('generation')}"
    if manifest is not None and (meta.get("windows") != manifest.get("windows")
                                 or (manifest.get("dim") and meta.get("dim") != manifest.get("dim"))):
        return f"{path.name} holds {meta.get('windows')} windows, the index {manifest.get('windows')}"
    if path.stat().st_size != meta.get("bytes"):
        return f"{path.name} is {path.stat().st_size} bytes, {meta.get('bytes')} were written"
    if crc and _crc(path) != meta.get("crc32"):
        return f"{path.name} is damaged (checksum differs)"
    return None


class Graph:
    """A generation's graph opened for queries (memory-mapped, read-only)."""

    def __init__(self, graph, keys: np.ndarray, ef: int):
        self.graph, self.keys, self.ef = graph, keys, ef
        self.lock = threading.Lock()  # one search at a time on a graph: ~1 ms each, far under an exact scan

    def candidates(self, vector: np.ndarray, m: int) -> np.ndarray | None:
        """Rows of the m (about) nearest windows, or None if the graph answered keys the index lacks."""
        m = min(m, len(self.keys))
        with self.lock:
            self.graph.expansion_search = max(self.ef, m)
            found = self.graph.search(np.asarray(vector, dtype=np.float32), m, threads=1)
        keys = np.asarray(found.keys, dtype=np.uint64)
        rows = np.searchsorted(self.keys, keys)
        rows[rows >= len(self.keys)] = 0
        if len(keys) and not np.array_equal(self.keys[rows], keys):
            return None
        return rows


_opened: dict[str, tuple[tuple, Graph | None]] = {}  # data dir -> (generation and file stamps, graph or None)
_open_lock = threading.Lock()


def _stamp(vdir: Path, gen: int) -> tuple:
    out: list = [gen]
    for p in (graph_path(vdir, gen), meta_path(vdir, gen)):
        try:
            st = p.stat()
            out += [st.st_size, st.st_mtime_ns, st.st_ino]
        except OSError:
            out += [None]
    return tuple(out)


def for_index(settings, vdir: Path, manifest: dict, windows: np.ndarray) -> Graph | None:
    """The graph to query for this loaded generation, or None: below the threshold, or unusable
    (then the reason is logged once per generation and file state, and the caller scans exactly)."""
    if not wanted(settings, len(windows)):
        return None
    vdir = Path(vdir)
    gen = int(manifest["generation"])
    key = str(vdir.resolve())
    stamp = _stamp(vdir, gen)
    with _open_lock:
        got = _opened.get(key)
        if got is not None and got[0] == stamp:
            return got[1]  # the same files as last time: the same verdict (a damaged file is checked once)
        Index = _library()
        why = "usearch is not installed" if Index is None else _check(vdir, gen, manifest)
        graph = None
        if why is None:
            try:
                g = Index.restore(str(graph_path(vdir, gen)), view=True)
                if g is None or g.ndim != manifest.get("dim", g.ndim) or len(g) != len(windows):
                    why = f"{graph_path(vdir, gen).name} does not match the index"
                else:
                    graph = Graph(g, window_keys(windows), int(getattr(settings, "ann_ef", 64)))
            except (OSError, ValueError, RuntimeError) as e:
                why = f"{graph_path(vdir, gen).name} unreadable ({e})"
        if why is not None:
            log.warning("embedding index of %d windows is past the ANN threshold (%d) but its ANN index cannot "
                        "be used (%s): semantic queries scan every vector, exact but slower; run `corpus index` "
                        "to rebuild it", len(windows), settings.ann_threshold, why)
        _opened[key] = (stamp, graph)
        return graph


def status(vdir: Path, manifest: dict | None) -> dict | None:
    """The current generation's graph figures for `corpus index --status` (None: no graph)."""
    if not manifest or manifest.get("generation") is None:
        return None
    meta = _read_meta(Path(vdir), int(manifest["generation"]))
    if meta is None:
        return None
    why = _check(Path(vdir), int(manifest["generation"]), manifest, crc=False)
    return {**meta, "usable": why is None, **({"problem": why} if why else {})}
