"""Regression gate for HTML main-content extraction on the hand-annotated gold (../shared).

Measured when pinned: cwce mean char F1 0.948 (trafilatura 0.864, readability 0.893 on the same run);
snippets 12/12 must, 11/12 must-not. Floors sit a little below, so a change that loses pages fails.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from corpus.evaluation import char_prf, load_gold, mean_prf, snippet_checks
from corpus.html import extract_html_bytes

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
GOLD = SHARED / "data" / "extraction-gold"

CWCE_F1_FLOOR = 0.93
CWCE_PRECISION_FLOOR = 0.91
CWCE_RECALL_FLOOR = 0.95
READABILITY_CHINESE_F1_FLOOR = 0.93


@pytest.fixture(scope="module")
def gold():
    if not GOLD.is_dir():
        pytest.skip(f"extraction gold not found at {GOLD} (../shared is not checked out)")
    return load_gold(GOLD)


def _text(page) -> str:
    extracted, _ = extract_html_bytes(page.html_path.read_bytes(), url=page.url, name=page.key)
    return extracted.text


def test_cwce_mean_f1_above_floor(gold):
    pages = [g for g in gold if g.source == "cwce"]
    assert len(pages) == 50
    scores = [char_prf(_text(g), g.gold_text) for g in pages]
    mean = mean_prf(scores)
    assert mean.f1 >= CWCE_F1_FLOOR, mean
    assert mean.precision >= CWCE_PRECISION_FLOOR, mean
    assert mean.recall >= CWCE_RECALL_FLOOR, mean


def test_readability_chinese_mean_f1_above_floor(gold):
    pages = [g for g in gold if g.source == "readability-chinese"]
    assert pages
    mean = mean_prf([char_prf(_text(g), g.gold_text) for g in pages])
    assert mean.f1 >= READABILITY_CHINESE_F1_FLOOR, mean


def test_trafilatura_chinese_snippets(gold):
    pages = [g for g in gold if g.source == "trafilatura-chinese"]
    assert len(pages) == 4
    found = n_must = absent = n_not = 0
    for g in pages:
        a, b, c, d = snippet_checks(_text(g), list(g.must), list(g.must_not))
        found, n_must, absent, n_not = found + a, n_must + b, absent + c, n_not + d
    assert found == n_must  # every must-contain snippet
    assert absent >= n_not - 1  # at most one boilerplate snippet kept (baidu baike 网友印象 today)
