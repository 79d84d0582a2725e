"""What every command shares: the settings on the click context, errors as one line, output formats."""

from __future__ import annotations

import functools
import json
import sys

import click

from ..errors import CorpusError
from ..settings import Settings


def get_settings(ctx: click.Context | None = None) -> Settings:
    ctx = ctx or click.get_current_context()
    return ctx.find_root().obj


def handle_errors(f):
    """Turn a domain error into `Error: <message>` and exit 1, never a traceback."""

    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        try:
            return f(*args, **kwargs)
        except CorpusError as e:
            raise click.ClickException(str(e)) from None

    return wrapper


def show_progress() -> bool:
    """Progress bars only on a terminal."""
    return sys.stderr.isatty()


def echo_json(obj) -> None:
    click.echo(json.dumps(obj, ensure_ascii=False, indent=2, default=str))


def pad(text: str, width: int) -> str:
    """Left-align to `width` terminal columns (str.ljust counts CJK as one column)."""
    from indexer.kwic import display_width

    return text + " " * max(0, width - display_width(text))
