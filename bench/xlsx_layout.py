"""What the Excel layout of an XLSX export costs: rows/s of the XLSX writer with the layout
(Chinese headers, column widths, long text wrapped in its cells) and without wrapping, on
synthetic rows of the default columns (no corpus needed). Prints rows/s and file size.

    .venv/bin/python bench/xlsx_layout.py [--rows 20000]
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from corpus import tabular  # noqa: E402
from indexer import export as ex  # noqa: E402


def run(rows: int, widths: list[int]) -> tuple[float, int]:
    names = ex.DEFAULT_FIELDS
    cols = [(n, ex.COLUMNS[n].type) for n in names]
    sample = {"int": 12345, "float": 1.5, "bool": True, "list": ["一、统一思想认识", "（一）要素保障"],
              "str": "要素保障要跟着项目走，确保资金、土地、人才等要素及时到位。" * 4}
    row = [sample[t] for _, t in cols]
    buf = io.BytesIO()
    summary = tabular.ExportSummary(format="xlsx")
    writer = tabular.make_writer("xlsx", buf, cols, summary, {}, headers=[ex.COLUMNS[n].label for n in names],
                                 widths=widths)
    t0 = time.perf_counter()
    for _ in range(rows):
        writer.write(list(row))
    writer.close({"query": "bench"})
    return time.perf_counter() - t0, len(buf.getvalue())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=20_000)
    args = ap.parse_args()
    layouts = {
        "layout (widths, wrapped text)": [ex.COLUMNS[n].width for n in ex.DEFAULT_FIELDS],
        "no wrapping (every column 12 wide)": [12] * len(ex.DEFAULT_FIELDS),
    }
    for label, widths in layouts.items():
        seconds, size = run(args.rows, widths)
        print(f"{label:<36} {args.rows:,} rows in {seconds:.2f} s = {args.rows / seconds:,.0f} rows/s, "
              f"{size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
