"""Ingest over ../shared/data/text (plus the bundled seeds): throughput, peak memory, and fragments.

    python bench/ingest.py [--no-reingest] [PATH ...]

Ingests into a fresh temporary data directory and prints documents/s, MB/s and peak memory; then the
fragment figures the cleaner is judged by: paragraphs shorter than 5 and than 10 characters (all
kinds, and body text only: headings and table rows excluded), table rows, and the line joins the
cleaner made (re-flow of hard-wrapped text, table rows), counted by rule over the same records.
Then re-ingests (everything unchanged) to show the cost of a no-op run.
"""

from __future__ import annotations

import argparse
import collections
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from corpus.errors import InputError  # noqa: E402
from corpus.ingest import clean_record, ingest_paths, sample_dir  # noqa: E402
from corpus.readers import iter_input_files, read_path  # noqa: E402
from corpus.settings import Settings  # noqa: E402
from corpus.store import Store  # noqa: E402


def fragment_counts(store: Store) -> dict[str, int]:
    c: collections.Counter[str] = collections.Counter()
    for row in store.iter_paragraph_rows():
        n = len(row["text"])
        kind = row["kind"]
        c["paragraphs"] += 1
        c[f"kind {kind}"] += 1
        for limit in (5, 10):
            if n < limit:
                c[f"under {limit}"] += 1
                if kind == "body":
                    c[f"body under {limit}"] += 1
    return c


def join_counts(paths: list[Path], max_bytes: int) -> collections.Counter[str]:
    joins: collections.Counter[str] = collections.Counter()
    for f in iter_input_files(paths):
        try:
            records = read_path(f, max_bytes=max_bytes)
        except InputError:
            continue
        for rec in records:
            if isinstance(rec, InputError):
                continue
            try:
                result = clean_record(rec)
            except InputError:
                continue
            for j in getattr(result, "joins", []):
                joins[j.rule] += 1
    return joins


def main(argv: list[str]) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("paths", nargs="*", type=Path)
    ap.add_argument("--no-reingest", action="store_true", help="skip the unchanged re-ingest")
    args = ap.parse_args(argv)
    paths = args.paths or [ROOT.parent / "shared" / "data" / "text", sample_dir()]
    missing = [p for p in paths if not p.exists()]
    if missing:
        sys.exit(f"missing: {', '.join(map(str, missing))}")
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp))
        t0 = time.perf_counter()
        s = ingest_paths(settings, paths)
        dt = time.perf_counter() - t0
        store = Store(settings.db_path)
        stats = store.stats()
        mb = s.bytes_read / 1048576
        print(f"files {s.files}  records {s.records}  failed {len(s.failed)}  duplicates {s.duplicates}")
        print(f"documents {stats['documents']}  paragraphs {stats['paragraphs']}  characters {stats['characters']:,}"
              f"  truncated {stats['truncated']}  repost clusters {stats['repost_clusters']}")
        print(f"ingest: {dt:.1f} s  {s.records / dt:.0f} records/s  {stats['documents'] / dt:.0f} documents/s  "
              f"{mb / dt:.2f} MB/s  ({mb:.1f} MB)")
        c = fragment_counts(store)
        print(f"paragraphs under 5 chars: {c['under 5']}  under 10: {c['under 10']}  "
              f"(body text only: under 5 {c['body under 5']}, under 10 {c['body under 10']})")
        print("paragraph kinds: " + "  ".join(f"{k[5:]} {v}" for k, v in sorted(c.items()) if k.startswith("kind ")))
        joins = join_counts(paths, settings.max_file_bytes)
        print(f"joins: {sum(joins.values())}" + "".join(f"  {rule} {n}" for rule, n in sorted(joins.items())))
        if not args.no_reingest:
            t0 = time.perf_counter()
            again = ingest_paths(settings, paths)
            print(f"re-ingest unchanged: {time.perf_counter() - t0:.1f} s  (unchanged {again.unchanged}, "
                  f"added {again.documents_added})")
        print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB  "
              f"store size: {settings.db_path.stat().st_size / 1048576:.1f} MB")
        for _path, reason in s.failed[:10]:
            print("failed:", reason)


if __name__ == "__main__":
    main(sys.argv[1:])
