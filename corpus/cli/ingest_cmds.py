"""Commands: ingest, clean, reclean, stats."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..errors import InputError
from .common import echo_json, get_settings, handle_errors, pad, show_progress


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path, readable=False))
@click.option("--quiet", "-q", is_flag=True, help="Print only the summary line.")
@handle_errors
def ingest(paths: tuple[Path, ...], quiet: bool) -> None:
    """Ingest files and folders (recursively): .txt .md .html .htm .shtml .docx .jsonl.

    Encodings are detected (UTF-8 with or without BOM, GB18030/GBK/GB2312). Unchanged files add
    nothing; the same text under another name is recorded as the same document. Exit status 1 if
    any file failed (each failure is reported on one line naming the file).
    """
    from ..ingest import ingest_paths

    settings = get_settings()
    summary = ingest_paths(settings, list(paths), progress=show_progress(not quiet))
    for line in summary.lines():
        click.echo(line, err=line.startswith("failed"))
    if not quiet:
        click.echo(f"{summary.files} files, {summary.bytes_read / 1048576:.1f} MB in {summary.seconds:.1f} s; "
                   f"store: {settings.db_path}")
    if not summary.ok:
        sys.exit(1)


@click.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array, one object per document.")
@click.option("--explain", is_flag=True, help="List every removed line with the rule that removed it, and every joined line break.")
@handle_errors
def clean(file: Path, as_json: bool, explain: bool) -> None:
    """Print the cleaned document(s) of FILE without storing anything."""
    from ..ingest import clean_record
    from ..readers import read_path

    settings = get_settings()
    records = read_path(file, max_bytes=settings.max_file_bytes)
    out = []
    for rec in records:
        if isinstance(rec, InputError):
            click.echo(f"skipped: {rec}", err=True)
            continue
        result = clean_record(rec)
        if as_json:
            for doc in result.documents:
                d = doc.to_json()
                if explain:
                    d["removed"] = [{"rule": r.rule, "text": r.text, "line": r.line_no} for r in result.removed]
                    d["joined"] = [{"rule": j.rule, "before": j.before, "after": j.after, "line": j.line_no}
                                   for j in result.joins]
                out.append(d)
            continue
        for doc in result.documents:
            click.secho(f"# {doc.title}", bold=True)
            facts = [f"{k}: {v}" for k, v in (("site", doc.site), ("date", doc.date), ("unit", doc.unit),
                                             ("type", doc.doc_type), ("url", doc.url)) if v]
            if doc.truncated:
                facts.append("truncated" + (f" (site claims {doc.claimed_length} characters)" if doc.claimed_length else ""))
            if facts:
                click.secho("  " + " | ".join(facts), dim=True)
            for p in doc.paragraphs:
                if p.omitted_before:
                    n = f"{p.omitted_before} characters" if p.omitted_before > 0 else "text"
                    click.secho(f"  [… {n} omitted by the site's paywall …]", fg="yellow")
                if p.kind == "heading":
                    click.secho(p.text, bold=True)
                else:
                    click.echo(p.text)
            click.echo()
        if explain:
            click.secho(f"removed ({len(result.removed)}):", bold=True)
            for r in result.removed:
                where = f"line {r.line_no}: " if r.line_no else ""
                click.echo(f"  [{r.rule}] {where}{r.text[:120]}")
            click.secho(f"joined ({len(result.joins)}):", bold=True)
            for j in result.joins:
                where = f"line {j.line_no}: " if j.line_no else ""
                click.echo(f"  [{j.rule}] {where}…{j.before} ⏎ {j.after}…")
    if as_json:
        echo_json(out)


@click.command()
@handle_errors
def reclean() -> None:
    """Re-clean every stored document from its raw text with the current cleaner."""
    from ..ingest import reclean as do_reclean

    summary = do_reclean(get_settings(), progress=show_progress())
    for line in summary.lines():
        click.echo(line)
    if summary.failed:
        sys.exit(1)


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@handle_errors
def stats(as_json: bool) -> None:
    """Documents, paragraphs, characters, by site, by year, by type; truncated count."""
    from ..store import open_store

    settings = get_settings()
    if not settings.db_path.exists():
        raise click.ClickException(f"no corpus in {settings.data_dir}: run `corpus ingest PATH` first")
    s = open_store(settings, readonly=True).stats()
    if as_json:
        echo_json(s)
        return
    click.echo(f"corpus in {settings.data_dir}")
    click.echo(f"  documents   {s['documents']:>9,}   (truncated by a paywall: {s['truncated']})")
    click.echo(f"  paragraphs  {s['paragraphs']:>9,}")
    click.echo(f"  characters  {s['characters']:>9,}")
    click.echo(f"  sources     {s['raw_sources']:>9,}   (repost clusters: {s['repost_clusters']})")
    for title, key in (("by site", "by_site"), ("by year", "by_year"), ("by type", "by_type")):
        rows = s[key]
        click.echo(f"  {title}:")
        for value, n in rows[:15]:
            click.echo(f"    {pad(str(value), 24)} {n:>7,}")
        if len(rows) > 15:
            click.echo(f"    … {len(rows) - 15} more")


commands = [ingest, clean, reclean, stats]
