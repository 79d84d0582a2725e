"""`corpus index --ray`: embedding batches on a real local Ray cluster of two nodes give the local
path's vectors, written as the same chunk files, with the model shipped to the workers' own model
cache through the object store."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from test_semantic_support import ensure_model

from corpus.ingest import ingest_paths
from corpus.settings import Settings
from corpus.store import open_store
from indexer import semantic

try:
    import ray
    from ray.cluster_utils import Cluster
except ImportError as e:  # the cluster extra is not installed: say so instead of failing
    pytestmark = pytest.mark.skip(reason=f"ray is not importable ({e}): pip install -e '.[cluster]'")

SEEDS = Path(__file__).resolve().parents[1] / "corpus" / "sample"


def _index(settings: Settings) -> tuple[np.ndarray, np.ndarray]:
    m = json.loads((settings.vectors_dir / "manifest.json").read_text(encoding="utf-8"))
    g = m["generation"]
    return np.load(settings.vectors_dir / f"vectors-{g}.npy"), np.load(settings.vectors_dir / f"windows-{g}.npy")


@pytest.fixture
def two_node_cluster(tmp_path):
    """A head and a worker node of one CPU each on this machine, small object stores; the workers'
    model cache is an empty folder, so the model has to be shipped to them."""
    worker_cache = tmp_path / "worker-model-cache"
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "object_store_memory": 400 * 2**20,
                                                            "include_dashboard": False})
    cluster.add_node(num_cpus=1, object_store_memory=400 * 2**20)
    try:
        ray.init(address=cluster.address, logging_level="ERROR", log_to_driver=False,
                 runtime_env={"env_vars": {"CORPUS_MODEL_CACHE": str(worker_cache)}})
        yield cluster, worker_cache
    finally:
        ray.shutdown()
        cluster.shutdown()


@pytest.mark.model
def test_ray_cluster_vectors_equal_the_local_path_on_the_seeds(tmp_path, monkeypatch, two_node_cluster):
    cluster, worker_cache = two_node_cluster
    monkeypatch.setattr(semantic, "CHUNK_WINDOWS", 40)  # several jobs, on both nodes
    local = Settings(data_dir=tmp_path / "local", embed_workers=1)
    ensure_model(local)
    on_ray = Settings(data_dir=tmp_path / "ray", ray_address=cluster.address)
    for s in (local, on_ray):
        ingest_paths(s, [SEEDS])
    f_local = semantic.update_embeddings(local, open_store(local))
    f_ray = semantic.update_embeddings(on_ray, open_store(on_ray))
    assert f_ray["executor"] == "ray cluster (2 workers on 2 nodes)"
    assert f_ray["windows"] == f_local["windows"] > 100 and f_ray["paragraphs"] == f_local["paragraphs"]
    v_local, w_local = _index(local)
    v_ray, w_ray = _index(on_ray)
    assert np.array_equal(w_local, w_ray)
    assert np.array_equal(v_local, v_ray)
    shipped = list((worker_cache / "shipped").glob("*/BUILD.json"))
    assert len(shipped) == 1  # written once on this machine, though two workers needed it
    assert json.loads(shipped[0].read_text())["shipped"] is True
    assert semantic.semantic_search(on_ray, "要素保障", 3) == semantic.semantic_search(local, "要素保障", 3)

    # the command line: `corpus index --ray ADDRESS` takes the same road
    from click.testing import CliRunner

    from corpus.cli import main

    data = tmp_path / "cli"
    ingest_paths(Settings(data_dir=data), [SEEDS])
    r = CliRunner().invoke(main, ["--data", str(data), "index", "--ray", cluster.address, "--json"],
                           catch_exceptions=False)
    assert r.exit_code == 0, r.output
    report = json.loads(r.output)
    assert report["semantic"]["executor"] == "ray cluster (2 workers on 2 nodes)"
    assert np.array_equal(_index(Settings(data_dir=data))[0], v_local)
