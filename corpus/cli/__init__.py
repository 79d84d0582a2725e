"""The `corpus` command. Each command parses options, calls the library and prints; no logic here."""

from __future__ import annotations

import logging

import click

from .. import __version__
from ..settings import Settings


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--data", "data_dir", type=click.Path(file_okay=False), default=None, envvar="CORPUS_DATA",
              help="Data directory (default ./corpus-data, or $CORPUS_DATA).")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.version_option(__version__, prog_name="corpus")
@click.pass_context
def main(ctx: click.Context, data_dir: str | None, verbose: int) -> None:
    """Searchable corpus of Chinese policy speeches (讲话稿, 发言汇编, 调研报告, 工作报告)."""
    logging.basicConfig(level=[logging.WARNING, logging.INFO, logging.DEBUG][min(verbose, 2)],
                        format="%(levelname)s %(name)s: %(message)s")
    ctx.obj = Settings.from_env(data_dir=data_dir)


def _register() -> None:
    from . import demo_cmds, export_cmds, ingest_cmds, scrape_cmds, search_cmds, semantic_cmds, tifa_cmds, web_cmds

    for module in (demo_cmds, ingest_cmds, search_cmds, semantic_cmds, web_cmds, export_cmds, scrape_cmds,
                   tifa_cmds):
        for command in getattr(module, "commands", []):
            main.add_command(command)


_register()
