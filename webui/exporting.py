"""Export of a whole result set from the page, with the same code as `corpus export`.

An export of a broad query is large (15 MB of CSV for 发展) and takes seconds of CPU, so it must
neither hold the reply back until it is done nor take the server away from searches:

- Streaming: `indexer.export.export_results` writes into a `_ChunkPipe` in a producer thread of its
  own; the response relays the chunks as they come (chunked transfer, no Content-Length), so the
  download starts with the first rows and a complete export is still every row. Errors raised
  before the first byte (bad query, missing index) become a normal error page; a failure later
  cuts the download short (the log says why), which a client sees as an incomplete transfer.
  XLSX is a zip written at the end, so it is produced into a spooled file first and then relayed.
- Its own small pool: at most `settings.export_workers` exports produce at any moment. They take
  turns (first come, first served) for every chunk of about 64 KB, so a second export starts
  at once and all of them progress; while an export waits for its turn or for a slow client it
  holds no turn. At most `export_workers + export_queue` exports are in flight; one more is
  refused with 503 and Retry-After. `corpus serve` adds that many threads to the server's pool,
  so exports in flight never take the threads searches are served by.
"""

from __future__ import annotations

import collections
import datetime as dt
import logging
import queue
import re
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Response

from corpus.errors import CorpusError, QueryError
from corpus.settings import Settings
from indexer.api import SearchRequest

log = logging.getLogger(__name__)

MIMETYPES = {  # the charset is added once, by Response(content_type=...)
    "csv": "text/csv; charset=utf-8",
    "jsonl": "application/jsonl; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "parquet": "application/vnd.apache.parquet",
}
WEB_FORMATS = ("csv", "jsonl", "xlsx")
CHUNK = 64 * 1024
PIPE_CHUNKS = 8  # chunks buffered between producer and client (per export)
RETRY_AFTER = 10  # seconds, for a refused export


class ExportBusy(CorpusError):
    """Too many exports in flight: try again in a few seconds."""

    status = 503
    title = "导出繁忙"
    retry_after = RETRY_AFTER


class TurnGate:
    """`workers` turns handed out first come, first served (a FIFO semaphore)."""

    def __init__(self, workers: int):
        self._free = max(1, workers)
        self._cond = threading.Condition()
        self._waiting: collections.deque[object] = collections.deque()

    @contextmanager
    def turn(self) -> Iterator[None]:
        me = object()
        with self._cond:
            self._waiting.append(me)
            while not (self._free and self._waiting[0] is me):
                self._cond.wait()
            self._waiting.popleft()
            self._free -= 1
            self._cond.notify_all()  # the next in line may have a turn too
        try:
            yield
        finally:
            with self._cond:
                self._free += 1
                self._cond.notify_all()


class ExportPool:
    """The exports of one web app: turns to produce, and a bound on exports in flight."""

    def __init__(self, workers: int, queue_size: int):
        self.workers = max(1, workers)
        self.slots = self.workers + max(0, queue_size)
        self.gate = TurnGate(self.workers)
        self._in_flight = threading.BoundedSemaphore(self.slots)
        self._lock = threading.Lock()
        self.running = 0  # exports in flight now (for tests and logs)

    def claim(self) -> None:
        if not self._in_flight.acquire(blocking=False):
            raise ExportBusy(f"服务器正在处理 {self.slots} 个导出，请约 {RETRY_AFTER} 秒后重试。")
        with self._lock:
            self.running += 1

    def release(self) -> None:
        with self._lock:
            self.running -= 1
        self._in_flight.release()


class _Cancelled(Exception):
    """The client went away: the producer stops."""


_END = object()


class _ChunkPipe:
    """A binary stream for export_results: writes are gathered into chunks and handed to the
    response; the producer's turn is given up at every chunk so that other exports progress."""

    def __init__(self, gate: TurnGate):
        self.q: queue.Queue = queue.Queue(maxsize=PIPE_CHUNKS)
        self.gate = gate
        self.buf = bytearray()
        self.cancelled = threading.Event()
        self._turn = None

    # the stream interface export_results and io.TextIOWrapper use
    def writable(self) -> bool:
        return True

    def readable(self) -> bool:
        return False

    def seekable(self) -> bool:
        return False

    @property
    def closed(self) -> bool:
        return False

    def flush(self) -> None:
        pass

    def write(self, data) -> int:
        if self.cancelled.is_set():
            raise _Cancelled
        self.buf += data
        if len(self.buf) >= CHUNK:
            self._hand_over(bytes(self.buf))
            self.buf.clear()
        return len(data)

    # producer side
    def begin(self) -> None:
        self._turn = self.gate.turn()
        self._turn.__enter__()

    def _hand_over(self, chunk: bytes) -> None:
        self._end_turn()
        try:
            while True:  # wait for the client without a turn; notice when it has gone
                try:
                    self.q.put(chunk, timeout=1.0)
                    break
                except queue.Full:
                    if self.cancelled.is_set():
                        raise _Cancelled from None
        finally:
            self.begin()

    def _end_turn(self) -> None:
        if self._turn is not None:
            turn, self._turn = self._turn, None
            turn.__exit__(None, None, None)

    def finish(self, error: BaseException | None) -> None:
        self._end_turn()
        try:
            if error is None and self.buf:
                self.q.put(bytes(self.buf))
            self.q.put(error if error is not None else _END)
        except Exception:  # pragma: no cover - put on an unbounded wait cannot fail
            pass

    # consumer side
    def next_item(self):
        while True:
            try:
                return self.q.get(timeout=1.0)
            except queue.Empty:
                continue


class _Relay:
    """The response body: the producer's chunks as they come. Closing it (the server does, also
    when the client went away) stops the producer and frees the export's slot, exactly once."""

    def __init__(self, first, pipe: _ChunkPipe, pool: ExportPool, query: str):
        self.item, self.pipe, self.pool, self.query = first, pipe, pool, query
        self._closed = False

    def __iter__(self):
        return self

    def __next__(self) -> bytes:
        if self._closed:  # the end was seen (or the client went away): never wait for more
            raise StopIteration
        item = self.item if self.item is not None else self.pipe.next_item()
        self.item = None
        if item is _END or self._closed:
            self.close()
            raise StopIteration
        if isinstance(item, BaseException):
            if not isinstance(item, _Cancelled):
                log.error("export of %r cut short: %s: %s", self.query, type(item).__name__, item)
            self.close()
            raise StopIteration
        return item

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self.pipe.cancelled.set()
            self.pool.release()


def download_name(req: SearchRequest, fmt: str) -> str:
    stem = re.sub(r"[\\/:*?\"<>|\s]+", "_", req.query).strip("_")[:40] or "检索结果"
    return f"{stem}-{dt.date.today().isoformat()}.{fmt}"


def export_response(settings: Settings, req: SearchRequest, fmt: str, pool: ExportPool) -> Response:
    from indexer.export import FORMATS, export_results

    if fmt not in WEB_FORMATS or fmt not in FORMATS:
        raise QueryError(f"不支持的导出格式 {fmt[:20]!r}：可选 {', '.join(WEB_FORMATS)}")
    pool.claim()
    pipe = _ChunkPipe(pool.gate)

    def produce() -> None:
        error = None
        try:
            pipe.begin()
            if fmt == "xlsx":  # a zip is written at the end: spool it, then relay it in chunks
                with tempfile.SpooledTemporaryFile(max_size=16 * 1024 * 1024) as spool:
                    export_results(settings, req, spool, fmt)
                    spool.seek(0)
                    while chunk := spool.read(CHUNK):
                        pipe.write(chunk)
            else:
                export_results(settings, req, pipe, fmt)
        except _Cancelled:
            error = _Cancelled()
        except BaseException as e:  # handed to the response: an error page, or a cut download
            error = e
        pipe.finish(error)

    producer = threading.Thread(target=produce, name="export", daemon=True)
    try:
        producer.start()
        first = pipe.next_item()  # the first chunk, or the error that came before any byte
    except BaseException:
        pipe.cancelled.set()
        pool.release()
        raise
    if isinstance(first, BaseException):
        pool.release()
        raise first

    relay = _Relay(first, pipe, pool, req.query)
    from urllib.parse import quote

    name = download_name(req, fmt)
    resp = Response(relay, content_type=MIMETYPES[fmt], direct_passthrough=True)
    resp.headers["Content-Disposition"] = f"attachment; filename=\"export.{fmt}\"; filename*=UTF-8''{quote(name)}"
    resp.headers["X-Accel-Buffering"] = "no"
    return resp
