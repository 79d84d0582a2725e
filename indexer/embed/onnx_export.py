"""Exporting a sentence-transformers folder's encoder to ONNX (and quantising it to int8), once per model folder.

The graph takes token *vectors* (inputs_embeds), not token ids: the 250,037 x 384 word embedding table
(96 M of multilingual-e5-small's 118 M weights) stays out of the graph and is stored once as a float16
.npy that the runtime (indexer.embed.model) memory-maps and indexes with numpy (a query touches a few
rows). Exporting, optimising and quantising then handle 22 M weights instead of 118 M, and loading the
int8 graph for a query reads 23 MB instead of 118 MB. The export runs in a child process
(indexer.embed.build) so that its memory (torch, the exporter, the optimizer and quantiser) is returned
to the system when it ends.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from corpus.errors import ModelError

from .build import _say
from .model import (
    CHECK_TEXTS,
    ONNX_DIR,
    PASSAGE_PROMPT,
    WORD_TABLE,
    _ort_session,
    _quiet_libraries,
    _st_layout,
    pool_vectors,
)

log = logging.getLogger(__name__)

ONNX_OPSET = 17
ONNX_CHECK_MIN_COSINE = {"fp32": 0.999, "int8": 0.95}


def ensure_onnx(folder: Path, precision: str, *, quiet: bool = False) -> Path:
    """`<folder>/onnx/model-<precision>.onnx`, exported on first use in a child process (see
    export_onnx; measured 1-2 min on 2 busy cores, under 1 GB), then kept."""
    folder = Path(folder)
    target = folder / ONNX_DIR / f"model-{precision}.onnx"
    if target.exists():
        return target
    from filelock import FileLock

    from . import build

    try:
        (folder / ONNX_DIR).mkdir(parents=True, exist_ok=True)
        with FileLock(str(folder / ONNX_DIR / ".export.lock")):
            if target.exists():  # another process exported it while we waited
                return target
            if not quiet:
                print(f"Exporting the embedding model to ONNX ({precision}) into {target.parent} (once):",
                      file=sys.stderr, flush=True)
            build.run_child(["onnx", str(folder), precision], quiet=quiet, what=f"ONNX export of {folder}")
    except ModelError:
        raise
    except Exception as e:  # a read-only folder, an exporter/optimizer limitation: the caller falls back to torch
        raise ModelError(f"ONNX export of {folder} failed ({e.__class__.__name__}: {e})") from e
    return target


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
