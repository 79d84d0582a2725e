"""Commands of the 提法 explorer: trend, pattern, collocations, compare. Parse options, call
indexer.trend / pattern / collocations / compare, print; no counting here."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .common import echo_json, get_settings, handle_errors, pad
from .common import filter_options as common_filter_options


def filter_options(f):
    """The search's filters (cli.common.filter_options, the same as `corpus search`) and --no-fold."""
    f = common_filter_options()(f)
    f = click.option("--no-fold", is_flag=True, help="Count every repost (default: a reposted paragraph counts once, "
                                                     "at its earliest dated copy).")(f)
    return f


def output_options(f):
    f = click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")(f)
    f = click.option("--csv", "as_csv", is_flag=True, help="Print the table as CSV (Excel-safe cells).")(f)
    f = click.option("-o", "--output", default=None, metavar="FILE",
                     help="Write the table to FILE (.csv .xlsx .jsonl .parquet, from the extension).")(f)
    return f


def _emit(settings, result, as_json: bool, as_csv: bool, output: str | None, about: dict, table=None) -> bool:
    """JSON, CSV on stdout, or the table into a file; True if the caller has nothing left to print."""
    from ..tabular import export_table

    cols, rows = table if table is not None else result.table()
    if output:
        summary = export_table(settings, cols, rows, output, about=about)
        for line in summary.lines():
            click.echo(line, err=True)
    if as_json:
        echo_json(result.to_json())
        return True
    if as_csv:
        export_table(settings, cols, rows, sys.stdout.buffer, "csv", about=about, bom=False, write_meta=False)
        sys.stdout.flush()
        return True
    return bool(output)


def _src(ref: dict | None) -> str:
    if not ref:
        return "—"
    where = " · ".join(x for x in (ref.get("unit"), ref.get("site")) if x)
    return f"{ref.get('date')} 《{ref.get('title')}》" + (f" {where}" if where else "") + f" [段落 {ref['paragraph_id']}]"


def _fmt(x: float) -> str:
    return f"{x:.1f}" if x else "0"


@click.command("trend")
@click.argument("phrases", nargs=-1, required=True)
@filter_options
@output_options
@click.option("--svg", "svg", default=None, metavar="FILE", help="Also draw the chart into FILE (SVG).")
@click.option("--all-years", is_flag=True, help="List every year of the span, also those without a hit.")
@handle_errors
def trend_cmd(phrases, filters, no_fold, as_json, as_csv, output, svg,
              all_years) -> None:
    """Timeline of formulations (提法走势): per year the hits per million characters and the
    documents using each PHRASE, first and last use, who uses it (unit level, site, type).

    Several phrases go on one chart: `corpus trend 高质量发展 新质生产力 --svg chart.svg`."""
    from indexer.trend import trend

    settings = get_settings()
    r = trend(settings, list(phrases), filters=filters, fold=not no_fold)
    if svg:
        from indexer.chart import trend_svg

        from ..atomic import atomic_output

        with atomic_output(Path(svg)) as f:
            f.write(trend_svg(r).encode("utf-8"))
        click.echo(f"chart: {svg}", err=True)
    if _emit(settings, r, as_json, as_csv, output, {"tool": "trend", "phrases": r.phrases, "filters": r.filters}):
        return
    for s in r.series:
        click.echo(f"{s.phrase}: {s.hits} hits in {s.documents} documents"
                   + (f" ({s.undated_hits} in undated documents, not in the years below)" if s.undated_hits else ""))
        click.echo(f"  first use: {_src(s.first)}")
        click.echo(f"  last use:  {_src(s.last)}")
        for key, label in (("level", "unit level"), ("site", "site"), ("type", "type")):
            vals = s.breakdown.get(key) or []
            if vals:
                click.echo(f"  {label}: " + "  ".join(f"{v} {h}" for v, h, _ in vals[:6]))
    if not r.years:
        click.echo("no dated documents in this selection")
        return
    click.echo("")
    head = pad("year", 6) + pad("chars", 11) + pad("docs", 7) + "".join(pad(p, 24) for p in r.phrases)
    click.echo(head)
    for i, y in enumerate(r.years):
        cells = [s.years[i] for s in r.series]
        if not all_years and not any(c.hits for c in cells):
            continue
        click.echo(pad(str(y), 6) + pad(str(r.corpus_chars[i]), 11) + pad(str(r.corpus_documents[i]), 7)
                   + "".join(pad(f"{c.hits} ({_fmt(c.per_million)}/M, {c.documents} docs)", 24) for c in cells))
    if r.undated_documents:
        click.echo(f"({r.undated_documents} documents without a date are not in the years)")


@click.command("pattern")
@click.argument("frame")
@click.option("--max-gap", "-g", default=8, show_default=True, help="Longest filler of a * gap (characters).")
@click.option("--sort", type=click.Choice(["count", "documents", "first", "filler"]), default="count",
              show_default=True)
@click.option("--limit", "-n", default=50, show_default=True, help="Fillers to show (0 = all).")
@filter_options
@output_options
@handle_errors
def pattern_cmd(frame, max_gap, sort, limit, filters, no_fold, as_json, as_csv,
                output) -> None:
    """What fills a frame (句式): `corpus pattern '以*为抓手'`, `'坚持*不动摇'`, `'一是*二是*三是'`.

    * is a gap of 1 to --max-gap word characters, ? exactly one. Lists the distinct fillers with
    counts, documents, first year and an example each; exactly what a regex scan finds."""
    from indexer.pattern import pattern_search

    settings = get_settings()
    r = pattern_search(settings, frame, max_gap=max_gap, filters=filters,
                       fold=not no_fold, sort=sort, limit=None if (output or as_csv or limit == 0) else limit)
    if _emit(settings, r, as_json, as_csv, output, {"tool": "pattern", "pattern": frame, "max_gap": max_gap,
                                                    "filters": r.filters}):
        return
    click.echo(f"{r.total} matches, {r.distinct} distinct fillers in {r.paragraphs} paragraphs "
               f"({r.candidates} paragraphs read)")
    for f in r.fillers[: limit or None]:
        ex = f.example or {}
        click.echo(pad(f.filler, 28) + pad(str(f.count), 6) + pad(f"{f.documents} docs", 9)
                   + pad(str(f.first_year or "—"), 6) + f"…{ex.get('left', '')[-10:]}【{ex.get('match', '')}】"
                   + f"{ex.get('right', '')[:10]}…")


@click.command("collocations")
@click.argument("phrase", nargs=-1, required=True)
@click.option("--window", "-w", default=5, show_default=True, help="Words on each side.")
@click.option("--min-count", default=2, show_default=True, help="Least co-occurrences to list a word.")
@click.option("--top", "-n", default=30, show_default=True, help="Words to list.")
@click.option("--sort", type=click.Choice(["logdice", "ll", "count"]), default="logdice", show_default=True)
@filter_options
@output_options
@handle_errors
def collocations_cmd(phrase, window, min_count, top, sort, filters, no_fold,
                     as_json, as_csv, output) -> None:
    """Collocations (搭配) of PHRASE: the jieba words within --window words left and right,
    ranked by logDice, with log-likelihood and raw counts (left/right apart)."""
    from indexer.collocations import collocations

    settings = get_settings()
    r = collocations(settings, " ".join(phrase), window=window, filters=filters,
                     fold_reposts=not no_fold, min_count=min_count, top=top, sort=sort)
    if _emit(settings, r, as_json, as_csv, output, {"tool": "collocations", "phrase": r.phrase, "window": window,
                                                    "filters": r.filters}):
        return
    click.echo(f"“{r.phrase}”: {r.occurrences} occurrences, window ±{r.window} words, corpus {r.corpus_words} words")
    click.echo(pad("word", 16) + pad("logDice", 9) + pad("LL", 10) + pad("count", 7) + pad("left", 6)
               + pad("right", 6) + "freq")
    for c in r.collocates:
        click.echo(pad(c.word, 16) + pad(f"{c.logdice:.2f}", 9) + pad(f"{c.ll:.1f}", 10) + pad(str(c.count), 7)
                   + pad(str(c.left), 6) + pad(str(c.right), 6) + str(c.frequency))


@click.command("compare")
@click.argument("a")
@click.argument("b", required=False, default=None)
@click.option("--min-count", default=5, show_default=True, help="Least occurrences in A.")
@click.option("--min-docs", default=2, show_default=True, help="Least documents in A (first appearances).")
@click.option("--top", "-n", default=40, show_default=True, help="Rows per list.")
@click.option("--list", "which", type=click.Choice(["over", "new"]), default="new", show_default=True,
              help="The table --csv / -o write: over-represented, or first appearances.")
@click.option("--no-fold", is_flag=True, help="Count every repost.")
@output_options
@handle_errors
def compare_cmd(a, b, min_count, min_docs, top, which, no_fold, as_json, as_csv, output) -> None:
    """What is new (新提法): sub-corpus A against B, both given as filters — `corpus compare
    year:2024 year:2023`, `corpus compare type:工作报告` (B left out: the rest of the corpus).

    Lists the words and 2-4-word phrases most over-represented in A (log-likelihood) and those that
    appear in A and in no document dated before A's first year."""
    from indexer.compare import compare

    settings = get_settings()
    r = compare(settings, a, b, min_count=min_count, min_docs=min_docs, top=top, fold_reposts=not no_fold)
    if _emit(settings, r, as_json, as_csv, output, {"tool": "compare", "a": r.a, "b": r.b, "list": which},
             table=r.table(which)):
        return
    click.echo(f"A = {r.a}: {r.documents_a} documents, {r.chars_a} characters;  "
               f"B = {r.b}: {r.documents_b} documents, {r.chars_b} characters")
    click.echo("")
    click.echo("over-represented in A (log-likelihood):")
    for it in r.over:
        click.echo("  " + pad(it.phrase, 24) + pad(f"{it.ll:.1f}", 9) + pad(f"A {it.count_a}", 9)
                   + pad(f"B {it.count_b}", 9) + f"{it.per_million_a:.1f}/M vs {it.per_million_b:.1f}/M")
    click.echo("")
    if r.first_year_a is None:
        click.echo("first appearances: A has no dated documents")
    elif not r.earlier_documents:
        click.echo(f"first appearances: no documents dated before {r.first_year_a} to compare with")
    else:
        click.echo(f"first appearances (none of the {r.earlier_documents} documents dated before {r.first_year_a} "
                   "uses them):")
        for it in r.new:
            click.echo("  " + pad(it.phrase, 24) + pad(f"A {it.count_a}", 9) + pad(f"{it.documents_a} docs", 10)
                       + f"first: {_src(it.first)}")


commands = [trend_cmd, pattern_cmd, collocations_cmd, compare_cmd]
