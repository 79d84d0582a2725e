"""Command: export (a result set, or the whole corpus with --all)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..errors import InputError
from .common import filter_options, get_settings, handle_errors, show_progress

SCOPE_ALIASES = {"paragraph": "paragraph", "sentence": "sentence", "同段": "paragraph", "同句": "sentence"}


@click.command()
@click.argument("query", nargs=-1)
@click.option("-o", "--output", "output", default=None, metavar="FILE",
              help="File to write (format from the extension: .csv .jsonl .xlsx .parquet); '-' = stdout (csv/jsonl).")
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl", "xlsx", "parquet"]), default=None,
              help="Output format (default: from the file extension).")
@click.option("--all", "whole", is_flag=True,
              help="Export the whole corpus (documents and paragraphs) as JSONL or Parquet instead of a result set.")
@click.option("--mode", type=click.Choice(["keyword", "semantic", "hybrid"]), default=None,
              help="Search mode, as in `corpus search` (default: hybrid if an embedding index exists, else keyword).")
@click.option("--scope", default="paragraph", show_default=True,
              type=click.Choice(list(SCOPE_ALIASES)), help="All terms in one paragraph (同段) or one sentence (同句).")
@filter_options()
@click.option("--sort", type=click.Choice(["relevance", "date"]), default="relevance", show_default=True,
              help="Row order.")
@click.option("--no-fold", is_flag=True, help="One row per repost too (default: reposts fold into one row with copy_count).")
@click.option("--fields", default=None, metavar="A,B,...",
              help="Columns to write, in this order (default: the standard set; 'all' for every column). "
                   "See `corpus export --list-fields`.")
@click.option("--list-fields", is_flag=True, help="List the columns and exit.")
@click.option("--no-bom", is_flag=True,
              help="CSV without the UTF-8 byte-order mark (the BOM is there by default so Excel shows Chinese intact).")
@click.option("--no-meta", is_flag=True, help="Do not write the FILE.meta.json provenance sidecar.")
@click.option("--english-headers", is_flag=True,
              help="CSV/XLSX header row with the stable English column names (default: Chinese labels; "
                   "JSONL and Parquet always use the English names).")
@click.option("--mkdir", "make_dirs", is_flag=True, help="Create FILE's directory if it does not exist (default: an error).")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar, summary only.")
@click.option("--include-related", is_flag=True,
              help="Also write the related list (partial and meaning neighbours, column 'relation') after the hits.")
@handle_errors
def export(query: tuple[str, ...], output: str | None, fmt: str | None, whole: bool, mode: str | None, scope: str,
           filters: dict[str, str], sort: str, no_fold: bool, fields: str | None, list_fields: bool, no_bom: bool,
           no_meta: bool, english_headers: bool, make_dirs: bool, quiet: bool,
           include_related: bool) -> None:
    """Export every paragraph matching QUERY (all pages, not one) to FILE, or the whole corpus (--all).

    Same query language, filters, scope and mode as `corpus search`. Every export records how it
    was made (query, filters, mode, model, index build time, corpus counts, version, time) in
    FILE.meta.json, on the "about" sheet of an XLSX, and in a Parquet file's metadata.

    CSV and XLSX have Chinese column headers (标题, 单位, 段落全文, 出处 ...; --english-headers for the
    names JSONL and Parquet use). An XLSX opens on its results: frozen header row, column widths,
    wrapped text; the provenance sheet ("about") comes after. Files get the permissions of any file
    you create (your umask); a missing directory is an error unless --mkdir.

    Excel safety: CSV is UTF-8 with a BOM; in CSV and XLSX a text cell starting with = + - @ TAB CR
    or ' gets one leading apostrophe (remove it to get the exact text); XLSX cells are cut at
    32,767 characters with a marker, listed on the about sheet. JSONL and Parquet keep text exact.

    `corpus export --all -o corpus.jsonl` writes one record per document that `corpus ingest`
    reads back as it is (same documents, same paragraphs).
    """
    from indexer import export as ex

    query_text = " ".join(query).strip()

    if list_fields:
        for name, col in ex.COLUMNS.items():
            mark = "*" if name in ex.DEFAULT_FIELDS else " "
            click.echo(f"{mark} {name:<14} {col.label:<6}\t{col.type:<5} {col.help}")
        click.echo("(* = in the default set)")
        return
    if not output:
        raise InputError("give the file to write with -o FILE (.csv .jsonl .xlsx .parquet), or -o - for stdout")
    settings = get_settings()
    to_stdout = output == "-"
    out = sys.stdout.buffer if to_stdout else Path(output)
    if to_stdout and fmt not in ("csv", "jsonl"):
        raise InputError("writing to stdout needs --format csv or --format jsonl")
    progress = show_progress(not quiet)
    if whole:
        if query_text:
            raise InputError("--all exports the whole corpus: give either QUERY or --all, not both")
        from ..export import export_corpus

        summary = export_corpus(settings, out, fmt, progress=progress, write_meta=not no_meta, make_dirs=make_dirs,
                                describe_indexes=ex.describe_indexes)
    else:
        if not query_text:
            raise InputError("give a QUERY to export its results (see `corpus search --help` for the query language), "
                             "or --all for the whole corpus")
        from indexer.api import SearchRequest
        from indexer.search import default_mode

        request = SearchRequest(query=query_text, mode=mode or default_mode(settings), scope=SCOPE_ALIASES[scope], filters=filters,
                                fold=not no_fold, sort=sort)
        summary = ex.export_results(settings, request, out, fmt, fields=ex.parse_fields(fields), progress=progress,
                                    bom=not no_bom, write_meta=not no_meta, make_dirs=make_dirs,
                                    headers="en" if english_headers else "zh",
                                    include_related=include_related)
    for line in summary.lines():
        click.echo(line, err=to_stdout)


commands = [export]
