"""Function words of natural-language questions as drafters type them ("企业融资难怎么破解",
"年轻干部不敢担当怎么办").

Such a query rarely occurs word for word in any paragraph, so its literal list is usually empty. The
related list's partial pass (indexer.search.related.partial_words) cuts it into jieba words and leaves out the
words no answer needs to contain: question words, 问题/办法/措施, particles, listed in
indexer/data/query_stopwords.txt (a maintained list). The semantic ranking still sees the question as
typed, and the count a drafter sees stays the literal one.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from . import analysis

STOPWORDS_FILE = Path(__file__).parent / "data" / "query_stopwords.txt"


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
