"""Atomic file writes: readers see the old file or the new one, never half of one.

Every file the project writes for somebody else to read (exports, their provenance sidecars,
index manifests, site state) goes through here: the bytes are written to a temporary file beside the
target (same directory, so the rename stays on one file system), flushed and fsync'ed, then renamed
over the target with `os.replace`. If writing fails the temporary file is removed and the target is
left as it was. A folder that must appear whole (a model cache entry, a compact dictionary) is filled
in a temporary folder beside it and renamed into place the same way (`atomic_dir`).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO


def current_umask() -> int:
    """The process's umask (read without changing it where /proc allows, else set and restored)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _final_mode(path: Path) -> int:
    """The mode the file gets: an existing file keeps its own; a new one is what `open()` would
    make (0666 less the umask), not the 0600 of a temporary file, so others can read a shared folder."""
    try:
        return path.stat().st_mode & 0o7777
    except OSError:
        return 0o666 & ~current_umask()


@contextlib.contextmanager
def atomic_output(path: Path | str, *, make_dirs: bool = True) -> Iterator[BinaryIO]:
    """A binary file to write `path`'s new content into; it replaces `path` when the block ends without error.

    `make_dirs=False`: a missing directory is an error (FileNotFoundError) instead of being created.
    """
    path = Path(path)
    if make_dirs:
        path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fchmod(f.fileno(), _final_mode(path))
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_atomic(path: Path | str, write: Callable[[BinaryIO], Any]) -> None:
    """`write(f)` fills a temporary file that then replaces `path`."""
    with atomic_output(path) as f:
        write(f)


def write_bytes_atomic(path: Path | str, data: bytes, *, make_dirs: bool = True) -> None:
    with atomic_output(path, make_dirs=make_dirs) as f:
        f.write(data)


def write_text_atomic(path: Path | str, text: str) -> None:
    write_bytes_atomic(path, text.encode("utf-8"))


def write_json_atomic(path: Path | str, obj: Any, *, indent: int | None = 2, make_dirs: bool = True) -> None:
    """`obj` as UTF-8 JSON (Chinese kept readable, not \\u-escaped), ending with a newline."""
    data = json.dumps(obj, ensure_ascii=False, indent=indent, default=str).encode("utf-8") + b"\n"
    write_bytes_atomic(path, data, make_dirs=make_dirs)


@contextlib.contextmanager
def atomic_dir(target: Path | str, *, replace: bool = True) -> Iterator[Path]:
    """A new empty folder beside `target` to fill; it becomes `target` when the block ends without error.

    An existing `target` is replaced (moved aside, then removed) when `replace`; otherwise it wins
    (another process finished the same folder first) and the new one is dropped. On error the new
    folder is removed and `target` is left as it was. Leftovers of a killed process are named
    `.<name>.*.part` / `.<name>.*.old` (see `remove_partials`).
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent))
    try:
        yield tmp
        if target.exists() and not replace:
            return
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".old", dir=target.parent))
            try:
                os.replace(target, old / "entry")
                os.replace(tmp, target)
            finally:
                shutil.rmtree(old, ignore_errors=True)
        else:
            try:
                os.replace(tmp, target)
            except OSError:
                if replace or not target.exists():
                    raise  # not "someone else was first": a real failure
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def remove_partials(target: Path | str) -> None:
    """Remove what a killed `atomic_dir(target)` left beside `target`. Only safe while holding the
    lock that serialises writers of `target` (another writer's folder looks the same)."""
    target = Path(target)
    for pattern in (f".{target.name}.*.part", f".{target.name}.*.old"):
        for p in target.parent.glob(pattern):
            shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)
