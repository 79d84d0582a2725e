"""`corpus serve`: the web UI under waitress (a production WSGI server), on the data directory's corpus."""

from __future__ import annotations

import logging
import os
import sys

import click

from ..errors import IndexMissing, NotFound
from .common import get_settings, handle_errors

log = logging.getLogger(__name__)


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. The default serves this machine only; 0.0.0.0 exposes it to the network.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535), help="Port to listen on.")
@click.option("--threads", default=3, show_default=True, type=click.IntRange(1, 64),
              help="Worker threads per server process for pages and searches (requests served at once; more "
                   "wait in order); exports in flight (settings.export_workers + export_queue) get threads of "
                   "their own on top. Few is faster: a request is CPU-bound Python, so threads of one process "
                   "take turns on one lock and more of them only make each answer later "
                   "(bench/load.py --mix reviewer, 20 clients: search p95 212-296 ms with 3, 301-354 ms with 8).")
@click.option("--workers", default=0, show_default=True, type=click.IntRange(0, 16),
              help="Server processes sharing the port (0: one per core, at most 4; 1: this process only). "
                   "Each has its own threads, caches and export pool; searches are CPU-bound Python, so "
                   "one process per core is what lets a second core answer.")
@handle_errors
def serve(host: str, port: int, threads: int, workers: int) -> None:
    """Start the web UI: search, read in context, collect phrasing (素材篮), export."""
    from indexer.keyword import index_status

    settings = get_settings()
    if not settings.db_path.exists():
        raise NotFound(f"no corpus in {settings.data_dir}: run `corpus ingest PATH` (or `corpus demo` for the "
                       "bundled sample), then `corpus index`, then `corpus serve`")
    status = index_status(settings)
    if not status.get("exists"):
        raise IndexMissing(f"no search index in {settings.index_dir} yet: build it with `corpus index` "
                           f"(add --data {settings.data_dir} if you pass --data here), then run `corpus serve` again")
    if status.get("stale"):
        click.echo("warning: the index was built with another analyzer or dictionary: run `corpus index --rebuild`",
                   err=True)

    if workers == 0:
        workers = min(4, os.cpu_count() or 1)
    loaded = [m for m in ("onnxruntime", "torch") if m in sys.modules]
    if workers > 1 and loaded:  # e.g. `corpus demo` after embedding: their thread pools do not survive a fork
        log.info("one server process: %s already loaded in this process", ", ".join(loaded))
        workers = 1
    if workers > 1 and hasattr(os, "fork"):
        _serve_forked(settings, host, port, threads, workers)
        return
    server = _server(settings, threads, host=host, port=port)
    # port 0 picks a free port: print the one actually bound.
    bound_port = server.effective_port if hasattr(server, "effective_port") else port
    _say_listening(settings, host, bound_port, 1)
    try:
        server.run()
    except KeyboardInterrupt:
        click.echo("stopped")
    finally:
        server.close()


def _server(settings, threads: int, **listen):
    """The app, warmed up, under a waitress server listening as `listen` says (host and port, or
    sockets bound by the caller): `threads` requests at once (webui.limit_requests); exports in flight
    get threads of their own on top."""
    from waitress import create_server

    from webui import create_app, limit_requests

    app = create_app(settings)
    app.extensions["corpus"].warm_up()
    exports = app.extensions["corpus_exports"]
    return create_server(limit_requests(app, threads), threads=threads + exports.slots, ident="corpus", **listen)


def _say_listening(settings, host: str, port: int, workers: int) -> None:
    shown_host = f"[{host}]" if ":" in host else host
    procs = f", {workers} server processes" if workers > 1 else ""
    click.echo(f"corpus web UI on http://{shown_host}:{port}/  (data: {settings.data_dir}{procs}; Ctrl-C to stop)",
               err=False)


def _serve_forked(settings, host: str, port: int, threads: int, workers: int) -> None:
    """`workers` processes accepting on one listening socket (bound here, before forking, so the
    kernel hands each connection to whichever is free). Each child builds its own app (nothing heavy
    is loaded before the fork) and dies with this process; a child that dies is started again."""
    import signal
    import socket
    import time

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(1024)
    sock.setblocking(False)
    parent = os.getpid()

    def child() -> None:
        code = 0
        try:
            from corpus.processes import die_with_parent

            die_with_parent(parent)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            _server(settings, threads, sockets=[sock]).run()
        except KeyboardInterrupt:
            pass
        except BaseException:  # noqa: BLE001 - a child must never return into the parent's code
            log.exception("server process failed")
            code = 1
        finally:
            os._exit(code)

    def spawn() -> int:
        pid = os.fork()
        if pid == 0:
            child()
        return pid

    _say_listening(settings, host, sock.getsockname()[1], workers)
    children = {spawn() for _ in range(workers)}
    stopping = False

    def stop(signum, frame) -> None:
        nonlocal stopping
        stopping = True
        for pid in list(children):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    signal.signal(signal.SIGTERM, stop)
    try:
        while children:
            try:
                pid, status = os.wait()
            except ChildProcessError:
                break
            except InterruptedError:
                continue
            children.discard(pid)
            if not stopping:
                log.warning("server process %d ended (status %d): starting another", pid, status)
                time.sleep(0.5)  # a child failing at start must not spin
                children.add(spawn())
    except KeyboardInterrupt:
        stop(signal.SIGINT, None)
        for pid in list(children):
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass
        click.echo("stopped")
    finally:
        sock.close()


commands = [serve]
