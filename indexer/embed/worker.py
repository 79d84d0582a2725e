"""An embedding worker process: `python -m indexer.embed.worker`, driven over its stdin/stdout.

The local process pool (indexer.embed.executors.ProcessPool) starts one per core. A worker is a
fresh interpreter, not a fork (a forked child deadlocked inside ONNX Runtime's thread pool in an
earlier attempt) and not a multiprocessing "spawn" child (that re-runs the parent's main module,
which `python -m corpus` does not guard). It loads the model from the per-user model cache itself,
runs with one thread, and answers jobs in order.

Protocol: frames of an 8-byte little-endian length and a pickle. The parent sends
("init", settings, precision, backend, batch_size), then (job_id, texts) per job; the worker answers
("ready", None, None) once, then ("ok", job_id, vectors) or ("error", job_id, one-line message) per job.
End of input ends the worker. The frames never leave this machine: the parent and its own children.
"""

from __future__ import annotations

import os
import pickle
import struct
import sys
from dataclasses import replace

_LEN = struct.Struct("<Q")


def write_frame(f, obj) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    f.write(_LEN.pack(len(data)))
    f.write(data)
    f.flush()


def read_frame(f):
    """The next object, or None at end of input."""
    head = f.read(_LEN.size)
    if len(head) < _LEN.size:
        return None
    (n,) = _LEN.unpack(head)
    data = f.read(n)
    if len(data) < n:
        return None
    return pickle.loads(data)


def load_worker_model(settings, precision: str, backend: str):
    """The model as a worker loads it: from the model cache, this exact backend (no fallback: the
    vectors must be the ones the parent's variant makes), one thread for everything."""
    os.environ["TOKENIZERS_PARALLELISM"] = "false"  # one core per worker: no tokenizer thread pool
    from .model import get_model, set_threads

    one = replace(settings, torch_threads=1)
    emb = get_model(one, precision=precision, backend=backend, quiet=True)
    if emb.backend != backend:
        from corpus.errors import ModelError

        raise ModelError(f"the worker loaded {emb.variant}, the build embeds with {backend}-{precision}")
    set_threads(one, "build")
    return emb


def _one_line(e: BaseException) -> str:
    return f"{e.__class__.__name__}: {e}".replace("\n", " ")


def main() -> int:
    # The protocol owns the real stdout; anything a library prints (to sys.stdout or file descriptor 1)
    # goes to stderr instead of corrupting a frame.
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    inp = sys.stdin.buffer
    try:
        msg = read_frame(inp)
        if msg is None:
            return 0
        _, settings, precision, backend, batch_size = msg
        try:
            emb = load_worker_model(settings, precision, backend)
        except Exception as e:
            write_frame(out, ("error", None, f"could not load the model ({_one_line(e)})"))
            return 1
        write_frame(out, ("ready", None, None))
        while True:
            msg = read_frame(inp)
            if msg is None:
                return 0
            job_id, texts = msg
            try:
                write_frame(out, ("ok", job_id, emb.encode_passages(texts, batch_size=batch_size)))
            except Exception as e:
                write_frame(out, ("error", job_id, _one_line(e)))
    except (KeyboardInterrupt, BrokenPipeError):  # Ctrl-C reaches the whole process group; the parent decides
        return 130


if __name__ == "__main__":
    sys.exit(main())
