"""One writer at a time per index: a file lock in the data directory.

A second writer waits `settings.lock_timeout` seconds, then fails with IndexLocked. Readers never
take it: each index swaps in a finished generation atomically, so searching goes on meanwhile.
"""

from __future__ import annotations

from pathlib import Path

from corpus.errors import IndexLocked


class WriterLock:
    def __init__(self, settings, filename: str, what: str):
        from filelock import FileLock

        Path(settings.data_dir).mkdir(parents=True, exist_ok=True)
        self.path = Path(settings.data_dir) / filename
        self.what = what
        self.timeout = float(settings.lock_timeout)
        self.lock = FileLock(str(self.path))

    def __enter__(self):
        from filelock import Timeout

        try:
            self.lock.acquire(timeout=self.timeout)
        except Timeout:
            raise IndexLocked(
                f"another process is updating the {self.what} (lock {self.path}); waited {self.timeout:g} s: "
                "wait for it to finish and run again (or raise CORPUS_LOCK_TIMEOUT)"
            ) from None
        return self

    def __exit__(self, *exc):
        self.lock.release()
