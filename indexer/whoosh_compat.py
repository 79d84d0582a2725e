"""The analyzer's token streams as Whoosh fields and tokenizers, for what compares with Whoosh.

The keyword index does not use Whoosh (see indexer.keyword); the tests check its BM25 against
Whoosh's scoring of the same words, and bench/search.py measures against a Whoosh + jieba index.
They need Whoosh, which is in the `test` extra (`pip install -e '.[test]'`), not a run-time
dependency: nothing the CLI or the web UI runs imports this module.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from whoosh.analysis import Token, Tokenizer
from whoosh.fields import TEXT
from whoosh.formats import Frequency, Positions
from whoosh.system import pack_uint

from .analysis import _configured, char_spans, fold, word_spans

# --- Whoosh formats and fields fed with pre-tokenised lists ---------------------------------

class SeqPositions(Positions):
    """Positions format taking a list of terms (index = position) without Token objects."""

    def word_values(self, value, analyzer, **kwargs):
        if not isinstance(value, list):
            yield from super().word_values(value, analyzer, **kwargs)
            return
        fb = self.field_boost
        poses: dict[str, list[int]] = defaultdict(list)
        for i, t in enumerate(value):
            poses[t].append(i)
        enc = self.encode
        for w, poslist in poses.items():
            yield (w, len(poslist), len(poslist) * fb, enc(poslist))


class SeqFrequency(Frequency):
    """Frequency format taking a list of terms."""

    def word_values(self, value, analyzer, **kwargs):
        if not isinstance(value, list):
            return super().word_values(value, analyzer, **kwargs)
        fb = self.field_boost
        return ((w, n, n * fb, pack_uint(n)) for w, n in Counter(value).items())


class SeqText(TEXT):
    """A TEXT field whose value is a pre-tokenised list of terms (see `char_terms`, `word_terms`)."""

    def __init__(self, analyzer, phrase: bool = False, field_boost: float = 1.0, stored: bool = False):
        super().__init__(analyzer=analyzer, phrase=phrase, field_boost=field_boost, stored=stored)
        self.format = (SeqPositions if phrase else SeqFrequency)(field_boost=field_boost)


# --- ordinary Whoosh tokenizers over the same streams ----------------------------------------

class _SpanTokenizer(Tokenizer):
    def _spans(self, text: str):  # pragma: no cover - abstract
        raise NotImplementedError

    def __call__(self, value, positions=False, chars=False, keeporiginal=False, removestops=True,
                 start_pos=0, start_char=0, mode="", **kwargs):
        t = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        for pos, (w, s, e) in enumerate(self._spans(fold(value))):
            t.original = t.text = w
            t.boost = 1.0
            t.stopped = False
            if positions:
                t.pos = start_pos + pos
            if chars:
                t.startchar = start_char + s
                t.endchar = start_char + e
            yield t


class BigramTokenizer(_SpanTokenizer):
    """Character bigrams (+ each run's last char) with sequential positions and offsets."""

    def _spans(self, text):
        return char_spans(text)


class JiebaTokenizer(_SpanTokenizer):
    """jieba precise-mode words with sequential positions and offsets (policy dictionary added).

    Pickled into the index schema, so it holds no jieba state: the per-process tokenizer comes
    from `indexer.terms.get_tokenizer(settings)` of the settings last passed to `configure`.
    """

    def _spans(self, text):
        from .terms import get_tokenizer

        return word_spans(text, get_tokenizer(_configured.get("settings")))
