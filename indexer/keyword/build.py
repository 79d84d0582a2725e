"""Building and updating the keyword index: read the store's paragraphs, fold them, cut the new
and changed ones into words, build character and word postings in bulk with numpy, write a new
generation and swap it in (indexer.keyword.files, indexer.generations)."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from corpus.store import open_store

from .. import analysis, generations
from ..analysis import SENTENCE_END
from ..charindex import build_postings, fold_many
from ..locks import WriterLock
from ..terms import ensure_query_dictionary
from .files import (
    dir_bytes,
    generation_of,
    generation_ok,
    load_for_update,
    read_gen_revs,
    read_manifest,
    wanted_versions,
    write_generation,
)
from .tokenize import tokenize


@dataclass
class IndexReport:
    """What `corpus index` did: printed by the CLI, asserted by tests."""

    mode: str  # "build" | "rebuild" | "update" | "unchanged"
    documents_added: int = 0
    documents_changed: int = 0
    documents_deleted: int = 0
    paragraphs_indexed: int = 0
    paragraphs_total: int = 0
    documents_total: int = 0
    seconds: float = 0.0
    tokenize_seconds: float = 0.0  # jieba (the pool's wall time)
    char_seconds: float = 0.0  # folding + character postings
    word_seconds: float = 0.0  # word postings
    index_bytes: int = 0
    reason: str = ""
    semantic: dict | None = None
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [
            f"keyword index: {self.mode}" + (f" ({self.reason})" if self.reason else ""),
            f"  documents: +{self.documents_added} ~{self.documents_changed} -{self.documents_deleted}"
            f" (total {self.documents_total})",
            f"  paragraphs indexed: {self.paragraphs_indexed} (total {self.paragraphs_total})",
            f"  time: {self.seconds:.1f} s (jieba {self.tokenize_seconds:.1f} s, character index"
            f" {self.char_seconds:.1f} s, word index {self.word_seconds:.1f} s), size: {self.index_bytes / 1e6:.1f} MB",
        ]
        if self.semantic is not None:
            out.append("semantic index: " + ", ".join(f"{k}={v}" for k, v in self.semantic.items()))
        out += self.notes
        return out

    def to_json(self) -> dict:
        return self.__dict__.copy()


def _gather(tok: np.ndarray, tokoff: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The token slices of `rows` (old row numbers) concatenated -> (tokens, lengths)."""
    starts = tokoff[rows]
    lens = tokoff[rows + 1] - starts
    if not len(rows) or not lens.sum():
        return np.zeros(0, dtype=np.int32), lens
    ends = np.cumsum(lens)
    idx = np.arange(ends[-1], dtype=np.int64) - np.repeat(ends - lens - starts, lens)
    return np.asarray(tok)[idx], lens


def _word_postings(tok: np.ndarray, lens: np.ndarray, vocab_size: int) -> dict[str, np.ndarray]:
    """(word id, row) postings with term frequency, `woff[w]` into rows/tf for every word id."""
    n = len(lens)
    rb = max(1, int(max(n - 1, 1)).bit_length())
    rows = np.repeat(np.arange(n, dtype=np.int64), lens)
    comp = (tok.astype(np.int64) << rb) | rows
    comp.sort()
    if len(comp):
        starts = np.flatnonzero(np.concatenate([[True], comp[1:] != comp[:-1]]))
        tf = np.diff(np.append(starts, len(comp)))
        comp = comp[starts]
    else:
        tf = np.zeros(0, dtype=np.int64)
    wid = comp >> rb
    return {
        "woff": np.searchsorted(wid, np.arange(vocab_size + 1)).astype(np.int64),
        "wrows": (comp & ((1 << rb) - 1)).astype(np.int32),
        "wtf": tf.astype(np.int32),
        "dl": lens.astype(np.int32),
    }


def build_index(settings, *, progress: bool = False, rebuild: bool = False, store=None) -> IndexReport:
    """Create or incrementally update the keyword index from the store.

    New, changed (rev differs) and deleted documents only are tokenised; an unchanged corpus
    returns at once. A different format/analyzer/dictionary version (or `rebuild=True`)
    tokenises everything again. Either way the result is a new generation swapped in whole.
    """
    t0 = time.perf_counter()
    analysis.configure(settings)
    index_dir = Path(settings.index_dir)
    own_store = store is None
    store = store or open_store(settings, readonly=True)
    try:
        with WriterLock(settings, "index.lock", "keyword index"):
            index_dir.mkdir(parents=True, exist_ok=True)
            manifest = read_manifest(index_dir)
            want = wanted_versions(settings)
            reason = ""
            if manifest is None:
                mode = "build"
            elif rebuild:
                mode, reason = "rebuild", "asked for"
            elif any(manifest.get(k) != v for k, v in want.items()):
                changed = [f"{k} {manifest.get(k)} -> {v}" for k, v in want.items() if manifest.get(k) != v]
                mode, reason = "rebuild", "; ".join(changed)
            elif not generation_ok(index_dir, manifest):
                mode, reason = "rebuild", "index files missing"
            else:
                mode = "update"
            report = _build(settings, store, index_dir, manifest, mode, reason, progress)
            ensure_query_dictionary(settings)  # queries cut with jieba's compact dictionary (indexer.terms)
            report.seconds = time.perf_counter() - t0
            report.index_bytes = dir_bytes(index_dir)
            return report
    finally:
        if own_store:
            store.close()


def _build(settings, store, index_dir: Path, manifest: dict | None, mode: str, reason: str,
           progress: bool) -> IndexReport:
    revs, rows = store.index_snapshot()
    report = IndexReport(mode=mode, reason=reason, documents_total=len(revs))
    old = None
    if mode == "update":
        gen = manifest["generation"]
        indexed = read_gen_revs(index_dir, gen)
        added = [d for d in revs if d not in indexed]
        changed = [d for d, r in revs.items() if d in indexed and indexed[d] != r]
        deleted = [d for d in indexed if d not in revs]
        report.documents_added, report.documents_changed, report.documents_deleted = len(added), len(changed), len(deleted)
        if not (added or changed or deleted):
            report.mode = "unchanged"
            report.paragraphs_total = manifest.get("paragraphs", 0)
            generations.sweep(index_dir, gen, generation_of, strict=True)  # leftovers of a crashed build
            return report
        old = load_for_update(index_dir, gen)
        stale_docs = set(changed) | set(deleted)
    else:
        report.documents_added = len(revs)

    # which rows keep their old tokens
    pid = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    docid = np.fromiter((r[1] for r in rows), dtype=np.int64, count=len(rows))
    reuse = np.zeros(len(rows), dtype=bool)
    old_row = np.zeros(len(rows), dtype=np.int64)
    if old is not None:
        pos = np.searchsorted(old["pid"], pid)
        pos[pos >= len(old["pid"])] = 0
        hit = (old["pid"][pos] == pid) if len(old["pid"]) else np.zeros(len(rows), dtype=bool)
        if stale_docs:
            hit &= ~np.isin(docid, np.fromiter(stale_docs, dtype=np.int64))
        reuse, old_row = hit, pos

    t = time.perf_counter()
    text, toff = fold_many([r[4] for r in rows])
    report.char_seconds = time.perf_counter() - t

    t = time.perf_counter()
    vocab_list: list[str] = list(old["vocab"]) if old is not None else []
    vocab = {w: i for i, w in enumerate(vocab_list)}
    todo = np.flatnonzero(~reuse)
    new_tok, new_lens = tokenize(settings, [text[toff[i]:toff[i + 1] - 1] for i in todo.tolist()], vocab, progress)
    report.tokenize_seconds = time.perf_counter() - t
    report.paragraphs_indexed = len(todo)

    t = time.perf_counter()  # after tokenising: forked tokenisers need not carry these arrays
    chars = build_postings(text, toff)
    chars["sends"] = np.fromiter((m.end() for m in SENTENCE_END.finditer(text)), dtype=np.int64)
    report.char_seconds += time.perf_counter() - t

    t = time.perf_counter()
    lens = np.zeros(len(rows), dtype=np.int64)
    lens[todo] = new_lens
    kept = np.flatnonzero(reuse)
    tokoff = np.zeros(len(rows) + 1, dtype=np.int64)
    if len(kept):
        kept_tok, kept_lens = _gather(old["tok"], old["tokoff"], old_row[kept])
        lens[kept] = kept_lens
    np.cumsum(lens, out=tokoff[1:])
    tok = np.zeros(int(tokoff[-1]), dtype=np.int32)
    if len(todo):
        tok[_spread(tokoff, todo, lens)] = new_tok
    if len(kept):
        tok[_spread(tokoff, kept, lens)] = kept_tok
    vocab_list = list(vocab)
    words = _word_postings(tok, lens, len(vocab_list))
    report.word_seconds = time.perf_counter() - t

    arrays = {
        "pid": pid, "docid": docid,
        "cluster": np.fromiter((r[2] if r[2] is not None else r[0] for r in rows), dtype=np.int64, count=len(rows)),
        "head": np.fromiter((1 if r[3] == "heading" else 0 for r in rows), dtype=np.uint8, count=len(rows)),
        "toff": toff, "tok": tok, "tokoff": tokoff, **chars, **words,
    }
    build_id = uuid.uuid4().hex
    gen = "kw" + build_id[:16]
    write_generation(index_dir, gen, arrays, text, vocab_list, revs)
    now = time.time()
    new_manifest = dict(manifest or {}) if mode == "update" else {}
    new_manifest.update(wanted_versions(settings))
    new_manifest.update({"build_id": build_id, "generation": gen, "documents": len(revs), "paragraphs": len(rows),
                         "words": len(vocab_list), "updated_at": now})
    if mode != "update":
        new_manifest["built_at"] = now
    generations.commit(index_dir, new_manifest, generation_of, strict=True)
    report.paragraphs_total = len(rows)
    return report


def _spread(tokoff: np.ndarray, rows: np.ndarray, lens: np.ndarray) -> np.ndarray:
    """Token positions of `rows` in the new token array, in row order."""
    ln = lens[rows]
    ends = np.cumsum(ln)
    return np.arange(ends[-1] if len(ends) else 0, dtype=np.int64) - np.repeat(ends - ln - tokoff[rows], ln)


def index_status(settings) -> dict:
    """The manifest plus size: for `corpus index --status` and the web UI."""
    m = read_manifest(Path(settings.index_dir))
    if m is None:
        return {"exists": False}
    m = dict(m)
    m["exists"] = True
    m["bytes"] = dir_bytes(Path(settings.index_dir))
    m["stale"] = any(m.get(k) != v for k, v in wanted_versions(settings).items())
    return m
