"""Command-line start-up benchmark: `corpus search` and `corpus kwic` timed as whole processes.

    .venv/bin/python bench/cli.py --data DIR [--runs 7] [--only NAME ...]

DIR is an ingested and indexed data directory (e.g. `corpus --data /tmp/d ingest ../shared/data/text`
then `corpus --data /tmp/d index --no-semantic`). Each command runs once to warm the disk cache,
then --runs times; printed per command: the median and min-max of wall time and of CPU time
(user + sys of the finished child, from the kernel's accounting) and the peak RSS. On a shared
machine CPU time is the steadier figure: wall time includes waiting for a core. Asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

COMMANDS = {
    "phrase": ["search", '"要素保障"', "--mode", "keyword"],
    "word": ["search", "要素保障", "--mode", "keyword"],
    "words": ["search", "营商环境 放管服", "--mode", "keyword"],
    "filtered": ["search", "乡村振兴", "--mode", "keyword", "--year", "2018..2024", "--type", "报告"],
    "default-mode": ["search", "高质量发展"],
    "kwic": ["kwic", "新质生产力"],
    "help": ["--help"],
}


def run(cmd: list[str]) -> tuple[float, float, float]:
    """(wall s, cpu s, peak rss MB) of one run of cmd, output discarded."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, ru = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed (exit {os.waitstatus_to_exitcode(status)}): {' '.join(cmd)}")
    return wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True, type=Path)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--only", nargs="*", choices=sorted(COMMANDS))
    args = ap.parse_args()
    corpus = str(Path(sys.executable).with_name("corpus"))
    if not Path(corpus).exists():
        corpus = None
    base = [corpus] if corpus else [sys.executable, "-m", "corpus"]
    print(f"data {args.data}; {args.runs} runs after 1 warm-up; load average {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} cores")
    print(f"{'command':14} {'wall median':>11} {'(min-max)':>13} {'cpu median':>10} {'(min-max)':>13} {'rss MB':>7}")
    for name, argv in COMMANDS.items():
        if args.only and name not in args.only:
            continue
        cmd = base + (["--data", str(args.data)] if argv[0] != "--help" else []) + argv
        run(cmd)
        walls, cpus, rss = [], [], []
        for _ in range(args.runs):
            w, c, r = run(cmd)
            walls.append(w)
            cpus.append(c)
            rss.append(r)
        print(f"{name:14} {statistics.median(walls):10.2f}s {min(walls):6.2f}-{max(walls):5.2f}s "
              f"{statistics.median(cpus):9.2f}s {min(cpus):6.2f}-{max(cpus):5.2f}s {max(rss):7.0f}", flush=True)
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
