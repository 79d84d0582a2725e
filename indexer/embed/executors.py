"""Where an index build's embedding jobs run: in this process, or in a pool of processes (one per core).

A job is one pending chunk's distinct window texts (indexer.semantic writes a chunk per job, in the
order the jobs were submitted); its result is their vectors. Every executor encodes a job with the
same `encode_passages` call on the same texts, so the vectors are the same bit for bit wherever the
job ran (ONNX int8 quantises activations per batch, so a vector depends on the batch it was in: a job
is never split or merged). The Ray cluster executor (indexer.embed.ray_executor) has the same interface.

Why processes: on 2 cores, ONNX Runtime with 2 intra-op threads waits at every step for its slower
thread, and on a busy machine one of them is usually waiting for a core; two processes of one thread
each never wait for each other. Workers are fresh interpreters (indexer.embed.worker: neither a fork,
which deadlocked inside ONNX Runtime in an earlier attempt, nor a multiprocessing child, which re-runs
the caller's main module); each loads the model from the per-user model cache itself (the parent
never builds an ONNX session when it has a pool).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from concurrent.futures import Future

import numpy as np

from corpus.errors import ModelError

from .worker import read_frame, write_frame

log = logging.getLogger(__name__)

# Fewer windows than this to embed: a pool's start-up (each worker imports the runtime and loads the
# model, ~2-4 s) costs more than it saves, and the job runs in this process.
POOL_MIN_WINDOWS = 2048


class Job:
    """A submitted job: `result()` waits for its vectors."""

    def result(self) -> np.ndarray:  # pragma: no cover - interface
        raise NotImplementedError


class _Done(Job):
    def __init__(self, vecs: np.ndarray):
        self.vecs = vecs

    def result(self) -> np.ndarray:
        return self.vecs


class Executor:
    """Runs embedding jobs. `capacity`: jobs worth keeping in flight (submitted, not yet collected)."""

    name = "executor"
    capacity = 1
    workers = 1

    def submit(self, texts: Sequence[str]) -> Job:  # pragma: no cover - interface
        raise NotImplementedError

    def close(self) -> None:
        pass

    def describe(self) -> str:
        return f"{self.name} ({self.workers} worker{'s' if self.workers != 1 else ''})"

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class InProcess(Executor):
    """The single-process path: each job is encoded here when it is submitted, with the build's
    thread choice made again for every job (the machine's load changes during an hour-long build)."""

    name = "in-process"

    def __init__(self, settings, emb, batch_size: int):
        self.settings, self.emb, self.batch_size = settings, emb, batch_size

    def submit(self, texts: Sequence[str]) -> Job:
        from .model import set_threads

        set_threads(self.settings, "build")
        return _Done(self.emb.encode_passages(list(texts), batch_size=self.batch_size))


# ---------------------------------------------------------------------------------------------
# a pool of worker processes on this machine
# ---------------------------------------------------------------------------------------------

class _Worker:
    """One `python -m indexer.embed.worker` child: jobs are written to its stdin, a reader thread
    hands its answers to the waiting futures, another keeps the last lines of its stderr for messages."""

    def __init__(self, settings, precision: str, backend: str, batch_size: int):
        import subprocess
        import sys
        import threading
        from collections import deque
        from pathlib import Path

        env = dict(os.environ)
        root = str(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        self.proc = subprocess.Popen([sys.executable, "-m", "indexer.embed.worker"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        self.pending: dict[int, Future] = {}
        self.failed: str | None = None
        self.stderr_tail: deque[str] = deque(maxlen=20)
        self._lock = threading.Lock()  # pending and failed
        self._write_lock = threading.Lock()
        write_frame(self.proc.stdin, ("init", settings, precision, backend, batch_size))
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._drain_stderr, daemon=True).start()

    def send(self, job_id: int, texts: list[str], fut: Future) -> None:
        with self._lock:
            failed = self.failed
            if failed is None:
                self.pending[job_id] = fut
        if failed is not None:
            fut.set_exception(ModelError(f"an embedding worker failed: {failed}"))
            return
        # Written without holding _lock: the write may wait until the worker reads, and the worker
        # reads only after its answer to the previous job has been taken by the reader thread.
        try:
            with self._write_lock:
                write_frame(self.proc.stdin, (job_id, texts))
        except (OSError, ValueError):  # the worker is gone: the reader thread fails its jobs
            self.proc.wait()
            with self._lock:
                self._fail_locked(f"exited with status {self.proc.returncode}")

    def load(self) -> int:
        return len(self.pending)

    def _read(self) -> None:
        while True:
            try:
                msg = read_frame(self.proc.stdout)
            except Exception as e:  # a torn frame: the worker died mid-answer
                msg = None
                self.stderr_tail.append(str(e))
            if msg is None:
                rc = self.proc.wait()
                tail = " | ".join(list(self.stderr_tail)[-3:])
                with self._lock:
                    self._fail_locked(f"exited with status {rc}" + (f": {tail}" if tail else ""))
                return
            kind, job_id, payload = msg
            if kind == "ready":
                continue
            if job_id is None:  # the model did not load: every job of this worker fails with that line
                with self._lock:
                    self._fail_locked(payload)
                continue
            with self._lock:
                fut = self.pending.pop(job_id, None)
            if fut is not None:
                if kind == "ok":
                    fut.set_result(payload)
                else:
                    fut.set_exception(ModelError(f"an embedding worker failed: {payload}"))

    def _fail_locked(self, why: str) -> None:
        if self.failed is None:
            self.failed = why
        for fut in self.pending.values():  # each future is in pending until it is answered or failed, once
            fut.set_exception(ModelError(f"an embedding worker failed: {self.failed}; the chunks written so far "
                                         "are kept: run `corpus index` again to resume (CORPUS_EMBED_WORKERS=1 "
                                         "embeds in one process)"))
        self.pending.clear()

    def _drain_stderr(self) -> None:
        for line in self.proc.stderr:
            self.stderr_tail.append(line.decode("utf-8", "replace").rstrip())

    def close(self, timeout: float = 30.0) -> None:
        import subprocess

        try:
            self.proc.stdin.close()  # end of input: the worker finishes its job and exits
        except OSError:
            pass
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class _FutureJob(Job):
    def __init__(self, fut: Future):
        self.fut = fut

    def result(self) -> np.ndarray:
        return self.fut.result()


class ProcessPool(Executor):
    """`workers` worker processes on this machine (indexer.embed.worker), one thread each, each with its
    own model; a job goes to the worker with the fewest jobs outstanding."""

    name = "process pool"

    def __init__(self, settings, precision: str, backend: str, batch_size: int, workers: int):
        self.workers = workers
        self.capacity = 2 * workers  # one running and one waiting per worker: no worker idles between jobs
        self._next = 0
        self._workers = [_Worker(settings, precision, backend, batch_size) for _ in range(workers)]

    def submit(self, texts: Sequence[str]) -> Job:
        fut: Future = Future()
        self._next += 1
        min(self._workers, key=_Worker.load).send(self._next, list(texts), fut)
        return _FutureJob(fut)

    def close(self) -> None:
        for w in self._workers:
            w.close()


def pool_workers(settings, windows: int, cores: int | None = None, load: float | None = None) -> int:
    """Worker processes for a local build of `windows` windows (1 = this process): settings.embed_workers
    when set; else one per core when there are several cores, at least POOL_MIN_WINDOWS windows and the
    machine is otherwise idle (the criterion of indexer.embed.model.build_threads).

    Why only then: where other work keeps the cores busy, a pool gains nothing here. Measured with
    bench/embed.py --executors (3,000 real paragraphs, 2 cores, other sessions' load 6.6-11.7, start-up
    in every round), interleaved: one process 21.7, 32.0 | 41.9, 40.3, 27.6 paragraphs/s against the
    pool's 20.6, 23.7 | 32.8, 41.4, 28.2 (two runs; median x0.81 in the second). Linux gives each session
    (autogroup) its share of the CPU, and one thread already uses all of it; the pool then only adds its
    workers' start-up (2 x ~3 s of CPU). The vectors were equal in every round."""
    n = int(getattr(settings, "embed_workers", 0) or 0)
    if n > 0:
        return n
    cores = cores or _cores()
    if cores < 2 or windows < POOL_MIN_WINDOWS:
        return 1
    from .model import build_threads

    return cores if build_threads(cores=cores, load=load) == cores else 1


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))  # the cores this process may run on (a container's share)
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def open_executor(settings, emb, *, precision: str, batch_size: int, windows: int) -> Executor:
    """The executor for an index build of `windows` windows: a Ray cluster when settings.ray_address
    is set, else a local process pool or this process (pool_workers)."""
    address = getattr(settings, "ray_address", None)
    if address:
        from .ray_executor import RayExecutor

        return RayExecutor(settings, address, precision=precision, backend=emb.backend, batch_size=batch_size)
    n = pool_workers(settings, windows)
    if n > 1:
        return ProcessPool(settings, precision, emb.backend, batch_size, n)
    return InProcess(settings, emb, batch_size)
