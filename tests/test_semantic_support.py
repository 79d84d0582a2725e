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
