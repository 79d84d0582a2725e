"""The smaller hardening items: `a|b` without spaces, tokeniser workers die with `corpus index`,
`corpus index --status` covers the embedding index."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT, children_of, process_alive

from corpus.ingest import ingest_paths
from corpus.settings import Settings
from indexer import keyword
from indexer.api import SearchRequest
from indexer.keyword import tokenize
from indexer.query import parse
from indexer.search import search

# --- a|b --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["要素保障|营商环境", "要素保障 | 营商环境", "要素保障｜营商环境", "要素保障 OR 营商环境"])
def test_bar_without_spaces_is_or(text):
    q = parse(text)
    assert [[t.text for t in c.alternatives] for c in q.clauses] == [["要素保障", "营商环境"]]


def test_bar_keeps_field_values_and_reports_a_missing_side():
    assert parse("site:a|b 项目").filters == {"site": ["a|b"]}
    for bad in ("要素保障|", "|营商环境", "a||b"):
        with pytest.raises(Exception, match="OR needs a word on each side"):
            parse(bad)


def test_bar_search_finds_either(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    (src / "a.txt").write_text("甲讲话\n\n同志们：今年要强化要素保障，推进项目建设工作。", encoding="utf-8")
    (src / "b.txt").write_text("乙讲话\n\n同志们：今年要持续优化营商环境，服务市场主体发展。", encoding="utf-8")
    s = Settings(data_dir=tmp_path / "data", semantic=False)
    ingest_paths(s, [src])
    keyword.build_index(s)
    either = search(s, SearchRequest(query="要素保障|营商环境"))
    assert either.total == 2
    assert either.total == search(s, SearchRequest(query="要素保障 OR 营商环境")).total


# --- tokeniser workers ---------------------------------------------------------------------------------

@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc to find the worker processes")
def test_tokeniser_workers_die_with_a_killed_index(tmp_path):
    if min(os.cpu_count() or 1, tokenize.MAX_WORKERS) < 2:
        pytest.skip("one CPU: corpus index tokenises in one process, there are no workers to outlive it")
    rnd = random.Random(5)
    words = ["乡村", "振兴", "产业", "融合", "城乡", "发展", "营商", "环境", "招商", "引资", "土地", "资金", "人才", "科技"]
    src = tmp_path / "in"
    src.mkdir()
    # more paragraphs than tokenize.POOL_MIN, long enough that a worker is busy for seconds on its chunk
    for f in range(9):
        paras = ["，".join("".join(rnd.choices(words, k=6)) for _ in range(120)) + "。" for _ in range(500)]
        (src / f"{f}.txt").write_text(f"第{f}篇讲话\n\n" + "\n\n".join(paras), encoding="utf-8")
    s = Settings(data_dir=tmp_path / "data", semantic=False)
    ingest_paths(s, [src])
    env = {**os.environ}
    env.pop("CORPUS_DATA", None)
    proc = subprocess.Popen([sys.executable, "-m", "corpus", "--data", str(s.data_dir), "index", "--no-semantic"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        workers: list[int] = []
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            workers = [c for c in children_of(proc.pid) if process_alive(c)]
            if len(workers) >= 2:
                time.sleep(1.0)  # into their first chunk
                break
            time.sleep(0.05)
        if len(workers) < 2:
            pytest.skip("corpus index ended before its tokeniser processes could be seen")
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        # with the parent gone the kernel kills them at once; without that they ran on for seconds
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline and any(process_alive(w) for w in workers):
            time.sleep(0.05)
        assert not [w for w in workers if process_alive(w)], "tokeniser processes outlived their parent"
    finally:
        if proc.poll() is None:
            proc.kill()
        for w in children_of(proc.pid):
            try:
                os.kill(w, signal.SIGKILL)
            except OSError:
                pass


# --- index --status --------------------------------------------------------------------------------------

def _status(data: Path, *extra: str, env_extra: dict | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, **(env_extra or {})}
    env.pop("CORPUS_DATA", None)
    return subprocess.run([sys.executable, "-m", "corpus", "--data", str(data), "index", "--status", *extra],
                          capture_output=True, text=True, cwd=ROOT, env=env, timeout=120, check=True)


def test_index_status_covers_the_embedding_index(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    (src / "a.txt").write_text("甲讲话\n\n同志们：今年要强化要素保障，推进项目建设工作。", encoding="utf-8")
    s = Settings(data_dir=tmp_path / "data", semantic=False)
    ingest_paths(s, [src])
    keyword.build_index(s)
    out = _status(s.data_dir).stdout
    assert "keyword index:" in out and "embedding index: none yet" in out
    assert "switched off" in _status(s.data_dir, env_extra={"CORPUS_SEMANTIC": "0"}).stdout
    info = json.loads(_status(s.data_dir, "--json").stdout)
    assert info["exists"] and info["semantic"] == {"exists": False, "enabled": True}


@pytest.mark.model
def test_index_status_shows_a_built_embedding_index(tmp_path):
    from test_semantic_support import ensure_model

    from corpus.store import open_store
    from indexer import semantic

    src = tmp_path / "in"
    src.mkdir()
    (src / "a.txt").write_text("甲讲话\n\n同志们：今年要强化要素保障，推进项目建设工作。", encoding="utf-8")
    s = Settings(data_dir=tmp_path / "data")
    ensure_model(s)
    ingest_paths(s, [src])
    keyword.build_index(s)
    semantic.update_embeddings(s, open_store(s))
    out = _status(s.data_dir).stdout
    assert "embedding index:" in out and f"model: {s.model}" in out and "windows: " in out
    info = json.loads(_status(s.data_dir, "--json").stdout)["semantic"]
    assert info["exists"] and info["model_matches"] and info["documents"] == 1 and info["bytes"] > 0
