"""Ingest finishes the batch: file-level faults are one line naming the file, the rest is
ingested, the exit status says something failed; concurrent ingests on one store are correct and
quiet; paths with # ? % spaces and non-ASCII work for the data directory and the inputs.

Permission cases need a process that file permissions apply to. As an ordinary user that is any
process; as root (CI) the CLI runs without the capabilities that bypass file permissions
(`setpriv --bounding-set=-dac_override,-dac_read_search`), or the test is skipped saying why.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, SAMPLE

from corpus.ingest import ingest_paths, one_line
from corpus.settings import Settings
from corpus.store import Store

SEEDS = sorted(SAMPLE.glob("*.txt"))
TEXT = "关于推进项目建设的讲话\n\n同志们：今天我们召开会议，研究部署重点项目建设工作，强化要素保障。\n\n要坚持项目为王。"


def cli(*args: str, restricted: bool = False, check_rc: int | None = None) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "corpus", *args]
    if restricted and os.geteuid() == 0:
        cmd = _setpriv() + cmd
    env = {**os.environ, "PYTHONUTF8": "1"}
    env.pop("CORPUS_DATA", None)
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)
    if check_rc is not None:
        assert r.returncode == check_rc, r.stdout + r.stderr
    return r


_SETPRIV: list[str] | None = None


def _setpriv() -> list[str]:
    global _SETPRIV
    if _SETPRIV is None:
        cmd = ["setpriv", "--bounding-set=-dac_override,-dac_read_search"]
        probe = Path(os.environ.get("TMPDIR", "/tmp")) / f"corpus-perm-probe-{os.getpid()}"
        probe.write_text("x")
        probe.chmod(0)
        try:
            r = subprocess.run(cmd + ["cat", str(probe)], capture_output=True)
        except FileNotFoundError:
            pytest.skip("running as root without setpriv: file permissions cannot be tested")
        finally:
            probe.unlink()
        if r.returncode == 0 or b"Permission denied" not in r.stderr:
            pytest.skip("running as root and setpriv cannot drop the permission-bypassing capabilities here")
        _SETPRIV = cmd
    return _SETPRIV


def failed_lines(r: subprocess.CompletedProcess) -> list[str]:
    return [ln for ln in r.stderr.splitlines() if ln.startswith("failed: ")]


def doc_count(data: Path) -> int:
    return Store(data / "corpus.sqlite3", readonly=True).stats()["documents"]


def docs_of(tmp_path: Path, *files: Path) -> int:
    """Documents these files give on their own (a compilation holds several)."""
    settings = Settings(data_dir=tmp_path / f"ref{len(list(tmp_path.iterdir()))}", semantic=False)
    return ingest_paths(settings, list(files)).documents_added


@pytest.fixture
def folder(tmp_path) -> Path:
    d = tmp_path / "in"
    d.mkdir()
    for i, seed in enumerate(SEEDS[:3]):
        shutil.copy(seed, d / f"{i}.txt")
    return d


# --- permissions (real files, real permission bits) ---------------------------------------------

def test_unreadable_file_in_a_folder_is_one_line_and_the_rest_is_ingested(folder, tmp_path):
    bad = folder / "1.txt"
    bad.chmod(0)
    data = tmp_path / "data"
    r = cli("--data", str(data), "ingest", str(folder), restricted=True)
    assert r.returncode == 1, r.stderr
    assert "Traceback" not in r.stderr
    lines = failed_lines(r)
    assert len(lines) == 1 and str(bad) in lines[0] and "permission denied" in lines[0]
    assert doc_count(data) == docs_of(tmp_path, folder / "0.txt", folder / "2.txt") > 0  # before and after it


def test_unreadable_file_named_on_the_command_line(folder, tmp_path):
    bad = folder / "0.txt"
    bad.chmod(0)
    data = tmp_path / "data"
    r = cli("--data", str(data), "ingest", str(bad), str(folder / "2.txt"), restricted=True)
    assert r.returncode == 1 and "Traceback" not in r.stderr, r.stderr
    assert [str(bad) in ln for ln in failed_lines(r)] == [True]
    assert doc_count(data) == docs_of(tmp_path, folder / "2.txt") > 0


def test_unreadable_subfolder_is_reported(folder, tmp_path):
    sub = folder / "sub"
    sub.mkdir()
    shutil.copy(SEEDS[3], sub / "3.txt")
    sub.chmod(0)
    data = tmp_path / "data"
    try:
        r = cli("--data", str(data), "ingest", str(folder), restricted=True)
    finally:
        sub.chmod(0o755)
    assert r.returncode == 1, r.stderr
    lines = failed_lines(r)
    assert len(lines) == 1 and str(sub) in lines[0] and "folder" in lines[0]
    assert doc_count(data) == docs_of(tmp_path, folder / "0.txt", folder / "1.txt", folder / "2.txt")


# --- vanished files, broken symlinks, names -------------------------------------------------------

def test_broken_symlinks_and_missing_paths(folder, tmp_path):
    (folder / "gone.txt").symlink_to(tmp_path / "nowhere.txt")
    settings = Settings(data_dir=tmp_path / "data", semantic=False)
    s = ingest_paths(settings, [folder, tmp_path / "missing.txt"])
    reasons = [r for _p, r in s.failed]
    assert len(reasons) == 2
    assert any("gone.txt" in r and "broken symlink" in r for r in reasons)
    assert any("missing.txt" in r and "no such file" in r for r in reasons)
    assert s.documents_added == docs_of(tmp_path, *sorted(folder.glob("*.txt"))) and not s.ok


def test_a_file_that_vanishes_after_the_walk(folder, tmp_path, monkeypatch):
    import corpus.ingest as ingest_mod
    from corpus.readers import iter_input_files

    expected = docs_of(tmp_path, folder / "0.txt", folder / "2.txt")
    listed = list(iter_input_files([folder]))
    (folder / "1.txt").unlink()  # deleted between listing and reading
    monkeypatch.setattr(ingest_mod, "iter_input_files", lambda paths, faults: iter(listed))
    s = ingest_paths(Settings(data_dir=tmp_path / "data", semantic=False), [folder])
    assert [("1.txt" in r and "vanished" in r) for _p, r in s.failed] == [True]
    assert s.documents_added == expected


def test_names_with_control_characters_stay_on_one_line(tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    (d / "bad\nname\x1b[31m.txt").write_bytes(b"\x00\x01\x02" * 100)  # binary: refused
    (d / "ok.txt").write_text(TEXT, encoding="utf-8")
    r = cli("--data", str(tmp_path / "data"), "ingest", str(d))
    assert r.returncode == 1
    lines = failed_lines(r)
    assert len(lines) == 1 and "bad\\nname\\x1b[31m.txt" in lines[0]
    assert "\x1b" not in r.stderr
    assert one_line("a\u202eb\r\tc") == "a\\u202eb\\r\\tc"


def test_jsonl_error_message_reads_once(tmp_path):
    f = tmp_path / "a.jsonl"
    f.write_text('{"text": "同志们：今天我们召开会议研究部署工作。"}\n{"text": "unterminated\n', encoding="utf-8")
    s = ingest_paths(Settings(data_dir=tmp_path / "data", semantic=False), [f])
    (reason,) = [r for _p, r in s.failed]
    assert "at at" not in reason and "a.jsonl#2" in reason and "column" in reason


# --- awkward paths ------------------------------------------------------------------------------------

def test_data_dir_and_inputs_with_url_characters(tmp_path):
    base = tmp_path / "a#b?c%20d e 语料"
    inputs = base / "输入 #1?%"
    inputs.mkdir(parents=True)
    for i, seed in enumerate(SEEDS[:2]):
        shutil.copy(seed, inputs / f"稿 {i}#?%.txt")
    data = base / "data #?%"
    cli("--data", str(data), "ingest", str(inputs), check_rc=0)
    stats = json.loads(cli("--data", str(data), "stats", "--json", check_rc=0).stdout)
    assert stats["documents"] >= 2
    cli("--data", str(data), "index", "--no-semantic", check_rc=0)
    out = json.loads(cli("--data", str(data), "search", "项目", "--json", check_rc=0).stdout)
    assert out["total"] > 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a#b?c%20d e 语料"]  # nothing created beside it
    assert sorted(p.name for p in base.iterdir()) == ["data #?%", "输入 #1?%"]


# --- two ingests at once ------------------------------------------------------------------------------

def test_two_concurrent_ingests_are_correct_and_quiet(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    for i, seed in enumerate(SEEDS):
        shutil.copy(seed, src / f"{i}.txt")
    for i in range(60):  # enough files for the two runs to overlap
        (src / f"extra{i:02d}.txt").write_text(
            f"第{i}号讲话\n\n" + "".join(f"第{i}篇第{j}段：推进{'重点项目建设' * (j % 3 + 1)}，抓好{j * i}项工作。\n\n"
                                        for j in range(40)), encoding="utf-8")
    data = tmp_path / "data"
    env = {**os.environ}
    env.pop("CORPUS_DATA", None)
    cmd = [sys.executable, "-m", "corpus", "--data", str(data), "ingest", "-q", str(src)]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env)
             for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    for p, (out, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, out + err
        assert "failed 0" in out and not err.strip(), out + err
    single = tmp_path / "single"
    cli("--data", str(single), "ingest", "-q", str(src), check_rc=0)
    a, b = Store(data / "corpus.sqlite3", readonly=True), Store(single / "corpus.sqlite3", readonly=True)
    assert a.stats()["documents"] == b.stats()["documents"] >= 65
    assert a.stats()["paragraphs"] == b.stats()["paragraphs"]
    assert a.raw_count() == b.raw_count()
