"""A time budget for one request: long scans stop when it runs out and the result says so.

The web UI gives every search-side request `settings.request_budget` seconds
(`with time_budget(seconds):` around the view); library loops that can run long on a broad
query (the 同句 check over every candidate, KWIC's collocate scan) call `expired()` now and
then and stop early, and the result carries a notice that it is partial. Outside a budget
(CLI, export, tests) `expired()` is always False: the work is complete.

The deadline lives in a context variable, so each server thread (and each request) has its own.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass
class Budget:
    deadline: float
    cut: bool = False  # some scan stopped early because the budget ran out


_current: ContextVar[Budget | None] = ContextVar("corpus_time_budget", default=None)


@contextmanager
def time_budget(seconds: float | None) -> Iterator[Budget | None]:
    """Run the block with a deadline `seconds` from now (None or <= 0: no budget)."""
    if not seconds or seconds <= 0:
        yield None
        return
    b = Budget(time.monotonic() + seconds)
    token = _current.set(b)
    try:
        yield b
    finally:
        _current.reset(token)


def expired() -> bool:
    """Whether the current request's budget is used up (marks the budget as cut if so)."""
    b = _current.get()
    if b is None or time.monotonic() < b.deadline:
        return False
    b.cut = True
    return True


def was_cut() -> bool:
    """Whether a scan in the current budget stopped early."""
    b = _current.get()
    return bool(b and b.cut)


NOTICE = "time budget reached: results are partial (narrow the query or add a filter for all of them)"
