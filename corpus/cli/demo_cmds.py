"""`corpus demo`: the main job of a fresh install, on the bundled sample corpus."""

from __future__ import annotations

import click

from .common import get_settings, handle_errors, show_progress


@click.command()
@handle_errors
def demo() -> None:
    """Ingest the bundled sample (five real collected speeches) and show what is stored."""
    from ..ingest import ingest_paths, sample_dir

    settings = get_settings()
    summary = ingest_paths(settings, [sample_dir()], progress=show_progress())
    for line in summary.lines():
        click.echo(line)
    ctx = click.get_current_context()
    from .ingest_cmds import stats

    ctx.invoke(stats)


commands = [demo]
