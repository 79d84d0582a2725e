"""Chinese text analysis for the keyword index: folding, jieba words, character bigrams, sentences.

Why not jieba's stock `ChineseAnalyzer`: its token positions are character offsets, so Whoosh phrase
queries (which need consecutive positions) find almost nothing, single characters and sub-words
inside a longer jieba word cannot be found, and overlapping search-mode tokens break highlighting.

Here every text goes through `fold()` first (traditional -> simplified, full-width -> half-width,
lower case) which keeps the length, so offsets in the folded text are offsets in the original.
Then two views of it, each with sequential positions:

- words: jieba precise-mode tokens (with the policy dictionary), punctuation and spaces dropped;
  used for BM25 ranking and for "scattered" matches of a multi-word query (the keyword index keeps
  their postings, see indexer.keyword).
- characters: runs of word characters. The keyword index answers an exact phrase from postings of
  the bigrams within runs and of single characters, checked against the folded text
  (indexer.charindex): every occurrence of any substring (100% exact-phrase recall), runs of a
  punctuated phrase separated by any punctuation (要素，保障 also finds 要素。保障).

`char_terms`/`query_char_terms` describe the streams; `indexer.whoosh_compat` gives the same
streams as Whoosh analyzers (positions and character offsets) for the tests and benchmarks that
compare with Whoosh. The index itself does not go through Whoosh, and nothing here imports it.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

ANALYZER_VERSION = "jieba-precise+bigram-1"

RUN = re.compile(r"[^\W_]+")  # a run of word characters: CJK, letters, digits
SENTENCE_END = re.compile(r"[。！？；!?;…]+[”’」』）)]*|\n+")


# --- folding --------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def _fold_table() -> dict[int, int]:
    table: dict[int, int] = {}
    try:
        import opencc

        path = Path(opencc.__file__).parent / "dictionary" / "TSCharacters.txt"
        for line in path.read_text(encoding="utf-8").splitlines():
            parts = line.split("\t")
            if len(parts) == 2:
                src, dst = parts[0], parts[1].split()[0]
                if len(src) == 1 and len(dst) == 1 and src != dst:
                    table[ord(src)] = ord(dst)
    except Exception:  # pragma: no cover - opencc is a dependency; folding degrades gracefully
        pass
    for cp in range(0xFF01, 0xFF5F):  # full-width ASCII
        table[cp] = cp - 0xFEE0
    table[0x3000] = 0x20
    for c in range(ord("A"), ord("Z") + 1):
        table[c] = c + 32
    for c in range(0xFF21, 0xFF3B):  # full-width capitals -> lower ascii
        table[c] = c - 0xFEE0 + 32
    return table


@lru_cache(maxsize=1)
def _fold_chars() -> frozenset[str]:
    return frozenset(map(chr, _fold_table()))


def fold(text: str) -> str:
    """Same-length normal form: simplified, half-width, lower case. Offsets stay valid.

    Most text is already simplified: a set probe (C speed) skips the per-character table. (It
    replaced a regex character class of the ~4,200 folded characters: 4.4x faster on 20,000
    paragraphs of 150 characters, 0.20 s against 0.88 s, and nothing to compile at start-up.)"""
    if _fold_chars().isdisjoint(text):
        return text
    return text.translate(_fold_table())


# --- token streams --------------------------------------------------------------------------

def char_terms(text: str) -> list[str]:
    """Bigram stream of a folded text; list index = position."""
    out: list[str] = []
    ext = out.extend
    app = out.append
    for run in RUN.findall(text):
        n = len(run)
        if n > 1:
            ext([run[i:i + 2] for i in range(n - 1)])
        app(run[-1])
    return out


def char_spans(text: str) -> list[tuple[str, int, int]]:
    """The bigram stream with character offsets (for the Whoosh tokenizer and tests)."""
    out = []
    for m in RUN.finditer(text):
        run, s = m.group(), m.start()
        for i in range(len(run) - 1):
            out.append((run[i:i + 2], s + i, s + i + 2))
        out.append((run[-1], s + len(run) - 1, s + len(run)))
    return out


def query_char_terms(phrase: str) -> list[str]:
    """The bigram sequence a phrase query must find consecutively (the last char of the final
    run is implied by the bigram before it, so it is dropped; a one-char phrase returns [c])."""
    terms = char_terms(fold(phrase))
    if len(terms) > 1 and len(terms[-1]) == 1:
        terms = terms[:-1]
    return terms


def word_spans(text: str, tokenizer) -> list[tuple[str, int, int]]:
    """jieba precise-mode tokens of a folded text with offsets; punctuation and spaces dropped."""
    out = []
    for w, s, e in tokenizer.tokenize(text, HMM=True):
        if RUN.search(w):
            out.append((w, s, e))
    return out


def word_terms(text: str, tokenizer) -> list[str]:
    return [w for w in tokenizer.lcut(text, HMM=True) if RUN.search(w)]


def cut_words(text: str, tokenizer) -> list[str]:
    """Query-side words of a term: the folded text cut like the index cuts paragraphs."""
    return word_terms(fold(text), tokenizer)


def fine_words(term: str, tokenizer) -> list[str]:
    """Words for a *scattered* match of a query term: jieba words, with long dictionary words
    split into their dictionary sub-words when these tile the word (要素保障 -> 要素 保障), so a
    paragraph saying 要素 ... 保障 apart still matches, ranked below the exact phrase."""
    out: list[str] = []
    for w in cut_words(term, tokenizer):
        out.extend(_split_word(w, tokenizer) if len(w) >= 4 else [w])
    return out


def _split_word(w: str, tokenizer) -> list[str]:
    freq = tokenizer.FREQ
    i, parts = 0, []
    while i < len(w):
        rest = len(w) - i
        for size in (3, 2):
            if size <= rest and rest - size != 1 and freq.get(w[i:i + size]):
                parts.append(w[i:i + size])
                i += size
                break
        else:
            return [w]
    return parts if len(parts) > 1 else [w]


# --- sentences ------------------------------------------------------------------------------

def sentence_bounds(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence: split after 。！？；!?; … (with closing quotes) and newlines."""
    bounds = []
    start = 0
    for m in SENTENCE_END.finditer(text):
        end = m.end()
        if end > start:
            bounds.append((start, end))
        start = end
    if start < len(text):
        bounds.append((start, len(text)))
    return bounds or [(0, len(text))]


_configured: dict = {}


def configure(settings) -> None:
    """Make `indexer.whoosh_compat.JiebaTokenizer` use this data directory's dictionary and cache."""
    _configured["settings"] = settings
