"""The Qdrant backend against the real engine (qdrant-client's embedded local mode, no mock): the
same search through a Qdrant collection gives the same main list as the local index (every literal
match and only those, the same count), across phrases, OR, exclusions, filters and 同句; incremental
sync; the CLI unchanged; with vectors, meaning neighbours and the related list from the engine."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace

import pytest
from conftest import ROOT, SAMPLE

pytest.importorskip("qdrant_client", reason="the qdrant extra is not installed (pip install -e '.[qdrant]')")

from corpus.ingest import ingest_paths  # noqa: E402
from corpus.settings import Settings  # noqa: E402
from indexer.api import SearchRequest  # noqa: E402
from indexer.search import iter_hits, search, substring_scan  # noqa: E402
from indexer.search import qdrant as qd  # noqa: E402
from indexer.update import update_indexes  # noqa: E402

QUERIES = ["要素保障", '"双招双引"', "项目", "廉", "素保", "项目 资金", "要素保障 | 营商环境", "项目 -资金",
           "发展 year:2023..2025", "招商 引资"]


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    """One data directory searched two ways: the local index and the Qdrant collection."""
    local = Settings(data_dir=tmp_path_factory.mktemp("qd") / "data", semantic=False)
    ingest_paths(local, [SAMPLE])
    remote = replace(local, search_backend="qdrant")
    report = update_indexes(remote)
    assert any(n.startswith("qdrant collection:") for n in report.notes), report.notes
    yield local, remote
    qd.close_clients()


def ids(settings, query, **kw):
    return [h.paragraph_id for h in iter_hits(settings, SearchRequest(query=query, fold=False, mode="keyword", **kw))]


@pytest.mark.parametrize("query", QUERIES)
def test_same_main_list_as_the_local_index(pair, query):
    local, remote = pair
    a, b = ids(local, query), ids(remote, query)
    assert set(a) == set(b), query
    assert search(local, SearchRequest(query=query, fold=False)).total == \
        search(remote, SearchRequest(query=query, fold=False)).total == len(a)


def test_every_match_and_only_those(pair):
    _, remote = pair
    for phrase in ("要素保障", "项目", "廉", "化要素"):
        assert set(ids(remote, f'"{phrase}"')) == substring_scan(remote, phrase), phrase


def test_same_sentence_scope(pair):
    local, remote = pair
    for q in ("项目 资金", "要素 保障", "发展 改革"):
        assert set(ids(local, q, scope="sentence")) == set(ids(remote, q, scope="sentence")), q
    assert len(ids(remote, "项目 资金", scope="sentence")) < len(ids(remote, "项目 资金"))


def test_sync_is_incremental(pair, tmp_path):
    local, remote = pair
    new = tmp_path / "新增的讲话.txt"
    new.write_text("在青藤协作推进会上的讲话\n\n同志们：我们要把青藤协作机制落到实处，推动青藤协作机制走深走实，"
                   "让每一个项目都有人盯、有人管、有人干。\n", encoding="utf-8")
    assert ingest_paths(local, [new]).documents_added == 1
    report = update_indexes(remote)
    note = next(n for n in report.notes if n.startswith("qdrant collection:"))
    assert "documents_written=1" in note and "documents_removed=0" in note
    assert len(ids(remote, "青藤协作机制")) == len(ids(local, "青藤协作机制")) == 1
    again = update_indexes(remote)
    assert "documents_written=0" in next(n for n in again.notes if n.startswith("qdrant collection:"))


def test_cli_searches_through_qdrant_unchanged(pair):
    local, remote = pair
    qd.close_clients()  # the embedded collection serves one process: hand it to the CLI
    env = {**os.environ, "CORPUS_DATA": str(remote.data_dir), "CORPUS_SEARCH_BACKEND": "qdrant",
           "CORPUS_SEMANTIC": "0"}
    r = subprocess.run([sys.executable, "-m", "corpus", "search", "要素保障", "--json", "--no-fold"], cwd=ROOT,
                       env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "Traceback" not in r.stderr and "Exception ignored" not in r.stderr, r.stderr[-2000:]
    out = json.loads(r.stdout)
    assert out["total"] == search(local, SearchRequest(query="要素保障", fold=False)).total


@pytest.mark.model
def test_meaning_and_related_from_the_engine(tmp_path):
    local = Settings(data_dir=tmp_path / "data")
    ingest_paths(local, [SAMPLE])
    update_indexes(local)
    remote = replace(local, search_backend="qdrant")
    update_indexes(remote)
    try:
        q = "如何为重点项目提供土地和资金支持"
        a = search(local, SearchRequest(query=q, mode="semantic", per_page=10))
        b = search(remote, SearchRequest(query=q, mode="semantic", per_page=10))
        assert b.mode == "semantic" and len(b.hits) == 10
        overlap = {h.paragraph_id for h in a.hits} & {h.paragraph_id for h in b.hits}
        assert len(overlap) >= 8  # the same vectors, the same best-window scoring
        h = search(remote, SearchRequest(query="要素保障", mode="hybrid"))
        assert h.mode == "hybrid" and h.total == search(local, SearchRequest(query="要素保障", mode="hybrid")).total
        assert h.related and not ({r.paragraph_id for r in h.related} & {x.paragraph_id for x in h.hits})
    finally:
        qd.close_clients()
