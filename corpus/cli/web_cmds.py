"""`corpus serve`: the web UI under waitress (a production WSGI server), on the data directory's corpus."""

from __future__ import annotations

import logging

import click

from ..errors import IndexMissing, NotFound
from .common import get_settings, handle_errors

log = logging.getLogger(__name__)


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. The default serves this machine only; 0.0.0.0 exposes it to the network.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535), help="Port to listen on.")
@click.option("--threads", default=8, show_default=True, type=click.IntRange(1, 64),
              help="Worker threads for pages and searches (requests served at once); exports in flight "
                   "(settings.export_workers + export_queue) get threads of their own on top.")
@handle_errors
def serve(host: str, port: int, threads: int) -> None:
    """Start the web UI: search, read in context, collect phrasing (素材篮), export."""
    from indexer.keyword import index_status
    from webui import create_app

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

    from waitress import create_server

    app = create_app(settings)
    app.extensions["corpus"].warm_up()
    exports = app.extensions["corpus_exports"]
    server = create_server(app, host=host, port=port, threads=threads + exports.slots, ident="corpus")
    # port 0 picks a free port: print the one actually bound.
    bound_port = server.effective_port if hasattr(server, "effective_port") else port
    shown_host = f"[{host}]" if ":" in host else host
    click.echo(f"corpus web UI on http://{shown_host}:{bound_port}/  (data: {settings.data_dir}; Ctrl-C to stop)",
               err=False)
    try:
        server.run()
    except KeyboardInterrupt:
        click.echo("stopped")
    finally:
        server.close()


commands = [serve]
