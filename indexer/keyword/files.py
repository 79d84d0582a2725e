"""The keyword index on disk: the files of one generation and the manifest that names it.

Layout of `settings.index_dir`: `manifest.json` (format and analyzer versions, dictionary version,
counts, build time, and `generation`: what `corpus index` reports and what decides a rebuild) and
the files of the current generation `<generation>.<name>.npy|json|txt` (see `GEN_FILES`),
including `<generation>.revs.json` ({doc_id: rev} as indexed: what decides an incremental
update) and `<generation>.tok*.npy` (each paragraph's jieba word ids: an update tokenises only new
and changed documents and rebuilds the postings from these in bulk). The swap itself is
indexer.generations'.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np

from corpus.atomic import write_atomic, write_bytes_atomic, write_json_atomic

from .. import generations
from ..analysis import ANALYZER_VERSION
from ..terms import dictionary_version

log = logging.getLogger(__name__)

FORMAT_VERSION = 3  # 1: Whoosh (words + character bigrams); 2, 3: numpy postings (3: sentence ends)
GEN_FILES = ("pid", "docid", "cluster", "head", "toff", "alpha", "ckeys", "ckoff", "crows", "cbits",
             "woff", "wrows", "wtf", "dl", "tok", "tokoff", "sends")


def read_manifest(index_dir: Path) -> dict | None:
    """The keyword index's manifest; None when there is none or it is unreadable (then it is rebuilt)."""
    try:
        return generations.read_manifest(index_dir)
    except generations.ManifestUnreadable as e:
        log.warning("keyword index manifest unreadable, rebuilding: %s", e)
        return None


def dir_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in Path(path).glob("*") if p.is_file())


def wanted_versions(settings) -> dict:
    return {"format": FORMAT_VERSION, "analyzer": ANALYZER_VERSION, "dictionary": dictionary_version(settings)}


def gen_path(index_dir: Path, gen: str, name: str) -> Path:
    ext = "json" if name in ("vocab", "revs") else "txt" if name == "text" else "npy"
    return index_dir / f"{gen}.{name}.{ext}"


def write_generation(index_dir: Path, gen: str, arrays: dict[str, np.ndarray], text: str,
                      vocab: list[str], revs: dict[int, int]) -> None:
    for name in GEN_FILES:
        write_atomic(gen_path(index_dir, gen, name), lambda f, a=arrays[name]: np.save(f, a, allow_pickle=False))
    write_bytes_atomic(gen_path(index_dir, gen, "text"), text.encode("utf-8"))
    write_json_atomic(gen_path(index_dir, gen, "vocab"), vocab, indent=None)
    write_json_atomic(gen_path(index_dir, gen, "revs"), {str(k): v for k, v in revs.items()}, indent=None)


def generation_ok(index_dir: Path, manifest: dict | None) -> bool:
    gen = (manifest or {}).get("generation")
    return bool(gen) and manifest.get("format") == FORMAT_VERSION and gen_path(index_dir, gen, "revs").exists()


def read_gen_revs(index_dir: Path, gen: str) -> dict[int, int]:
    raw = json.loads(gen_path(index_dir, gen, "revs").read_text(encoding="utf-8"))
    return {int(k): int(v) for k, v in raw.items()}


def generation_of(name: str) -> str | None:
    """`kw<id>.<part>.<ext>` belongs to generation `kw<id>`; anything else (the Whoosh format of
    FORMAT_VERSION 1, stray files) to none, and is swept because the sweep is strict."""
    return name.split(".", 1)[0] if name.startswith("kw") and "." in name else None


def load_for_update(index_dir: Path, gen: str) -> dict:
    def arr(name):
        return np.load(gen_path(index_dir, gen, name), mmap_mode="r", allow_pickle=False)

    return {
        "pid": np.asarray(arr("pid")), "tok": arr("tok"), "tokoff": np.asarray(arr("tokoff")),
        "vocab": json.loads(gen_path(index_dir, gen, "vocab").read_text(encoding="utf-8")),
    }
