"""Child processes that end with their parent (tokeniser workers, web server processes)."""

from __future__ import annotations

import os


def die_with_parent(parent: int | None) -> None:
    """In a child: end when the parent does (a SIGKILLed `corpus index` or `corpus serve` must not
    leave workers behind). Linux: the kernel sends SIGKILL when the parent goes (prctl
    PR_SET_PDEATHSIG); the parent check closes the race of a parent that died before that."""
    if parent is None:
        return
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the caller's own end-of-work handling still applies
        return
    if os.getppid() != parent:
        os._exit(1)
