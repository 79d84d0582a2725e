"""Shared fixtures: settings on a tmp data dir, the bundled sample, the ../shared data path."""

from __future__ import annotations

from pathlib import Path

import pytest

from corpus.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
SAMPLE = ROOT / "corpus" / "sample"


def shared_path(*parts: str) -> Path:
    """A path in ../shared, or skip the test with the reason."""
    p = SHARED.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"../shared data not available: {p}")
    return p


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", semantic=False)


@pytest.fixture
def sample_dir() -> Path:
    return SAMPLE
