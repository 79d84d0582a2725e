"""The Qdrant backend (`settings.search_backend = "qdrant"`): the same search answered by a Qdrant
collection, embedded (qdrant-client's local mode, a folder in the data directory) or a server or
cluster (`settings.qdrant_url`), with the same client code. docs/scale.md says why and when.

One point per paragraph (id = paragraph id):
- payload: doc, cluster, head, len, the folded text (`text`: what every literal candidate is
  verified against, so the main list stays exact), and `chars`, the folded text one character per
  token (a whitespace-tokenised text index with phrase matching finds substring candidates);
- `bm25`: a sparse vector of the paragraph's jieba words (ids: CRC32 of the word; values: BM25's
  saturated term frequency; `Modifier.IDF` lets the engine supply the inverse document frequency);
- `dense`: the paragraph's e5 window vectors as one multivector (MAX_SIM: a paragraph scores by its
  best window, as the local index does), copied from the local embedding index.

The main list: each clause's alternatives as phrase conditions on `chars` (an OR inside, AND across
clauses), scrolled in full (a true count needs every match, never a top-k), then verified on the
folded text exactly as the local index verifies its candidates (substring, exclusions, filters, 同句),
ranked by the engine's BM25 of the query words within the same tiers and priors as the local ranking.
Meaning neighbours and the hybrid re-rank query `dense`; the related list is the engine's RRF of
`bm25` (the partial words) and `dense` through prefetch. Did-you-mean is not offered by this backend.

`sync(settings, store)` (run by `corpus index` when this backend is configured) brings the collection
up to date with the store by document revision: new and changed documents are (re)written, deleted
ones removed, and documents whose vectors appeared since the last sync are rewritten with them.
"""

from __future__ import annotations

import bisect
import json
import logging
import threading
import zlib
from collections import Counter
from pathlib import Path

import numpy as np

from corpus.atomic import write_json_atomic
from corpus.errors import ConfigError, IndexMissing
from corpus.store import Store

from .. import analysis, rank
from ..analysis import SENTENCE_END, word_terms
from ..charindex import fold_each
from ..query import Query
from ..terms import index_tokenizer, query_tokenizer
from .candidates import RELATED_MIN_CHARS, TITLE_BOOST, Cand, one_per_cluster
from .literal import _bm25_words, _literal_query, joined_term
from .related import RELATED_LIMIT, RELATED_POOL, partial_need, partial_words
from .sentence import sentence_checker

log = logging.getLogger(__name__)

COLLECTION = "paragraphs"
STATE = "qdrant-state.json"  # {doc_id: [rev, has_dense]} as synced, in the data directory
K1, B = 1.2, 0.75
SCROLL_PAGE = 2048
UPSERT_BATCH = 256


_clients: dict[str, object] = {}
_clients_lock = threading.Lock()


class _Serialized:
    """A client whose calls run one at a time (`lock`, re-entrant): the embedded local mode is one
    in-process store, so web threads and a sync in the same process take turns."""

    def __init__(self, client):
        self._client = client
        self.lock = threading.RLock()

    def __getattr__(self, name):
        attr = getattr(self._client, name)
        if not callable(attr):
            return attr

        def call(*args, **kwargs):
            with self.lock:
                return attr(*args, **kwargs)

        return call


def _client(settings):
    """One client per process and collection place: the embedded local mode locks its folder (a
    second process gets a clear error; a server or cluster has no such limit)."""
    try:
        from qdrant_client import QdrantClient
    except ImportError as e:
        raise ConfigError("search_backend 'qdrant' needs qdrant-client: pip install -e '.[qdrant]'",
                          zh="检索后端 qdrant 需要安装 qdrant-client") from e
    url = getattr(settings, "qdrant_url", None)
    key = url or str((Path(settings.data_dir) / "qdrant").resolve())
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            try:
                client = QdrantClient(url=url) if url else _Serialized(QdrantClient(path=key))
            except RuntimeError as e:  # local mode: the folder is held by another process
                raise ConfigError(f"the Qdrant folder {key} is in use by another process ({e}); embedded mode "
                                  "serves one process: stop it, or set qdrant_url to a Qdrant server",
                                  zh="Qdrant 数据目录正被另一个进程使用") from e
            if not _clients:
                import atexit

                atexit.register(close_clients)  # closed while Python still runs (its __del__ at exit is noisy)
            _clients[key] = client
        return client


def close_clients() -> None:
    """Close this process's clients (tests; a command that is done with the collection)."""
    with _clients_lock:
        for c in _clients.values():
            c.close()
        _clients.clear()


def _models():
    from qdrant_client import models

    return models


def word_id(word: str) -> int:
    return zlib.crc32(word.encode("utf-8"))


def spaced(folded: str) -> str:
    """The folded text as the `chars` field holds it: one token per character, whitespace dropped."""
    return " ".join(ch for ch in folded if not ch.isspace())


# --- sync --------------------------------------------------------------------------------------

def _state_path(settings) -> Path:
    return Path(settings.data_dir) / STATE


def _read_state(settings) -> dict[int, list]:
    try:
        return {int(k): v for k, v in json.loads(_state_path(settings).read_text(encoding="utf-8")).items()}
    except (FileNotFoundError, ValueError):
        return {}


def _ensure_collection(client, dim: int | None) -> None:
    m = _models()
    if client.collection_exists(COLLECTION):
        return
    vectors = {}
    if dim:
        vectors["dense"] = m.VectorParams(size=dim, distance=m.Distance.DOT, multivector_config=m.MultiVectorConfig(
            comparator=m.MultiVectorComparator.MAX_SIM))
    client.create_collection(COLLECTION, vectors_config=vectors,
                             sparse_vectors_config={"bm25": m.SparseVectorParams(modifier=m.Modifier.IDF)})
    try:  # a server needs the text index for phrase conditions; local mode scans and warns
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            client.create_payload_index(COLLECTION, "chars", field_schema=m.TextIndexParams(
                type=m.TextIndexType.TEXT, tokenizer=m.TokenizerType.WHITESPACE, lowercase=False,
                phrase_matching=True))
            for key in ("doc", "head"):
                client.create_payload_index(COLLECTION, key, field_schema=m.PayloadSchemaType.INTEGER)
    except Exception as e:  # pragma: no cover - depends on the server version
        log.warning("qdrant payload index not created: %s", e)


def _dense_source(settings):
    """The local embedding index (vectors per paragraph), or None when there is none."""
    if not getattr(settings, "semantic", True):
        return None
    try:
        from ..semantic import open_index, semantic_available

        return open_index(settings) if semantic_available(settings) else None
    except Exception as e:  # no vectors: the collection is built without `dense`
        log.info("qdrant sync without vectors: %s", e)
        return None


def sync(settings, store: Store, progress: bool | str = False) -> dict:
    """Bring the collection up to date with the store (see the module docstring); returns figures."""
    m = _models()
    client = _client(settings)
    with getattr(client, "lock", threading.RLock()):  # local mode: searches in this process wait for the sync
        analysis.configure(settings)
        idx = _dense_source(settings)
        dim = int(idx.vectors.shape[1]) if idx is not None else None
        if dim and client.collection_exists(COLLECTION):
            info = client.get_collection(COLLECTION)
            if "dense" not in (info.config.params.vectors or {}):
                client.delete_collection(COLLECTION)  # built before vectors existed: rebuilt with them
                _state_path(settings).unlink(missing_ok=True)
        _ensure_collection(client, dim)
        state = _read_state(settings)
        revs, rows = store.index_snapshot()
        dense_docs = {int(d) for d in np.unique(idx.windows[:, 1]).tolist()} if idx is not None else set()
        todo = {d for d, r in revs.items() if d not in state or state[d][0] != r
                or (d in dense_docs and not state[d][1])}
        gone = [d for d in state if d not in revs]
        stale = sorted(todo & set(state)) + gone
        if stale:
            client.delete(COLLECTION, points_selector=m.FilterSelector(filter=m.Filter(
                must=[m.FieldCondition(key="doc", match=m.MatchAny(any=stale))])))
        new_rows = [r for r in rows if r[1] in todo]
        texts = [(r[0], r[1], r[2], r[3], f) for r, f in zip(new_rows, fold_each([r[4] for r in new_rows]), strict=True)]
        tk = index_tokenizer(settings)
        tokens = [word_terms(t[4], tk) for t in texts]
        all_lens = [len(r[4]) for r in rows]
        avgdl = max(1.0, float(np.mean(all_lens))) if all_lens else 1.0
        batch = []
        for (pid, doc, cluster, kind, ftext), words in zip(texts, tokens, strict=True):
            counts = Counter(word_id(w) for w in words)
            dl = len(ftext)
            norm = K1 * ((1 - B) + B * dl / avgdl)
            ids_ = sorted(counts)
            vec: dict = {"bm25": m.SparseVector(indices=ids_, values=[c * (K1 + 1) / (c + norm) for c in
                                                                          (counts[i] for i in ids_)])}
            wr = idx.rows_of(pid) if idx is not None else ()
            if len(wr):
                vec["dense"] = np.asarray(idx.vectors[np.sort(wr)], dtype=np.float32).tolist()
            batch.append(m.PointStruct(id=pid, vector=vec, payload={
                "doc": doc, "cluster": cluster if cluster is not None else pid, "head": int(kind == "heading"),
                "len": dl, "text": ftext, "chars": spaced(ftext)}))
            if len(batch) >= UPSERT_BATCH:
                client.upsert(COLLECTION, batch)
                batch = []
        if batch:
            client.upsert(COLLECTION, batch)
        new_state = {d: [revs[d], d in dense_docs] for d in revs if d in todo or d in state}
        write_json_atomic(_state_path(settings), {str(k): v for k, v in new_state.items()}, indent=None)
        return {"documents_written": len(todo), "documents_removed": len(gone), "paragraphs_written": len(texts),
                "points": client.count(COLLECTION).count, "dense": dim is not None}


# --- searching ---------------------------------------------------------------------------------

class _Scores:
    """The query's e5 vector against the collection's `dense` multivectors."""

    def __init__(self, backend: QdrantBackend, vector: np.ndarray):
        self.backend, self.vector = backend, [np.asarray(vector, dtype=np.float32).tolist()]

    def best(self, paragraph_ids) -> np.ndarray:
        m = _models()
        pids = [int(p) for p in paragraph_ids]
        out = np.full(len(pids), np.nan)
        if not pids:
            return out
        res = self.backend.client.query_points(COLLECTION, query=self.vector, using="dense", limit=len(pids),
                                               query_filter=m.Filter(must=[m.HasIdCondition(has_id=pids)]))
        got = {int(p.id): float(p.score) for p in res.points}
        for i, p in enumerate(pids):
            if p in got:
                out[i] = got[p]
        return out


class QdrantBackend:
    name = "qdrant"

    def __init__(self, settings, store: Store | None = None, arrays=None):
        self.settings, self.store = settings, store
        self._client = None
        self._tokenizer = None

    @property
    def client(self):
        if self._client is None:
            self._client = _client(self.settings)
            if not self._client.collection_exists(COLLECTION):
                raise IndexMissing("no Qdrant collection yet: run `corpus index` with search_backend qdrant",
                                   zh="Qdrant 集合尚未建立：请先运行 `corpus index`")
        return self._client

    @property
    def tokenizer(self):
        if self._tokenizer is None:
            self._tokenizer = query_tokenizer(self.settings)
        return self._tokenizer

    def _scroll(self, flt) -> list:
        out, offset = [], None
        while True:
            pts, offset = self.client.scroll(COLLECTION, scroll_filter=flt, limit=SCROLL_PAGE, offset=offset,
                                             with_payload=True, with_vectors=False)
            out.extend(pts)
            if offset is None:
                return out

    def _sparse(self, words: list[str]):
        m = _models()
        ids = sorted({word_id(w) for w in words})
        return m.SparseVector(indices=ids, values=[1.0] * len(ids))

    def _bm25(self, words: list[str], pids: list[int]) -> dict[int, float]:
        m = _models()
        if not words or not pids:
            return {}
        res = self.client.query_points(COLLECTION, query=self._sparse(words), using="bm25", limit=len(pids),
                                       query_filter=m.Filter(must=[m.HasIdCondition(has_id=pids)]))
        return {int(p.id): float(p.score) for p in res.points}

    # -- the main list --
    def literal(self, q: Query, scope: str, docs, keep) -> list[Cand]:
        m = _models()
        must = []
        for c in q.clauses:
            alts = [m.FieldCondition(key="chars", match=m.MatchPhrase(phrase=spaced(t.folded)))
                    for t in c.alternatives if spaced(t.folded)]
            if not alts:
                return []
            must.append(m.Filter(should=alts))
        if not must:
            return []
        found = self._scroll(m.Filter(must=must))
        rows = []
        for p in found:
            pl = p.payload
            text, doc = pl["text"], int(pl["doc"])
            if not all(any(t.folded in text for t in c.alternatives) for c in q.clauses):
                continue  # a phrase candidate that is not the exact substring
            if any(t.folded in text for t in q.excluded):
                continue
            d = docs.get(doc)
            if d is None or (keep is not None and not keep(d)):
                continue
            rows.append((int(p.id), doc, int(pl["cluster"]), int(pl["head"]), int(pl["len"]), text))
        if scope == "sentence" and rows:
            rows = [r for r, ok in zip(rows, self._same_sentence(q, [r[5] for r in rows]), strict=True) if ok]
        if not rows:
            return []
        words = _bm25_words(q, self.tokenizer)
        bm = self._bm25(words, [r[0] for r in rows])
        lengths = np.array([r[4] for r in rows])
        heads = np.array([r[3] for r in rows])
        priors = rank.prior(lengths, heads)
        jt = joined_term(q)
        terms_f = [t.folded for t in q.positive_terms]
        out = []
        for (pid, doc, cluster, _head, _length, text), pr, frag in zip(rows, priors.tolist(),
                                                                        rank.is_fragment(lengths, heads).tolist(),
                                                                        strict=True):
            tier = -1 if frag else (2 if jt is None or jt.folded in text else 1)
            tboost = TITLE_BOOST if any(t in docs[doc].ftitle for t in terms_f) else 1.0
            score = (bm.get(pid, 0.0) + 0.001) * tboost * pr
            out.append(Cand(pid, doc, cluster, score + 1000.0 * tier, tier=tier, prior=pr))
        out.sort(key=lambda c: (-c.tier, -round(c.score - 1000.0 * c.tier, 4), docs[c.doc_id].date_rank, c.pid))
        return out

    def _same_sentence(self, q: Query, texts: list[str]) -> list[bool]:
        """同句 for each text, by the same checker the local index uses (over the texts joined)."""
        joined = "\n".join(texts)
        check = sentence_checker(_literal_query(q), self.tokenizer, joined)
        ends = [e.end() for e in SENTENCE_END.finditer(joined)]
        out, start = [], 0
        for t in texts:
            stop = start + len(t)
            a, b = bisect.bisect_right(ends, start), bisect.bisect_left(ends, stop)
            out.append(check(start, stop, ends[a:b]))
            start = stop + 1
        return out

    # -- meaning --
    def meaning_status(self) -> tuple[bool, str]:
        if not getattr(self.settings, "semantic", True):
            return False, "semantic search is switched off (settings.semantic)"
        try:
            info = self.client.get_collection(COLLECTION)
        except Exception as e:
            return False, f"semantic index unusable ({e})"
        if "dense" not in (info.config.params.vectors or {}):
            return False, "no vectors in the Qdrant collection yet (run `corpus index`)"
        return True, ""

    def query_scores(self, q: Query, notices: list[str]):
        from corpus.errors import CorpusError

        from ..semantic import embed_query, index_variant, read_manifest
        from .hybrid import semantic_text

        try:
            manifest = read_manifest(self.settings) or {}
            precision, backend = index_variant(manifest)
            return _Scores(self, embed_query(self.settings, semantic_text(q), precision=precision, backend=backend))
        except CorpusError as e:
            notices.append(f"semantic ranking unavailable ({e}): keyword order shown")
            return None

    def _neighbours(self, run, k: int, skip: set[int], docs, keep, q: Query,
                    relation: str) -> list[tuple[Cand, str]]:
        """`run(filter)`'s points that may stand as meaning neighbours (no heading, no short line, no
        literal hit, an allowed document, none of the exclusions), best first, with their texts."""
        m = _models()
        flt = m.Filter(must=[m.FieldCondition(key="head", match=m.MatchValue(value=0))],
                       must_not=[m.HasIdCondition(has_id=sorted(skip))] if skip else None)
        res = run(flt)
        out = []
        for p in res.points:
            pl = p.payload
            doc, length, text = int(pl["doc"]), int(pl["len"]), pl["text"]
            if length < RELATED_MIN_CHARS:
                continue
            d = docs.get(doc)
            if d is None or (keep is not None and not keep(d)):
                continue
            if any(t.folded in text for t in q.excluded):
                continue
            score = float(p.score) + rank.long_damping(length)
            out.append((Cand(int(p.id), doc, int(pl["cluster"]), score, relation=relation), text))
        out.sort(key=lambda ct: -ct[0].score)
        return out[:k]

    def meaning(self, q, docs, keep, scores, k):
        def run(flt):
            return self.client.query_points(COLLECTION, query=scores.vector, using="dense", limit=k * 3 + 20,
                                            query_filter=flt, with_payload=True)

        return [c for c, _ in self._neighbours(run, k, set(), docs, keep, q, "meaning")]

    def related(self, q, docs, keep, scores, literal, fold_reposts):
        """Partial matches (most of the words) and meaning neighbours, fused by the engine (RRF)."""
        m = _models()
        groups = partial_words(q, self.tokenizer)
        words = list(dict.fromkeys(x for w, parts in groups for x in (w, *parts)))
        skip = {c.pid for c in literal}
        lit_clusters = {c.cluster for c in literal}
        need = partial_need(groups) if groups else 0
        prefetch = []
        if words:
            prefetch.append(m.Prefetch(query=self._sparse(words), using="bm25", limit=RELATED_POOL * 3))
        if scores is not None:
            prefetch.append(m.Prefetch(query=scores.vector, using="dense", limit=RELATED_POOL))
        if not prefetch:
            return [], words

        def fused(flt):
            return self.client.query_points(COLLECTION, prefetch=prefetch, query=m.FusionQuery(fusion=m.Fusion.RRF),
                                            limit=RELATED_POOL * 2, query_filter=flt, with_payload=True)

        out = []
        for c, text in self._neighbours(fused, RELATED_POOL * 2, skip, docs, keep, q, "meaning"):
            present = sum(1 for w, parts in groups if w in text)
            if groups and present >= need:
                c.relation = "partial"
            elif scores is None:
                continue  # without meaning, only partial matches belong here
            out.append(c)
        if fold_reposts:  # as the local related list folds
            out = [c for c in one_per_cluster(out, True) if c.cluster not in lit_clusters]
        return out[:RELATED_LIMIT], words

    def suggestions(self, q):
        return []

