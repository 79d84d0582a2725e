"""`corpus demo`: the main job of a fresh install — the bundled sample, indexed and served."""

from __future__ import annotations

import click

from .common import get_settings, handle_errors, show_progress


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address the web UI listens on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535), help="Port of the web UI.")
@click.option("--no-serve", is_flag=True, help="Ingest and index only; print stats and a search instead of serving.")
@click.option("--no-semantic", is_flag=True, help="Skip the embedding index (keyword search only).")
@click.pass_context
@handle_errors
def demo(ctx: click.Context, host: str, port: int, no_serve: bool, no_semantic: bool) -> None:
    """Ingest the bundled sample (five real collected speeches), index it and start the web UI."""
    from indexer.update import update_indexes

    from ..ingest import ingest_paths, sample_dir

    settings = get_settings()
    click.echo(f"1/3 ingest the bundled sample into {settings.data_dir}")
    summary = ingest_paths(settings, [sample_dir()], progress=show_progress())
    for line in summary.lines():
        click.echo("    " + line)
    click.echo("2/3 index (keyword" + ("" if no_semantic else " + embeddings; the model is built once on first use") + ")")
    report = update_indexes(settings, progress=show_progress(), semantic=False if no_semantic else None)
    for note in getattr(report, "notes", []):
        click.echo("    note: " + note)
    from .ingest_cmds import stats
    from .search_cmds import search_cmd

    if no_serve:
        ctx.invoke(stats)
        click.echo("\n$ corpus search 要素保障")
        ctx.invoke(search_cmd, query=("要素保障",), per_page=5)
        return
    click.echo("3/3 serve — try a search for 要素保障 or 三区同建")
    from .web_cmds import serve

    ctx.invoke(serve, host=host, port=port)


commands = [demo]
