"""Ingest throughput over ../shared/data/text (plus the bundled seeds): documents/s, MB/s, peak memory.

    python bench/ingest.py [PATH ...]

Ingests into a fresh temporary data directory, then re-ingests (everything unchanged) to show the
cost of a no-op run.
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from corpus.ingest import ingest_paths, sample_dir  # noqa: E402
from corpus.settings import Settings  # noqa: E402
from corpus.store import Store  # noqa: E402


def main(argv: list[str]) -> None:
    paths = [Path(a) for a in argv] or [ROOT.parent / "shared" / "data" / "text", sample_dir()]
    missing = [p for p in paths if not p.exists()]
    if missing:
        sys.exit(f"missing: {', '.join(map(str, missing))}")
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp))
        t0 = time.perf_counter()
        s = ingest_paths(settings, paths)
        dt = time.perf_counter() - t0
        stats = Store(settings.db_path).stats()
        mb = s.bytes_read / 1048576
        print(f"files {s.files}  records {s.records}  failed {len(s.failed)}  duplicates {s.duplicates}")
        print(f"documents {stats['documents']}  paragraphs {stats['paragraphs']}  characters {stats['characters']:,}"
              f"  truncated {stats['truncated']}  repost clusters {stats['repost_clusters']}")
        print(f"ingest: {dt:.1f} s  {s.records / dt:.0f} records/s  {stats['documents'] / dt:.0f} documents/s  "
              f"{mb / dt:.2f} MB/s  ({mb:.1f} MB)")
        t0 = time.perf_counter()
        again = ingest_paths(settings, paths)
        print(f"re-ingest unchanged: {time.perf_counter() - t0:.1f} s  (unchanged {again.unchanged}, added {again.documents_added})")
        print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB  "
              f"store size: {settings.db_path.stat().st_size / 1048576:.1f} MB")
        for _path, reason in s.failed[:10]:
            print("failed:", reason)


if __name__ == "__main__":
    main(sys.argv[1:])
