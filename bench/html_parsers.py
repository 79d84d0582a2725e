"""HTML parsing: lxml (what corpus.html and the site profiles use) against BeautifulSoup on the same pages.

    .venv/bin/python bench/html_parsers.py [--dir ../shared/data/html] [--reps 3]

For every saved page under --dir: parse it and collect the text of every element the way an
extractor walks the tree (lxml: `document_fromstring` + `iter()`; BeautifulSoup with its pure-Python
"html.parser" and with lxml underneath: `BeautifulSoup(...)` + `find_all()`). Prints pages/s and the
total time of the best of --reps rounds per parser, run interleaved so a busy machine affects them
alike. Needs the bench extra for BeautifulSoup (`pip install -e '.[bench]'`).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def walk_lxml(html: str) -> int:
    import lxml.html

    root = lxml.html.document_fromstring(html)
    return sum(len(el.text or "") + len(el.tail or "") for el in root.iter() if isinstance(el.tag, str))


def walk_soup(html: str, parser: str) -> int:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, parser)
    return sum(len(s) for el in soup.find_all(True) for s in el.find_all(string=True, recursive=False))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", type=Path, default=ROOT.parent / "shared" / "data" / "html")
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args()
    if not args.dir.exists():
        sys.exit(f"../shared data not available: {args.dir}")
    from corpus.encoding import decode_bytes

    pages = [decode_bytes(p.read_bytes())[0] for p in sorted(args.dir.rglob("*")) if p.suffix in (".html", ".htm", ".shtml")]
    mb = sum(len(p.encode("utf-8")) for p in pages) / 1e6
    parsers = {"lxml": walk_lxml, "bs4 html.parser": lambda h: walk_soup(h, "html.parser"),
               "bs4 lxml": lambda h: walk_soup(h, "lxml")}
    best = {name: float("inf") for name in parsers}
    for _ in range(args.reps):
        for name, fn in parsers.items():
            t = time.perf_counter()
            for h in pages:
                fn(h)
            best[name] = min(best[name], time.perf_counter() - t)
    print(f"{len(pages)} pages, {mb:.1f} MB of text, best of {args.reps}, load {os.getloadavg()[0]:.1f}")
    for name, sec in best.items():
        print(f"  {name:<16} {sec:6.2f} s  {len(pages) / sec:7.1f} pages/s  ({sec / best['lxml']:.1f}x lxml)")


if __name__ == "__main__":
    main()
