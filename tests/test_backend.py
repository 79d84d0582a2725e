"""The search backend interface (indexer/search/backend.py): the configured engine answers the
search, the CLI and the web; a backend name that does not exist is one clear error."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from conftest import ROOT, SAMPLE

from corpus.errors import ConfigError
from corpus.ingest import ingest_paths
from corpus.settings import Settings
from indexer.api import SearchRequest
from indexer.keyword import build_index
from indexer.search import search
from indexer.search.backend import BACKENDS, LocalBackend, open_backend


@pytest.fixture(scope="module")
def seeded(tmp_path_factory) -> Settings:
    s = Settings(data_dir=tmp_path_factory.mktemp("backend") / "data", semantic=False)
    ingest_paths(s, [SAMPLE])
    build_index(s)
    return s


def test_local_is_the_default_backend(seeded):
    assert Settings().search_backend == "local"
    assert isinstance(open_backend(seeded), LocalBackend) and BACKENDS["local"] is LocalBackend
    assert search(seeded, SearchRequest(query="要素保障")).total >= 1


def test_unknown_backend_is_one_clear_error(seeded):
    bad = Settings(data_dir=seeded.data_dir, semantic=False, search_backend="elastic")
    with pytest.raises(ConfigError, match="unknown search backend 'elastic'.*local"):
        search(bad, SearchRequest(query="要素保障"))
    env = {**os.environ, "CORPUS_DATA": str(seeded.data_dir), "CORPUS_SEARCH_BACKEND": "elastic",
           "CORPUS_SEMANTIC": "0"}
    r = subprocess.run([sys.executable, "-m", "corpus", "search", "要素保障", "--mode", "keyword"], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode != 0
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "unknown search backend 'elastic'" in lines[0] and "Traceback" not in r.stderr
