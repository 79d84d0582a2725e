"""Load test of the web UI: N concurrent clients against `corpus serve` on the bundled sample.

Starts the server itself (on 127.0.0.1, a free port, a temporary data directory with the sample
ingested and indexed) unless --url points at one already running; only loopback addresses are
accepted; --data serves an existing data directory instead of the sample. Each client loops over
a mix of pages on a keep-alive connection. Bounded: --seconds (at most 300) and --max-requests.
Prints requests/s, p50/p95/p99 latency overall and per route, and the error count (any non-2xx
answer or connection failure).

Mixes (--mix):
- `pages` (default): search pages, JSON search, documents, KWIC of the sample's phrases.
- `reviewer`: the load a reviewer found stalling the server: the `pages` mix with KWIC of common
  words (的, 发展, 高质量发展 ...) and 5% broad exports (发展, 建设 as CSV; every byte is read, so
  an export counts only when complete). The figure to watch is the search routes' p95.

    .venv/bin/python bench/load.py --clients 8 --seconds 30
    .venv/bin/python bench/load.py --data /tmp/h13-data --mix reviewer --clients 20 --seconds 60
"""

from __future__ import annotations

import argparse
import http.client
import ipaddress
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import quote, urlsplit

ROOT = Path(__file__).resolve().parents[1]
QUERIES = ["要素保障", "乡村振兴", "项目建设", '"重点项目"', "产业 融合", "城乡融合 发展", "营商环境", "高质量发展",
           "招商引资 OR 项目", "土地 -资金"]


def loopback_only(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    host = parts.hostname or ""
    if host != "localhost":
        try:
            if not ipaddress.ip_address(host).is_loopback:
                raise ValueError
        except ValueError:
            sys.exit(f"refusing {url}: the load test only targets loopback addresses (127.0.0.0/8, ::1, localhost)")
    return host, parts.port or 80


def prepare_data(data: Path) -> None:
    sys.path.insert(0, str(ROOT))
    from corpus.ingest import ingest_paths, sample_dir
    from corpus.settings import Settings
    from indexer.update import update_indexes

    settings = Settings(data_dir=data, semantic=False)
    ingest_paths(settings, [sample_dir()])
    update_indexes(settings, semantic=False)


def start_server(data: Path, threads: int, workers: int = 0) -> tuple[subprocess.Popen, str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, "-m", "corpus", "--data", str(data), "serve", "--host", "127.0.0.1", "--port", "0",
           "--workers", str(workers)] + (["--threads", str(threads)] if threads else [])
    proc = subprocess.Popen(cmd,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=ROOT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        m = re.search(r"(http://127\.0\.0\.1:\d+)/", line)
        if m:
            threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()  # drain the log
            return proc, m.group(1)
    proc.kill()
    sys.exit("the server did not start")


COMMON_KWIC = ["的", "发展", "建设", "高质量发展", "项目", "要素保障", "人民"]
BROAD_EXPORTS = ["发展", "建设"]
SEARCH_ROUTES = ("/", "/api/search")
EXPORT_SHARE = 0.05


def route(url: str) -> str:
    """The route a URL belongs to: its path with ids replaced (/doc/N)."""
    path = urlsplit(url).path
    return re.sub(r"/\d+", "/N", path)


def request_mix(doc_ids: list[int]) -> list[str]:
    urls = []
    for q in QUERIES:
        urls.append("/?q=" + quote(q))
        urls.append("/api/search?q=" + quote(q))
        urls.append("/?q=" + quote(q) + "&page=2&scope=sentence")
    urls += [f"/doc/{d}" for d in doc_ids]
    urls += ["/kwic?q=" + quote("项目"), "/api/kwic?q=" + quote("要素保障"), "/collection", "/static/app.css"]
    return urls


def reviewer_mix(doc_ids: list[int]) -> tuple[list[str], list[str]]:
    """(everyday URLs, export URLs): the pages mix plus KWIC of common words; exports of broad queries."""
    urls = request_mix(doc_ids)
    for w in COMMON_KWIC:
        urls += ["/kwic?q=" + quote(w), "/api/kwic?q=" + quote(w) + "&sort=right"]
    exports = ["/export?q=" + quote(q) + "&fmt=csv&mode=keyword" for q in BROAD_EXPORTS]
    return urls, exports


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clients", type=int, default=8, help="concurrent clients (default 8)")
    ap.add_argument("--seconds", type=float, default=30.0, help="duration, at most 300 (default 30)")
    ap.add_argument("--max-requests", type=int, default=200_000, help="stop after this many requests in all")
    ap.add_argument("--threads", type=int, default=0,
                    help="server worker threads per process when the bench starts it (0: corpus serve's default)")
    ap.add_argument("--workers", type=int, default=0,
                    help="server processes when the bench starts it (0: corpus serve's default, one per core)")
    ap.add_argument("--url", help="a running server on a loopback address (default: start one on the sample)")
    ap.add_argument("--data", type=Path, help="serve this data directory (ingested and indexed) instead of the sample")
    ap.add_argument("--mix", choices=("pages", "reviewer"), default="pages", help="request mix (see above)")
    ap.add_argument("--export-share", type=float, default=EXPORT_SHARE,
                    help=f"share of requests that are exports in the reviewer mix (default {EXPORT_SHARE})")
    ap.add_argument("--timeout", type=float, default=120.0, help="client socket timeout in seconds (default 120)")
    args = ap.parse_args()
    seconds = max(1.0, min(args.seconds, 300.0))
    clients = max(1, min(args.clients, 64))

    proc = None
    tmp = None
    if args.url:
        base = args.url.rstrip("/")
    elif args.data:
        proc, base = start_server(args.data, args.threads, args.workers)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="corpus-load-")
        data = Path(tmp.name) / "data"
        t0 = time.perf_counter()
        prepare_data(data)
        print(f"sample ingested and indexed in {time.perf_counter() - t0:.1f}s")
        proc, base = start_server(data, args.threads, args.workers)
    host, port = loopback_only(base)

    try:
        conn = http.client.HTTPConnection(host, port, timeout=30)
        conn.request("GET", "/api/search?q=" + quote("项目") + "&per_page=100")
        import json

        hits = json.loads(conn.getresponse().read())["hits"]
        conn.close()
        doc_ids = sorted({h["doc_id"] for h in hits})[:10] or [1]
        if args.mix == "reviewer":
            urls, exports = reviewer_mix(doc_ids)
        else:
            urls, exports = request_mix(doc_ids), []

        latencies: list[tuple[str, float]] = []
        errors: list[str] = []
        refused: list[str] = []
        export_sizes: list[int] = []
        lock = threading.Lock()
        count = [0]
        stop_at = time.monotonic() + seconds

        def client(seed: int) -> None:
            rnd = random.Random(seed)
            c = http.client.HTTPConnection(host, port, timeout=args.timeout)
            local_lat, local_err, local_refused, local_sizes = [], [], [], []
            while time.monotonic() < stop_at:
                with lock:
                    if count[0] >= args.max_requests:
                        break
                    count[0] += 1
                url = rnd.choice(exports) if exports and rnd.random() < args.export_share else rnd.choice(urls)
                t = time.perf_counter()
                try:
                    c.request("GET", url)
                    r = c.getresponse()
                    body = r.read()
                    if r.status == 503 and r.getheader("Retry-After"):
                        local_refused.append(url)  # back-pressure: counted apart, not timed as served
                        continue
                    if not 200 <= r.status < 300:
                        local_err.append(f"{r.status} {url}")
                    elif route(url) == "/export":
                        local_sizes.append(len(body))
                except (OSError, http.client.HTTPException) as e:
                    local_err.append(f"{type(e).__name__} {url}")
                    c.close()
                    c = http.client.HTTPConnection(host, port, timeout=args.timeout)
                local_lat.append((route(url), time.perf_counter() - t))
            c.close()
            with lock:
                latencies.extend(local_lat)
                errors.extend(local_err)
                refused.extend(local_refused)
                export_sizes.extend(local_sizes)

        print(f"{clients} clients for {seconds:.0f}s against {base} (mix {args.mix}: {len(urls)} URLs"
              + (f", {args.export_share:.0%} exports of {', '.join(BROAD_EXPORTS)}" if exports else "") + ") ...")
        t0 = time.perf_counter()
        workers = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        elapsed = time.perf_counter() - t0
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        if tmp is not None:
            tmp.cleanup()

    n = len(latencies)

    def pct(lat: list[float], p: float) -> float:
        return lat[min(len(lat) - 1, int(p * len(lat)))] * 1000 if lat else float("nan")

    def line(label: str, lat: list[float]) -> str:
        lat = sorted(lat)
        return (f"{label:<16} n {len(lat):>6}  p50 {pct(lat, 0.50):>8.1f}  p95 {pct(lat, 0.95):>8.1f}  "
                f"p99 {pct(lat, 0.99):>8.1f}  max {lat[-1] * 1000 if lat else float('nan'):>8.1f}")

    print(f"requests: {n}  elapsed: {elapsed:.1f}s  requests/s: {n / elapsed:.1f}")
    print("latency ms:")
    print(line("all", [t for _, t in latencies]))
    by_route: dict[str, list[float]] = {}
    for r, t in latencies:
        by_route.setdefault(r, []).append(t)
    searches = [t for r, t in latencies if r in SEARCH_ROUTES]
    print(line("searches", searches) + "   (" + ", ".join(SEARCH_ROUTES) + ")")
    for r in sorted(by_route):
        print(line(r, by_route[r]))
    if latencies:
        print(f"mean ms: {statistics.fmean(t for _, t in latencies) * 1000:.1f}")
    if exports:
        print(f"exports: {len(export_sizes)} complete ({sum(export_sizes) / 1e6:.1f} MB), "
              f"{len(refused)} refused with 503 + Retry-After (export pool full)")
    print(f"errors: {len(errors)}")
    for e in sorted(set(errors))[:10]:
        print("  ", e)
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
