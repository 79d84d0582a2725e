"""Cutting paragraphs into jieba words for an index build: in a process pool for big builds, each
worker mapping words to ids of its own vocabulary so that the parent only merges vocabularies."""

from __future__ import annotations

import logging
import os

import numpy as np

from corpus.processes import die_with_parent

from .. import analysis
from ..analysis import word_terms
from ..terms import index_tokenizer

log = logging.getLogger(__name__)

TOKENIZE_CHUNK = 2000  # paragraphs per task sent to a tokeniser process
POOL_MIN = 4000  # fewer paragraphs to tokenise than this: no process pool
MAX_WORKERS = 4

_worker: dict = {}


def _init_worker(settings, parent: int | None = None) -> None:
    """Per tokeniser process (and before tokenising in-process): the tokenizer and an empty
    local vocabulary."""
    die_with_parent(parent)
    analysis.configure(settings)
    _worker.update(tokenizer=index_tokenizer(settings), vocab={}, words=[], reported=0)


def _tokenize_chunk(texts: list[str]) -> tuple[int, list[str], bytes, bytes]:
    """jieba words of each folded text as ids of this process's vocabulary -> (process id, the
    words new to that vocabulary since its last chunk, ids as int32 bytes, tokens per text as
    int64 bytes). Mapping words to ids here keeps the parent's share of the work small."""
    tk, vocab, words = _worker["tokenizer"], _worker["vocab"], _worker["words"]
    ids: list[int] = []
    lens: list[int] = []
    for t in texts:
        ws = word_terms(t, tk)
        lens.append(len(ws))
        for w in ws:
            i = vocab.get(w)
            if i is None:
                i = vocab[w] = len(words)
                words.append(w)
            ids.append(i)
    new = words[_worker["reported"]:]
    _worker["reported"] = len(words)
    return os.getpid(), new, np.asarray(ids, dtype=np.int32).tobytes(), np.asarray(lens, dtype=np.int64).tobytes()


def tokenize(settings, texts: list[str], vocab: dict[str, int], progress: bool) -> tuple[np.ndarray, np.ndarray]:
    """-> (word ids of all texts in order, tokens per text). New words are added to vocab."""
    ids: list[np.ndarray] = []
    lens: list[np.ndarray] = []
    maps: dict[int, list[int]] = {}  # process -> its local word id -> global id
    chunks = [texts[i:i + TOKENIZE_CHUNK] for i in range(0, len(texts), TOKENIZE_CHUNK)]
    workers = min(os.cpu_count() or 1, MAX_WORKERS)
    bar = _progress(len(texts), progress, "tokenising")

    def consume(result, n: int) -> None:
        pid, new, id_bytes, len_bytes = result
        m = maps.setdefault(pid, [])
        m.extend(vocab.setdefault(w, len(vocab)) for w in new)
        local = np.frombuffer(id_bytes, dtype=np.int32)
        ids.append(np.asarray(m, dtype=np.int32)[local] if len(local) else local)
        lens.append(np.frombuffer(len_bytes, dtype=np.int64))
        if bar is not None:
            bar.update(n)

    try:
        pool = None
        if workers > 1 and len(texts) >= POOL_MIN:
            import multiprocessing as mp

            method = "fork" if "fork" in mp.get_all_start_methods() else "spawn"
            index_tokenizer(settings)  # loaded once here: forked workers inherit it
            try:
                pool = mp.get_context(method).Pool(workers, initializer=_init_worker,
                                                   initargs=(settings, os.getpid()))
            except OSError as e:  # e.g. no POSIX semaphores in a sandbox: tokenise here
                log.warning("no tokeniser processes (%s): tokenising in one process", e)
        if pool is not None:
            with pool:
                for chunk, result in zip(chunks, pool.imap(_tokenize_chunk, chunks), strict=True):
                    consume(result, len(chunk))
        else:
            _init_worker(settings)
            for chunk in chunks:
                consume(_tokenize_chunk(chunk), len(chunk))
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    if not ids:
        return np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.int64)
    return np.concatenate(ids), np.concatenate(lens)


def _progress(total: int, enabled: bool | str, label: str):
    if not enabled:
        return None
    from corpus.progress import progress_bar

    bar = progress_bar(enabled, total, label, unit="paragraphs" if enabled == "lines" else "")
    bar.__enter__()
    return bar
