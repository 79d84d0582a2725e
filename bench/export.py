"""Export throughput and memory: every paragraph of ../shared/data/text matching a broad query,
in each format, plus the whole-corpus dump. Prints rows/s and peak memory per export.

    .venv/bin/python bench/export.py [--data DIR] [--keep DIR] [--query 的] [--formats csv,jsonl,xlsx,parquet]

Without --data: ingests ../shared/data/text and the bundled seeds into a temporary data directory
and builds the keyword index (about a minute or more); --keep DIR keeps that data directory for
the next run (pass it as --data). Each export runs in its own child process, so its peak RSS is its
own: bounded memory shows as a peak that does not grow with the number of rows.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CHILD = r"""
import json, resource, sys, time
from pathlib import Path
from corpus.settings import Settings
from corpus.export import export_corpus
from indexer import export as ex
from indexer.api import SearchRequest
data, fmt, out, query, limit = sys.argv[1:6]
def hwm():  # peak RSS of this process image (ru_maxrss would carry the parent's peak across exec)
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
settings = Settings(data_dir=Path(data), semantic=False)
base = hwm()
t0 = time.perf_counter()
if query == "--all":
    s = export_corpus(settings, Path(out), fmt, describe_indexes=ex.describe_indexes)
else:
    s = ex.export_results(settings, SearchRequest(query, mode="keyword"), Path(out), fmt)
print(json.dumps({"rows": s.rows, "documents": s.documents, "seconds": time.perf_counter() - t0,
                  "peak_mb": hwm(), "import_mb": base,
                  "bytes": s.bytes, "cut": len(s.cut), "neutralised": s.neutralised}))
"""


def prepare(data: Path) -> None:
    from corpus.ingest import ingest_paths, sample_dir
    from corpus.settings import Settings
    from indexer.keyword import build_index

    text = ROOT.parent / "shared" / "data" / "text"
    if not text.exists():
        sys.exit(f"../shared data not available: {text}")
    settings = Settings(data_dir=data, semantic=False)
    t0 = time.perf_counter()
    s = ingest_paths(settings, [text, sample_dir()])
    print(f"ingest: {s.documents_added} documents, {s.paragraphs_added} paragraphs in {time.perf_counter() - t0:.0f} s")
    t0 = time.perf_counter()
    build_index(settings)
    print(f"keyword index built in {time.perf_counter() - t0:.0f} s")


def run_child(data: Path, fmt: str, out: Path, query: str) -> dict:
    r = subprocess.run([sys.executable, "-c", CHILD, str(data), fmt, str(out), query, "0"], cwd=ROOT,
                       capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"export {fmt} failed:\n{r.stderr[-3000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, help="existing data directory with a keyword index")
    ap.add_argument("--keep", type=Path, help="build the data directory here and keep it")
    ap.add_argument("--query", default="的", help="broad query (default 的: most paragraphs)")
    ap.add_argument("--narrow", default="要素保障", help="narrow query: its peak memory is the baseline")
    ap.add_argument("--formats", default="csv,jsonl,xlsx,parquet")
    args = ap.parse_args()

    tmp = tempfile.TemporaryDirectory(prefix="bench-export-")
    data = args.data or args.keep or Path(tmp.name) / "data"
    if args.data is None:
        prepare(data)
    out_dir = Path(tmp.name)
    print(f"query {args.query!r} over {data}  (each export in a fresh process; peak = max RSS of that process)")
    print(f"{'export':<16}{'rows':>9}{'seconds':>9}{'rows/s':>9}{'peak MB':>9}{'file MB':>9}")
    results = [("narrow csv", run_child(data, "csv", out_dir / "narrow.csv", args.narrow))]
    for fmt in args.formats.split(","):
        r = run_child(data, fmt, out_dir / f"result.{fmt}", args.query)
        results.append((f"results {fmt}", r))
    for fmt in ("jsonl", "parquet"):
        r = run_child(data, fmt, out_dir / f"corpus.{fmt}", "--all")
        results.append((f"--all {fmt}", r))
    for name, r in results:  # narrow first: a broad export's peak close to it = memory does not grow with rows
        print(f"{name:<16}{r['rows']:>9,}{r['seconds']:>9.1f}{r['rows'] / max(r['seconds'], 1e-9):>9,.0f}"
              f"{r['peak_mb']:>9.0f}{r['bytes'] / 1048576:>9.1f}"
              + (f"   ({r['cut']} xlsx cells cut)" if r.get("cut") else ""))
    print(f"(a child process after imports: ~{results[0][1]['import_mb']:.0f} MB)")
    tmp.cleanup()


if __name__ == "__main__":
    main()
