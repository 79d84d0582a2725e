"""The keyword index: every stored paragraph's folded text, character postings (exact phrases,
parts of words, single characters) and jieba word postings (BM25, scattered words), built in bulk
with numpy and then updated incrementally.

Why not Whoosh any more: its pure-Python posting writer and commit took ~38 s for the word field
alone on 121k paragraphs (and ~5 minutes with the character-bigram field); numpy sorts do the same
in a few seconds. Paragraphs are cut by rjieba (jieba-rs; indexer.terms.RJiebaTokenizer: the same
cuts as jieba on every paragraph of ../shared/data/text, 11x less CPU) in a process pool: the full
build of that corpus (111,518 paragraphs) went from 182 s (170.7 s of it jieba, load ~9) to 7.5 s
(4.1 s tokenising, load ~4). Everything shown comes from SQLite; the index holds only what
matching and ranking need.

Why not tantivy (measured with bench/keyword_engines.py on the same 111,518 paragraphs, load ~2;
tantivy 0.27 given our jieba words pre-tokenised and a per-character field with positions, phrase
candidates checked against the folded text as ours are): exact phrases (bench/search.py's 40,
every matching row, as a search needs them) ours p50 0.1 / p95 0.3 ms, tantivy 0.5 / 2.0 ms, both
recall 1.000 (tantivy's precision before the check 0.995); BM25 top 10 of all words (10 queries)
ours 0.4 / 0.8 ms, tantivy 0.0 / 0.1 ms; build without tokenising ours ~2.5 s, tantivy 5.3 s; size
ours 123.7 MB (with the folded text and per-paragraph tokens that updates and snippets reuse),
tantivy 25.2 MB. Neither engine is the cost of a search (a first page takes milliseconds; the CLI's
start-up is the rest, see bench/cli.py), so the exact-phrase path decides: kept ours.

Layout of `settings.index_dir`: `manifest.json` (format and analyzer versions, dictionary version,
counts, build time, and `generation`: what `corpus index` reports and what decides a rebuild) and
the files of the current generation `<generation>.<name>.npy|json|txt` (see `_GEN_FILES`),
including `<generation>.revs.json` ({doc_id: rev} as indexed: what decides an incremental
update) and `<generation>.tok*.npy` (each paragraph's jieba word ids: an update tokenises only new
and changed documents and rebuilds the postings from these in bulk).

Concurrency and crashes: one writer at a time (a file lock in the data directory; a second writer
waits `settings.lock_timeout` seconds, then fails with IndexLocked). Readers never lock: a build
writes a complete new generation beside the live one and then replaces manifest.json atomically,
so searching during indexing sees the previous generation, and a crash mid-index leaves the last
good one (the orphan files are removed by the next build). The previous generation's files are
removed once the new manifest is in place: a reader that read the old manifest a moment before
retries with the new one, and a view already open keeps working (its arrays are in memory or
memory-mapped, and a mapped file stays readable after unlinking).
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from corpus.atomic import write_atomic, write_bytes_atomic, write_json_atomic
from corpus.errors import IndexMissing
from corpus.store import open_store

from . import analysis, generations
from .analysis import ANALYZER_VERSION, SENTENCE_END, word_terms
from .charindex import CharIndex, build_postings, fold_many, intersect_sorted
from .locks import WriterLock
from .terms import dictionary_version, ensure_query_dictionary, index_tokenizer

log = logging.getLogger(__name__)

FORMAT_VERSION = 3  # 1: Whoosh (words + character bigrams); 2, 3: numpy postings (3: sentence ends)

TOKENIZE_CHUNK = 2000  # paragraphs per task sent to a tokeniser process
POOL_MIN = 4000  # fewer paragraphs to tokenise than this: no process pool
MAX_WORKERS = 4
_GEN_FILES = ("pid", "docid", "cluster", "head", "toff", "alpha", "ckeys", "ckoff", "crows", "cbits",
              "woff", "wrows", "wtf", "dl", "tok", "tokoff", "sends")


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


# --- manifest -----------------------------------------------------------------------------

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


# --- generations on disk -----------------------------------------------------------------------

def _gen_path(index_dir: Path, gen: str, name: str) -> Path:
    ext = "json" if name in ("vocab", "revs") else "txt" if name == "text" else "npy"
    return index_dir / f"{gen}.{name}.{ext}"


def _write_generation(index_dir: Path, gen: str, arrays: dict[str, np.ndarray], text: str,
                      vocab: list[str], revs: dict[int, int]) -> None:
    for name in _GEN_FILES:
        write_atomic(_gen_path(index_dir, gen, name), lambda f, a=arrays[name]: np.save(f, a, allow_pickle=False))
    write_bytes_atomic(_gen_path(index_dir, gen, "text"), text.encode("utf-8"))
    write_json_atomic(_gen_path(index_dir, gen, "vocab"), vocab, indent=None)
    write_json_atomic(_gen_path(index_dir, gen, "revs"), {str(k): v for k, v in revs.items()}, indent=None)


def _generation_ok(index_dir: Path, manifest: dict | None) -> bool:
    gen = (manifest or {}).get("generation")
    return bool(gen) and manifest.get("format") == FORMAT_VERSION and _gen_path(index_dir, gen, "revs").exists()


def _read_gen_revs(index_dir: Path, gen: str) -> dict[int, int]:
    raw = json.loads(_gen_path(index_dir, gen, "revs").read_text(encoding="utf-8"))
    return {int(k): int(v) for k, v in raw.items()}


def _generation_of(name: str) -> str | None:
    """`kw<id>.<part>.<ext>` belongs to generation `kw<id>`; anything else (the Whoosh format of
    FORMAT_VERSION 1, stray files) to none, and is swept because the sweep is strict."""
    return name.split(".", 1)[0] if name.startswith("kw") and "." in name else None


# --- tokenising ---------------------------------------------------------------------------------

_worker: dict = {}


def _die_with_parent(parent: int | None) -> None:
    """In a tokeniser process: end when the parent does (a SIGKILLed `corpus index` must not
    leave workers behind). Linux: the kernel sends SIGKILL when the parent goes (prctl
    PR_SET_PDEATHSIG); the parent check closes the race of a parent that died before that."""
    if parent is None:
        return
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the pool's own end-of-work handling still applies
        return
    if os.getppid() != parent:
        os._exit(1)


def _init_worker(settings, parent: int | None = None) -> None:
    """Per tokeniser process (and before tokenising in-process): the tokenizer and an empty
    local vocabulary."""
    _die_with_parent(parent)
    analysis.configure(settings)
    _worker.update(tokenizer=index_tokenizer(settings), vocab={}, words=[], reported=0)


def _tokenize_chunk(texts: list[str]) -> tuple[int, list[str], bytes, bytes]:
    """jieba words of each folded text as ids of this process's vocabulary -> (process id, the
    words new to that vocabulary since its last chunk, ids as int32 bytes, tokens per text as
    int64 bytes). Mapping words to ids here keeps the parent's share of the work small."""
    tk, vocab, words = _worker["tokenizer"], _worker["vocab"], _worker["words"]
    ids: list[int] = []
    lens: list[int] = []
    for t in texts:
        ws = word_terms(t, tk)
        lens.append(len(ws))
        for w in ws:
            i = vocab.get(w)
            if i is None:
                i = vocab[w] = len(words)
                words.append(w)
            ids.append(i)
    new = words[_worker["reported"]:]
    _worker["reported"] = len(words)
    return os.getpid(), new, np.asarray(ids, dtype=np.int32).tobytes(), np.asarray(lens, dtype=np.int64).tobytes()


def _tokenize(settings, texts: list[str], vocab: dict[str, int], progress: bool) -> tuple[np.ndarray, np.ndarray]:
    """-> (word ids of all texts in order, tokens per text). New words are added to vocab."""
    ids: list[np.ndarray] = []
    lens: list[np.ndarray] = []
    maps: dict[int, list[int]] = {}  # process -> its local word id -> global id
    chunks = [texts[i:i + TOKENIZE_CHUNK] for i in range(0, len(texts), TOKENIZE_CHUNK)]
    workers = min(os.cpu_count() or 1, MAX_WORKERS)
    bar = _progress(len(texts), progress, "tokenising")

    def consume(result, n: int) -> None:
        pid, new, id_bytes, len_bytes = result
        m = maps.setdefault(pid, [])
        m.extend(vocab.setdefault(w, len(vocab)) for w in new)
        local = np.frombuffer(id_bytes, dtype=np.int32)
        ids.append(np.asarray(m, dtype=np.int32)[local] if len(local) else local)
        lens.append(np.frombuffer(len_bytes, dtype=np.int64))
        if bar is not None:
            bar.update(n)

    try:
        pool = None
        if workers > 1 and len(texts) >= POOL_MIN:
            import multiprocessing as mp

            method = "fork" if "fork" in mp.get_all_start_methods() else "spawn"
            index_tokenizer(settings)  # loaded once here: forked workers inherit it
            try:
                pool = mp.get_context(method).Pool(workers, initializer=_init_worker,
                                                   initargs=(settings, os.getpid()))
            except OSError as e:  # e.g. no POSIX semaphores in a sandbox: tokenise here
                log.warning("no tokeniser processes (%s): tokenising in one process", e)
        if pool is not None:
            with pool:
                for chunk, result in zip(chunks, pool.imap(_tokenize_chunk, chunks), strict=True):
                    consume(result, len(chunk))
        else:
            _init_worker(settings)
            for chunk in chunks:
                consume(_tokenize_chunk(chunk), len(chunk))
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    if not ids:
        return np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.int64)
    return np.concatenate(ids), np.concatenate(lens)


def _progress(total: int, enabled: bool | str, label: str):
    if not enabled:
        return None
    from corpus.progress import progress_bar

    bar = progress_bar(enabled, total, label, unit="paragraphs" if enabled == "lines" else "")
    bar.__enter__()
    return bar


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


# --- build and update -------------------------------------------------------------------------

def _read_paragraphs(store) -> tuple[dict[int, int], list[tuple]]:
    """The documents' revisions and every paragraph (id order), read in one snapshot."""
    db = store.db
    own = not db.in_transaction
    if own:
        db.execute("BEGIN")
    try:
        revs = store.doc_revisions()
        rows = db.execute("SELECT id, doc_id, cluster_id, kind, text FROM paragraphs ORDER BY id").fetchall()
    finally:
        if own:
            db.execute("COMMIT")
    return revs, rows


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
            elif not _generation_ok(index_dir, manifest):
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
    revs, rows = _read_paragraphs(store)
    report = IndexReport(mode=mode, reason=reason, documents_total=len(revs))
    old = None
    if mode == "update":
        gen = manifest["generation"]
        indexed = _read_gen_revs(index_dir, gen)
        added = [d for d in revs if d not in indexed]
        changed = [d for d, r in revs.items() if d in indexed and indexed[d] != r]
        deleted = [d for d in indexed if d not in revs]
        report.documents_added, report.documents_changed, report.documents_deleted = len(added), len(changed), len(deleted)
        if not (added or changed or deleted):
            report.mode = "unchanged"
            report.paragraphs_total = manifest.get("paragraphs", 0)
            generations.sweep(index_dir, gen, _generation_of, strict=True)  # leftovers of a crashed build
            return report
        old = _load_for_update(index_dir, gen)
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
    new_tok, new_lens = _tokenize(settings, [text[toff[i]:toff[i + 1] - 1] for i in todo.tolist()], vocab, progress)
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
    _write_generation(index_dir, gen, arrays, text, vocab_list, revs)
    now = time.time()
    new_manifest = dict(manifest or {}) if mode == "update" else {}
    new_manifest.update(wanted_versions(settings))
    new_manifest.update({"build_id": build_id, "generation": gen, "documents": len(revs), "paragraphs": len(rows),
                         "words": len(vocab_list), "updated_at": now})
    if mode != "update":
        new_manifest["built_at"] = now
    generations.commit(index_dir, new_manifest, _generation_of, strict=True)
    report.paragraphs_total = len(rows)
    return report


def _spread(tokoff: np.ndarray, rows: np.ndarray, lens: np.ndarray) -> np.ndarray:
    """Token positions of `rows` in the new token array, in row order."""
    ln = lens[rows]
    ends = np.cumsum(ln)
    return np.arange(ends[-1] if len(ends) else 0, dtype=np.int64) - np.repeat(ends - ln - tokoff[rows], ln)


def _load_for_update(index_dir: Path, gen: str) -> dict:
    def arr(name):
        return np.load(_gen_path(index_dir, gen, name), mmap_mode="r", allow_pickle=False)

    return {
        "pid": np.asarray(arr("pid")), "tok": arr("tok"), "tokoff": np.asarray(arr("tokoff")),
        "vocab": json.loads(_gen_path(index_dir, gen, "vocab").read_text(encoding="utf-8")),
    }


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


# --- reading ------------------------------------------------------------------------------------

class IndexView:
    """One generation of the index, opened read-only: columns by row (row = position in paragraph
    id order), the character index and the word postings. Cached per generation; thread-safe
    (nothing changes after opening)."""

    def __init__(self, index_dir: Path, manifest: dict):
        gen = manifest["generation"]
        self.build_id = manifest.get("build_id")
        self.generation = gen

        def arr(name, mmap=False):
            return np.load(_gen_path(index_dir, gen, name), mmap_mode="r" if mmap else None, allow_pickle=False)

        self.pid = arr("pid")
        self.docid = arr("docid")
        self.cluster = arr("cluster")
        self.head = arr("head")
        text = _gen_path(index_dir, gen, "text").read_bytes().decode("utf-8")
        self.chars = CharIndex(text, arr("toff"), arr("alpha"), arr("ckeys"), arr("ckoff"), arr("crows", True),
                               int(arr("cbits")[0]))
        self.vocab = {w: i for i, w in enumerate(json.loads(_gen_path(index_dir, gen, "vocab").read_text("utf-8")))}
        self.woff = arr("woff")
        self.wrows = arr("wrows", True)
        self.wtf = arr("wtf", True)
        self.doc_ids, self.docidx = np.unique(self.docid, return_inverse=True)  # row -> index into doc_ids
        self.sent_ends = arr("sends")  # where each sentence ends in chars.text (analysis.SENTENCE_END)
        self.dl = _quantised_lengths(arr("dl"))
        self.n = len(self.pid)
        self.avgdl = float(np.mean(arr("dl"))) if self.n else 1.0  # (Whoosh: exact total / count)

    def refresh(self) -> None:
        """Kept for callers of the Whoosh era: a view never changes; open_view swaps views."""

    # matching ------------------------------------------------------------------------------
    def phrase_rows(self, folded: str) -> np.ndarray:
        """Sorted rows whose text holds the (folded) phrase: every occurrence, exactly."""
        return self.chars.rows_for(folded)

    def word_postings(self, word: str) -> tuple[np.ndarray, np.ndarray]:
        w = self.vocab.get(word)
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


def _quantised_lengths(dl: np.ndarray) -> np.ndarray:
    """Paragraph lengths as Whoosh stored them (one byte each, coarser for long paragraphs), so
    BM25 ranks exactly as the Whoosh word field did (indexer.lengths: Whoosh's table, without Whoosh)."""
    from .lengths import byte_to_length, length_to_byte

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


def update_indexes(settings, *, progress: bool = False, semantic: bool | None = None, rebuild: bool = False,
                   rebuild_semantic: bool = False) -> IndexReport:
    """`corpus index`: the keyword index, then (if enabled and possible) the embedding index.

    A missing or unbuildable embedding model is a note in the report, never a failure of the
    keyword index: keyword search must work on a machine without the model.
    """
    report = build_index(settings, progress=progress, rebuild=rebuild)
    want_semantic = settings.semantic if semantic is None else semantic
    if not want_semantic:
        return report
    try:
        from .semantic import update_embeddings
    except ImportError:
        report.notes.append("semantic index: not available in this installation (keyword search only)")
        return report
    from corpus.errors import CorpusError

    store = open_store(settings, readonly=True)
    try:
        report.semantic = update_embeddings(settings, store, progress, rebuild=rebuild_semantic)
    except CorpusError as e:
        report.notes.append(f"semantic index not updated: {e}")
    finally:
        store.close()
    return report
