"""Generations on disk: how both indexes (keyword and embedding) swap a new build in whole.

An index directory holds the files of one generation plus `manifest.json`, which names that
generation. A build writes every file of a new generation beside the old one (each file atomically,
through `corpus.atomic`), then rewrites the manifest (atomically too): that rename is the commit
point. A reader that opened the old manifest keeps reading the old files (they are removed only
after the commit, and a reader that finds them gone re-reads the manifest); a build killed at any
moment leaves the old generation and its manifest untouched, plus leftovers the next build sweeps.

Each index names its files its own way, so the sweep asks `generation_of(file name)`: the
generation a file belongs to, or None for a file that is not part of any generation (left alone
unless `strict`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path

from corpus.atomic import write_json_atomic

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
PART_SUFFIX = ".part"  # temporary files of corpus.atomic (".<name>.<random>.part")


class ManifestUnreadable(ValueError):
    """manifest.json exists but is not JSON (a disk fault, a hand edit): the caller decides."""


def read_manifest(index_dir: Path | str) -> dict | None:
    """The manifest of the index in `index_dir`, or None when there is none yet."""
    p = Path(index_dir) / MANIFEST
    try:
        raw = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    try:
        m = json.loads(raw)
    except ValueError as e:
        raise ManifestUnreadable(f"{p}: {e}") from e
    if not isinstance(m, dict):
        raise ManifestUnreadable(f"{p}: not a JSON object")
    return m


def commit(index_dir: Path | str, manifest: dict, generation_of: Callable[[str], str | None], *,
           strict: bool = False) -> None:
    """Make `manifest` (naming its generation) the index's, then remove the other generations' files."""
    index_dir = Path(index_dir)
    write_json_atomic(index_dir / MANIFEST, manifest, indent=1, make_dirs=False)
    sweep(index_dir, str(manifest["generation"]), generation_of, strict=strict)


def sweep(index_dir: Path | str, keep: str, generation_of: Callable[[str], str | None], *,
          strict: bool = False) -> int:
    """Remove the files of generations other than `keep` and temporary files left by a killed build.

    `strict`: also remove files that belong to no generation (an older on-disk format). Directories
    are never touched (the embedding index keeps its resumable pending chunks in one). Returns the
    number of files removed.
    """
    removed = 0
    for p in Path(index_dir).iterdir():
        name = p.name
        if name == MANIFEST or not p.is_file():
            continue
        if name.startswith(".") and name.endswith(PART_SUFFIX):
            pass  # a half-written file of a build that was killed
        else:
            gen = generation_of(name)
            if gen == keep or (gen is None and not strict):
                continue
        try:
            p.unlink()
            removed += 1
        except FileNotFoundError:
            pass
        except OSError as e:  # pragma: no cover - e.g. a file held open on Windows
            log.debug("could not remove %s: %s", p, e)
    return removed
