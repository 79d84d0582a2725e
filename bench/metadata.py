"""Metadata coverage: the share of documents whose unit, level, speaker, meeting and date the cleaner found.

    python bench/metadata.py [PATH ...]      (default: ../shared/data/text, ../shared/data/html, the seeds)

Cleans every record (nothing is stored) and prints, per source folder and overall, how many documents
carry each field. Speaker, unit and meeting come from the title and the first lines (rules in
corpus/cleaning/rules.py, "People and units"); the source's own metadata (a JSONL field, a page's
<meta>) counts too, as it does on ingest.
"""

from __future__ import annotations

import collections
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from corpus.errors import InputError  # noqa: E402
from corpus.ingest import clean_record, sample_dir  # noqa: E402
from corpus.readers import iter_input_files, read_path  # noqa: E402

FIELDS = ("unit", "level", "speaker", "meeting", "date")


def main(argv: list[str]) -> None:
    shared = ROOT.parent / "shared"
    paths = [Path(a) for a in argv] or [shared / "data" / "text", shared / "data" / "html", sample_dir()]
    counts: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for f in iter_input_files(paths):
        try:
            records = read_path(f, max_bytes=50 * 1048576)
        except InputError:
            continue
        group = f.parent.name if f.parent.parent.name not in ("gne-news",) else "gne-news"
        for rec in records:
            if isinstance(rec, InputError):
                continue
            try:
                docs = clean_record(rec).documents
            except InputError:
                continue
            for doc in docs:
                if not doc.paragraphs:
                    continue
                c = counts[group]
                c["documents"] += 1
                for k in FIELDS:
                    c[k] += bool(getattr(doc, k, None))
    total: collections.Counter = collections.Counter()
    print(f"{'source':<28}{'docs':>6}" + "".join(f"{k:>10}" for k in FIELDS))
    for group in sorted(counts):
        c = counts[group]
        total.update(c)
        print(f"{group:<28}{c['documents']:>6}" + "".join(f"{c[k] / c['documents']:>10.1%}" for k in FIELDS))
    n = max(1, total["documents"])
    print(f"{'all':<28}{total['documents']:>6}" + "".join(f"{total[k] / n:>10.1%}" for k in FIELDS))
    print("counts: " + "  ".join(f"{k} {total[k]}" for k in FIELDS))


if __name__ == "__main__":
    main(sys.argv[1:])
