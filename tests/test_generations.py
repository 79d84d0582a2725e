"""The shared generation swap (indexer.generations) and whole-folder writes (corpus.atomic.atomic_dir)."""

from __future__ import annotations

import pytest

from corpus.atomic import atomic_dir, remove_partials
from indexer import generations


def _kw(name: str) -> str | None:
    return name.split(".", 1)[0] if name.startswith("kw") else None


def test_commit_swaps_manifest_and_sweeps_other_generations(tmp_path):
    for name in ("kwold.pid.npy", "kwnew.pid.npy", ".kwnew.tok.npy.x1y2.part", "notes.txt"):
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "pending").mkdir()
    generations.commit(tmp_path, {"generation": "kwnew", "n": 1}, _kw)
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == ["kwnew.pid.npy", "manifest.json", "notes.txt", "pending"]
    assert generations.read_manifest(tmp_path) == {"generation": "kwnew", "n": 1}
    generations.sweep(tmp_path, "kwnew", _kw, strict=True)  # strict: files of no generation go too
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kwnew.pid.npy", "manifest.json", "pending"]


def test_manifest_missing_and_unreadable(tmp_path):
    assert generations.read_manifest(tmp_path) is None
    (tmp_path / "manifest.json").write_text("{half", encoding="utf-8")
    with pytest.raises(generations.ManifestUnreadable, match="manifest.json"):
        generations.read_manifest(tmp_path)
    (tmp_path / "manifest.json").write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(generations.ManifestUnreadable, match="not a JSON object"):
        generations.read_manifest(tmp_path)


def test_atomic_dir_appears_whole_or_not_at_all(tmp_path):
    target = tmp_path / "entry"
    with atomic_dir(target) as d:
        (d / "a").write_text("1")
        assert not target.exists()  # nothing visible until the block ends
    assert (target / "a").read_text() == "1"

    with pytest.raises(RuntimeError), atomic_dir(target) as d:
        (d / "a").write_text("2")
        raise RuntimeError("build failed")
    assert (target / "a").read_text() == "1"  # the old folder is untouched
    assert [p.name for p in tmp_path.iterdir()] == ["entry"]  # and no leftovers

    with atomic_dir(target) as d:  # replace: the new folder wins whole (no old files mixed in)
        (d / "b").write_text("3")
    assert sorted(p.name for p in target.iterdir()) == ["b"]

    with atomic_dir(target, replace=False) as d:  # keep-first: another writer finished first
        (d / "c").write_text("4")
    assert sorted(p.name for p in target.iterdir()) == ["b"]
    assert [p.name for p in tmp_path.iterdir()] == ["entry"]


def test_remove_partials_clears_a_killed_writer(tmp_path):
    target = tmp_path / "entry"
    (tmp_path / ".entry.abc.part").mkdir()
    (tmp_path / ".entry.def.old").mkdir()
    (tmp_path / ".other.abc.part").mkdir()
    remove_partials(target)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".other.abc.part"]
