"""The policy-term dictionary and the one jieba tokenizer per process.

jieba's stock dictionary splits the slogans drafters search for (双招双引 -> 双/招/双/引,
要素保障 -> 要素/保障), so a shipped, versioned dictionary (indexer/data/policy_terms.txt) plus
an optional user file (settings.user_dict) are added on top. The index manifest records
`dictionary_version()`; a different version means the word field must be rebuilt.

jieba's initialisation costs about a second, so the tokenizer is built lazily, once per process
and dictionary version, with its prefix-dictionary cache kept in the data directory.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
from pathlib import Path

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
        return tk
