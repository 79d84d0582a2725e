"""One progress bar for every long job (ingest, index builds, embedding, export), with a silent mode.

`progress_bar(enabled, length, label)` is a context manager giving an object with `update(n)`;
when `enabled` is False (not a terminal, `--quiet`, library use) it is a bar that draws nothing, so
callers never test for "is there a bar". The bar is click's, drawn on stderr so that stdout stays
clean for `--json` and `-o -`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class SilentBar:
    """The bar of the silent mode: same interface, draws nothing."""

    def __enter__(self) -> SilentBar:
        return self

    def __exit__(self, *exc) -> bool:
        return False

    def update(self, n_steps: int = 1, current_item: Any = None) -> None:
        pass

    def close(self) -> None:  # for callers that hold a bar outside a with-block
        pass


def progress_bar(enabled: bool, length: int | None = None, label: str = "",
                 item_show_func: Callable[[Any], str | None] | None = None):
    """A bar of `length` steps (None or 0: unknown, shows a count only) labelled `label`, or a SilentBar."""
    if not enabled:
        return SilentBar()
    import click

    # click refuses length=None without an iterable: an unknown length is drawn as a count
    return click.progressbar(length=length or 0, label=label, file=click.get_text_stream("stderr"), show_pos=True,
                             show_percent=bool(length), item_show_func=item_show_func)
