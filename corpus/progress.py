"""One progress bar for every long job (ingest, index builds, embedding, export), with a silent mode.

`progress_bar(enabled, length, label)` is a context manager giving an object with `update(n)`;
when `enabled` is False (not a terminal, `--quiet`, library use) it is a bar that draws nothing, so
callers never test for "is there a bar". The bar is click's, drawn on stderr so that stdout stays
clean for `--json` and `-o -`. `enabled="lines"` (what the CLI passes when stderr is not a terminal:
a log file, CI, a pipe) prints a plain line every LINE_SECONDS instead, with the count, the rate and
the time left, so an hour-long embedding build shows it is alive and when it will end.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

LINE_SECONDS = 10.0


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


def _duration(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    if seconds < 90:
        return f"{seconds} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


class LineProgress(SilentBar):
    """Progress as plain lines on stderr, at most one every `every` seconds (none for a job shorter
    than that), e.g. `embedding: 12,000/122,640 windows (10%), 41.2/s, about 45 min left`; a last
    line with the total time when any line was printed."""

    def __init__(self, length: int | None, label: str, unit: str = "", every: float | None = None, stream=None):
        self.length, self.label, self.unit = length or 0, label, unit
        self.every = LINE_SECONDS if every is None else every
        self.stream = stream
        self.done = 0
        self.start = self.last = time.monotonic()
        self.printed = False

    def _say(self, text: str) -> None:
        print(text, file=self.stream or sys.stderr, flush=True)

    def update(self, n_steps: int = 1, current_item: Any = None) -> None:
        self.done += n_steps
        now = time.monotonic()
        if now - self.last < self.every:
            return
        self.last = now
        rate = self.done / max(now - self.start, 1e-9)
        unit = f" {self.unit}" if self.unit else ""
        if self.length:
            left = (self.length - self.done) / rate if rate > 0 else 0.0
            self._say(f"{self.label}: {self.done:,}/{self.length:,}{unit} ({100 * self.done / self.length:.0f}%), "
                      f"{rate:,.1f}/s, about {_duration(left)} left")
        else:
            self._say(f"{self.label}: {self.done:,}{unit}, {rate:,.1f}/s")
        self.printed = True

    def close(self) -> None:
        if self.printed:
            unit = f" {self.unit}" if self.unit else ""
            self._say(f"{self.label}: {self.done:,}{unit} in {_duration(time.monotonic() - self.start)}")
            self.printed = False

    def __exit__(self, *exc) -> bool:
        self.close()
        return False


def progress_bar(enabled: bool | str, length: int | None = None, label: str = "",
                 item_show_func: Callable[[Any], str | None] | None = None, unit: str = ""):
    """A bar of `length` steps (None or 0: unknown, shows a count only) labelled `label`, lines
    (`enabled="lines"`, see LineProgress) or a SilentBar."""
    if not enabled:
        return SilentBar()
    if enabled == "lines":
        return LineProgress(length, label, unit)
    import click

    # click refuses length=None without an iterable: an unknown length is drawn as a count
    return click.progressbar(length=length or 0, label=label, file=click.get_text_stream("stderr"), show_pos=True,
                             show_percent=bool(length), item_show_func=item_show_func)
