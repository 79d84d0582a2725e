"""Where the build's embedding jobs run: the local process pool gives the single-process path's vectors
bit for bit, resumes the same way, and a worker that cannot work fails the build in one line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from test_semantic_support import ensure_model, interrupt_encoding

from corpus.errors import ModelError
from corpus.ingest import ingest_paths
from corpus.settings import Settings
from corpus.store import open_store
from indexer import semantic
from indexer.embed import executors
from indexer.embed import model as embed_model

SEEDS = Path(__file__).resolve().parents[1] / "corpus" / "sample"


def _index(settings: Settings) -> tuple[np.ndarray, np.ndarray]:
    m = json.loads((settings.vectors_dir / "manifest.json").read_text(encoding="utf-8"))
    g = m["generation"]
    return np.load(settings.vectors_dir / f"vectors-{g}.npy"), np.load(settings.vectors_dir / f"windows-{g}.npy")


def _seed_settings(root: Path, **kw) -> Settings:
    s = Settings(data_dir=root, **kw)
    ensure_model(s)
    ingest_paths(s, [SEEDS])
    return s


@pytest.mark.model
def test_pool_vectors_equal_the_single_process_path_on_the_seeds(tmp_path, monkeypatch):
    monkeypatch.setattr(semantic, "CHUNK_WINDOWS", 40)  # several jobs in flight on both workers
    one = _seed_settings(tmp_path / "one", embed_workers=1)
    pool = _seed_settings(tmp_path / "pool", embed_workers=2)
    f1 = semantic.update_embeddings(one, open_store(one))
    f2 = semantic.update_embeddings(pool, open_store(pool))
    assert f1["executor"] == "in-process (1 worker)" and f2["executor"] == "process pool (2 workers)"
    assert f1["windows"] == f2["windows"] > 100 and f1["paragraphs"] == f2["paragraphs"]
    v1, w1 = _index(one)
    v2, w2 = _index(pool)
    assert np.array_equal(w1, w2)
    assert np.array_equal(v1, v2)  # bit for bit: every job is the same batch wherever it runs
    assert not (pool.vectors_dir / "pending").exists()
    # and the index serves queries as usual
    hits = semantic.semantic_search(pool, "要素保障", 3)
    assert hits and hits == semantic.semantic_search(one, "要素保障", 3)


@pytest.mark.model
def test_a_build_interrupted_in_one_process_resumes_in_the_pool_like_in_one_process(tmp_path, monkeypatch):
    monkeypatch.setattr(semantic, "CHUNK_WINDOWS", 30)
    s = _seed_settings(tmp_path / "first", embed_workers=1)
    emb = embed_model.get_model(s)
    real, _ = interrupt_encoding(monkeypatch, emb, at=3)  # Ctrl-C during the third chunk
    with pytest.raises(KeyboardInterrupt):
        semantic.update_embeddings(s, open_store(s))
    monkeypatch.setattr(emb, "encode_passages", real)
    assert len(list((s.vectors_dir / "pending").glob("chunk-*.json"))) == 2
    resumed = {}
    for workers in (1, 2):
        copy = tmp_path / f"resume-{workers}"
        shutil.copytree(s.data_dir, copy)
        c = Settings(data_dir=copy, embed_workers=workers)
        fig = semantic.update_embeddings(c, open_store(c))
        assert fig["resumed_documents"] >= 1 and fig["executor"].startswith(("in-process", "process pool"))
        resumed[workers] = (fig, _index(c))
    assert resumed[1][0]["resumed_documents"] == resumed[2][0]["resumed_documents"]
    assert resumed[1][0]["windows_embedded"] == resumed[2][0]["windows_embedded"]
    assert np.array_equal(resumed[1][1][1], resumed[2][1][1])
    assert np.array_equal(resumed[1][1][0], resumed[2][1][0])


def test_a_worker_that_cannot_load_the_model_fails_in_one_line(tmp_path):
    broken = Settings(data_dir=tmp_path / "d", model=str(tmp_path / "no-such-model"))
    pool = executors.ProcessPool(broken, "int8", "onnx", 32, 1)
    try:
        with pytest.raises(ModelError, match="could not load the model") as e:
            pool.submit(["要坚持项目为王。"]).result()
        assert "\n" not in str(e.value) and "no-such-model" in str(e.value)
    finally:
        pool.close()


def test_pool_only_when_there_are_cores_enough_to_embed_and_no_other_load(tmp_path):
    s = Settings(data_dir=tmp_path)
    big = executors.POOL_MIN_WINDOWS
    assert executors.pool_workers(s, big, cores=2, load=0.2) == 2
    assert executors.pool_workers(s, big - 1, cores=2, load=0.2) == 1  # start-up would cost more than it saves
    assert executors.pool_workers(s, big, cores=1, load=0.0) == 1
    assert executors.pool_workers(s, big, cores=2, load=6.0) == 1  # other work has the cores
    assert executors.pool_workers(Settings(data_dir=tmp_path, embed_workers=3), 10, cores=2, load=6.0) == 3
    assert executors.pool_workers(Settings(data_dir=tmp_path, embed_workers=1), big, cores=8, load=0.0) == 1
