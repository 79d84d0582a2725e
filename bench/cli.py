"""Command-line start-up benchmark: `corpus search` and `corpus kwic` timed as whole processes.

    .venv/bin/python bench/cli.py --data DIR [--runs 7] [--only NAME ...] [--tree OTHER_CHECKOUT ...]

DIR is an ingested and indexed data directory (e.g. `corpus --data /tmp/d ingest ../shared/data/text`
then `corpus --data /tmp/d index --no-semantic`). Each command runs once to warm the disk cache,
then --runs times; printed per command: the median and min-max of wall time and of CPU time
(user + sys of the finished child, from the kernel's accounting) and the peak RSS. On a shared
machine CPU time is the steadier figure: wall time includes waiting for a core. Asserts nothing.

The project's modules are byte-compiled first (`compileall`), as an installed package's are: with
PYTHONDONTWRITEBYTECODE set nothing else writes the .pyc files, and every run would compile the
project's sources again (~0.1 s CPU). `--no-compile` measures that case.
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


def run(cmd: list[str], env: dict | None = None, cwd: Path | None = None) -> tuple[float, float, float]:
    """(wall s, cpu s, peak rss MB) of one run of cmd, output discarded."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=cwd)
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
    ap.add_argument("--no-compile", action="store_true", help="do not byte-compile the project's modules first")
    ap.add_argument("--tree", action="append", type=Path, default=[],
                    help="also time another checkout of the project (its `python -m corpus`, same venv); "
                         "repeatable; runs alternate between the trees, so a before/after shares one sitting")
    args = ap.parse_args()
    trees: list[Path | None] = [None, *args.tree]  # None: this checkout
    if not args.no_compile:
        import compileall

        for tree in trees:
            for package in ("corpus", "indexer", "webui", "scrapers"):
                compileall.compile_dir(str((tree or ROOT) / package), quiet=1)
    corpus = str(Path(sys.executable).with_name("corpus"))
    if not Path(corpus).exists():
        corpus = None
    print(f"data {args.data}; {args.runs} runs after 1 warm-up; load average {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} cores; {'sources compiled each run' if args.no_compile else 'byte-compiled'}")
    print(f"{'command':14} {'tree':10} {'wall median':>11} {'(min-max)':>13} {'cpu median':>10} {'(min-max)':>13} "
          f"{'rss MB':>7}")
    for name, argv in COMMANDS.items():
        if args.only and name not in args.only:
            continue
        tail = (["--data", str(args.data)] if argv[0] != "--help" else []) + argv
        cmds = {}
        for tree in trees:
            if tree is None:
                cmds[tree] = ([corpus] if corpus else [sys.executable, "-m", "corpus"]) + tail, None, None
            else:  # (run in the tree: `-m` puts the working directory first on the path)
                cmds[tree] = [sys.executable, "-m", "corpus", *tail], {**os.environ, "PYTHONPATH": str(tree)}, tree
        stats: dict = {t: ([], [], []) for t in trees}
        for cmd, env, cwd in cmds.values():
            run(cmd, env, cwd)
        for _ in range(args.runs):
            for tree, (cmd, env, cwd) in cmds.items():
                for acc, x in zip(stats[tree], run(cmd, env, cwd), strict=True):
                    acc.append(x)
        for tree, (walls, cpus, rss) in stats.items():
            label = "this" if tree is None else tree.name[:10]
            print(f"{name:14} {label:10} {statistics.median(walls):10.2f}s {min(walls):6.2f}-{max(walls):5.2f}s "
                  f"{statistics.median(cpus):9.2f}s {min(cpus):6.2f}-{max(cpus):5.2f}s {max(rss):7.0f}", flush=True)
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
