"""Concordance over the seeds: every occurrence, aligned context, sorting, collocates, CLI."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from conftest import SAMPLE

from corpus.cli import main
from corpus.errors import QueryError
from corpus.ingest import ingest_paths
from corpus.settings import Settings
from corpus.store import Store
from indexer.analysis import fold
from indexer.keyword import build_index
from indexer.kwic import display_width, fit_left, fit_right, kwic


@pytest.fixture(scope="module")
def seeded(tmp_path_factory) -> Settings:
    s = Settings(data_dir=tmp_path_factory.mktemp("kwic") / "data", semantic=False)
    ingest_paths(s, [SAMPLE])
    build_index(s)
    return s


def occurrences(settings, phrase) -> int:
    store = Store(settings.db_path, readonly=True)
    return sum(fold(t).count(phrase) for (t,) in store.db.execute("SELECT text FROM paragraphs"))


def test_every_occurrence_with_context(seeded):
    r = kwic(seeded, "乡村振兴", width=10, fold_reposts=False, limit=None)
    assert r.total == occurrences(seeded, "乡村振兴") == len(r.lines)
    for ln in r.lines:
        assert ln.match == "乡村振兴"
        assert len(ln.left) <= 10 and len(ln.right) <= 10
        assert ln.title


def test_sorting(seeded):
    left = kwic(seeded, "项目", width=8, sort="left", limit=None)
    keys = [fold(ln.left)[::-1] for ln in left.lines]
    assert keys == sorted(keys)
    right = kwic(seeded, "项目", width=8, sort="right", limit=None)
    keys = [fold(ln.right) for ln in right.lines]
    assert keys == sorted(keys)
    assert len(kwic(seeded, "项目", limit=5).lines) == 5


def test_collocates(seeded):
    r = kwic(seeded, "要素保障")
    words = dict(r.left_collocates)
    assert words.get("强化要素保障", 0) >= 1
    assert all(w.endswith("要素保障") for w, _ in r.left_collocates)
    assert all(w.startswith("要素保障") for w, _ in r.right_collocates)


def test_bad_input(seeded):
    with pytest.raises(QueryError):
        kwic(seeded, "，")
    with pytest.raises(QueryError):
        kwic(seeded, "项目", sort="middle")


def test_display_width_alignment():
    assert display_width("要素ab") == 6
    assert display_width(fit_left("强化要素", 6)) == 6 and fit_left("强化要素", 6).endswith("化要素")
    assert display_width(fit_right("ab要素", 5)) == 5


def test_cli_index_search_kwic(tmp_path):
    import json

    data = str(tmp_path / "d")
    run = CliRunner().invoke
    assert run(main, ["--data", data, "ingest", "-q", str(SAMPLE)]).exit_code == 0
    r = run(main, ["--data", data, "index", "--no-semantic"])
    assert r.exit_code == 0, r.output
    assert "paragraphs indexed" in r.output
    r = run(main, ["--data", data, "search", "要素保障"])
    assert r.exit_code == 0, r.output
    assert "hits" in r.output and "要素保障" in r.output
    r = run(main, ["--data", data, "search", "要素保障", "--json"])
    d = json.loads(r.output)
    assert d["total"] >= 3 and d["hits"][0]["spans"]
    r = run(main, ["--data", data, "search", "--csv", "双招双引"])
    assert r.output.splitlines()[0].startswith("rank,") and "【双招双引】" in r.output
    r = run(main, ["--data", data, "search", '"要素'])
    assert r.exit_code == 1 and "Error:" in r.output and "Traceback" not in r.output
    r = run(main, ["--data", data, "search", "--help"])
    assert "year:2020..2024" in r.output
    r = run(main, ["--data", data, "kwic", "要素保障", "--width", "8"])
    assert r.exit_code == 0 and "before:" in r.output
    r = run(main, ["--data", data, "index", "--no-semantic"])
    assert "unchanged" in r.output
