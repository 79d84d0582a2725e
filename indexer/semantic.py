"""The embedding index: one vector per paragraph window, as plain files in `settings.vectors_dir`.

Files (generation g, swapped in atomically by rewriting manifest.json last):
- vectors-g.npy   float32 (windows x dim), L2-normalised, memory-mapped at search time
- windows-g.npy   int64 (windows x 4): paragraph id, document id, char start, char end of the window
- docs-g.npy      int64 (docs x 2): document id, the rev that was embedded (what incremental updates compare)
- manifest.json   model, dimension, precision and backend (the variant, e.g. onnx-int8), counts, build
                  time, generation. An index keeps its variant: updates and queries use it even if the
                  settings now ask for another (reported as a notice); `--rebuild-semantic` switches
- pending/        chunks embedded by an update that has not finished yet: after an interruption
                  the next update reuses them instead of redoing finished batches

Why windows: a paragraph longer than the model's window is split at sentence ends into windows that
fit; its score is its best window's, and that window is the "best-matching sentence" a hit shows.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import threading
import time
from collections import Counter, OrderedDict
from pathlib import Path

import numpy as np

from corpus.atomic import write_atomic, write_json_atomic
from corpus.errors import IndexMissing, ModelError, NotFound
from corpus.progress import progress_bar

from . import ann, generations
from .embed import model as embed_model
from .locks import WriterLock

log = logging.getLogger(__name__)

MANIFEST = generations.MANIFEST
CHUNK_WINDOWS = 512  # windows per pending chunk: the unit of resumability
_SENT_END = re.compile(r"(?<=[。！？；!?;])")
QUERY_CACHE_SIZE = 512


# ---------------------------------------------------------------------------------------------
# manifest and loading
# ---------------------------------------------------------------------------------------------

def _manifest_path(settings) -> Path:
    return Path(settings.vectors_dir) / MANIFEST


def read_manifest(settings) -> dict | None:
    p = _manifest_path(settings)
    try:
        return generations.read_manifest(p.parent)
    except (OSError, ValueError) as e:
        raise IndexMissing(f"embedding index manifest {p} unreadable ({e}): run `corpus index --rebuild-semantic`") from e


def semantic_status(settings) -> dict:
    """The embedding index for `corpus index --status`: its manifest, size on disk, and whether
    it serves the configured model (`model_matches`). `exists` False: none built (or switched off)."""
    if not getattr(settings, "semantic", True):
        return {"exists": False, "enabled": False}
    m = read_manifest(settings)
    if not m:
        return {"exists": False, "enabled": True}
    vdir = Path(settings.vectors_dir)
    size = sum(f.stat().st_size for f in vdir.rglob("*") if f.is_file())
    return {**m, "exists": True, "enabled": True, "bytes": size, "model_matches": m.get("model") == settings.model,
            "ann": ann.status(vdir, m), "ann_threshold": settings.ann_threshold}


def semantic_available(settings) -> bool:
    """An embedding index exists and was built with the configured model."""
    m = read_manifest(settings)
    return bool(m) and m.get("model") == settings.model and m.get("windows", 0) > 0


def _check_model(settings, manifest: dict) -> None:
    if manifest.get("model") != settings.model:
        raise ModelError(
            f"embedding index built with {manifest.get('model')}, configured {settings.model}: "
            "rebuild with `corpus index --rebuild-semantic` (or configure the model the index was built with)"
        )


class _Index:
    """A loaded generation: memory-mapped matrix plus the window table."""

    def __init__(self, vdir: Path, manifest: dict):
        g = manifest["generation"]
        self.vdir = vdir
        self.manifest = manifest
        self.vectors = np.load(vdir / f"vectors-{g}.npy", mmap_mode="r")
        self.windows = np.load(vdir / f"windows-{g}.npy")
        self.para_ids = self.windows[:, 0]
        self._rows_by_para: dict[int, np.ndarray] | None = None
        self._groups: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def groups(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(order, starts, ids): window rows sorted by paragraph id, where each paragraph's run starts,
        and the paragraph ids in that order; computed once per loaded generation."""
        if self._groups is None:
            order = np.argsort(self.para_ids, kind="stable")
            ids = self.para_ids[order]
            starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]]) if len(ids) else np.zeros(0, dtype=np.int64)
            self._groups = (order, starts, ids[starts])
        return self._groups

    def ann_graph(self, settings) -> ann.Graph | None:
        """The approximate index to ask first (None: below the threshold, or unusable: scan exactly)."""
        return ann.for_index(settings, self.vdir, self.manifest, self.windows)

    def rows_of_many(self, paragraph_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(rows, group): the window rows of these paragraphs and, for each row, the index of its
        paragraph in `paragraph_ids` (paragraphs not in the index have no rows)."""
        order, starts, ids = self.groups()
        pids = np.asarray(paragraph_ids, dtype=np.int64)
        if not len(ids) or not len(pids):
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        pos = np.searchsorted(ids, pids)
        pos[pos >= len(ids)] = 0
        ok = np.flatnonzero(ids[pos] == pids)
        ends = np.r_[starts[1:], len(order)]
        lens = ends[pos[ok]] - starts[pos[ok]]
        group = np.repeat(ok, lens)
        offs = np.arange(len(group)) - np.repeat(np.cumsum(lens) - lens, lens)
        rows = order[np.repeat(starts[pos[ok]], lens) + offs]
        return rows, group

    def rows_of(self, paragraph_id: int) -> np.ndarray:
        if self._rows_by_para is None:
            order, starts, ids = self.groups()
            ends = np.r_[starts[1:], len(order)]
            self._rows_by_para = {int(i): order[s:e] for i, s, e in zip(ids, starts, ends, strict=True)}
        return self._rows_by_para.get(int(paragraph_id), np.zeros(0, dtype=np.int64))


_loaded: dict[str, _Index] = {}
_load_lock = threading.Lock()


def open_index(settings) -> _Index:
    """The current generation (vectors memory-mapped, the window table), opened once per process and
    reopened when a build landed: for other engines fed from it (indexer.search.qdrant)."""
    try:
        return _open_index_once(settings)
    except FileNotFoundError:  # an update swapped generations between reading the manifest and the files
        return _open_index_once(settings)


def _open_index_once(settings) -> _Index:
    manifest = read_manifest(settings)
    if not manifest or manifest.get("windows", 0) == 0:
        raise IndexMissing("no embedding index yet: run `corpus index` (semantic search needs it)")
    _check_model(settings, manifest)
    vdir = Path(settings.vectors_dir)
    key = str(vdir.resolve())
    with _load_lock:
        idx = _loaded.get(key)
        if idx is None or idx.manifest.get("generation") != manifest["generation"]:
            idx = _Index(vdir, manifest)
            _loaded[key] = idx
        return idx


# ---------------------------------------------------------------------------------------------
# windows
# ---------------------------------------------------------------------------------------------

def split_windows(text: str, n_tokens: int, max_tokens: int, count_tokens) -> list[tuple[int, int]]:
    """Char spans covering `text`, each fitting the model window: the whole paragraph if it fits,
    else consecutive sentences packed greedily (a sentence too long on its own is cut by length)."""
    if n_tokens <= max_tokens or len(text) < 8:
        return [(0, len(text))]
    bounds = [0] + [m.start() for m in _SENT_END.finditer(text) if 0 < m.start() < len(text)] + [len(text)]
    sents = [(a, b) for a, b in zip(bounds, bounds[1:], strict=False) if b > a]
    counts = count_tokens([text[a:b] for a, b in sents])
    budget = max_tokens - 4  # the prompt's and specials' share is already in each count; keep a margin
    pieces: list[tuple[int, int, int]] = []
    for (a, b), c in zip(sents, counts, strict=True):
        if c <= budget:
            pieces.append((a, b, c))
            continue
        step = max(8, int((b - a) * budget / c))  # cut an over-long sentence by characters
        for s in range(a, b, step):
            e = min(b, s + step)
            pieces.append((s, e, int(c * (e - s) / (b - a)) + 1))
    windows: list[tuple[int, int]] = []
    start, end, used = pieces[0][0], pieces[0][1], pieces[0][2]
    for a, b, c in pieces[1:]:
        if used + c - 4 <= budget:  # each count includes ~4 prompt/special tokens
            end, used = b, used + c - 4
        else:
            windows.append((start, end))
            start, end, used = a, b, c
    windows.append((start, end))
    return windows


# ---------------------------------------------------------------------------------------------
# building and updating
# ---------------------------------------------------------------------------------------------

def drop_embeddings(settings) -> None:
    """Forget the embedding index (for `corpus index --rebuild-semantic` or a model change)."""
    vdir = Path(settings.vectors_dir)
    if vdir.exists():
        shutil.rmtree(vdir)
    _loaded.pop(str(vdir.resolve()), None)


def update_embeddings(settings, store, progress: bool = False, *, rebuild: bool = False,
                      batch_size: int = 32) -> dict:
    """Bring the embedding index up to date with the store: embed new and changed documents' paragraphs,
    reuse the vectors of unchanged ones, drop those of deleted ones. Returns figures.

    Resumable: every CHUNK_WINDOWS windows are written to pending/ as soon as they are embedded;
    a later run reuses the chunks whose documents have not changed since.
    """
    with WriterLock(settings, "vectors.lock", "embedding index"):
        return _update(settings, store, progress, rebuild, batch_size)


def _update(settings, store, progress: bool, rebuild: bool, batch_size: int) -> dict:
    t0 = time.time()
    vdir = Path(settings.vectors_dir)
    if rebuild:
        drop_embeddings(settings)
    manifest = read_manifest(settings)
    notice = None
    if manifest:
        _check_model(settings, manifest)
        # The index keeps the backend and precision it was built with: vectors of two variants are never
        # mixed (int8 and fp32 agree at cosine ~0.98, close but not the same). Switching takes a rebuild.
        precision, backend = index_variant(manifest)
        wanted = embed_model.configured_variant(settings)
        if (backend, precision) != wanted:
            notice = (f"embedding index was built with {backend}-{precision}, settings ask for "
                      f"{wanted[0]}-{wanted[1]}: keeping {backend}-{precision} so vectors are not mixed; "
                      "run `corpus index --rebuild-semantic` to switch")
            log.warning("%s", notice)
    else:
        precision, backend = settings.quantize, None  # None: settings.embed_backend ("auto": ONNX if it can)
    chunk_backend = backend or embed_model.configured_variant(settings)[0]
    emb = None  # loaded only when something needs embedding: an up-to-date index costs no model load

    def model():
        nonlocal emb
        if emb is None:
            emb = embed_model.get_model(settings, precision=precision, backend=backend)
            if chunk_files and emb.backend != chunk_backend:
                raise ModelError(f"an interrupted build left vectors made with {chunk_backend}-{precision}, but "
                                 f"{emb.variant} loaded now: run `corpus index --rebuild-semantic`")
            if manifest and manifest.get("dim") not in (None, emb.dim):
                raise ModelError(f"embedding index has dimension {manifest.get('dim')}, model gives {emb.dim}: "
                                 "rebuild with `corpus index --rebuild-semantic`")
            embed_model.set_threads(settings, "build")
        return emb

    vdir.mkdir(parents=True, exist_ok=True)
    pending = vdir / "pending"
    pending.mkdir(exist_ok=True)

    revs = store.doc_revisions()
    old_docs: dict[int, int] = {}
    old: _Index | None = None
    if manifest and manifest.get("windows", 0):
        old = _Index(vdir, manifest)
        g = manifest["generation"]
        old_docs = {int(d): int(r) for d, r in np.load(vdir / f"docs-{g}.npy")}
    elif manifest:
        g = manifest["generation"]
        if (vdir / f"docs-{g}.npy").exists():
            old_docs = {int(d): int(r) for d, r in np.load(vdir / f"docs-{g}.npy")}

    # chunks left by an interrupted run, still valid if their documents have the same rev
    done: dict[int, int] = {}
    chunk_files = []
    for f in sorted(pending.glob("chunk-*.json")):
        meta = json.loads(f.read_text())
        if (meta.get("model") != settings.model or meta.get("precision") != precision
                or meta.get("backend", "torch") != chunk_backend):
            continue
        docs = {int(d): int(r) for d, r in meta["docs"]}
        if all(revs.get(d) == r for d, r in docs.items()):
            done.update(docs)
            chunk_files.append(f)
    todo = sorted(d for d, r in revs.items() if old_docs.get(d) != r and done.get(d) != r)
    deleted = [d for d in old_docs if d not in revs]
    reused_docs = [d for d, r in revs.items() if old_docs.get(d) == r]

    # window the paragraphs to embed
    jobs: list[tuple[int, int, int, int, str]] = []  # (para_id, doc_id, start, end, text)
    doc_of_job: list[int] = []
    rows = list(store.iter_paragraph_rows(todo)) if todo else []
    texts = [r["text"] for r in rows]
    counts = model().count_tokens(texts) if texts else []
    for r, n in zip(rows, counts, strict=True):
        for a, b in split_windows(r["text"], n, emb.max_tokens, emb.count_tokens):
            jobs.append((r["id"], r["doc_id"], a, b, r["text"][a:b]))
            doc_of_job.append(r["doc_id"])

    embedded_paras = len({j[0] for j in jobs})
    # Identical windows (reposted paragraphs, boilerplate; ~7% of the real corpus) are embedded once.
    seen_text = Counter(j[4] for j in jobs)
    repeated: dict[str, np.ndarray | None] = {t: None for t, n in seen_text.items() if n > 1}
    t_embed = time.time()
    executor = None
    if jobs:
        executor = _embed_chunks(settings, emb, jobs, doc_of_job, repeated, pending, chunk_files,
                                 revs=revs, precision=precision, batch_size=batch_size, progress=progress)
    embed_seconds = time.time() - t_embed

    # consolidate: old rows of unchanged documents + every pending chunk, then swap the manifest
    parts_v, parts_w = [], []
    if old is not None and reused_docs:
        keep = np.isin(old.windows[:, 1], np.array(reused_docs, dtype=np.int64))
        parts_v.append(np.asarray(old.vectors[keep]))
        parts_w.append(old.windows[keep])
    embedded_docs: dict[int, int] = {}
    for f in chunk_files:
        meta = json.loads(f.read_text())
        stem = f.name[: -len(".json")]
        w = np.load(pending / f"{stem}.windows.npy")
        v = np.load(pending / f"{stem}.vectors.npy")
        wanted = np.array([d for d, r in meta["docs"] if revs.get(d) == r and d not in embedded_docs], dtype=np.int64)
        keep = np.isin(w[:, 1], wanted)
        parts_v.append(v[keep])
        parts_w.append(w[keep])
        embedded_docs.update({int(d): int(r) for d, r in meta["docs"] if int(d) in set(wanted.tolist())})
    dim = emb.dim if emb is not None else (manifest or {}).get("dim")
    max_tokens = emb.max_tokens if emb is not None else (manifest or {}).get("max_tokens")
    backend = emb.backend if emb is not None else (backend or chunk_backend)
    V = np.concatenate(parts_v) if parts_v else np.zeros((0, dim or 0), np.float32)
    W = np.concatenate(parts_w) if parts_w else np.zeros((0, 4), np.int64)
    if dim is None and len(V):  # resumed chunks only: the vectors say it
        dim = int(V.shape[1])
    order = np.lexsort((W[:, 2], W[:, 0]))  # by paragraph, then window start
    V, W = V[order].astype(np.float32), W[order]
    docs_now = {d: revs[d] for d in reused_docs}
    docs_now.update(embedded_docs)
    # documents with no paragraphs are recorded too, so they are not retried every time
    for d in todo:
        docs_now.setdefault(d, revs[d])

    changed = bool(todo or deleted or chunk_files) or manifest is None
    if changed:
        gen = (manifest or {}).get("generation", 0) + 1
        _save_npy(vdir / f"vectors-{gen}.npy", V)
        _save_npy(vdir / f"windows-{gen}.npy", W)
        _save_npy(vdir / f"docs-{gen}.npy", np.array(sorted(docs_now.items()), dtype=np.int64).reshape(-1, 2))
        ann.build(settings, vdir, gen, V, W, previous=manifest)  # past the threshold; before the manifest swap
        new_manifest = {
            "model": settings.model, "dim": dim, "precision": precision, "backend": backend,
            "variant": f"{backend}-{precision}", "max_tokens": max_tokens,
            "prompts": {"query": embed_model.QUERY_PROMPT, "passage": embed_model.PASSAGE_PROMPT},
            "generation": gen, "windows": int(len(W)), "paragraphs": int(len(np.unique(W[:, 0]))) if len(W) else 0,
            "documents": len(docs_now), "built_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
            "format": "vectors-G.npy float32 (windows x dim); windows-G.npy int64 [paragraph_id, doc_id, start, end]",
        }
        generations.commit(vdir, new_manifest, _generation_of)  # the commit point; earlier generations go
        shutil.rmtree(pending, ignore_errors=True)
        _loaded.pop(str(vdir.resolve()), None)
    else:
        ann.ensure(settings, vdir, manifest)  # unchanged, but past the threshold with no sound ANN index
    seconds = time.time() - t0
    figures = {
        "embedded": embedded_paras, "windows_embedded": len(jobs), "reused": 0,
        "deleted": len(deleted), "seconds": round(seconds, 2), "embed_seconds": round(embed_seconds, 2),
        "paragraphs_per_s": round(embedded_paras / embed_seconds, 1) if embed_seconds > 0 and embedded_paras else 0.0,
        "resumed_documents": len(done), "executor": executor, "model": settings.model, "precision": precision, "backend": backend,
        "windows": int(len(W)), "paragraphs": int(len(np.unique(W[:, 0]))) if len(W) else 0,
    }
    figures["reused"] = max(0, figures["paragraphs"] - embedded_paras)  # paragraphs whose vectors were kept
    if notice:
        figures["notice"] = notice
    log.info("embeddings: %s", figures)
    return figures


def _document_chunks(jobs: list, doc_of_job: list[int]):
    """Consecutive runs of about CHUNK_WINDOWS windows, each holding whole documents (so a document
    is either in a finished chunk or not): the unit of resumability and of an embedding job."""
    i = 0
    while i < len(jobs):
        j = min(len(jobs), i + CHUNK_WINDOWS)
        while j < len(jobs) and doc_of_job[j] == doc_of_job[j - 1]:
            j += 1
        yield jobs[i:j]
        i = j


def _embed_chunks(settings, emb, jobs: list, doc_of_job: list[int], repeated: dict, pending: Path,
                  chunk_files: list[Path], *, revs: dict, precision: str, batch_size: int, progress) -> str:
    """Embed `jobs` chunk by chunk through the build's executor (this process, a local process pool,
    or a Ray cluster: indexer.embed.executors), writing each chunk to pending/ in order as soon as it
    and every chunk before it are back. Identical texts are embedded once: a job holds the distinct
    texts of its chunk that no earlier job holds; texts in `repeated` (seen more than once in this
    update) are remembered there for later chunks. Returns a description of the executor."""
    from collections import deque

    from .embed.executors import open_executor

    bar = progress_bar(progress, len(jobs), "embedding", unit="windows" if progress == "lines" else "")
    bar.__enter__()
    given: set[str] = set()  # repeated texts already in an earlier job
    inflight: deque = deque()
    n_chunk = len(chunk_files)

    def write(part: list, texts: list[str], uniq: list[str], job) -> None:
        nonlocal n_chunk
        fresh = dict(zip(uniq, job.result(), strict=True)) if job is not None else {}
        for t, v in fresh.items():
            if t in repeated:
                repeated[t] = v
        vecs = np.stack([fresh[t] if t in fresh else repeated[t] for t in texts]).astype(np.float32, copy=False)
        docs = sorted({p[1] for p in part})
        name = f"chunk-{int(time.time() * 1000):013d}-{n_chunk:06d}"
        _save_npy(pending / f"{name}.vectors.npy", vecs)
        _save_npy(pending / f"{name}.windows.npy", np.array([p[:4] for p in part], dtype=np.int64).reshape(-1, 4))
        write_json_atomic(pending / f"{name}.json", {"model": settings.model, "precision": precision,
                                                      "backend": emb.backend, "docs": [[d, revs[d]] for d in docs]})
        chunk_files.append(pending / f"{name}.json")
        n_chunk += 1
        bar.update(len(part))

    try:
        with open_executor(settings, emb, precision=precision, batch_size=batch_size, windows=len(jobs)) as ex:
            log.info("embedding %d windows: %s", len(jobs), ex.describe())
            for part in _document_chunks(jobs, doc_of_job):
                texts = [p[4] for p in part]
                uniq = [t for t in dict.fromkeys(texts) if t not in given]
                given.update(t for t in uniq if t in repeated)
                inflight.append((part, texts, uniq, ex.submit(uniq) if uniq else None))
                while len(inflight) >= ex.capacity:
                    write(*inflight.popleft())
            while inflight:
                write(*inflight.popleft())
            return ex.describe()
    finally:
        bar.__exit__(None, None, None)


def _save_npy(path: Path, arr: np.ndarray) -> None:
    write_atomic(path, lambda f: np.save(f, arr))


_GEN_FILE = re.compile(r"^[a-z_]+-(\d+)\.[A-Za-z0-9]+$")  # vectors-G.npy, windows-G.npy, docs-G.npy ...


def _generation_of(name: str) -> str | None:
    m = _GEN_FILE.match(name)
    return m.group(1) if m else None


# ---------------------------------------------------------------------------------------------
# searching
# ---------------------------------------------------------------------------------------------

_query_cache: OrderedDict[tuple, np.ndarray] = OrderedDict()
_cache_lock = threading.Lock()


def index_variant(manifest: dict) -> tuple[str, str]:
    """(precision, backend) an index was built with; indexes from before backends were recorded are torch."""
    return manifest.get("precision") or "int8", manifest.get("backend") or "torch"


def embed_query(settings, query: str, precision: str | None = None, backend: str | None = None) -> np.ndarray:
    """The query's vector, cached (LRU): drafters page through and refine the same queries.

    Embedded with the index's backend and precision; if that backend cannot load here (an ONNX index,
    onnxruntime missing) the torch model of the same precision answers, logged (cosine ~0.98-1.0)."""
    precision = precision or settings.quantize
    key = (settings.model, precision, backend, query)
    with _cache_lock:
        v = _query_cache.get(key)
        if v is not None:
            _query_cache.move_to_end(key)
            return v
    try:
        emb = embed_model.get_model(settings, precision=precision, backend=backend)
    except ModelError as e:
        if backend != "onnx":
            raise
        log.warning("index built with ONNX, which cannot load here (%s): queries use torch %s", e, precision)
        emb = embed_model.get_model(settings, precision=precision, backend="torch")
    embed_model.set_threads(settings, "query")
    v = emb.encode_queries([query])[0]
    with _cache_lock:
        _query_cache[key] = v
        while len(_query_cache) > QUERY_CACHE_SIZE:
            _query_cache.popitem(last=False)
    return v


def _top_paragraphs(idx: _Index, scores: np.ndarray, k: int, exclude=None) -> list[tuple[int, float, int]]:
    """Best window per paragraph, best paragraphs first: [(paragraph_id, score, row)]."""
    n = len(scores)
    if n == 0 or k <= 0:
        return []
    m = min(n, max(4 * k, k + 64))
    while True:
        top = np.argpartition(-scores, m - 1)[:m] if m < n else np.arange(n)
        top = top[np.argsort(-scores[top], kind="stable")]
        out: list[tuple[int, float, int]] = []
        seen: set[int] = set()
        for r in top:
            pid = int(idx.para_ids[r])
            if pid in seen or (exclude is not None and exclude(r)):
                continue
            seen.add(pid)
            out.append((pid, float(scores[r]), int(r)))
            if len(out) >= k:
                return out
        if m >= n:
            return out
        m = min(n, m * 4)


def _ann_top(idx: _Index, graph: ann.Graph, vector: np.ndarray, k: int,
             exclude=None) -> list[tuple[int, float, int]] | None:
    """`_top_paragraphs` from the approximate index's candidate windows, each scored exactly against
    its float32 vector; None when the candidates run out before k paragraphs pass `exclude` (a very
    selective filter) or the graph answered keys the index lacks: the caller scans exactly."""
    m = max(4 * k, k + 64)
    n = len(idx.para_ids)
    while True:
        rows = graph.candidates(vector, m)
        if rows is None:
            log.warning("ANN index of embedding generation %s answered unknown windows: exact scan",
                        idx.manifest.get("generation"))
            return None
        rows = np.unique(rows)
        scores = np.asarray(idx.vectors[rows] @ vector)
        out: list[tuple[int, float, int]] = []
        seen: set[int] = set()
        for i in np.argsort(-scores, kind="stable"):
            r = int(rows[i])
            pid = int(idx.para_ids[r])
            if pid in seen or (exclude is not None and exclude(r)):
                continue
            seen.add(pid)
            out.append((pid, float(scores[i]), r))
            if len(out) >= k:
                return out
        if m >= n:
            return out  # every window was a candidate: this is the exact answer
        if m >= ann.MAX_CANDIDATES:
            return None
        m = min(n, m * 4, ann.MAX_CANDIDATES)


def _nearest(settings, idx: _Index, vector: np.ndarray, k: int, exclude=None) -> list[tuple[int, float, int]]:
    """The k paragraphs nearest to `vector` [(paragraph_id, score, row)]: through the approximate index
    past the threshold, else (or when it cannot answer) by the exact scan."""
    graph = idx.ann_graph(settings)
    if graph is not None:
        hits = _ann_top(idx, graph, vector, k, exclude)
        if hits is not None:
            return hits
    return _top_paragraphs(idx, np.asarray(idx.vectors @ vector), k, exclude=exclude)


def semantic_search(settings, query: str, k: int) -> list[tuple[int, float, str]]:
    """Paragraphs nearest to the query: [(paragraph_id, score, best-matching window text)], best first."""
    idx = open_index(settings)
    precision, backend = index_variant(idx.manifest)
    q = embed_query(settings, query, precision=precision, backend=backend)
    hits = _nearest(settings, idx, q, k)
    return _with_text(settings, idx, hits)


def _with_text(settings, idx: _Index, hits: list[tuple[int, float, int]]) -> list[tuple[int, float, str]]:
    from corpus.store import open_store

    if not hits:
        return []
    store = open_store(settings, readonly=True)
    try:
        texts = store.paragraph_texts([h[0] for h in hits])
    finally:
        store.close()
    out = []
    for pid, score, row in hits:
        text = texts.get(pid)
        if text is None:  # deleted since the index was built
            continue
        _, _, a, b = idx.windows[row]
        out.append((pid, score, text[int(a):int(b)].strip() or text))
    return out


def similar_paragraphs(settings, paragraph_id: int, k: int) -> list[tuple[int, float]]:
    """Nearest paragraphs from other speeches: never the same document, a document in its near-duplicate
    cluster (a repost) or a paragraph in its paragraph cluster; reposts among the results fold to one."""
    from corpus.store import open_store

    idx = open_index(settings)
    rows = idx.rows_of(paragraph_id)
    store = open_store(settings, readonly=True)
    try:
        para = store.get_paragraph(paragraph_id)
        if len(rows) == 0:
            raise NotFound(f"paragraph {paragraph_id} is not in the embedding index yet: run `corpus index`",
                           zh="这个段落还没有进入语义索引：请先运行 `corpus index`")
        doc = store.get_document(para["doc_id"])
        bad_docs = {para["doc_id"]}
        if doc.get("cluster_id") is not None:
            bad_docs |= {m["doc_id"] for m in store.cluster_members(doc["cluster_id"], "d")}
        bad_paras = {paragraph_id}
        if para.get("cluster_id") is not None:
            bad_paras |= {m["id"] for m in store.cluster_members(para["cluster_id"])}
        v = np.asarray(idx.vectors[rows]).mean(axis=0)
        v /= max(float(np.linalg.norm(v)), 1e-12)
        doc_of, para_of = idx.windows[:, 1], idx.para_ids
        exclude = lambda r: int(doc_of[r]) in bad_docs or int(para_of[r]) in bad_paras  # noqa: E731
        out: list[tuple[int, float]] = []
        seen_clusters: set[int] = set()
        want = k
        while True:
            cands = _nearest(settings, idx, v, want * 2 + 8, exclude)
            cl = store.paragraph_clusters([c[0] for c in cands])
            out, seen_clusters = [], set()
            for pid, score, _ in cands:
                c = cl.get(pid)
                if c is not None:
                    if c in seen_clusters:
                        continue
                    seen_clusters.add(c)
                out.append((pid, score))
                if len(out) >= k:
                    return out
            if len(cands) < want * 2 + 8:
                return out
            want *= 4
    finally:
        store.close()


def index_info(settings) -> dict | None:
    """The manifest plus where it lives, for `corpus model` / status output."""
    m = read_manifest(settings)
    if m is None:
        return None
    precision, backend = index_variant(m)
    wanted = "-".join(embed_model.configured_variant(settings))
    return {**m, "backend": backend, "variant": f"{backend}-{precision}", "configured_variant": wanted,
            "path": str(settings.vectors_dir)}


class QueryScores:
    """One query's cosine to every window of the index, embedded once: the literal hits' re-rank
    (`best`) and the meaning neighbours (`top`) both read it, so a hybrid query embeds once and does
    one matrix product.

    Past the ANN threshold the full product is never made: `top` asks the approximate index and
    `best` scores only the windows of the paragraphs asked about."""

    def __init__(self, settings, query: str):
        self.settings = settings
        self.idx = open_index(settings)
        precision, backend = index_variant(self.idx.manifest)
        self.vector = embed_query(settings, query, precision=precision, backend=backend)
        self.graph = self.idx.ann_graph(settings)
        self._scores: np.ndarray | None = None
        self._per_para: tuple[np.ndarray, np.ndarray] | None = None

    @property
    def scores(self) -> np.ndarray:
        """The query's cosine to every window (computed on first use)."""
        if self._scores is None:
            self._scores = np.asarray(self.idx.vectors @ self.vector)
        return self._scores

    def _paragraph_table(self) -> tuple[np.ndarray, np.ndarray]:
        if self._per_para is None:
            order, starts, ids = self.idx.groups()
            best = np.maximum.reduceat(self.scores[order], starts) if len(starts) else np.zeros(0)
            self._per_para = (ids, best)
        return self._per_para

    def best(self, paragraph_ids) -> np.ndarray:
        """Best window score of each paragraph (NaN where it has no vectors yet)."""
        pids = np.asarray(paragraph_ids, dtype=np.int64)
        if self._scores is None and self.graph is not None:  # only these paragraphs' windows
            out = np.full(len(pids), np.nan)
            rows, group = self.idx.rows_of_many(pids)
            if len(rows):
                s = np.asarray(self.idx.vectors[rows] @ self.vector)
                best = np.full(len(pids), -np.inf)
                np.maximum.at(best, group, s)
                out[np.unique(group)] = best[np.unique(group)]
            return out
        uids, best = self._paragraph_table()
        out = np.full(len(pids), np.nan)
        if not len(uids) or not len(pids):
            return out
        pos = np.searchsorted(uids, pids)
        pos[pos >= len(uids)] = 0
        ok = uids[pos] == pids
        out[ok] = best[pos[ok]]
        return out

    def top(self, store, k: int, skip=None) -> list[tuple[int, float, str]]:
        """The k best paragraphs [(paragraph_id, score, best window text)] whose id `skip` does not
        reject (a set or predicate), best first."""
        if skip is None:
            exclude = None
        else:
            test = skip.__contains__ if isinstance(skip, (set, frozenset)) else skip
            pids = self.idx.para_ids
            exclude = lambda r: test(int(pids[r]))  # noqa: E731
        hits = None
        if self._scores is None and self.graph is not None:
            hits = _ann_top(self.idx, self.graph, self.vector, k, exclude=exclude)
        if hits is None:
            hits = _top_paragraphs(self.idx, self.scores, k, exclude=exclude)
        texts = store.paragraph_texts([h[0] for h in hits])
        out = []
        for pid, score, row in hits:
            text = texts.get(pid)
            if text is None:  # deleted since the index was built
                continue
            _, _, a, b = self.idx.windows[row]
            out.append((pid, score, text[int(a):int(b)].strip() or text))
        return out
