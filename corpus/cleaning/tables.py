"""Tables flattened to one cell per line -> one line of kind "table" per row.

Why: copies of tables from pkulaw, PDFs and Word arrive as one cell per line ("序号" / "服务商名称" /
"1" / "脉脉（北京…）"...). Stored like that each cell is a paragraph of its own (`1`, `2`, `已发布`):
fragments that drown search results and embeddings and cut every row apart. A row keeps its cells
together, joined by rules.TABLE_SEPARATOR, as one paragraph of kind "table".

How a run of lines is recognised as a table: at least TABLE_MIN_CELLS consecutive short lines that are
not sentences (a long description column may sit between short cells when the rows are numbered).
Rows: cut where the 序号 column counts up (1, 2, 3...; the cells before the first number are the header
row); without a number column, where blank lines separate groups of cells; else into pieces of about
TABLE_ROW_MAX_CHARS. Lines with tab-separated cells (Word/HTML rows) are rows already.
"""

from __future__ import annotations

from . import rules as R
from .lines import Ctx, Line
from .outline import heading_level


def _plain(ln: Line) -> bool:
    return ln.kind == "text" and ln.md_level is None


def _cell(ln: Line) -> bool:
    t = ln.text
    if not _plain(ln) or len(t) > R.TABLE_CELL_MAX_LEN or R.TABLE_CELL_BAD_END.search(t):
        return False
    if len(t) > R.TABLE_LABEL_MAX_LEN and t.endswith(("：", ":")):
        return False  # "本清单所称“技术”包括下列各项：" introduces a list, it is not a cell
    lvl = heading_level(t)
    return lvl is None or lvl >= 3


def _row_starts(cells: list[Line]) -> list[int]:
    """Positions where the 序号 column counts up from 0 or 1 (at least two rows)."""
    starts: list[int] = []
    expect: int | None = None
    for k, ln in enumerate(cells):
        if not R.TABLE_ROW_NUMBER.match(ln.text):
            continue
        v = int(ln.text)
        if (expect is None and v in (0, 1)) or v == expect:
            starts.append(k)
            expect = v + 1
    return starts if len(starts) >= 2 else []


def _chunks(cells: list[Line]) -> list[list[Line]]:
    """Rows of an unnumbered table: blank lines between groups if they look like row breaks, else pieces."""
    blanks = sum(1 for ln in cells[1:] if ln.after_blank)
    if 0 < blanks <= 0.6 * (len(cells) - 1) and blanks >= 2:
        rows: list[list[Line]] = []
        for ln in cells:
            if not rows or ln.after_blank:
                rows.append([])
            rows[-1].append(ln)
        return rows
    rows = [[]]
    size = 0
    for ln in cells:
        if rows[-1] and size + len(ln.text) > R.TABLE_ROW_MAX_CHARS:
            rows.append([])
            size = 0
        rows[-1].append(ln)
        size += len(ln.text) + len(R.TABLE_SEPARATOR)
    return rows


def _row_line(cells: list[Line], ctx: Ctx) -> Line:
    text = R.TABLE_SEPARATOR.join(c.text for c in cells)
    if len(cells) > 1:
        ctx.join(cells[0].text, f"… {len(cells)} cells", "table.row", cells[0].no)
    return Line(text, cells[0].no, kind="table", after_blank=True)


def _rows(run: list[Line], ctx: Ctx, allow_bridges: bool) -> list[Line] | None:
    """The run as table rows, or None when it is not a table after all."""
    cells = [ln for ln in run if _cell(ln)]
    if len(cells) < R.TABLE_MIN_CELLS or sum(1 for c in cells if len(c.text) <= R.TABLE_SHORT_CELL_LEN) \
            < R.TABLE_MIN_SHORT_CELLS:
        return None
    starts = _row_starts(run)
    if not starts:
        if allow_bridges and len(cells) < len(run):
            return None  # long lines between the cells: only a numbered table may hold them
        return [_row_line(r, ctx) for r in _chunks(run)]
    out: list[Line] = []
    if starts[0] > 0:
        out.append(_row_line(run[: starts[0]], ctx))
    for a, b in zip(starts, [*starts[1:], len(run)], strict=True):
        if b - a == 1:  # only the row number: an empty row of a form
            ctx.drop(run[a].text, "table.empty_row", run[a].no)
            continue
        out.append(_row_line(run[a:b], ctx))
    return out


def tables(lines: list[Line], ctx: Ctx) -> list[Line]:
    kept = []
    for ln in lines:
        if _plain(ln) and len(ln.text) <= 6 and R.TABLE_CONTINUED.match(ln.text):
            ctx.drop(ln.text, "layout.table_continued", ln.no)
        else:
            kept.append(ln)
    lines = kept
    out: list[Line] = []
    i, n = 0, len(lines)
    while i < n:
        ln = lines[i]
        if _plain(ln) and R.TABLE_TAB in ln.text:
            cells = [c.strip() for c in ln.text.split(R.TABLE_TAB) if c.strip()]
            if len(cells) >= 2:
                out.append(Line(R.TABLE_SEPARATOR.join(cells), ln.no, kind="table", after_blank=True))
                i += 1
                continue
            ln.text = "".join(cells)
        if not _cell(ln):
            out.append(ln)
            i += 1
            continue
        # the longest run from here: cells, with up to TABLE_MAX_BRIDGE long lines between them
        j, cells, bridge = i, 0, 0
        while j < n and _plain(lines[j]) and R.TABLE_TAB not in lines[j].text:
            if _cell(lines[j]):
                cells, bridge = cells + 1, 0
            elif cells >= 3 and bridge < R.TABLE_MAX_BRIDGE and any(
                    _cell(x) for x in lines[j + 1: j + 1 + R.TABLE_MAX_BRIDGE - bridge]):
                bridge += 1
            else:
                break
            j += 1
        while j > i and not _cell(lines[j - 1]):
            j -= 1
        run = lines[i:j]
        rows = _rows(run, ctx, allow_bridges=True)
        if rows is None and any(not _cell(x) for x in run):
            # not a numbered table: its stretches of short cells may still be tables of their own
            rows = []
            k = 0
            while k < len(run):
                if not _cell(run[k]):
                    rows.append(run[k])
                    k += 1
                    continue
                m = k
                while m < len(run) and _cell(run[m]):
                    m += 1
                part = _rows(run[k:m], ctx, allow_bridges=False)
                rows.extend(part if part is not None else run[k:m])
                k = m
        out.extend(rows if rows is not None else run)
        i = max(j, i + 1)
    return out
