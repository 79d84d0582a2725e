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


# The document filters every searching command takes: (key in SearchRequest.filters, option, help).
FILTER_OPTIONS: tuple[tuple[str, str, str], ...] = (
    ("year", "--year", "Year or range: 2023, 2020..2024."),
    ("site", "--site", "Site name contains."),
    ("type", "--type", "Document type contains (讲话, 发言, 调研报告 ...)."),
    ("unit", "--unit", "Speaker unit contains."),
    ("title", "--title", "Document title contains."),
    ("level", "--level", "Unit level: 省 市 县 区 乡镇 中央."),
)


def filter_options(keys: tuple[str, ...] | None = None):
    """Add the filter options (all, or those in `keys`) to a command; it receives them as one
    `filters` dict holding only the filters given ({"year": "2020..2024", "type": "讲话"})."""
    chosen = [o for o in FILTER_OPTIONS if keys is None or o[0] in keys]
    params = {key: f"filter_{key}" for key, _opt, _help in chosen}

    def decorate(f):
        @functools.wraps(f)
        def wrapper(*args, **kwargs):
            filters = {key: v for key, name in params.items() if (v := kwargs.pop(name, None)) not in (None, "")}
            return f(*args, filters=filters, **kwargs)

        for key, opt, help_ in reversed(chosen):
            wrapper = click.option(opt, params[key], default=None, help=help_)(wrapper)
        return wrapper

    return decorate


def show_progress(wanted: bool = True) -> bool | str:
    """A progress bar on a terminal; elsewhere (a log, CI, a pipe) "lines": a plain progress line
    every few seconds (corpus.progress.LineProgress); False when not `wanted` (--quiet, --json)."""
    if not wanted:
        return False
    return True if sys.stderr.isatty() else "lines"


def echo_json(obj) -> None:
    click.echo(json.dumps(obj, ensure_ascii=False, indent=2, default=str))


def pad(text: str, width: int) -> str:
    """Left-align to `width` terminal columns (str.ljust counts CJK as one column)."""
    from indexer.kwic import display_width

    return text + " " * max(0, width - display_width(text))
