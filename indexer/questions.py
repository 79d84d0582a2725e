"""Natural-language questions as drafters type them ("企业融资难怎么破解", "年轻干部不敢担当怎么办").

Such a query rarely occurs word for word in any paragraph, so a literal search of the whole string finds
nothing. `rewrite()` cuts the unquoted text into jieba words and drops the words no answer needs to
contain (question words, 问题/办法/措施, particles: indexer/data/query_stopwords.txt, a maintained
list). What remains is searched literally (every word present), then, if that finds nothing, in a
relaxed pass that ranks paragraphs by how many of the words they hold; the semantic ranking always sees
the question as typed. The page says what was done, so the count a drafter sees stays honest: it is the
count of paragraphs holding every remaining word, not of the question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from . import analysis

STOPWORDS_FILE = Path(__file__).parent / "data" / "query_stopwords.txt"
# A query is read as a question when it holds one of these (as typed) ...
QUESTION_MARKERS = re.compile(r"怎么|怎样|如何|为什么|为何|什么|哪些|哪个|是否|能否|有没有|能不能|咋|[吗呢][？?]?$|[？?]")
# ... or when the whole unquoted string is this long and occurs nowhere literally.
LONG_TERM = 6


@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    words = set()
    for line in STOPWORDS_FILE.read_text(encoding="utf-8").splitlines():
        w = line.strip()
        if w and not w.startswith("#"):
            words.add(analysis.fold(w))
    if not words:
        raise RuntimeError(f"{STOPWORDS_FILE}: no stop words (the file is the maintained list)")
    return frozenset(words)


def is_question(text: str) -> bool:
    return bool(QUESTION_MARKERS.search(text))


@dataclass
class Rewrite:
    """What the literal pass searches instead of the typed text."""

    words: list[str]  # content words, each required in the literal pass (2+ characters)
    dropped: list[str] = field(default_factory=list)  # function words left out
    weak: list[str] = field(default_factory=list)  # single-character content words: ranking only

    @property
    def query_text(self) -> str:
        return " ".join(self.words)


def rewrite(text: str, tokenizer) -> Rewrite | None:
    """Content words of a question, or None when nothing is left worth searching for."""
    stop = stopwords()
    words, dropped, weak = [], [], []
    for w in analysis.cut_words(text, tokenizer):
        if w in stop:
            dropped.append(w)
        elif len(w) == 1:
            weak.append(w)
        elif w not in words:
            words.append(w)
    if not words:
        return None
    return Rewrite(words=words, dropped=list(dict.fromkeys(dropped)), weak=list(dict.fromkeys(weak)))
