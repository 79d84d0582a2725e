"""The policy-term dictionary and the one jieba tokenizer per process.

jieba's stock dictionary splits the slogans drafters search for (双招双引 -> 双/招/双/引,
要素保障 -> 要素/保障), so a shipped, versioned dictionary (indexer/data/policy_terms.txt) plus
an optional user file (settings.user_dict) are added on top. The index manifest records
`dictionary_version()`; a different version means the word field must be rebuilt.

jieba's initialisation costs about a second, so the tokenizer is built lazily, once per process
and dictionary version, with its prefix-dictionary cache kept in the data directory.

Queries need far less: cutting a few short terms looks up a few dozen substrings, yet loading
jieba's prefix dictionary (498k entries, unmarshalled into a dict) took 0.6 s of CPU (3.1-3.5 s
wall on a busy machine), most of a command-line search. `query_tokenizer` gives the same cuts from
a compact copy of that dictionary (sorted UTF-8 words + offsets + frequencies, memory-mapped,
binary search per lookup, memoised), written beside jieba's cache the first time the full
tokenizer is loaded for this dictionary version: it opens in about a millisecond, and cut 3,000
random corpus paragraphs exactly as the full dictionary did (about 4x slower per character, which
a query's few characters never notice; index builds keep the full dictionary). bench/cli.py,
`corpus search 要素保障 --mode keyword` on ../shared/data/text (111,518 paragraphs): CPU 1.13 s ->
0.42 s per process with the lazy command table and imports (wall 3.7 s at load 12.6 -> 1.1 s at load 6.5).
"""

from __future__ import annotations

import bisect
import hashlib
import logging
import os
import re
import threading
from collections.abc import Mapping
from pathlib import Path

from corpus.atomic import atomic_dir
from corpus.errors import InputError

log = logging.getLogger(__name__)

SHIPPED_DICT = Path(__file__).parent / "data" / "policy_terms.txt"
TERM_FREQ = 200000  # high enough that jieba keeps the term whole in precise mode

_lock = threading.Lock()
_tokenizers: dict[tuple, object] = {}


def _read_lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8-sig").splitlines()
    except FileNotFoundError:
        raise InputError(f"user dictionary {path} not found: fix settings.user_dict (CORPUS_USER_DICT)") from None
    except UnicodeDecodeError:
        raise InputError(f"user dictionary {path} is not UTF-8 text") from None


def shipped_version() -> str:
    """The `# version: N` line of the shipped dictionary."""
    for line in _read_lines(SHIPPED_DICT):
        m = re.match(r"#\s*version:\s*(\S+)", line)
        if m:
            return m.group(1)
    return "0"


def parse_terms(lines: list[str]) -> list[tuple[str, int | None, str | None]]:
    """jieba user-dictionary lines -> (term, freq, tag); comments and blank lines skipped."""
    out = []
    for line in lines:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        word = parts[0]
        freq = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
        tag = parts[-1] if len(parts) > 1 and not parts[-1].isdigit() else None
        out.append((word, freq, tag))
    return out


def load_terms(settings=None) -> list[tuple[str, int | None, str | None]]:
    """Shipped terms, then the user's (settings.user_dict), in that order."""
    terms = parse_terms(_read_lines(SHIPPED_DICT))
    user = getattr(settings, "user_dict", None) if settings is not None else None
    if user:
        terms += parse_terms(_read_lines(Path(user)))
    return terms


def dictionary_version(settings=None) -> str:
    """'<shipped version>' or '<shipped version>+<hash of the user file>': recorded in the manifest."""
    v = shipped_version()
    user = getattr(settings, "user_dict", None) if settings is not None else None
    if user:
        h = hashlib.sha1("\n".join(_read_lines(Path(user))).encode("utf-8")).hexdigest()[:10]
        v = f"{v}+user.{h}"
    return v


def _cache_dir(settings) -> Path | None:
    if settings is None:
        return None
    d = Path(settings.data_dir) / "cache"
    try:
        d.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return d


def get_tokenizer(settings=None):
    """A ready jieba.Tokenizer with the policy terms added: built once per process and version."""
    key = (dictionary_version(settings), str(getattr(settings, "user_dict", None)))
    tk = _tokenizers.get(key)
    if tk is not None:
        return tk
    with _lock:
        tk = _tokenizers.get(key)
        if tk is not None:
            return tk
        import jieba

        jieba.setLogLevel(logging.WARNING)
        tk = jieba.Tokenizer()
        cache = _cache_dir(settings)
        if cache is not None:
            tk.tmp_dir = str(cache)
            tk.cache_file = "jieba.cache"
        tk.initialize()
        for word, freq, tag in load_terms(settings):
            tk.add_word(word, freq or TERM_FREQ, tag)
        _tokenizers[key] = tk
        log.debug("jieba ready with dictionary %s", key[0])
        if cache is not None:
            try:
                write_compact(tk, _compact_dir(cache, key[0]))
            except OSError as e:  # a read-only data directory: queries load the full dictionary
                log.debug("compact dictionary not written (%s)", e)
        return tk


# --- the compact dictionary for queries ----------------------------------------------------------

COMPACT_FORMAT = 1


def _compact_dir(cache: Path, version: str) -> Path:
    import jieba

    safe = re.sub(r"[^0-9A-Za-z.+-]", "_", version)
    return cache / f"jieba-compact-{COMPACT_FORMAT}-{jieba.__version__}-{safe}"


def write_compact(tk, folder: Path) -> None:
    """The tokenizer's whole prefix dictionary (FREQ) and total, as sorted UTF-8 words (`words.bin`),
    their offsets and frequencies (`index.npy`: n+1 offsets, then n frequencies) and `total`;
    written into a temporary folder renamed into place, once per dictionary version."""
    import numpy as np

    if (folder / "total").exists():
        return
    items = sorted((w.encode("utf-8"), f) for w, f in tk.FREQ.items())
    offs = np.zeros(len(items) + 1, dtype=np.int64)
    np.cumsum([len(w) for w, _ in items], out=offs[1:])
    index = np.concatenate([offs, np.array([f for _, f in items], dtype=np.int64)])
    with atomic_dir(folder, replace=False) as tmp:  # a process that wrote it first wins
        (tmp / "words.bin").write_bytes(b"".join(w for w, _ in items))
        np.save(tmp / "index.npy", index)
        (tmp / "total").write_text(str(tk.total))


class CompactFreq(Mapping):
    """jieba's FREQ (word or prefix -> frequency, 0 for a bare prefix) read from the compact files:
    what get_DAG/calc/cut ask (`w in FREQ`, `FREQ[w]`, `FREQ.get(w)`), answered by binary search
    over the memory-mapped sorted words and remembered."""

    def __init__(self, folder: Path):
        import mmap

        import numpy as np

        with open(folder / "words.bin", "rb") as f:
            self._blob = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) if os.fstat(f.fileno()).st_size else b""
        index = np.asarray(np.load(folder / "index.npy", mmap_mode="r"))  # mapped, as a plain array: a
        # np.memmap answers each element through Python (3-4x slower; ~44k of them for a KWIC page)
        self._n = (len(index) - 1) // 2
        self._offs = index[:self._n + 1]
        self._freq = index[self._n + 1:]
        self._memo: dict[str, int | None] = {}

    def _key(self, i: int) -> bytes:
        return self._blob[int(self._offs[i]):int(self._offs[i + 1])]

    def _lookup(self, word: str) -> int | None:
        got = self._memo.get(word, -1)
        if got != -1:
            return got
        wb = word.encode("utf-8")
        keys = _Keys(self)
        i = bisect.bisect_left(keys, wb)
        got = int(self._freq[i]) if i < self._n and keys[i] == wb else None
        self._memo[word] = got
        return got

    def __getitem__(self, word: str) -> int:
        got = self._lookup(word)
        if got is None:
            raise KeyError(word)
        return got

    def __contains__(self, word) -> bool:
        return isinstance(word, str) and self._lookup(word) is not None

    def get(self, word, default=None):
        got = self._lookup(word) if isinstance(word, str) else None
        return default if got is None else got

    def __len__(self) -> int:
        return self._n

    def __iter__(self):
        for i in range(self._n):
            yield self._key(i).decode("utf-8")


class _Keys:
    """The sorted words as a sequence of bytes for bisect."""

    __slots__ = ("_f",)

    def __init__(self, f: CompactFreq):
        self._f = f

    def __len__(self) -> int:
        return self._f._n

    def __getitem__(self, i: int) -> bytes:
        return self._f._key(i)


_query_tokenizers: dict[tuple, object] = {}
_index_tokenizers: dict[tuple, object] = {}

# jieba keeps an ASCII run that is not a dictionary word as its HMM step's pieces: alphanumerics with
# at most one decimal part and a %, and the runs between them (40648-2021 -> 40648 - 2021).
_ASCII_PIECES = re.compile(r"[a-zA-Z0-9]+(?:\.\d+)?%?|[^a-zA-Z0-9]+")


class RJiebaTokenizer:
    """jieba's precise mode (HMM on) through rjieba (jieba-rs: the same dictionary and HMM model in
    Rust), for index builds: measured on ../shared/data/text, 111,518 folded paragraphs cut
    identically to jieba 0.42.1 with the policy terms (after splitting rjieba's ASCII tokens the way
    jieba does: rjieba keeps 1949-2024, 2.4.1, www.gov.cn whole), 8.8-10x faster (29.2 s -> 3.3 s
    in one process). Only `cut`/`lcut` (what the index uses); queries keep jieba (query_tokenizer)."""

    def __init__(self, terms: list[tuple[str, int | None, str | None]]):
        import rjieba

        self._rj = rjieba.Jieba()
        for word, freq, tag in terms:
            self._rj.add_word(word, freq or TERM_FREQ, tag)

    def cut(self, text: str, HMM: bool = True):  # noqa: N803 - jieba's keyword
        for w in self._rj.cut(text, HMM):
            if len(w) > 1 and w.isascii() and not w.isalnum():
                yield from _ASCII_PIECES.findall(w)
            else:
                yield w

    def lcut(self, text: str, HMM: bool = True) -> list[str]:  # noqa: N803
        return list(self.cut(text, HMM))


def index_tokenizer(settings=None):
    """The tokenizer index builds cut paragraphs with: RJiebaTokenizer when rjieba is installed
    (same cuts, ~9x faster), else jieba's (get_tokenizer)."""
    key = (dictionary_version(settings), str(getattr(settings, "user_dict", None)))
    tk = _index_tokenizers.get(key)
    if tk is not None:
        return tk
    with _lock:
        tk = _index_tokenizers.get(key)
        if tk is None:
            try:
                tk = RJiebaTokenizer(load_terms(settings))
            except ImportError:
                tk = None
            _index_tokenizers[key] = tk
    return tk if tk is not None else get_tokenizer(settings)


def ensure_query_dictionary(settings) -> None:
    """Write the compact query dictionary of this dictionary version if it is missing (loading the
    full jieba dictionary once, ~1 s): an index built with rjieba never loaded it."""
    cache = _cache_dir(settings)
    if cache is None:
        return
    version = dictionary_version(settings)
    if not (_compact_dir(cache, version) / "total").exists():
        get_tokenizer(settings)


def query_tokenizer(settings=None):
    """A tokenizer for cutting queries: the same cuts as get_tokenizer(settings) (same dictionary,
    same total, same HMM), from the compact dictionary when it exists (opens in about a millisecond),
    else the full tokenizer (which writes the compact dictionary for the next process)."""
    key = (dictionary_version(settings), str(getattr(settings, "user_dict", None)))
    full = _tokenizers.get(key)
    if full is not None:
        return full
    tk = _query_tokenizers.get(key)
    if tk is not None:
        return tk
    cache = _cache_dir(settings)
    folder = _compact_dir(cache, key[0]) if cache is not None else None
    if folder is None or not (folder / "total").exists():
        return get_tokenizer(settings)
    with _lock:
        tk = _query_tokenizers.get(key)
        if tk is None:
            import jieba

            try:
                freq = CompactFreq(folder)
                total = int((folder / "total").read_text())
            except (OSError, ValueError) as e:
                log.warning("compact dictionary %s unreadable (%s): loading the full one", folder, e)
                return get_tokenizer(settings)
            tk = jieba.Tokenizer()
            tk.FREQ, tk.total, tk.initialized = freq, total, True
            _query_tokenizers[key] = tk
        return tk
