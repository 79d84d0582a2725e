"""A real HTTP server on 127.0.0.1 (ephemeral port, own thread) serving test sites from a route table.

Each route answers with fixed bytes and headers, or misbehaves on purpose: fails with 5xx a few times
first, answers too slowly, trickles its body a few bytes at a time, redirects. Every request is recorded (path, headers) so tests can check
what the crawler actually sent. Nothing here reaches beyond 127.0.0.1.
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    content_type: str = "text/html"
    headers: dict[str, str] = field(default_factory=dict)
    fail_first: int = 0  # answer 500 this many times before answering normally
    sleep: float = 0.0  # seconds to wait before answering (a timeout test)
    location: str | None = None  # a redirect target (status 301/302...)
    etag: bool = True  # send an ETag and honour If-None-Match
    hang: threading.Event | None = None  # set this event, then never answer (until the server stops)
    trickle: tuple[int, float] | None = None  # send the body this many bytes at a time, pausing this long between


class SiteServer:
    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.times: list[tuple[str, float]] = []  # (path, time.monotonic() when the request arrived)
        self._stop = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet
                pass

            def do_GET(self) -> None:  # noqa: N802 (http.server API)
                server.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
                server.times.append((self.path, time.monotonic()))
                route = server.routes.get(self.path)
                if route is None:
                    self._send(404, b"not found", "text/plain", {})
                    return
                if route.hang is not None:
                    route.hang.set()
                    server._stop.wait(30)
                    return
                if route.sleep:
                    time.sleep(route.sleep)
                if route.fail_first > 0:
                    route.fail_first -= 1
                    self._send(500, b"server error", "text/plain", {})
                    return
                headers = dict(route.headers)
                if route.location:
                    headers["Location"] = route.location
                if route.etag and route.status == 200:
                    tag = '"' + hashlib.sha1(route.body).hexdigest()[:16] + '"'
                    headers["ETag"] = tag
                    if self.headers.get("If-None-Match") == tag:
                        self._send(304, b"", None, headers)
                        return
                self._send(route.status, route.body, route.content_type, headers, route.trickle)

            def _send(self, status: int, body: bytes, ctype: str | None, headers: dict[str, str],
                      trickle: tuple[int, float] | None = None) -> None:
                try:
                    self.send_response(status)
                    if ctype:
                        self.send_header("Content-Type", ctype)
                    for k, v in headers.items():
                        self.send_header(k, v)
                    if "Content-Length" not in headers:
                        self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    if body and trickle:
                        n, pause = trickle
                        for i in range(0, len(body), n):
                            if server._stop.is_set():
                                return
                            self.wfile.write(body[i:i + n])
                            self.wfile.flush()
                            time.sleep(pause)
                    elif body:
                        self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    def __enter__(self) -> SiteServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def url(self, path: str) -> str:
        return self.base + path

    def add(self, path: str, body: bytes | str = b"", **kw) -> Route:
        if isinstance(body, str):
            body = body.encode("utf-8")
        self.routes[path] = Route(body=body, **kw)
        return self.routes[path]

    def hits(self, path: str) -> int:
        return sum(1 for p, _ in self.requests if p == path)
