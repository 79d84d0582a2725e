"""The `corpus` command. Each command parses options, calls the library and prints; no logic here."""

from __future__ import annotations

import logging

import click

from .. import __version__
from ..settings import Settings

# Which module defines each command: a command line imports only the module of the command it runs
# (importing all of them cost ~0.25 s of CPU per call). A command missing here is still found (every
# module is imported then); tests/test_cli_startup.py checks this table against the modules.
COMMAND_MODULES = {
    "demo": "demo_cmds", "ingest": "ingest_cmds", "clean": "ingest_cmds", "reclean": "ingest_cmds",
    "stats": "ingest_cmds", "index": "search_cmds", "search": "search_cmds", "kwic": "search_cmds",
    "model": "semantic_cmds", "similar": "semantic_cmds", "serve": "web_cmds", "export": "export_cmds",
    "scrape": "scrape_cmds", "trend": "tifa_cmds", "pattern": "tifa_cmds", "collocations": "tifa_cmds",
    "compare": "tifa_cmds",
}
MODULES = ("demo_cmds", "ingest_cmds", "search_cmds", "semantic_cmds", "web_cmds", "export_cmds", "scrape_cmds",
           "tifa_cmds")


class LazyGroup(click.Group):
    """Commands loaded from their module when asked for; listing them (help) loads every module."""

    def _load(self, modules) -> None:
        import importlib

        for name in modules:
            module = importlib.import_module(f"{__name__}.{name}")
            for command in getattr(module, "commands", []):
                if command.name not in self.commands:
                    self.add_command(command)

    def get_command(self, ctx, cmd_name):
        if cmd_name not in self.commands and cmd_name in COMMAND_MODULES:
            self._load([COMMAND_MODULES[cmd_name]])
        if cmd_name not in self.commands:
            self._load(MODULES)
        return self.commands.get(cmd_name)

    def list_commands(self, ctx):
        self._load(MODULES)
        return sorted(self.commands)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
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

