"""Reading the keyword index: one generation opened read-only (IndexView: exact phrases through the
character postings, words and BM25 through the word postings), cached per process and reopened
only when a build landed."""

from __future__ import annotations

import functools
import json
import mmap
import os
import threading
import time
from pathlib import Path

import numpy as np

from corpus.errors import IndexMissing

from ..charindex import CharIndex, intersect_sorted
from .files import FORMAT_VERSION, gen_path, read_manifest

LIST_LOOKUPS = 16  # word lookups by scanning IndexView.words before its dict is built


class IndexView:
    """One generation of the index, opened read-only: columns by row (row = position in paragraph
    id order), the character index and the word postings. Cached per generation; thread-safe
    (nothing changes after opening)."""

    def __init__(self, index_dir: Path, manifest: dict):
        gen = manifest["generation"]
        self.build_id = manifest.get("build_id")
        self.generation = gen

        def arr(name, mmap=False):
            a = np.load(gen_path(index_dir, gen, name), mmap_mode="r" if mmap else None, allow_pickle=False)
            return np.asarray(a)  # a mapped file as a plain (read-only) array: np.memmap indexes slowly

        # columns a query reads only in part (binary searches, the rows of its hits) are mapped, not read
        self.pid = arr("pid", True)
        self.docid = arr("docid")
        self.cluster = arr("cluster", True)
        self.head = arr("head", True)
        text = _read_text(gen_path(index_dir, gen, "text"))
        self.chars = CharIndex(text, arr("toff", True), arr("alpha"), arr("ckeys", True), arr("ckoff", True),
                               arr("crows", True), int(arr("cbits")[0]))
        self._vocab_json = gen_path(index_dir, gen, "vocab").read_bytes()  # parsed on first use (words)
        self._lookups = 0
        self.woff = arr("woff")
        self.wrows = arr("wrows", True)
        self.wtf = arr("wtf", True)
        self.doc_ids, self.docidx = np.unique(self.docid, return_inverse=True)  # row -> index into doc_ids
        self.sent_ends = arr("sends", True)  # where each sentence ends in chars.text (analysis.SENTENCE_END)
        self.dl = _quantised_lengths(arr("dl"))
        self.n = len(self.pid)
        self.avgdl = float(np.mean(arr("dl"))) if self.n else 1.0  # (Whoosh: exact total / count)

    @functools.cached_property
    def words(self) -> list[str]:
        """The word list (word id = position), parsed on first use."""
        return json.loads(self._vocab_json)

    @functools.cached_property
    def vocab(self) -> dict[str, int]:
        """word -> word id, built on first use (~25 ms for 80k words)."""
        return {w: i for i, w in enumerate(self.words)}

    def word_id(self, word: str) -> int | None:
        """The word's id, or None. The first few lookups scan the word list (~1 ms each), which is
        cheaper than building `vocab` for a command-line query; after that the dict is built."""
        vocab = self.__dict__.get("vocab")
        if vocab is None and self._lookups < LIST_LOOKUPS:
            self._lookups += 1
            try:
                return self.words.index(word)
            except ValueError:
                return None
        return self.vocab.get(word)

    def refresh(self) -> None:
        """Kept for callers of the Whoosh era: a view never changes; open_view swaps views."""

    # matching ------------------------------------------------------------------------------
    def phrase_rows(self, folded: str) -> np.ndarray:
        """Sorted rows whose text holds the (folded) phrase: every occurrence, exactly."""
        return self.chars.rows_for(folded)

    def word_postings(self, word: str) -> tuple[np.ndarray, np.ndarray]:
        w = self.word_id(word)
        if w is None:
            empty = np.zeros(0, dtype=np.int32)
            return empty, empty
        a, b = int(self.woff[w]), int(self.woff[w + 1])
        return self.wrows[a:b], self.wtf[a:b]

    def rows_with_words(self, words: list[str]) -> np.ndarray:
        """Sorted rows holding every one of the words (jieba words, anywhere in the paragraph)."""
        return intersect_sorted([self.word_postings(w)[0] for w in dict.fromkeys(words)])

    def bm25(self, words: list[str], rows: np.ndarray, k1: float = 1.2, b: float = 0.75) -> np.ndarray:
        """BM25 (Whoosh's formula: idf = log(N / (df + 1)) + 1) of the words, for `rows`."""
        scores = np.zeros(self.n, dtype=np.float64)
        norm = k1 * ((1 - b) + b * self.dl / self.avgdl)
        for w in dict.fromkeys(words):
            prow, ptf = self.word_postings(w)
            if not len(prow):
                continue
            idf = np.log(self.n / (len(prow) + 1)) + 1
            tf = np.asarray(ptf, dtype=np.float64)
            scores[prow] += idf * tf * (k1 + 1) / (tf + norm[prow])
        return scores[rows]

    def row_text(self, row: int) -> str:
        """The folded text of a row (same length as the stored text)."""
        return self.chars.row_text(row)


def _read_text(path: Path) -> str:
    """A UTF-8 file as str, decoded straight from a memory map (no bytes copy in between: ~20 ms
    less for the 25 MB text of 121k paragraphs)."""
    with open(path, "rb") as f:
        if not os.fstat(f.fileno()).st_size:
            return ""
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            view = memoryview(mm)
            try:
                return str(view, "utf-8")
            finally:
                view.release()


def _quantised_lengths(dl: np.ndarray) -> np.ndarray:
    """Paragraph lengths as Whoosh stored them (one byte each, coarser for long paragraphs), so
    BM25 ranks exactly as the Whoosh word field did (indexer.lengths: Whoosh's table, without Whoosh)."""
    from ..lengths import byte_to_length, length_to_byte

    dl = np.asarray(dl)
    if not len(dl):
        return dl.astype(np.float64)
    u, inv = np.unique(dl, return_inverse=True)
    q = np.array([byte_to_length(length_to_byte(int(x))) for x in u.tolist()], dtype=np.float64)
    return q[inv]


_views: dict[str, IndexView] = {}
_views_lock = threading.Lock()


def open_view(settings) -> IndexView:
    """The current generation, opened once per process and reopened only when a build landed."""
    index_dir = Path(settings.index_dir)
    manifest = read_manifest(index_dir)
    if manifest is None:
        raise IndexMissing(f"no search index in {index_dir}: run `corpus index` first")
    if manifest.get("format") != FORMAT_VERSION or not manifest.get("generation"):
        raise IndexMissing(f"the index in {index_dir} has an older format: run `corpus index` to rebuild it")
    key = str(index_dir.resolve())
    view = _views.get(key)
    if view is not None and view.generation == manifest["generation"]:
        return view
    with _views_lock:
        view = _views.get(key)
        if view is not None and view.generation == manifest["generation"]:
            return view
        for _ in range(3):
            try:
                view = IndexView(index_dir, manifest)
                break
            except (FileNotFoundError, ValueError, json.JSONDecodeError):  # swapped while opening
                time.sleep(0.2)
                manifest = read_manifest(index_dir) or manifest
        else:
            raise IndexMissing(f"the index in {index_dir} cannot be opened: run `corpus index --rebuild`")
        _views[key] = view
        return view
