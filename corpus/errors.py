"""Errors a user can cause. Each message says what went wrong and, where it helps, what to do next.

The CLI prints them as one line (`Error: ...`), the web UI shows them in the page and the JSON API
returns them with a 4xx status. Anything else escaping the library is a bug.
"""


class CorpusError(Exception):
    """Base class of every error a user can cause.

    `zh` is the same message in Chinese, for the web UI (the CLI stays English): pass it where an
    error can reach a page; `message_zh` falls back to the English text."""

    status = 400

    def __init__(self, *args, zh: str | None = None):
        super().__init__(*args)
        self.zh = zh

    @property
    def message_zh(self) -> str:
        return self.zh or str(self)


class InputError(CorpusError):
    """A file or record that cannot be read or cleaned (binary, empty, unknown encoding, too large)."""


class QueryError(CorpusError):
    """A search query that cannot be parsed or is out of bounds (too long, empty, bad field)."""


class NotFound(CorpusError):
    """An unknown document or paragraph id."""

    status = 404


class ConfigError(CorpusError):
    """A setting naming something that does not exist or cannot be used (an unknown search backend)."""

    status = 500


class IndexMissing(CorpusError):
    """No index yet: run `corpus index` first."""

    status = 409


class IndexLocked(CorpusError):
    """Another process is writing the index; the wait for it timed out."""

    status = 409


class ModelError(CorpusError):
    """The embedding model cannot be built or loaded, or does not match the index."""

    status = 409
