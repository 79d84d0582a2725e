"""The embedding index over a real store: topic search, incremental updates, resume, similar paragraphs."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from test_semantic_support import ensure_model, interrupt_encoding

from corpus.errors import IndexMissing, ModelError
from corpus.ingest import ingest_paths
from corpus.settings import Settings
from corpus.store import open_store
from indexer import semantic
from indexer.embed import cache as modelcache
from indexer.embed import model as embed_model

SAMPLE = Path(__file__).resolve().parents[1] / "corpus" / "sample"

TOPICS = {
    "要素保障": "土地、资金、用工等要素跟着项目走，优先保障重点项目用地指标和融资需求。",
    "防汛": "汛期将至，要落实包保责任，加强水库、河道巡查，提前转移危险区群众。",
    "双招双引": "围绕主导产业招大引强，招才引智并举，全年签约亿元以上项目30个，引进高层次人才200人。",
}
FILLER = [
    "今年以来，全市上下认真贯彻落实上级决策部署，各项工作取得积极进展。",
    "加强干部队伍作风建设，力戒形式主义、官僚主义，切实减轻基层负担。",
    "大力发展数字经济，推动人工智能、大数据与实体经济深度融合。",
]


def _write_docs(folder: Path, docs: dict[str, list[str]]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, paras in docs.items():
        (folder / f"{name}.txt").write_text(f"{name}\n\n" + "\n\n".join(paras) + "\n", encoding="utf-8")


def _settings(tmp_path: Path, **kw) -> Settings:
    s = Settings(data_dir=tmp_path / "data", **kw)
    ensure_model(s)
    return s


@pytest.mark.model
def test_topic_query_finds_paragraph_without_shared_keyword(tmp_path):
    s = _settings(tmp_path)
    _write_docs(tmp_path / "in", {"在全市项目建设推进会上的讲话": [TOPICS["要素保障"], *FILLER],
                                  "在全县防汛工作会议上的讲话": [TOPICS["防汛"], TOPICS["双招双引"]]})
    ingest_paths(s, [tmp_path / "in"])
    store = open_store(s)
    assert not semantic.semantic_available(s)
    with pytest.raises(IndexMissing):
        semantic.semantic_search(s, "要素保障", 3)
    figures = semantic.update_embeddings(s, store)
    assert figures["embedded"] == figures["paragraphs"] == store.stats()["paragraphs"] >= 6 and figures["reused"] == 0
    assert semantic.semantic_available(s)
    texts = {r["id"]: r["text"] for r in store.iter_paragraph_rows()}
    for query, expected in TOPICS.items():
        hits = semantic.semantic_search(s, query, 3)
        assert texts[hits[0][0]] == expected, query
        assert hits[0][2] == expected  # a short paragraph is its own best window
        assert [h[1] for h in hits] == sorted((h[1] for h in hits), reverse=True)

    manifest = json.loads((s.vectors_dir / "manifest.json").read_text())
    assert manifest["model"] == s.model and manifest["dim"] == 384 and manifest["precision"] == "int8"
    assert manifest["backend"] == embed_model.get_model(s).backend == embed_model.configured_variant(s)[0]
    assert manifest["variant"] == f"{manifest['backend']}-int8"
    vecs = np.load(s.vectors_dir / f"vectors-{manifest['generation']}.npy", mmap_mode="r")
    assert vecs.dtype == np.float32 and vecs.shape == (manifest["windows"], 384)

    # nothing changed: nothing embedded
    again = semantic.update_embeddings(s, store)
    assert again["embedded"] == 0 and again["reused"] == figures["paragraphs"]

    # a document deleted: its vectors go, the rest stay
    doc_id = next(d for d in store.doc_revisions())
    with store.transaction():
        store.delete_document(doc_id)
    after = semantic.update_embeddings(s, store)
    assert after["deleted"] == 1 and after["embedded"] == 0
    left = set(np.load(s.vectors_dir / f"windows-{json.loads((s.vectors_dir / 'manifest.json').read_text())['generation']}.npy")[:, 1].tolist())
    assert doc_id not in left and left


@pytest.mark.model
def test_vectors_of_two_models_are_never_mixed(tmp_path):
    s = _settings(tmp_path)
    _write_docs(tmp_path / "in", {"讲话": FILLER})
    ingest_paths(s, [tmp_path / "in"])
    store = open_store(s)
    semantic.update_embeddings(s, store)
    other = replace(s, model=modelcache.resolve_model_path(s))  # same weights, another model name
    with pytest.raises(ModelError, match="rebuild-semantic"):
        semantic.update_embeddings(other, store)
    with pytest.raises(ModelError, match="rebuild-semantic"):
        semantic.semantic_search(other, "数字经济", 3)
    assert not semantic.semantic_available(other)
    rebuilt = semantic.update_embeddings(other, store, rebuild=True)
    assert rebuilt["embedded"] == len(FILLER)
    assert semantic.semantic_available(other) and not semantic.semantic_available(s)


@pytest.mark.model
def test_index_keeps_its_backend_and_precision_until_rebuilt(tmp_path):
    """Vectors of two backends/precisions are never mixed: a changed setting is reported and the index
    goes on with what it was built with; a rebuild switches."""
    if not embed_model.onnx_runtime_available():
        pytest.skip("onnxruntime is not installed")
    s = _settings(tmp_path, embed_backend="torch")
    _write_docs(tmp_path / "in", {"讲话": FILLER})
    ingest_paths(s, [tmp_path / "in"])
    store = open_store(s)
    first = semantic.update_embeddings(s, store)
    assert first["backend"] == "torch" and "notice" not in first
    onnx = replace(s, embed_backend="onnx")
    assert semantic.index_info(onnx)["variant"] == "torch-int8"
    assert semantic.index_info(onnx)["configured_variant"] == "onnx-int8"
    _write_docs(tmp_path / "in2", {"在全县防汛工作会议上的讲话": [TOPICS["防汛"]]})
    ingest_paths(onnx, [tmp_path / "in2"])
    more = semantic.update_embeddings(onnx, store)
    assert more["embedded"] == 1 and more["backend"] == "torch"
    assert "torch-int8" in more["notice"] and "onnx-int8" in more["notice"] and "rebuild-semantic" in more["notice"]
    manifest = json.loads((s.vectors_dir / "manifest.json").read_text())
    assert manifest["variant"] == "torch-int8"
    vecs = np.load(s.vectors_dir / f"vectors-{manifest['generation']}.npy")
    windows = np.load(s.vectors_dir / f"windows-{manifest['generation']}.npy")
    pid = next(r["id"] for r in store.iter_paragraph_rows() if r["text"] == TOPICS["防汛"])
    torch_vec = embed_model.get_model(s, precision="int8", backend="torch").encode_passages([TOPICS["防汛"]])[0]
    assert np.allclose(vecs[windows[:, 0] == pid][0], torch_vec, atol=1e-5)  # embedded like the rest
    assert semantic.semantic_search(onnx, "防汛", 1)[0][0] == pid
    switched = semantic.update_embeddings(onnx, store, rebuild=True)
    assert switched["backend"] == "onnx" and switched["embedded"] == len(FILLER) + 1 and "notice" not in switched
    assert json.loads((s.vectors_dir / "manifest.json").read_text())["variant"] == "onnx-int8"
    assert semantic.semantic_search(onnx, "防汛", 1)[0][0] == pid


@pytest.mark.model
def test_interrupted_build_resumes_without_redoing_finished_chunks(tmp_path, monkeypatch):
    s = _settings(tmp_path)
    docs = {f"第{i}篇讲话": [f"{p}（第{i}篇）" for p in FILLER] for i in range(6)}
    _write_docs(tmp_path / "in", docs)
    ingest_paths(s, [tmp_path / "in"])
    store = open_store(s)
    monkeypatch.setattr(semantic, "CHUNK_WINDOWS", 3)  # one document per chunk
    emb = embed_model.get_model(s)
    real, calls = interrupt_encoding(monkeypatch, emb, at=3)  # Ctrl-C during the third chunk
    with pytest.raises(KeyboardInterrupt):
        semantic.update_embeddings(s, store)
    assert not semantic.semantic_available(s)  # no manifest swapped in
    assert len(list((s.vectors_dir / "pending").glob("chunk-*.json"))) == 2

    calls.clear()
    monkeypatch.setattr(emb, "encode_passages", lambda texts, batch_size=32: calls.append(len(texts)) or real(texts))
    figures = semantic.update_embeddings(s, store)
    assert figures["resumed_documents"] == 2
    assert sum(calls) == 4 * len(FILLER)  # only the four unfinished documents were embedded
    assert figures["paragraphs"] == 6 * len(FILLER)
    assert not (s.vectors_dir / "pending").exists()


@pytest.mark.model
def test_long_paragraph_is_split_into_sentence_windows_best_window_shown(tmp_path):
    s = _settings(tmp_path)
    long_para = "".join(FILLER * 6) + TOPICS["防汛"] + "".join(FILLER * 6)
    _write_docs(tmp_path / "in", {"讲话": [long_para, FILLER[0]]})
    ingest_paths(s, [tmp_path / "in"])
    store = open_store(s)
    figures = semantic.update_embeddings(s, store)
    assert figures["windows"] > figures["paragraphs"]
    emb = embed_model.get_model(s)
    manifest = json.loads((s.vectors_dir / "manifest.json").read_text())
    windows = np.load(s.vectors_dir / f"windows-{manifest['generation']}.npy")
    pid = next(r["id"] for r in store.iter_paragraph_rows() if r["text"] == long_para)
    spans = [(int(a), int(b)) for p, _, a, b in windows if p == pid]
    assert spans[0][0] == 0 and spans[-1][1] == len(long_para)
    assert all(b1 == a2 for (_, b1), (a2, _) in zip(spans, spans[1:], strict=False))
    assert max(emb.count_tokens([long_para[a:b] for a, b in spans])) <= emb.max_tokens
    hits = semantic.semantic_search(s, "防汛", 1)
    assert hits[0][0] == pid and "汛期将至" in hits[0][2] and len(hits[0][2]) < len(long_para)


@pytest.mark.model
def test_similar_paragraphs_skip_own_document_and_reposts(tmp_path):
    s = _settings(tmp_path)
    shutil.copytree(SAMPLE, tmp_path / "in")
    # a repost of seed 000 on another site: same speech, a changed line
    src = sorted(SAMPLE.glob("000_*.txt"))[0].read_text(encoding="utf-8")
    (tmp_path / "in" / "repost.txt").write_text(src.replace("。", "。 ", 1) + "\n（来源：某某网）\n", encoding="utf-8")
    ingest_paths(s, [tmp_path / "in"])
    store = open_store(s)
    semantic.update_embeddings(s, store)
    rows = list(store.iter_paragraph_rows())
    row = next(r for r in rows if "双招双引" in r["text"] and len(r["text"]) > 60)
    doc = store.get_document(row["doc_id"])
    same_cluster_docs = {d["id"] for d in store.iter_documents()
                         if doc["cluster_id"] is not None and d["cluster_id"] == doc["cluster_id"]}
    para_cluster = {r["id"] for r in rows if row["cluster_id"] is not None and r["cluster_id"] == row["cluster_id"]}
    hits = semantic.similar_paragraphs(s, row["id"], 10)
    assert len(hits) == 10
    doc_of = {r["id"]: r["doc_id"] for r in rows}
    for pid, _ in hits:
        assert doc_of[pid] != row["doc_id"]
        assert doc_of[pid] not in same_cluster_docs
        assert pid not in para_cluster
    assert [h[1] for h in hits] == sorted((h[1] for h in hits), reverse=True)

    # the command line shows the same, and refuses an unknown paragraph with a one-line error
    from click.testing import CliRunner

    from corpus.cli import main

    runner = CliRunner()
    out = runner.invoke(main, ["--data", str(s.data_dir), "similar", str(row["id"]), "-k", "3", "--json"])
    assert out.exit_code == 0, out.output
    shown = json.loads(out.output)
    assert [r["paragraph_id"] for r in shown["similar"]] == [pid for pid, _ in hits[:3]]
    out = runner.invoke(main, ["--data", str(s.data_dir), "similar", "999999"])
    assert out.exit_code == 1 and "Error: no paragraph with id 999999" in out.output
    out = runner.invoke(main, ["--data", str(s.data_dir), "model", "--json"])
    assert out.exit_code == 0, out.output
    info = json.loads(out.output[out.output.index("{"):])
    assert info["model"] == s.model and info["dim"] == 384 and info["index"]["paragraphs"] > 0


def test_second_writer_waits_then_fails_with_a_clear_error(tmp_path):
    from filelock import FileLock

    from corpus.errors import IndexLocked

    s = Settings(data_dir=tmp_path / "data", lock_timeout=0.2)
    store = open_store(s)
    with FileLock(str(s.data_dir / "vectors.lock")):
        with pytest.raises(IndexLocked, match="another process is updating the embedding index"):
            semantic.update_embeddings(s, store)
