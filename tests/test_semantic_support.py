"""Helpers for the tests that load the real embedding model.

The model lives in the per-user model cache (settings.models_dir, ~/.cache/corpus/models unless
CORPUS_MODEL_CACHE / XDG_CACHE_HOME say otherwise), so the whole suite, the demo and every data
directory share one build per machine user; the first test that needs it builds it."""

from __future__ import annotations

from pathlib import Path

from corpus.settings import Settings
from indexer.embed import cache as modelcache


def built_model_folder() -> Path:
    """The rebuilt multilingual-e5-small in the model cache, built (and checked) on first use."""
    return Path(modelcache.resolve_model_path(Settings(data_dir=Path("unused"))))


def ensure_model(settings) -> None:
    """Build the model into the cache these settings use, if it is not there yet."""
    modelcache.resolve_model_path(settings)


def interrupt_encoding(monkeypatch, emb, at: int = 3) -> tuple:
    """Make `emb.encode_passages` raise KeyboardInterrupt (Ctrl-C) on its `at`-th call; returns the
    real method and the list of the batch sizes it was called with."""
    real = emb.encode_passages
    calls: list[int] = []

    def interrupted(texts, batch_size=32):
        calls.append(len(texts))
        if len(calls) == at:
            raise KeyboardInterrupt
        return real(texts, batch_size=batch_size)

    monkeypatch.setattr(emb, "encode_passages", interrupted)
    return real, calls
