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

Files: `files.py` (the generation on disk and its manifest), `tokenize.py` (the tokeniser pool),
`build.py` (build and incremental update), `view.py` (reading: IndexView, open_view).

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

from .build import IndexReport, build_index, index_status
from .files import FORMAT_VERSION, dir_bytes, read_manifest, wanted_versions
from .view import IndexView, open_view

__all__ = ["FORMAT_VERSION", "IndexReport", "IndexView", "build_index", "dir_bytes", "index_status", "open_view",
           "read_manifest", "wanted_versions"]
