"""The approximate (HNSW) index beside the embedding index: same answers as the exact scan past the
threshold, kept up to date incrementally with each generation, and never a wrong answer when its file
is damaged or gone (the exact scan answers, and the log says why)."""

from __future__ import annotations

import json
import logging
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from test_semantic_support import ensure_model

from corpus.ingest import ingest_paths
from corpus.settings import Settings
from corpus.store import open_store
from indexer import ann, semantic

if ann._library() is None:  # (through ann: it imports onnxruntime first, see there)
    pytest.skip("the approximate index needs usearch (a dependency: pip install -e .)", allow_module_level=True)

SAMPLE = Path(__file__).resolve().parents[1] / "corpus" / "sample"
QUERIES = ["要素保障", "招商引资和项目建设", "防汛抗旱", "干部作风建设", "乡村振兴产业发展", "安全生产责任",
           "营商环境优化", "基层减负"]
EXTRA = {
    "在全县防汛工作会议上的讲话": ["汛期将至，要落实包保责任，加强水库、河道巡查，提前转移危险区群众。",
                                   "各乡镇要储备好防汛物资，组织抢险队伍，做到召之即来、来之能战。"],
    "在乡村振兴推进会上的讲话": ["发展特色种植和乡村旅游，壮大村级集体经济，让农民在产业链上增收。",
                                 "抓好高标准农田建设，稳定粮食播种面积，守住耕地红线。"],
}


def _write_docs(folder: Path, docs: dict[str, list[str]]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, paras in docs.items():
        (folder / f"{name}.txt").write_text(f"{name}\n\n" + "\n\n".join(paras) + "\n", encoding="utf-8")


def _manifest(s) -> dict:
    return json.loads((s.vectors_dir / "manifest.json").read_text())


def _exact(s):
    return replace(s, ann_threshold=10**12)


def _same_answers(lo, hi) -> None:
    """Every query: the ANN path's top 10 (ids and scores) equals the exact scan's; likewise the
    literal re-rank scores (`best`) and the similar paragraphs."""
    store = open_store(lo, readonly=True)
    try:
        for q in QUERIES:
            a, b = semantic.semantic_search(lo, q, 10), semantic.semantic_search(hi, q, 10)
            assert [h[0] for h in a] == [h[0] for h in b], q
            assert np.allclose([h[1] for h in a], [h[1] for h in b], atol=1e-6), q
            qa, qb = semantic.QueryScores(lo, q), semantic.QueryScores(hi, q)
            assert qa.graph is not None and qb.graph is None
            ta, tb = qa.top(store, 10), qb.top(store, 10)
            assert [h[0] for h in ta] == [h[0] for h in tb], q
            pids = [h[0] for h in tb] + [10**9]  # one id the index does not have: NaN
            assert np.allclose(qa.best(pids), qb.best(pids), equal_nan=True, atol=1e-6)
            assert qa._scores is None  # the ANN path never made the full product
        pid = semantic.semantic_search(hi, QUERIES[0], 1)[0][0]
        sa, sb = semantic.similar_paragraphs(lo, pid, 5), semantic.similar_paragraphs(hi, pid, 5)
        assert [p for p, _ in sa] == [p for p, _ in sb] and len(sb) == 5
        assert np.allclose([x for _, x in sa], [x for _, x in sb], atol=1e-6)
    finally:
        store.close()


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The five seeds embedded with the threshold forced low: a real index with its graph."""
    root = tmp_path_factory.mktemp("ann")
    s = Settings(data_dir=root / "data", ann_threshold=1)
    ensure_model(s)
    ingest_paths(s, [SAMPLE])
    store = open_store(s)
    try:
        semantic.update_embeddings(s, store)
    finally:
        store.close()
    return s


@pytest.fixture
def index(built, tmp_path):
    """A private copy of the built data directory."""
    s = replace(built, data_dir=tmp_path / "data")
    shutil.copytree(built.data_dir, s.data_dir)
    return s


def _graph_keys(s) -> set[int]:
    g = ann._library().restore(str(ann.graph_path(s.vectors_dir, _manifest(s)["generation"])), view=True)
    return set(np.asarray(g.keys).tolist())


def _index_keys(s) -> set[int]:
    w = np.load(s.vectors_dir / f"windows-{_manifest(s)['generation']}.npy")
    return set(ann.window_keys(w).tolist())


@pytest.mark.model
def test_ann_path_gives_the_exact_top10(index):
    m = _manifest(index)
    assert ann.graph_path(index.vectors_dir, m["generation"]).exists()
    assert _graph_keys(index) == _index_keys(index)
    _same_answers(index, _exact(index))


@pytest.mark.model
def test_incremental_update_adds_and_removes_what_changed(index, tmp_path):
    store = open_store(index)
    try:
        g1 = _manifest(index)["generation"]
        _write_docs(tmp_path / "more", EXTRA)
        ingest_paths(index, [tmp_path / "more"])
        semantic.update_embeddings(index, store)
        g2 = _manifest(index)["generation"]
        meta = json.loads(ann.meta_path(index.vectors_dir, g2).read_text())
        assert g2 == g1 + 1 and meta["built"] == "incremental" and meta["windows"] == _manifest(index)["windows"]
        assert not ann.graph_path(index.vectors_dir, g1).exists()  # swept with its generation
        assert _graph_keys(index) == _index_keys(index)
        _same_answers(index, _exact(index))

        w = np.load(index.vectors_dir / f"windows-{g2}.npy")
        docs, counts = np.unique(w[:, 1], return_counts=True)
        by_size = [int(d) for d in docs[np.argsort(counts, kind="stable")]]
        with store.transaction():  # the smallest document goes: its windows leave the graph
            store.delete_document(by_size[0])
        semantic.update_embeddings(index, store)
        meta = json.loads(ann.meta_path(index.vectors_dir, _manifest(index)["generation"]).read_text())
        assert meta["built"] == "incremental" and meta["removed"] == counts.min()
        assert _graph_keys(index) == _index_keys(index)
        _same_answers(index, _exact(index))

        with store.transaction():  # the largest goes too: past a quarter removed, the graph is built anew
            store.delete_document(by_size[-1])
        semantic.update_embeddings(index, store)
        meta = json.loads(ann.meta_path(index.vectors_dir, _manifest(index)["generation"]).read_text())
        assert counts.max() + counts.min() > ann.COMPACT_SHARE * _manifest(index)["windows"]
        assert meta["built"] == "full" and meta["removed"] == 0
        assert _graph_keys(index) == _index_keys(index)
        _same_answers(index, _exact(index))

        semantic.update_embeddings(index, store, rebuild=True)  # a rebuild builds the graph anew
        meta = json.loads(ann.meta_path(index.vectors_dir, _manifest(index)["generation"]).read_text())
        assert meta["built"] == "full" and _graph_keys(index) == _index_keys(index)
    finally:
        store.close()


@pytest.mark.model
def test_a_graph_of_older_parameters_answers_and_is_then_built_anew(index, tmp_path, monkeypatch):
    """An index whose graph was built with other HNSW parameters (M 16, ef_construction 128: before
    bench/ann.py measured them short of recall 0.99 at 1 M) keeps answering from it, but the next update
    builds the graph in full instead of adding to it, and `ensure` rebuilds it for an unchanged index."""
    store = open_store(index)
    try:
        monkeypatch.setattr(ann, "CONNECTIVITY", 16)
        monkeypatch.setattr(ann, "EXPANSION_ADD", 128)
        semantic.update_embeddings(index, store, rebuild=True)
        gen = _manifest(index)["generation"]
        old = json.loads(ann.meta_path(index.vectors_dir, gen).read_text())
        assert old["connectivity"] == 16 and old["expansion_add"] == 128
        monkeypatch.undo()
        ann._opened.clear()
        assert semantic.QueryScores(index, QUERIES[0]).graph is not None  # still used for queries
        _same_answers(index, _exact(index))

        meta = ann.ensure(index, index.vectors_dir, _manifest(index))  # unchanged index: rebuilt in place
        assert meta and meta["built"] == "full" and meta["connectivity"] == ann.CONNECTIVITY
        assert ann.ensure(index, index.vectors_dir, _manifest(index)) is None  # now current: nothing to do

        monkeypatch.setattr(ann, "CONNECTIVITY", 16)
        semantic.update_embeddings(index, store, rebuild=True)
        monkeypatch.undo()
        _write_docs(tmp_path / "more", EXTRA)
        ingest_paths(index, [tmp_path / "more"])
        semantic.update_embeddings(index, store)  # changed documents: a full build, not an addition
        meta = json.loads(ann.meta_path(index.vectors_dir, _manifest(index)["generation"]).read_text())
        assert meta["built"] == "full" and meta["connectivity"] == ann.CONNECTIVITY
        assert _graph_keys(index) == _index_keys(index)
        _same_answers(index, _exact(index))
    finally:
        store.close()


@pytest.mark.model
@pytest.mark.parametrize("damage", ["flip", "truncate", "missing", "meta"])
def test_damaged_or_missing_ann_file_falls_back_to_exact(index, damage, caplog):
    hi = _exact(index)
    expected = {q: semantic.semantic_search(hi, q, 10) for q in QUERIES}
    path = ann.graph_path(index.vectors_dir, _manifest(index)["generation"])
    data = bytearray(path.read_bytes())
    if damage == "flip":
        for i in range(len(data) // 3, len(data) // 3 + 64):
            data[i] ^= 0xFF
        path.write_bytes(bytes(data))
    elif damage == "truncate":
        path.write_bytes(bytes(data[: len(data) // 2]))
    elif damage == "missing":
        path.unlink()
    else:
        ann.meta_path(index.vectors_dir, _manifest(index)["generation"]).write_text("{not json")
    with caplog.at_level(logging.WARNING, logger="indexer.ann"):
        for q in QUERIES:
            assert semantic.semantic_search(index, q, 10) == expected[q], q
        assert semantic.QueryScores(index, QUERIES[0]).graph is None
    msgs = [r.getMessage() for r in caplog.records if "ANN index cannot be used" in r.getMessage()]
    assert len(msgs) == 1 and "exact" in msgs[0] and "corpus index" in msgs[0]  # once, not once per query
    assert {"flip": "damaged", "truncate": "bytes", "missing": "missing", "meta": "unreadable"}[damage] in msgs[0]

    store = open_store(index)  # `corpus index` on the unchanged index builds the graph again
    try:
        semantic.update_embeddings(index, store)
    finally:
        store.close()
    assert semantic.QueryScores(index, QUERIES[0]).graph is not None
    _same_answers(index, hi)


@pytest.mark.model
def test_below_the_threshold_no_graph_is_built(index):
    store = open_store(index)
    try:
        exact = _exact(index)
        semantic.update_embeddings(exact, store, rebuild=True)
    finally:
        store.close()
    assert not list(index.vectors_dir.glob("ann-*"))
    assert semantic.QueryScores(exact, QUERIES[0]).graph is None


# --- the module on its own (no model): keys, build, candidates ---------------------------------------

def _random_index(n: int, dim: int = 32, seed: int = 0):
    rng = np.random.default_rng(seed)
    v = rng.standard_normal((n, dim)).astype(np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    pids = np.sort(rng.choice(10 * n, n, replace=False))
    w = np.stack([pids, pids // 7, np.zeros(n, np.int64), np.full(n, 50)], axis=1).astype(np.int64)
    return v, w


def test_graph_candidates_map_back_to_rows(tmp_path):
    s = Settings(data_dir=tmp_path, ann_threshold=10, ann_ef=200)
    v, w = _random_index(2000)
    vdir = tmp_path / "vectors"
    vdir.mkdir()
    meta = ann.build(s, vdir, 1, v, w)
    assert meta and meta["windows"] == 2000 and meta["built"] == "full"
    graph = ann.for_index(s, vdir, {"generation": 1, "windows": 2000, "dim": 32}, w)
    assert graph is not None
    hit = 0
    for i in range(50):
        rows = graph.candidates(v[i], 40)
        exact = np.argsort(-(v @ v[i]))[:10]
        hit += len(set(rows.tolist()) & set(exact.tolist()))
        assert rows[0] == i  # a vector's nearest is itself, found through its key
    assert hit / 500 >= 0.97  # the exact top 10 among 40 candidates (recall itself is bench/ann.py's job)
    assert ann.build(replace(s, ann_threshold=5000), vdir, 2, v, w) is None  # below the threshold: none


def test_window_keys_follow_paragraph_and_start():
    w = np.array([[5, 1, 0, 10], [5, 1, 10, 20], [6, 1, 0, 3]], dtype=np.int64)
    k = ann.window_keys(w)
    assert list(k) == sorted(k) and len(set(k.tolist())) == 3
    assert int(k[1]) == (5 << ann.START_BITS) | 10
