"""Long jobs show progress when stderr is not a terminal (a log, CI, a pipe): a plain line every
few seconds with the count, the rate and the time left, then one with the total time."""

from __future__ import annotations

import io
import re

import pytest
from click.testing import CliRunner
from conftest import SAMPLE

from corpus import progress
from corpus.cli import main
from corpus.progress import LineProgress, progress_bar


def test_line_progress_prints_count_rate_and_time_left():
    out = io.StringIO()
    bar = LineProgress(1000, "embedding", unit="windows", every=0, stream=out)
    with bar:
        bar.update(250)
        bar.update(250)
    lines = out.getvalue().splitlines()
    assert re.fullmatch(r"embedding: 250/1,000 windows \(25%\), [\d,.]+/s, about \d+ (s|min) left", lines[0])
    assert lines[1].startswith("embedding: 500/1,000 windows (50%)")
    assert re.fullmatch(r"embedding: 500 windows in \d+ s", lines[-1])


def test_a_quick_job_prints_no_lines_and_a_silent_bar_nothing(capsys):
    with progress_bar("lines", 10, "ingest") as bar:  # default: a line every LINE_SECONDS at most
        bar.update(10)
    with progress_bar(False, 10, "ingest") as bar:
        bar.update(10)
    assert capsys.readouterr().err == ""


def test_corpus_index_prints_progress_lines_when_not_on_a_terminal(tmp_path, monkeypatch):
    monkeypatch.setattr(progress, "LINE_SECONDS", 0.0)
    runner = CliRunner()
    data = str(tmp_path / "data")
    assert runner.invoke(main, ["--data", data, "ingest", str(SAMPLE)]).exit_code == 0
    res = runner.invoke(main, ["--data", data, "index", "--no-semantic"])
    assert res.exit_code == 0, res.output
    assert re.search(r"^tokenising: [\d,]+/[\d,]+ paragraphs \(\d+%\), .* left$", res.stderr, re.M), res.stderr


@pytest.mark.model
def test_embedding_build_prints_progress_lines_when_not_on_a_terminal(tmp_path, monkeypatch, capsys):
    from test_semantic_support import ensure_model

    from corpus.ingest import ingest_paths
    from corpus.settings import Settings
    from corpus.store import open_store
    from indexer import semantic

    s = Settings(data_dir=tmp_path / "data")
    ensure_model(s)
    ingest_paths(s, [SAMPLE])
    monkeypatch.setattr(progress, "LINE_SECONDS", 0.0)
    figures = semantic.update_embeddings(s, open_store(s), progress="lines")
    err = capsys.readouterr().err
    assert re.search(rf"^embedding: [\d,]+/{figures['windows_embedded']:,} windows \(\d+%\), [\d,.]+/s, about .* left$",
                     err, re.M), err
    assert re.search(rf"^embedding: {figures['windows_embedded']:,} windows in \d+ s$", err, re.M), err
